"""The conversation with a reporter on the channel they came by or left a number for (SMS, and
WhatsApp the same way), or by mail for a reporter who left an e-mail address: where a message
goes (a channel's address), what a message that is no report means (STOP, MULAI, an answer
naming its report), and what a reply from staff may be. No HTTP, no SQL: the channels read
the gateway, the store keeps the messages, the outbox sends them by channel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lapor.complaints import tracking
from lapor.complaints.reports import NOTIFY_CHANNELS, Status, clean_text
from lapor.complaints.sms import segments, squash

# The channels a reporter can be answered on, each with the prefix of its outbox address: a
# mail sender never takes "sms:+62812..." for a mailbox.
CHANNELS = NOTIFY_CHANNELS


def address(channel: str, number: str) -> str:
    """The outbox address of `number` on `channel` ("sms:+62812...")."""
    if channel not in CHANNELS:
        raise ValueError(channel)
    return f"{channel}:{number}"


def channel_of(to_address: str) -> str | None:
    """The channel an outbox address goes by; None for a mailbox."""
    channel, sep, _ = to_address.partition(":")
    return channel if sep and channel in CHANNELS else None


def number_of(to_address: str) -> str:
    return to_address.partition(":")[2]


def masked(number: str) -> str:
    """A number as a page may show it when it must show one at all (the outbox): the end
    only, never enough to call."""
    return "•••" + number[-3:] if len(number) > 3 else "•••"


class Command(StrEnum):
    STOP = "stop"  # nothing more goes out to this number
    START = "start"  # messages go out again


# Whole messages, case and spaces aside: "stop", "Berhenti", "MULAI".
COMMANDS = {
    "STOP": Command.STOP,
    "BERHENTI": Command.STOP,
    "UNSUBSCRIBE": Command.STOP,
    "MULAI": Command.START,
    "START": Command.START,
}


def command(text: str) -> Command | None:
    """The command a message is, when it is nothing but one word of COMMANDS."""
    return COMMANDS.get(squash(clean_text(text)).strip(".!"))


_CODE = re.compile(r"[0-9A-Za-z]{5}[- ]?[0-9A-Za-z]{5}")


def named_codes(text: str) -> list[str]:
    """The tracking codes a message may name (the receipt's "R4YZ6-X81N2", typed with or
    without its dash), normalised, in order; words that happen to pass the check are among
    them, so the caller keeps only codes of the sender's own reports."""
    found = (tracking.normalize(m.group()) for m in _CODE.finditer(text))
    return list(dict.fromkeys(code for code in found if code is not None))


class Delivery(StrEnum):
    QUEUED = "queued"  # in the outbox, not yet handed to the gateway
    SENT = "sent"  # the gateway took it
    FAILED = "failed"  # the outbox gave up (or the number sent STOP, or is blocked)
    DELIVERED = "delivered"  # the gateway's delivery report: it reached the phone
    UNDELIVERED = "undelivered"  # the gateway's delivery report: it did not


@dataclass(frozen=True)
class ChannelMessage:
    """One message of the conversation as staff see it: never the number."""

    id: int
    channel: str
    direction: str  # "in" from the reporter, "out" to them
    at: datetime
    text: str | None
    delivery: Delivery | None
    actor_email: str | None = None  # who of staff wrote it; None for the reporter or a notice
    outbox_id: int | None = None  # an outgoing one: the outbox row that sends it


# Staff's messages to a reporter who left an e-mail address go out as mails (jobs/mail.py),
# which they answer on their private page ("web"): both on the report's conversation.
EMAIL = "email"
WEB = "web"


def reply_channel(report_channel: str | None, reporter_email: str | None) -> str | None:
    """How staff write to the reporter: by mail when they left an address (as every notice
    to them goes), else on the channel of their number; None when they left neither."""
    if reporter_email:
        return EMAIL
    return report_channel if report_channel in CHANNELS else None


# Where the reporter may answer staff's mail on their private page: while the report is with
# the coordinator or the unit. Waiting for them (tunda) or answered, the page's own reply is
# the answer, and does what it always did.
REPORTER_WRITES = frozenset({Status.RECEIVED, Status.FORWARDED})


def reporter_may_write(status: Status, messages: Sequence[ChannelMessage]) -> bool:
    """Whether the private page offers the reporter an answer to staff's mail: staff wrote to
    them by mail, and the report is where an answer leaves it as it is."""
    wrote = any(m.channel == EMAIL and m.direction == "out" for m in messages)
    return wrote and status in REPORTER_WRITES


# What one reply from staff may cost: as many segments as a receipt may.
REPLY_SEGMENTS = 2
# An SMS reply of GSM letters up to this length always fits (two parts of 153, less the code
# in front); one with other letters (UCS-2) fits in fewer, which read_reply checks.
REPLY_MAX = {"sms": 293, "whatsapp": 4000, EMAIL: 4000}


class ReplyRefusal(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_CHANNEL = "no_channel"


class ReplyError(Exception):
    def __init__(self, refusal: ReplyRefusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def read_reply(raw: str, channel: str | None) -> str:
    """Staff's reply to the reporter, checked for the channel it goes by: an SMS reply fits in
    REPLY_SEGMENTS messages with the tracking code in front of it (jobs/sms.py)."""
    if channel not in REPLY_MAX:
        raise ReplyError(ReplyRefusal.NO_CHANNEL)
    text = clean_text(raw)
    if not text:
        raise ReplyError(ReplyRefusal.EMPTY)
    if len(text) > REPLY_MAX[channel]:
        raise ReplyError(ReplyRefusal.TOO_LONG)
    # "R4YZ6-X81N2: " goes in front of an SMS reply.
    if channel == "sms" and segments("X" * 13 + text).count > REPLY_SEGMENTS:
        raise ReplyError(ReplyRefusal.TOO_LONG)
    return text
