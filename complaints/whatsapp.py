"""What a WhatsApp Business webhook says, as records: the messages citizens sent (text,
image, location, ...) and the delivery statuses of ours, read from Meta's documented payload
(`object: whatsapp_business_account`, `entry[].changes[].value` with `messages[]`,
`contacts[]` and `statuses[]`). Also the rules of the channel: which text is a report, and
WhatsApp's 24-hour customer-service window. No HTTP, no SQL."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lapor.complaints.reports import LOCATION_MAX, NAME_MAX, TEXT_MIN, clean_text, normalize_phone
from lapor.complaints.sms import ParsedSms, parse

# Free text may be sent to a number for 24 hours after its last message to us; after that only
# an approved template (Meta's customer-service window).
SERVICE_WINDOW = timedelta(hours=24)
# The statuses Meta reports for a message we sent, in the order they happen.
DELIVERY_ORDER = ("sent", "delivered", "read")
DELIVERY_STATUSES = frozenset({*DELIVERY_ORDER, "failed"})
# What a message id may be: Meta's are about 60 characters of base64.
ID_MAX = 128
# WhatsApp caps a text at 4,096 characters, a little over a report's: a longer one is kept up
# to the report's limit, as by SMS; beyond this, it is not a message WhatsApp sent.
BODY_MAX = 65_536


@dataclass(frozen=True)
class Inbound:
    """One message a citizen sent. `text` is a text's body or an image's caption; `media_id`
    an image's media id; `location` a location message put into words."""

    wamid: str
    phone: str
    kind: str
    sent_at: datetime
    text: str | None = None
    media_id: str | None = None
    location: str | None = None
    profile_name: str | None = None


@dataclass(frozen=True)
class Status:
    """What Meta says became of a message we sent."""

    wamid: str
    status: str
    at: datetime
    error: str | None = None


@dataclass(frozen=True)
class Event:
    """Everything one webhook delivery carries for `phone_number_id` (the business number it
    was sent to), and how many of its messages could not be read."""

    messages: tuple[Inbound, ...]
    statuses: tuple[Status, ...]
    unreadable: int


class NotAWebhook(ValueError):
    """The body is not a WhatsApp Business Account webhook."""


def _str(value: Any, limit: int = BODY_MAX) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value)
    return text if 0 < len(text) <= limit else None


def _time(value: Any) -> datetime | None:
    raw = _str(value, 20)
    if raw is None or not raw.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if -180.0 <= number <= 180.0 else None


def _location(found: Mapping[str, Any]) -> str | None:
    latitude, longitude = _number(found.get("latitude")), _number(found.get("longitude"))
    if latitude is None or longitude is None or abs(latitude) > 90:
        return None
    place = ", ".join(
        clean_text(v).replace("\n", " ")
        for v in (found.get("name"), found.get("address"))
        if isinstance(v, str) and clean_text(v)
    )
    where = f"{latitude:.6f}, {longitude:.6f}"
    text = f"{place} ({where})" if place else where
    return text if len(text) <= LOCATION_MAX else where


def _message(raw: Any, names: Mapping[str, str]) -> Inbound | None:
    if not isinstance(raw, dict):
        return None
    wamid = _str(raw.get("id"), ID_MAX)
    sender = _str(raw.get("from"), 20)
    phone = normalize_phone(sender) if sender else None
    kind = _str(raw.get("type"), 16)
    sent_at = _time(raw.get("timestamp"))
    if wamid is None or phone is None or sender is None or kind is None or sent_at is None:
        return None
    body = raw.get(kind)
    found: Mapping[str, Any] = body if isinstance(body, dict) else {}
    text = media_id = location = None
    if kind == "text":
        text = _str(found.get("body"))
    elif kind == "image":
        media_id = _str(found.get("id"), ID_MAX)
        text = _str(found.get("caption"))
        if media_id is None:
            return None
    elif kind == "location":
        location = _location(found)
    name = names.get(sender)
    return Inbound(
        wamid,
        phone,
        kind,
        sent_at,
        text=text,
        media_id=media_id,
        location=location,
        profile_name=clean_text(name)[:NAME_MAX] or None if name else None,
    )


def _status(raw: Any) -> Status | None:
    if not isinstance(raw, dict):
        return None
    wamid = _str(raw.get("id"), ID_MAX)
    status = _str(raw.get("status"), 16)
    at = _time(raw.get("timestamp"))
    if wamid is None or status not in DELIVERY_STATUSES or at is None:
        return None
    error = None
    errors = raw.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        error = " ".join(str(first[k]) for k in ("code", "title", "message") if _str(first.get(k)))[
            :500
        ]
    return Status(wamid, status, at, error or None)


def read_event(payload: Any, phone_number_id: str) -> Event:
    """The messages and statuses of a webhook body (parsed JSON). Changes for another business
    number than `phone_number_id` (when set) are left out; a message or status that is not of
    the documented shape is counted in `unreadable` and skipped, the rest still read."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise NotAWebhook("not a WhatsApp Business Account webhook")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise NotAWebhook("no entry list")
    messages: list[Inbound] = []
    statuses: list[Status] = []
    unreadable = 0
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            ours = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if phone_number_id and str(ours) != phone_number_id:
                continue
            names: dict[str, str] = {}
            contacts = value.get("contacts")
            for contact in contacts if isinstance(contacts, list) else []:
                if not isinstance(contact, dict):
                    continue
                profile = contact.get("profile")
                name = profile.get("name") if isinstance(profile, dict) else None
                wa_id = _str(contact.get("wa_id"), 20)
                if wa_id and isinstance(name, str):
                    names[wa_id] = name
            raw_messages = value.get("messages")
            for raw in raw_messages if isinstance(raw_messages, list) else []:
                message = _message(raw, names)
                if message is None:
                    unreadable += 1
                else:
                    messages.append(message)
            raw_statuses = value.get("statuses")
            for raw in raw_statuses if isinstance(raw_statuses, list) else []:
                status = _status(raw)
                if status is None:
                    unreadable += 1
                else:
                    statuses.append(status)
    return Event(tuple(messages), tuple(statuses), unreadable)


def later_delivery(current: str | None, new: str) -> bool:
    """Whether status `new` replaces `current` on our row: Meta's webhooks may arrive out of
    order (read before delivered), and a failure is final."""
    if current is None:
        return True
    if current == "failed":
        return False
    if new == "failed":
        return True
    return DELIVERY_ORDER.index(new) > DELIVERY_ORDER.index(current)


def in_service_window(last_inbound: datetime | None, at: datetime) -> bool:
    """Whether free text may be sent at `at` to a number whose last message to us was sent at
    `last_inbound` (None: never)."""
    return last_inbound is not None and at - last_inbound < SERVICE_WINDOW


def parse_text(
    texts: Sequence[str], keywords: Sequence[str], unit_words: Mapping[str, int]
) -> ParsedSms | None:
    """The report the texts of one gathered batch (texts and captions, in order) ask for, or
    None for the help reply. The number serves reports only, so no keyword is needed (a
    citizen used to SMS may still lead with one, and ANONIM and a unit word as by SMS); but a
    greeting, a "P" or an emoji alone is no report: the text must be as long as a web form's."""
    message = "\n".join(t for t in (clean_text(t) for t in texts) if t)
    parsed = parse(message, keywords, unit_words, keyword_required=False)
    if parsed is None or len(parsed.text) < TEXT_MIN:
        return None
    return parsed


def idempotency_key(first_wamid: str) -> str:
    """The submission key of a batch: its first message's id, the same on every try."""
    return "wa:" + hashlib.sha256(first_wamid.encode()).hexdigest()[:61]
