"""Words people read for the domain's codes, through gettext."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lapor.complaints import national, tracking
from lapor.complaints.conversation import (
    ChannelMessage,
    Delivery,
    channel_of,
    masked,
    number_of,
)
from lapor.complaints.feedback import IKM_ITEMS
from lapor.complaints.publication import PersonalData
from lapor.complaints.records import Event
from lapor.complaints.reports import Channel, FieldError, Kind, Status
from lapor.web import i18n
from lapor.web.i18n import N_, gettext, ngettext

STATUS = {
    Status.RECEIVED: N_("Received, waiting for verification"),
    Status.FORWARDED: N_("Forwarded to the unit"),
    Status.POSTPONED: N_("Waiting for more information from the reporter"),
    Status.NOT_AUTHORITY: N_("Not this unit's authority"),
    Status.ARCHIVED: N_("Archived"),
    Status.FOLLOWED_UP: N_("Answered by the unit"),
    Status.CLOSED: N_("Closed"),
}
KIND = {
    Kind.COMPLAINT: N_("Complaint"),
    Kind.ASPIRATION: N_("Suggestion"),
    Kind.INFORMATION: N_("Information request"),
}
# One line under each kind, wherever a citizen chooses one (the forms, the kiosk).
KIND_HINT = {
    Kind.COMPLAINT: N_("Something went wrong and should be fixed."),
    Kind.ASPIRATION: N_("An idea or a suggestion to improve the service."),
    Kind.INFORMATION: N_("A question you want answered."),
}
CHANNEL = {
    Channel.POSTER: N_("QR poster"),
    Channel.WIDGET: N_("Website widget"),
    Channel.KIOSK: N_("Kiosk"),
    Channel.STAFF: N_("Taken by staff"),
    Channel.SMS: N_("SMS"),
    Channel.WHATSAPP: N_("WhatsApp"),
    Channel.API: N_("API"),
    Channel.WEB: N_("Site form, no poster"),
}
ROLE = {
    "coordinator": N_("coordinator"),
    "officer": N_("liaison officer"),
    "inspector": N_("inspector"),
    "admin": N_("administrator"),
}
OUTBOX_STATUS = {
    "pending": N_("waiting"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "failed": N_("failed"),
}
# What WhatsApp reported of a message we sent (its delivery statuses).
# What the provider said became of an outbox row (WhatsApp statuses, Kannel delivery reports).
OUTBOX_DELIVERY = {
    "sent": N_("accepted by WhatsApp"),
    "delivered": N_("delivered to the phone"),
    "read": N_("read"),
    "failed": N_("not delivered"),
}
EVENT = {
    "received": N_("Report received"),
    "routed": N_("Routed to the coordinator"),
    "unrouted": N_("No coordinator found: waiting for an administrator"),
    "forwarded": N_("Verified and forwarded to the unit"),
    "followed_up": N_("The unit answered"),
    "internal_note": N_("Internal note"),
    "postpone": N_("More information is needed from the reporter"),
    "not_authority": N_("Not this organisation's authority"),
    "archive": N_("Archived"),
    "reporter_reply": N_("The reporter replied"),
    "accepted": N_("The reporter accepted the answer"),
    "auto_closed": N_("Closed: no reply from the reporter within the time limit"),
    "classified": N_("Title, category and tags set"),
    "redacted": N_("Personal data redacted (the original text is kept for the coordinator)"),
    "list_withheld": N_("Kept off the public list of answered reports"),
    "list_published": N_("Let on the public list of answered reports"),
    "assigned": N_("Assigned to"),
    "unassigned": N_("No longer assigned to anyone"),
    "extended": N_("Follow-up deadline extended"),
    "rerouted": N_("Returned by the unit to the coordinator for another unit"),
    "taken": N_("Taken by staff for the reporter"),
    "handed_over": N_("Handed over to the coordinator of"),
    "national_queued": N_("To be sent to the national portal SP4N-LAPOR!"),
    "national_sent": N_("Sent to the national portal SP4N-LAPOR!, national tracking ID"),
    "national_received": N_("National portal: received"),
    "national_verified": N_("National portal: verified"),
    "national_forwarded": N_("National portal: forwarded to an agency"),
    "national_in_progress": N_("National portal: being handled"),
    "national_answered": N_("National portal: answered"),
    "national_closed": N_("National portal: closed"),
    "national_rejected": N_("National portal: rejected"),
    "national_comment": N_("National portal: comment"),
    "national_update": N_("National portal: update"),
    "kiosk_code_lost": N_(
        "The kiosk's tracking code was no longer reserved; the citizen's receipt shows"
    ),
}
CATEGORY = {
    "pelayanan": N_("Quality of public service"),
    "kesehatan": N_("Health"),
    "pendidikan": N_("Education"),
    "kependudukan": N_("Civil registration and ID"),
    "perizinan": N_("Permits and licences"),
    "infrastruktur": N_("Roads and infrastructure"),
    "transportasi": N_("Transport"),
    "lingkungan": N_("Environment and sanitation"),
    "ketertiban": N_("Public order"),
    "sosial": N_("Social welfare"),
    "pajak": N_("Taxes and levies"),
    "ketenagakerjaan": N_("Employment"),
    "pungli": N_("Illegal levies and corruption"),
    "lainnya": N_("Other"),
}
# How a citizen reached the member of staff who typed their report in.
TAKEN_VIA = {
    "counter": N_("At the counter"),
    "phone": N_("By phone"),
    "whatsapp": N_("By WhatsApp"),
    "email": N_("By e-mail"),
    "letter": N_("By letter"),
}


def status_label(status: Status) -> str:
    return gettext(STATUS[status])


def kind_label(kind: Kind) -> str:
    return gettext(KIND[kind])


def kind_hint(kind: Kind) -> str:
    return gettext(KIND_HINT[kind])


def channel_label(channel: Channel) -> str:
    return gettext(CHANNEL[channel])


def category_label(code: str | None) -> str:
    if not code:
        return ""
    return gettext(CATEGORY[code]) if code in CATEGORY else code


def taken_via_label(code: str | None) -> str:
    if not code:
        return ""
    return gettext(TAKEN_VIA[code]) if code in TAKEN_VIA else code


def role_label(role: str) -> str:
    return gettext(ROLE.get(role, role))


def outbox_status_label(status: str) -> str:
    return gettext(OUTBOX_STATUS.get(status, status))


def outbox_delivery_label(delivery: str) -> str:
    return gettext(OUTBOX_DELIVERY.get(delivery, delivery))


def transition_label(event: Event) -> str:
    """ "From → to" for an event that moved the report, for the audit trail; "" otherwise."""
    try:
        before, after = Status(event.from_status or ""), Status(event.to_status or "")
    except ValueError:
        return ""
    return f"{status_label(before)} → {status_label(after)}"


def event_label(event: Event) -> str:
    return gettext(EVENT[event.kind]) if event.kind in EVENT else event.kind


# A message of the conversation on the reporter's channel (complaints/conversation.py).
MESSAGE_CHANNEL = {"sms": N_("SMS"), "whatsapp": N_("WhatsApp"), "email": N_("E-mail")}
MESSAGE_DIRECTION = {
    "in": N_("%(channel)s from the reporter"),
    "out": N_("%(channel)s to the reporter"),
}
DELIVERY = {
    Delivery.QUEUED: N_("waiting in the outbox"),
    Delivery.SENT: N_("sent"),
    Delivery.FAILED: N_("not sent"),
    Delivery.DELIVERED: N_("delivered"),
    Delivery.UNDELIVERED: N_("not delivered"),
}


def message_label(message: ChannelMessage) -> str:
    if message.channel == "web":
        # The reporter's answer to staff's mail, written on their private page.
        return gettext(N_("Message from the reporter on their private page"))
    channel = gettext(MESSAGE_CHANNEL.get(message.channel, message.channel))
    return gettext(MESSAGE_DIRECTION[message.direction], channel=channel)


def message_channel_label(channel: str) -> str:
    return gettext(MESSAGE_CHANNEL.get(channel, channel))


PERSONAL_DATA = {
    PersonalData.PHONE: N_("a phone number"),
    PersonalData.EMAIL: N_("an e-mail address"),
    PersonalData.NIK: N_("an NIK (identity number)"),
}


def personal_data_label(found: PersonalData) -> str:
    return gettext(PERSONAL_DATA[found])


def outbox_address(to_address: str) -> str:
    """An outbox row's address as the outbox page shows it: a mailbox whole, a number by its
    last digits only (an anonymous reporter's number is on the row that answers them, and no
    page may show it); a report's delivery to the national portal by its tracking code."""
    if national.is_national(to_address):
        return f"SP4N-LAPOR! {tracking.format_code(to_address.removeprefix(national.PREFIX))}"
    channel = channel_of(to_address)
    if channel is None:
        return to_address
    return f"{message_channel_label(channel)} {masked(number_of(to_address))}"


def delivery_label(delivery: Delivery) -> str:
    return gettext(DELIVERY[delivery])


RATING = {
    1: N_("1 – very poor"),
    2: N_("2 – poor"),
    3: N_("3 – fair"),
    4: N_("4 – good"),
    5: N_("5 – very good"),
}


def rating_label(value: int) -> str:
    return gettext(RATING[value]) if value in RATING else str(value)


def days_left_label(days: int) -> str:
    if days < 0:
        return ngettext("%(num)s working day overdue", "%(num)s working days overdue", -days)
    if days == 0:
        return gettext("due today")
    return ngettext("%(num)s working day left", "%(num)s working days left", days)


def clock_offset_label(offset_ms: int | None) -> str:
    """How far a kiosk's clock is from the server's, as an admin reads it: "in step" below a
    tenth of a second (not "-0.0 s"), else "2,5 s ahead" or "1 min 5 s behind"."""
    if offset_ms is None:
        return "–"
    if abs(offset_ms) < 100:
        return gettext("in step with the server")
    seconds = abs(offset_ms) / 1000
    if seconds < 60:
        amount = gettext("%(seconds)s s", seconds=i18n.format_rounded(seconds))
    else:
        minutes, rest = divmod(round(seconds), 60)
        amount = gettext("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=rest)
    if offset_ms > 0:
        return gettext("%(amount)s ahead", amount=amount)
    return gettext("%(amount)s behind", amount=amount)


# What is wrong with a field of a report form (the citizen's, or staff typing one for them).
ERROR_MESSAGES = {
    ("kind", "required"): N_("Choose what kind of report this is."),
    ("text", "required"): N_("Write what happened."),
    ("text", "too_short"): N_("Write at least %(limit)s characters so the unit can act on it."),
    ("text", "too_long"): N_("Write at most %(limit)s characters."),
    ("location", "too_long"): N_("The location can have at most %(limit)s characters."),
    ("identity", "required"): N_("Choose how you want to be identified."),
    ("name", "required"): N_("Write your name, or choose to report anonymously."),
    ("name", "too_long"): N_("The name can have at most %(limit)s characters."),
    ("phone", "invalid"): N_(
        "This does not look like a phone number (for example 0812 3456 7890)."
    ),
    ("email", "invalid"): N_("This does not look like an e-mail address."),
    ("notify_by", "invalid"): N_("Choose SMS or WhatsApp for our messages to this number."),
    ("contact", "required"): N_("Give a phone number or an e-mail address so we can reply."),
    ("photos", "too_many"): N_("You can attach at most %(limit)s photos."),
    ("photos", "too_large"): N_("A photo is too large (at most %(limit)s MB)."),
    ("photos", "too_many_pixels"): N_("A photo has too many pixels."),
    ("photos", "not_an_image"): N_("A file could not be read as a photo."),
    ("photos", "unsupported"): N_("Only JPEG, PNG and WebP photos are accepted."),
    ("form", "expired"): N_(
        "This form was open for too long. Your text is kept below: check it and send again."
    ),
    ("form", "invalid"): N_("This form could not be checked. Your text is kept below: send again."),
    ("form", "honeypot"): N_(
        "The report looked automated and was not sent. Check the form and send it again."
    ),
    ("unit", "required"): N_("Choose the unit the report is about."),
    ("taken_via", "required"): N_("Choose how the citizen reached you."),
    ("language", "required"): N_("Choose the citizen's language."),
    ("national_id", "invalid"): N_(
        "A national tracking ID has up to 64 letters, digits and the signs - . / _ only."
    ),
    ("national_id", "taken"): N_("Another report already has this national tracking ID."),
    ("form", "resent_changed"): N_(
        "This form was already sent with a different text. Check the text and send it again "
        "as a new report."
    ),
    ("form", "rate_limited"): N_(
        "Too many reports were sent from this connection just now. Wait a minute and send "
        "again; your text is kept below."
    ),
    # Feedback from a kiosk (complaints/feedback.py): the citizen's own choices first, then
    # what only a kiosk's app can get wrong.
    ("rating", "required"): N_("Choose one of the five faces."),
    ("answers", "invalid"): N_("The survey needs nine answers, each from 1 to 4."),
    **{
        (f"q{item.number}", "required"): N_("Choose one of the four answers to this question.")
        for item in IKM_ITEMS
    },
    ("kind", "not_feedback"): N_("Send either a quick rating or a satisfaction survey."),
    ("unit", "invalid"): N_("Unknown unit."),
    ("reported_at", "invalid"): N_(
        "The device's time could not be read: send it in ISO 8601 with a time zone offset."
    ),
    ("reported_at", "out_of_range"): N_(
        "The device's clock is wrong (before 2020 or more than 30 days ahead): set the "
        "tablet's date and time."
    ),
}


def error_text(error: FieldError) -> str:
    message = ERROR_MESSAGES.get((error.field, error.code), N_("Check this field."))
    if error.limit is not None:
        return i18n.gettext(message, limit=i18n.format_number(error.limit))
    return i18n.gettext(message)


# The error summary links each message to what must be fixed (GOV.UK's pattern): a field by its
# id; a choice's first option carries the field's name as id; a missing way to reach someone
# goes to the phone field.
_SUMMARY_ANCHOR = {"contact": "phone", "taken_via": "taken-via", "national_id": "national-id"}


def form_errors(errors: Iterable[FieldError]) -> dict[str, Any]:
    """What a form's template shows of its errors: each field's messages, the summary's
    (anchor, message) lines, and their number."""
    by_field: dict[str, list[str]] = {}
    summary: list[tuple[str | None, str]] = []
    for error in errors:
        text = error_text(error)
        by_field.setdefault(error.field, []).append(text)
        anchor = None if error.field == "form" else _SUMMARY_ANCHOR.get(error.field, error.field)
        summary.append((anchor, text))
    return {"errors": by_field, "error_summary": summary, "error_count": len(summary)}
