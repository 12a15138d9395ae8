"""Forwarding reports to the national portal SP4N-LAPOR! (lapor.go.id): which reports may be
sent, what a sent report carries (the identity rules), under which JSON names (the field
mapping, replaceable by a setting), the key that makes a retry the same delivery, and what the
portal's status callbacks mean on our timeline. No HTTP, no SQL: jobs/national.py speaks to
the portal, store/national.py keeps the national tracking ID and the callbacks.

The portal documents its integration API only to accounts with its developer role, so the
shape here is ours (docs/national.md) and every name on the wire goes through the mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from lapor.complaints import tracking
from lapor.complaints.records import Report
from lapor.complaints.reports import Identity, Status

# The outbox address of a report's delivery: "national:<tracking code>". The outbox hands such
# rows to the national sender (jobs/mail.py), as it hands "whatsapp:" rows to WhatsApp's.
PREFIX = "national:"

# A report goes to the national portal once a coordinator verified it: forwarded to a unit,
# answered or closed. Unverified, postponed, declined or archived reports stay here.
VERIFIED = frozenset({Status.FORWARDED, Status.FOLLOWED_UP, Status.CLOSED})

# The header the portal signs its callbacks in: "sha256=" and the hex HMAC-SHA256 of the raw
# body with LAPOR_NATIONAL_SECRET.
SIGNATURE_HEADER = "X-Lapor-Signature"

# Our fields a sent report may carry, each with the JSON name it goes under by default. A
# dotted name nests ("reporter.name" is {"reporter": {"name": ...}}). LAPOR_NATIONAL_FIELDS
# renames any of them, or drops one with null.
DEFAULT_FIELDS: Mapping[str, str] = {
    "tracking_code": "external_id",
    "title": "title",
    "text": "description",
    "kind": "type",
    "category": "category",
    "location": "location",
    "latitude": "latitude",
    "longitude": "longitude",
    "received_at": "received_at",
    "unit": "agency",
    "status_url": "status_url",
    "anonymous": "anonymous",
    "confidential": "confidential",
    "reporter_name": "reporter.name",
    "reporter_phone": "reporter.phone",
    "reporter_email": "reporter.email",
}
IDENTITY_FIELDS = frozenset({"reporter_name", "reporter_phone", "reporter_email"})
_JSON_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,3}")


def read_fields(raw: str) -> dict[str, str]:
    """The field mapping from LAPOR_NATIONAL_FIELDS: a JSON object of our field names to the
    portal's JSON names, over the default; null drops a field. ValueError names what is wrong."""
    fields = dict(DEFAULT_FIELDS)
    if not raw.strip():
        return fields
    try:
        given = json.loads(raw)
    except ValueError:
        raise ValueError("is not JSON") from None
    if not isinstance(given, dict):
        raise ValueError("must be a JSON object of our field names to the portal's")
    for ours, theirs in given.items():
        if ours not in DEFAULT_FIELDS:
            raise ValueError(
                f"names no field of ours: {ours!r} (known: {', '.join(DEFAULT_FIELDS)})"
            )
        if theirs is None:
            fields.pop(ours)
        elif isinstance(theirs, str) and _JSON_NAME.fullmatch(theirs):
            fields[ours] = theirs
        else:
            raise ValueError(f"gives {ours!r} a name that is not a JSON name: {theirs!r}")
    names = list(fields.values())
    for name in names:
        if names.count(name) > 1 or any(other.startswith(name + ".") for other in names):
            raise ValueError(f"puts two fields under {name!r}")
    return fields


def values(report: Report, status_url: str) -> dict[str, Any]:
    """Our fields of a report as the portal gets them, before the mapping names them.

    The identity rules: an anonymous report carries no name and no contact (none is stored
    anyway); a confidential (rahasia) report carries the reporter's identity with the portal's
    own confidential flag set, so the portal can reach the reporter while keeping them from
    the public and the disposed agency as SP4N-LAPOR! rules require of a confidential report;
    a named report carries name and contact."""
    found: dict[str, Any] = {
        "tracking_code": tracking.format_code(report.tracking_code),
        "title": report.title,
        "text": report.text,
        "kind": report.kind.value,
        "category": report.category,
        "location": report.location,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "received_at": report.received_at.isoformat(),
        "unit": report.unit_name,
        "status_url": status_url,
        "anonymous": report.identity is Identity.ANONYMOUS,
        "confidential": report.identity is Identity.CONFIDENTIAL,
    }
    if report.identity is not Identity.ANONYMOUS:
        found["reporter_name"] = report.reporter_name
        found["reporter_phone"] = report.reporter_phone
        found["reporter_email"] = report.reporter_email
    return found


def payload(report: Report, fields: Mapping[str, str], status_url: str) -> dict[str, Any]:
    """The JSON object sent for `report`: each of our values under its mapped name; a value we
    do not have (no title, no reporter's phone) is left out rather than sent empty."""
    body: dict[str, Any] = {}
    for ours, value in values(report, status_url).items():
        name = fields.get(ours)
        if name is None or value is None:
            continue
        *parents, last = name.split(".")
        place = body
        for parent in parents:
            place = place.setdefault(parent, {})
        place[last] = value
    return body


def idempotency_key(tracking_code: str) -> str:
    """One delivery per report: the same key on every try and every resend, so the portal keeps
    one report however often a timeout made us send it again."""
    return f"lapor-{tracking.normalize(tracking_code) or tracking_code}"


def address(tracking_code: str) -> str:
    return PREFIX + tracking_code


def is_national(to_address: str) -> bool:
    return to_address.startswith(PREFIX)


class Refusal(StrEnum):
    NOT_VERIFIED = "not_verified"
    ALREADY_SENT = "already_sent"
    ALREADY_QUEUED = "already_queued"


class NationalError(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def refusal(status: Status, national_id: str | None, queued: bool) -> Refusal | None:
    """Why a report cannot be sent to the national portal now; None when it can."""
    if national_id:
        return Refusal.ALREADY_SENT
    if queued:
        return Refusal.ALREADY_QUEUED
    if status not in VERIFIED:
        return Refusal.NOT_VERIFIED
    return None


def may_send(role: str) -> bool:
    """Coordinators (within their scope, which the store checks) and admins."""
    return role in ("coordinator", "admin")


# A national tracking ID as staff type it from the portal's page, or as the portal answers it.
NATIONAL_ID_MAX = 64
_NATIONAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")


def read_national_id(raw: str) -> str | None:
    """The ID, trimmed; None when empty. ValueError when it cannot be one."""
    found = raw.strip()
    if not found:
        return None
    if not _NATIONAL_ID.fullmatch(found):
        raise ValueError(found)
    return found


class NationalPortal(Protocol):
    """The national portal as the outbox sees it: a report is sent to it, and the portal gives
    its national tracking ID. jobs/national.py has the HTTP one."""

    def send_report(self, payload: Mapping[str, Any], idempotency_key: str) -> str:
        """Send one report (blocking); its national tracking ID. Raises PortalRefused when
        the portal refused it for good, any other exception when a retry may help."""
        ...


class PortalRefused(Exception):
    """The portal refused the report for good (a 4xx other than a timeout or a rate limit)."""


# -- status changes coming back -----------------------------------------------------------
# The portal's status words, each as the event it is on our timeline and whether the citizen
# sees it. Our own workflow is not moved by them: the coordinator stays in charge here, the
# events only tell what the portal did. A status not listed lands as an internal update.
STATUSES: Mapping[str, tuple[str, bool]] = {
    "received": ("national_received", True),
    "verified": ("national_verified", True),
    "forwarded": ("national_forwarded", True),
    "in_progress": ("national_in_progress", True),
    "answered": ("national_answered", True),
    "closed": ("national_closed", True),
    "rejected": ("national_rejected", True),
    "comment": ("national_comment", False),
}
OTHER_STATUS = ("national_update", False)
NOTE_MAX = 2000


@dataclass(frozen=True)
class PortalEvent:
    event_id: str
    national_id: str
    status: str
    note: str | None

    @property
    def kind(self) -> str:
        return STATUSES.get(self.status, OTHER_STATUS)[0]

    @property
    def public(self) -> bool:
        return STATUSES.get(self.status, OTHER_STATUS)[1]

    def timeline_note(self) -> str | None:
        """What the event says on the timeline: the portal's note, and its status word when
        it is not one we know (so nothing the portal said is lost)."""
        if self.status in STATUSES:
            return self.note
        return f"{self.status}: {self.note}" if self.note else self.status


class CallbackError(ValueError):
    """A callback body that is not the documented shape."""


def _text(found: Mapping[str, Any], name: str, limit: int, required: bool = True) -> str | None:
    value = found.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise CallbackError(f"{name} must be a non-empty string of at most {limit} characters")
    return value.strip()


def read_callback(body: bytes) -> PortalEvent:
    """`{"event_id", "tracking_id", "status", "note"?}` (docs/national.md)."""
    try:
        found = json.loads(body)
    except ValueError:
        raise CallbackError("the body is not JSON") from None
    if not isinstance(found, dict):
        raise CallbackError("the body must be a JSON object")
    event_id = _text(found, "event_id", 128) or ""
    try:
        national_id = read_national_id(_text(found, "tracking_id", NATIONAL_ID_MAX) or "")
    except ValueError:
        national_id = None
    if national_id is None:
        raise CallbackError("tracking_id is not a national tracking ID")
    status = (_text(found, "status", 32) or "").lower()
    note = _text(found, "note", NOTE_MAX, required=False)
    return PortalEvent(event_id, national_id, status, note)
