"""What a mail (and, later, a text message) about a report says, as facts: the outbox keeps them,
and the words are chosen when the message is composed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from lapor.complaints.reminders import Reminder
from lapor.complaints.reports import Channel, Kind, Status

# A mail to staff quotes the start of the report, never all of it: the workspace holds the
# report, and an outbox row keeps no more of the citizen's text than the mail shows.
EXCERPT_CHARS = 400


def excerpt(text: str) -> str:
    """The start of `text` as a mail quotes it; an excerpt of an excerpt is the same."""
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + " …"


@dataclass(frozen=True)
class Notice:
    """What the mail to staff about a new report says; built from data the write already has."""

    report_id: int
    tracking_code: str
    kind: Kind
    text: str  # the report's excerpt (excerpt()), not the whole text
    channel: Channel
    unit_name: str
    poster_label: str | None
    routed_unit_name: str | None  # None: nobody is responsible yet, the admins are told
    verify_due: date
    # Sent through a widget: which one, and the agency's page as stored (a registered origin,
    # no query or fragment), or None when the loader's claim was not kept.
    widget_id: int | None = None
    page_url: str | None = None


# Subject and body of the mail telling staff about a new report.
MailComposer = Callable[[Notice], tuple[str, str]]


@dataclass(frozen=True)
class ChangeNotice:
    """What a mail about a workflow change says: to the unit's officers when a report is
    forwarded, to the reporter (in the report's language) when the unit answers."""

    report_id: int
    tracking_code: str
    title: str | None
    status: Status
    unit_name: str | None
    text: str | None
    language: str
    due: date | None
    # What happened when the status alone does not say it: "reporter_reply" and "reroute"
    # are told to staff, not to the reporter.
    event: str = ""


ChangeComposer = Callable[[ChangeNotice], tuple[str, str]]


@dataclass(frozen=True)
class ReminderNotice:
    report_id: int
    tracking_code: str
    title: str | None
    reminder: Reminder
    status: Status
    due_on: date | None  # the deadline, or for the Ombudsman flag the day it was received


ReminderComposer = Callable[[ReminderNotice], tuple[str, str]]


@dataclass(frozen=True)
class SmsNotice:
    """A text message back to the number a message came from: the receipt of the report it
    made ("receipt", with the tracking code and whether its text was cut), or the help reply
    to a message that made none ("help"). The number itself is the outbox row's address, which
    also says the way out: an SMS, or a WhatsApp message (jobs/whatsapp.py words it for that)."""

    reply: str  # "receipt" or "help"
    language: str
    report_id: int | None = None
    tracking_code: str | None = None
    cut: bool = False
    keyword: str = ""  # the first keyword, for the help reply to quote


# Every notice the outbox may carry.
AnyNotice = Notice | ChangeNotice | ReminderNotice | SmsNotice
