"""The outbox: mail queued in the same transaction as the change it tells of, claimed and
finished by the sender (jobs/mail.py).

A row keeps the notice's facts, not its words: which notice and its fields, as JSON. The
sender composes subject and body (the words and their language are the job's, not the
store's) and keeps them on the row once tried, so a retry sends the same mail and the admin's
outbox shows what went out.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from lapor.complaints.conversation import EMAIL, Delivery, channel_of
from lapor.complaints.notices import AnyNotice, ChangeNotice, Notice, ReminderNotice, SmsNotice
from lapor.complaints.records import OutboxMessage
from lapor.complaints.reminders import Reminder
from lapor.complaints.reports import Channel, Kind, Status
from lapor.store import schema as t
from lapor.store.errors import NotFound
from lapor.store.prepared import Prepared

_NAMES: dict[type[Any], str] = {
    Notice: "new_report",
    ChangeNotice: "change",
    ReminderNotice: "reminder",
    SmsNotice: "sms",
}
_KINDS = {name: kind for kind, name in _NAMES.items()}
# How the fields that JSON cannot hold as they are come back; the names mean the same in
# every notice.
_READ: dict[str, Callable[[Any], Any]] = {
    "kind": Kind,
    "channel": Channel,
    "status": Status,
    "reminder": Reminder,
    "verify_due": date.fromisoformat,
    "due": date.fromisoformat,
    "due_on": date.fromisoformat,
}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def facts(notice: AnyNotice) -> str:
    """The notice as the outbox keeps it."""
    fields = {f.name: _plain(getattr(notice, f.name)) for f in dataclasses.fields(notice)}
    return json.dumps({"notice": _NAMES[type(notice)], **fields}, ensure_ascii=False)


def notice_of(kept: str) -> AnyNotice:
    fields = json.loads(kept)
    kind = _KINDS[fields.pop("notice")]
    for name, read in _READ.items():
        if fields.get(name) is not None:
            fields[name] = read(fields[name])
    notice: AnyNotice = kind(**fields)
    return notice


# Every report queues its coordinators' mail (store/intake.py), hence prepared.
_INSERT_OUTBOX = Prepared(insert(t.outbox))


def queue(
    conn: Connection,
    report_id: int | None,
    recipients: Sequence[str],
    notice: AnyNotice,
    at: datetime,
    *,
    actor_user_id: int | None = None,
    text: str | None = None,
) -> None:
    """One row per recipient, due now. A message about a report to a channel's address (an
    SMS) is on the report's conversation too, as written by `actor_user_id` when staff wrote
    it, with `text` until the sender composes its words."""
    kept = facts(notice)
    rows: list[dict[str, Any]] = [
        dict(
            to_address=r,
            notice=kept,
            report_id=report_id,
            status="pending",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
        for r in recipients
    ]
    mail = [row for row in rows if report_id is None or channel_of(row["to_address"]) is None]
    if mail:
        _INSERT_OUTBOX.many(conn, mail)
    for row in rows:
        channel = channel_of(row["to_address"])
        if report_id is None or channel is None:
            continue
        _on_conversation(conn, row, report_id, channel, at, actor_user_id, text)


def queue_mail_message(
    conn: Connection,
    report_id: int,
    to_address: str,
    notice: AnyNotice,
    at: datetime,
    *,
    actor_user_id: int,
    text: str,
) -> None:
    """Staff's message to a reporter who left a mailbox: a mail like any notice, and an
    outgoing message of the report's conversation ("email") whose delivery follows the row."""
    row: dict[str, Any] = dict(
        to_address=to_address,
        notice=facts(notice),
        report_id=report_id,
        status="pending",
        attempts=0,
        next_attempt_at=at,
        created_at=at,
    )
    _on_conversation(conn, row, report_id, EMAIL, at, actor_user_id, text)


def _on_conversation(
    conn: Connection,
    row: dict[str, Any],
    report_id: int,
    channel: str,
    at: datetime,
    actor_user_id: int | None,
    text: str | None,
) -> None:
    outbox_id = conn.execute(insert(t.outbox).values(row).returning(t.outbox.c.id)).scalar_one()
    conn.execute(
        insert(t.channel_messages).values(
            report_id=report_id,
            channel=channel,
            direction="out",
            at=at,
            text=text,
            delivery=Delivery.QUEUED.value,
            outbox_id=outbox_id,
            actor_user_id=actor_user_id,
        )
    )


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        row.id,
        row.to_address,
        row.subject,
        row.body,
        row.status,
        row.attempts,
        row.last_error,
        row.created_at,
        row.sent_at,
        row.report_id,
        row.claim_token,
        _readable(row.notice),
        row.provider_id,
        row.delivery,
        row.delivery_at,
    )


def _readable(kept: str | None) -> AnyNotice | None:
    """The notice a row keeps; None when it has none, or when it cannot be read back (a row
    written by a later release, say): the sender then fails that row alone, with the reason,
    instead of every claim that would have read it."""
    if kept is None:
        return None
    try:
        return notice_of(kept)
    except (ValueError, KeyError, TypeError):
        return None


def claim(
    conn: Connection, limit: int, lease: timedelta, at: datetime, *, skip_locked: bool
) -> list[OutboxMessage]:
    """Take due messages for one sender alone: a row is claimed by one process for `lease`,
    which its sender renews while it works (`renew`); a claim whose sender died runs out and
    is taken again."""
    token = secrets.token_hex(16)
    due = or_(
        and_(t.outbox.c.status == "pending", t.outbox.c.next_attempt_at <= at),
        and_(t.outbox.c.status == "sending", t.outbox.c.claimed_until < at),
    )
    pick = select(t.outbox.c.id).where(due).order_by(t.outbox.c.id).limit(limit)
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    rows = conn.execute(
        update(t.outbox)
        .where(t.outbox.c.id.in_(ids))
        .values(
            status="sending",
            claimed_until=at + lease,
            claim_token=token,
            attempts=t.outbox.c.attempts + 1,
        )
        .returning(*t.outbox.c)
    )
    return sorted((_message(r) for r in rows), key=lambda m: m.id)


def renew(conn: Connection, message: OutboxMessage, until: datetime) -> bool:
    """Extend a claim its sender still holds (the sender's heartbeat while a slow send runs);
    False when the claim ran out and another sender took the message over."""
    result = conn.execute(
        update(t.outbox)
        .where(
            t.outbox.c.id == message.id,
            t.outbox.c.claim_token == message.claim_token,
            t.outbox.c.status == "sending",
        )
        .values(claimed_until=until)
    )
    return bool(result.rowcount)


def finish(conn: Connection, message: OutboxMessage, values: dict[str, Any]) -> bool:
    """Record the outcome of a claimed message; False if the claim had expired and another
    sender took the message over (its outcome wins). A message of a report's conversation
    takes the words it was sent in and its outcome."""
    result = conn.execute(
        update(t.outbox)
        .where(t.outbox.c.id == message.id, t.outbox.c.claim_token == message.claim_token)
        .values(**values)
    )
    if not result.rowcount:
        return False
    if message.report_id is not None:
        # A mail's body is the whole mail: the conversation keeps the words staff wrote.
        texting = channel_of(message.to_address) is not None
        body = values.get("body") if texting else None
        _conversation_outcome(conn, message.id, values["status"], body)
    return True


def release(conn: Connection, claim_token: str, at: datetime) -> int:
    """Let the rows of one claim that were not finished be claimed again at once: their lease
    ends now. Only the lease changes (status, attempts and the token stay), so a sender still
    holding the token can record its outcome until another claims the rows, as after any
    lease that ran out."""
    result = conn.execute(
        update(t.outbox)
        .where(t.outbox.c.claim_token == claim_token, t.outbox.c.status == "sending")
        .values(claimed_until=at)
    )
    return result.rowcount


def _conversation_outcome(conn: Connection, outbox_id: int, status: str, body: str | None) -> None:
    """A delivery report that came first (a fast gateway) is not overwritten by "sent"."""
    delivery = {"sent": Delivery.SENT, "failed": Delivery.FAILED}.get(status, Delivery.QUEUED)
    rows = t.channel_messages.c
    if body is not None:
        conn.execute(
            update(t.channel_messages).where(rows.outbox_id == outbox_id).values(text=body)
        )
    conn.execute(
        update(t.channel_messages)
        .where(
            rows.outbox_id == outbox_id,
            rows.delivery.not_in([Delivery.DELIVERED.value, Delivery.UNDELIVERED.value]),
        )
        .values(delivery=delivery.value)
    )


def resend(conn: Connection, message_id: int, at: datetime) -> None:
    result = conn.execute(
        update(t.outbox)
        .where(t.outbox.c.id == message_id, t.outbox.c.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=at, last_error=None)
    )
    if result.rowcount == 0:
        raise NotFound(f"no failed message with id {message_id}")
    conn.execute(
        update(t.channel_messages)
        .where(t.channel_messages.c.outbox_id == message_id)
        .values(delivery=Delivery.QUEUED.value)
    )


def by_ids(conn: Connection, ids: Sequence[int]) -> list[OutboxMessage]:
    return [_message(r) for r in conn.execute(select(t.outbox).where(t.outbox.c.id.in_(ids)))]


def listed(conn: Connection, status: str | None, limit: int) -> list[OutboxMessage]:
    query = select(t.outbox).order_by(t.outbox.c.id.desc()).limit(limit)
    if status:
        query = query.where(t.outbox.c.status == status)
    return [_message(r) for r in conn.execute(query)]
