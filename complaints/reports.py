"""What a report is: kinds, identity choices, statuses and the moves between them, and the
rules a citizen's submission must meet. No HTTP, no SQL: callers translate the error codes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email


class Kind(StrEnum):
    COMPLAINT = "pengaduan"
    ASPIRATION = "aspirasi"
    INFORMATION = "informasi"


class Identity(StrEnum):
    NAMED = "named"
    ANONYMOUS = "anonim"  # nothing about the reporter is stored
    CONFIDENTIAL = "rahasia"  # stored, shown to the coordinator only, never public


class Channel(StrEnum):
    POSTER = "poster"
    WIDGET = "widget"
    KIOSK = "kiosk"
    STAFF = "staff"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    API = "api"
    # The unit's form on the site itself (`/u/{slug}`), chosen by name without a poster.
    WEB = "web"


# How a citizen reached the member of staff who typed their report in (channel "staff").
TAKEN_VIA = ("counter", "phone", "whatsapp", "email", "letter")


class Status(StrEnum):
    RECEIVED = "masuk"
    FORWARDED = "diteruskan"
    POSTPONED = "tunda"
    NOT_AUTHORITY = "bukan_wewenang"
    ARCHIVED = "arsip"
    FOLLOWED_UP = "ditindaklanjuti"
    CLOSED = "selesai"


# The SP4N-LAPOR! life of a report. The workspace issue adds the actions; the shape is fixed
# here so events written today already fit it.
TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset(
        {Status.FORWARDED, Status.POSTPONED, Status.NOT_AUTHORITY, Status.ARCHIVED}
    ),
    Status.POSTPONED: frozenset(
        {Status.RECEIVED, Status.FORWARDED, Status.NOT_AUTHORITY, Status.ARCHIVED}
    ),
    Status.FORWARDED: frozenset({Status.FOLLOWED_UP, Status.RECEIVED}),
    Status.FOLLOWED_UP: frozenset({Status.CLOSED, Status.FORWARDED}),
    Status.NOT_AUTHORITY: frozenset({Status.RECEIVED}),
    Status.ARCHIVED: frozenset({Status.RECEIVED}),
    Status.CLOSED: frozenset({Status.FORWARDED}),
}


def can_move(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


TEXT_MIN = 15
TEXT_MAX = 4000
LOCATION_MAX = 300
NAME_MAX = 120
EMAIL_MAX = 254


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str  # e.g. "required", "too_short"; the web layer turns it into a sentence
    limit: int | None = None


@dataclass(frozen=True)
class Submission:
    kind: Kind
    text: str
    location: str | None
    identity: Identity
    name: str | None
    phone: str | None
    email: str | None
    # The channel a reporter who left a phone number chose to be told on ("sms",
    # "whatsapp"); None: the deployment's default (Intake.reply_address).
    notify_by: str | None = None

    def body_hash(self, photo_digests: Sequence[str] = ()) -> str:
        """Fingerprint of what was sent, to tell a retry from a different report that reuses
        an idempotency key."""
        h = hashlib.sha256()
        for part in (
            self.kind,
            self.text,
            self.location or "",
            self.identity,
            self.name or "",
            self.phone or "",
            self.email or "",
            *photo_digests,
        ):
            h.update(part.encode())
            h.update(b"\x00")
        return h.hexdigest()


_PHONE_JUNK = re.compile(r"[\s\-().]")


def read_email(raw: str) -> str | None:
    """One mailbox, as the standards allow it (internationalised domains included), or None.
    A comma, semicolon, quotes or parentheses would make a second recipient of the mail that
    answers the reporter. Checked by email-validator, offline: no DNS look-up per report."""
    try:
        checked = validate_email(
            raw, check_deliverability=False, allow_quoted_local=False, allow_display_name=False
        )
    except EmailNotValidError:
        return None
    address = checked.normalized.lower()
    return address if len(address) <= EMAIL_MAX else None


def clean_text(value: str) -> str:
    """NFC, no control characters except newlines, trimmed; what people paste from chat apps
    carries zero-width and bidi marks that would make two equal reports look different."""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    kept = [c for c in value if c == "\n" or c == "\t" or unicodedata.category(c)[0] != "C"]
    return "".join(kept).strip()


def normalize_phone(value: str) -> str | None:
    """Indonesian numbers as +62...; None when it cannot be a phone number."""
    digits = _PHONE_JUNK.sub("", value)
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if not 9 <= len(digits) <= 15:
        return None
    return "+" + digits


# The channels a reporter may choose to be told on at their phone (complaints/conversation.py
# holds the same two as the outbox's channels).
NOTIFY_CHANNELS = ("sms", "whatsapp")


def validate_submission(
    form: Mapping[str, str],
) -> tuple[Submission | None, list[FieldError]]:
    errors: list[FieldError] = []
    kind_raw = form.get("kind", "").strip()
    try:
        kind = Kind(kind_raw)
    except ValueError:
        errors.append(FieldError("kind", "required"))
        kind = Kind.COMPLAINT
    text = clean_text(form.get("text", ""))
    if not text:
        errors.append(FieldError("text", "required"))
    elif len(text) < TEXT_MIN:
        errors.append(FieldError("text", "too_short", TEXT_MIN))
    elif len(text) > TEXT_MAX:
        errors.append(FieldError("text", "too_long", TEXT_MAX))
    location = clean_text(form.get("location", "")).replace("\n", " ") or None
    if location and len(location) > LOCATION_MAX:
        errors.append(FieldError("location", "too_long", LOCATION_MAX))
    try:
        identity = Identity(form.get("identity", "").strip())
    except ValueError:
        errors.append(FieldError("identity", "required"))
        identity = Identity.ANONYMOUS
    name = phone = email = None
    if identity is not Identity.ANONYMOUS:
        name = clean_text(form.get("name", "")).replace("\n", " ") or None
        if not name:
            errors.append(FieldError("name", "required"))
        elif len(name) > NAME_MAX:
            errors.append(FieldError("name", "too_long", NAME_MAX))
        phone_raw = form.get("phone", "").strip()
        email_raw = form.get("email", "").strip()
        if phone_raw:
            phone = normalize_phone(phone_raw)
            if phone is None:
                errors.append(FieldError("phone", "invalid"))
        if email_raw:
            email = read_email(email_raw)
            if email is None:
                errors.append(FieldError("email", "invalid"))
        if not phone_raw and not email_raw:
            errors.append(FieldError("contact", "required"))
    notify_by = form.get("notify_by", "").strip() or None
    if notify_by not in (None, *NOTIFY_CHANNELS):
        errors.append(FieldError("notify_by", "invalid"))
    if errors:
        return None, errors
    return (
        Submission(
            kind, text, location, identity, name, phone, email, notify_by if phone else None
        ),
        [],
    )


def route(chain: Sequence[int], units_with_coordinator: set[int] | frozenset[int]) -> int | None:
    """The unit whose coordinators receive a report entered at chain[0].

    `chain` is the entry unit followed by its ancestors up to the root. The nearest unit with
    a coordinator wins; None means nobody is responsible yet and admins must see the report.
    """
    for unit_id in chain:
        if unit_id in units_with_coordinator:
            return unit_id
    return None
