"""Kiosk rules: pairing codes, the pool of tracking codes a kiosk holds for offline use, what a
device may report about itself, and how a queued report is read. No HTTP, no SQL.

A kiosk stands in a public service mall (Mal Pelayanan Publik) on a hall network that drops
or sits behind a captive portal. It queues what citizens send and delivers it later, so every
queued item carries its own idempotency key and the device's time; the server trusts neither
more than it must: the key is scoped to the device, the time only has to be plausible."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from lapor.complaints import tracking
from lapor.complaints.records import Unit
from lapor.complaints.reports import FieldError, Submission, validate_submission

# Six digits are quick to type on a tablet. They are safe only while guesses from everywhere
# together stay few; once that ceiling fills, six-digit codes wait and the administrator is
# given ten-digit ones, out of reach of any guessing, so strangers cannot stop a pairing.
SHORT_PAIRING_DIGITS: Final = 6
LONG_PAIRING_DIGITS: Final = 10
PAIRING_LIFETIME: Final = timedelta(minutes=10)
NAME_MAX: Final = 120

# A kiosk keeps this many tracking codes; it asks for more when it holds fewer than
# POOL_REFILL_BELOW. A busy mall hall sees a few dozen reports a day, so a full pool lasts a
# week of network outage.
POOL_SIZE: Final = 60
POOL_REFILL_BELOW: Final = 30
# Codes the server lets one kiosk hold at once (a device that lost its storage asks again).
POOL_MAX_OUTSTANDING: Final = 3 * POOL_SIZE
CODE_LIFETIME: Final = timedelta(days=30)
# An expired code may still arrive on a report queued before it expired; only after this much
# longer is it given up.
CODE_GRACE: Final = timedelta(days=30)

# The device's clock is a claim: plausible means not before the product existed and not far
# in the future. Outside that the server's arrival time is used for both.
EARLIEST_DEVICE_TIME: Final = datetime(2020, 1, 1, tzinfo=UTC)
DEVICE_CLOCK_SLACK: Final = timedelta(days=1)
# Idempotency keys made by the device (random, URL-safe); the server prefixes the kiosk's id.
_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
# The secret of the reporter's private link, handed to the kiosk with each pool code so that
# the receipt's QR code opens the private page even when the report waits in the queue. The
# server keeps nothing of it until the report arrives with it, and then only its digest: the
# kiosk could choose its own, which gives it nothing (it wrote the report). 120 bits or more.
LINK_SECRET_BYTES: Final = 15
_LINK_SECRET: Final = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
APP_VERSION_MAX: Final = 40
QUEUE_MAX: Final = 100_000


def new_pairing_code(*, long: bool = False) -> str:
    digits = LONG_PAIRING_DIGITS if long else SHORT_PAIRING_DIGITS
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def read_pairing_code(raw: str) -> str | None:
    """Six or ten digits as typed (spaces and hyphens forgiven), or None."""
    digits = "".join(c for c in raw if c not in " -\u00a0")
    if len(digits) not in (SHORT_PAIRING_DIGITS, LONG_PAIRING_DIGITS):
        return None
    return digits if digits.isascii() and digits.isdigit() else None


def is_short_pairing_code(code: str) -> bool:
    return len(code) == SHORT_PAIRING_DIGITS


def spaced_pairing_code(code: str) -> str:
    """As the administrator reads it out: 123 456, or 123 456 7890."""
    return " ".join(filter(None, (code[:3], code[3:6], code[6:])))


def pairing_code_hash(code: str) -> str:
    """What the store keeps instead of the code. Six digits are no secret from someone who
    holds the database; the hash keeps them out of backups and logs all the same."""
    return hashlib.sha256(f"kiosk-pairing:{code}".encode()).hexdigest()


def read_kiosk_name(raw: str) -> str | None:
    name = " ".join(raw.split())
    return name if 1 <= len(name) <= NAME_MAX else None


def new_link_secret() -> str:
    """A reporter's private-link secret for one pool code (20 URL-safe characters)."""
    return secrets.token_urlsafe(LINK_SECRET_BYTES)


def device_key(kiosk_id: int, key: str) -> str:
    """The stored idempotency key: the device's own, scoped to the kiosk so two devices can
    never collide, nor one pretend to resend another's report."""
    return f"kiosk{kiosk_id}:{key}"


def codes_wanted(held: int, outstanding: int) -> int:
    """How many codes to reserve for a device holding `held` usable codes, of which the server
    knows `outstanding` reserved and undelivered."""
    if held >= POOL_SIZE:
        return 0
    return max(0, min(POOL_SIZE - held, POOL_MAX_OUTSTANDING - outstanding))


def device_time(raw: Any, arrived: datetime) -> datetime | None:
    """The device's time of an event, when it is an aware ISO 8601 time and plausible."""
    if not isinstance(raw, str) or not raw or len(raw) > 40:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    value = value.astimezone(UTC)
    if value < EARLIEST_DEVICE_TIME or value > arrived + DEVICE_CLOCK_SLACK:
        return None
    return value


@dataclass(frozen=True)
class QueuedReport:
    """A report as the kiosk queued it."""

    key: str
    unit_id: int
    submission: Submission
    language: str
    tracking_code: str | None  # from the device's pool; None when the pool ran dry
    reported_at: datetime | None
    # The private link's secret that came with the pool code and that the receipt showed;
    # None from a kiosk app before private links, or when the pool ran dry.
    link_secret: str | None = None


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name, "")
    return value if isinstance(value, str) else ""


def read_key(body: Mapping[str, Any]) -> str | None:
    key = body.get("key")
    return key if isinstance(key, str) and _KEY.match(key) else None


def read_unit_id(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw > 0 else None
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
        return int(raw) or None
    return None


def read_language(raw: Any, languages: tuple[str, ...], default: str) -> str:
    return raw if isinstance(raw, str) and raw in languages else default


def read_queued_report(
    body: Mapping[str, Any],
    *,
    arrived: datetime,
    languages: tuple[str, ...],
    default_language: str,
) -> tuple[QueuedReport | None, list[FieldError]]:
    """A queued report from the kiosk's JSON; the same rules as the poster's form."""
    errors: list[FieldError] = []
    key = read_key(body)
    if key is None:
        errors.append(FieldError("key", "invalid"))
    unit_id = read_unit_id(body.get("unit"))
    if unit_id is None:
        errors.append(FieldError("unit", "required"))
    code: str | None = None
    raw_code = body.get("code")
    if raw_code not in (None, ""):
        code = tracking.normalize(raw_code) if isinstance(raw_code, str) else None
        if code is None:
            errors.append(FieldError("code", "invalid"))
    secret: str | None = None
    raw_secret = body.get("secret")
    if raw_secret not in (None, ""):
        if isinstance(raw_secret, str) and _LINK_SECRET.match(raw_secret) and code is not None:
            secret = raw_secret
        else:
            errors.append(FieldError("secret", "invalid"))
    fields = {
        name: _text(body, name)
        for name in ("kind", "text", "location", "identity", "name", "phone", "email")
    }
    submission, submission_errors = validate_submission(fields)
    errors += submission_errors
    if errors or submission is None or key is None or unit_id is None:
        return None, errors
    return QueuedReport(
        key,
        unit_id,
        submission,
        read_language(body.get("language"), languages, default_language),
        code,
        device_time(body.get("reported_at"), arrived),
        secret,
    ), []


@dataclass(frozen=True)
class Offered:
    """A unit a kiosk offers, and the offered unit it is shown under (None: on the first
    screen of agencies)."""

    unit: Unit
    parent_id: int | None


def offered_units(hall: Unit, units: list[Unit], coordinated: set[int]) -> list[Offered]:
    """What a kiosk standing in `hall` offers: every unit below the hall, however deep (a
    puskesmas under the health office), in tree order and by name among siblings; or the hall
    itself when nothing is below it.

    A unit without staff of its own is offered: its reports are routed up the tree to the
    nearest coordinator (docs/domain.md), as its posters' are. One whose reports would find no
    coordinator at all is left out, since nobody would read what a person writes there; when
    that leaves nothing, the hall is offered, whose reports the administrators see as
    unrouted. `coordinated` holds the ids of the units with an active coordinator."""
    by_id = {u.id: u for u in units}
    below = [u for u in units if u.path.startswith(hall.path) and u.id != hall.id]

    def reached(unit: Unit) -> bool:
        return any(i in coordinated for i in unit.ancestor_ids)

    kept = {u.id for u in below if reached(u)}

    def sort_key(unit: Unit) -> list[str]:
        # Tree order with siblings by name: the names of the unit's ancestors, root first.
        names = [by_id[i].name.casefold() for i in reversed(unit.ancestor_ids) if i in by_id]
        return [*names, str(unit.id)]

    offered = []
    for unit in sorted((u for u in below if u.id in kept), key=sort_key):
        # Shown under the nearest offered unit above it, or on the first screen.
        parent = next((i for i in unit.ancestor_ids[1:] if i in kept), None)
        offered.append(Offered(unit, parent))
    return offered or [Offered(hall, None)]


def in_hall(hall: Unit, unit: Unit) -> bool:
    """Whether a queued item may name `unit`: the hall or any unit below it. Wider than what
    the kiosk offers now, so an item queued before a coordinator left is still taken."""
    return unit.path.startswith(hall.path)


@dataclass(frozen=True)
class Heartbeat:
    """What a kiosk says about itself every few minutes; shown on the admins' kiosk list."""

    online: bool
    queue_length: int
    oldest_queued_at: datetime | None
    app_version: str | None
    storage_persistent: bool | None
    clock_offset_ms: int | None  # device minus server


def read_heartbeat(body: Mapping[str, Any], arrived: datetime) -> Heartbeat:
    """Lenient: a field that makes no sense is left out, the beat itself always counts."""
    queue = body.get("queue_length")
    queue_length = queue if isinstance(queue, int) and not isinstance(queue, bool) else 0
    version = body.get("app_version")
    persistent = body.get("storage_persistent")
    clock = device_time(body.get("device_time"), arrived + timedelta(days=365))
    offset = None
    if clock is not None:
        offset = int((clock - arrived).total_seconds() * 1000)
        offset = max(-(2**31) + 1, min(2**31 - 1, offset))
    return Heartbeat(
        online=body.get("online") is not False,
        queue_length=max(0, min(QUEUE_MAX, queue_length)),
        oldest_queued_at=device_time(body.get("oldest_queued_at"), arrived),
        app_version=version[:APP_VERSION_MAX] if isinstance(version, str) and version else None,
        storage_persistent=persistent if isinstance(persistent, bool) else None,
        clock_offset_ms=offset,
    )
