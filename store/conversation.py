"""The conversation with a reporter on their channel: the messages in and out on the report's
timeline, the reporter's answer by SMS finding its report, staff's reply queued through the
outbox, and the numbers that said STOP or that admins blocked."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, desc, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.complaints.access import Scope
from lapor.complaints.conversation import (
    EMAIL,
    WEB,
    ChannelMessage,
    Delivery,
    ReplyError,
    ReplyRefusal,
    channel_of,
    reply_channel,
)
from lapor.complaints.notices import ChangeNotice
from lapor.complaints.records import NewPhoto, User
from lapor.complaints.reports import Status
from lapor.complaints.workflow import NOTE_MAX, Action
from lapor.store import inbox, outbox, workflow
from lapor.store import schema as t
from lapor.store.errors import NotFound

# Reports a message from their number may still be about.
_OPEN = (
    Status.RECEIVED.value,
    Status.POSTPONED.value,
    Status.FORWARDED.value,
    Status.FOLLOWED_UP.value,
)


def record_inbound(
    conn: Connection, *, report_id: int, channel: str, text: str, at: datetime, key: str | None
) -> bool:
    """One message from the reporter on the report's conversation; False when the gateway's
    retry of a message stored before (same `key`) stored nothing."""
    values = dict(
        report_id=report_id, channel=channel, direction="in", at=at, text=text, gateway_key=key
    )
    if key is None:
        conn.execute(insert(t.channel_messages).values(values))
        return True
    dialect = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    statement = dialect(t.channel_messages).values(values).on_conflict_do_nothing()
    return bool(conn.execute(statement.returning(t.channel_messages.c.id)).first())


def delivery_report(conn: Connection, *, outbox_id: int, delivered: bool, at: datetime) -> bool:
    """The gateway's word on whether an SMS reached the phone, on its outbox row (as Meta's
    statuses are for WhatsApp) and on the report's conversation; False when no SMS of the
    outbox was that row."""
    result = conn.execute(
        update(t.outbox)
        .where(t.outbox.c.id == outbox_id, t.outbox.c.to_address.like("sms:%"))
        .values(delivery="delivered" if delivered else "failed", delivery_at=at)
    )
    mark_delivery(conn, outbox_id=outbox_id, delivered=delivered)
    return bool(result.rowcount)


def mark_delivery(conn: Connection, *, outbox_id: int, delivered: bool) -> None:
    """What the gateway or Meta said became of an outgoing message of the conversation."""
    conn.execute(
        update(t.channel_messages)
        .where(t.channel_messages.c.outbox_id == outbox_id)
        .values(delivery=(Delivery.DELIVERED if delivered else Delivery.UNDELIVERED).value)
    )


def messages(
    conn: Connection, *, report_id: int, channels: Sequence[str] | None = None
) -> tuple[ChannelMessage, ...]:
    """The report's conversation; only that on `channels` when given."""
    query = (
        select(t.channel_messages, t.users.c.email)
        .outerjoin(t.users, t.users.c.id == t.channel_messages.c.actor_user_id)
        .where(t.channel_messages.c.report_id == report_id)
        .order_by(t.channel_messages.c.id)
    )
    if channels is not None:
        query = query.where(t.channel_messages.c.channel.in_(list(channels)))
    return tuple(
        ChannelMessage(
            r.id,
            r.channel,
            r.direction,
            r.at,
            r.text,
            Delivery(r.delivery) if r.delivery else None,
            r.email,
            r.outbox_id,
        )
        for r in conn.execute(query)
    )


def for_reporter(conn: Connection, *, report_id: int) -> tuple[ChannelMessage, ...]:
    """What the private page shows of the conversation: staff's mails to the reporter and the
    reporter's answers on the page, never who of staff wrote. An SMS or WhatsApp conversation
    is not repeated there: the reporter has it on their phone."""
    return tuple(
        dataclasses.replace(m, actor_email=None)
        for m in messages(conn, report_id=report_id, channels=(EMAIL, WEB))
    )


def message_seen(conn: Connection, *, key: str) -> bool:
    """Whether a message of a conversation was stored under the gateway's retry `key`."""
    found = conn.execute(
        select(t.channel_messages.c.id).where(t.channel_messages.c.gateway_key == key)
    ).first()
    return found is not None


def answered_report(conn: Connection, *, address: str, codes: Sequence[str]) -> int | None:
    """The report a message from `address` that is no new report is about: the open report of
    that number whose tracking code it names, else the newest one waiting for the reporter's
    answer (tunda); None when neither is there."""
    mine = select(t.reports.c.id).where(
        t.reports.c.reply_address == address, t.reports.c.status.in_(_OPEN)
    )
    if codes:
        named: int | None = conn.execute(
            mine.where(t.reports.c.tracking_code.in_(list(codes)))
            .order_by(desc(t.reports.c.id))
            .limit(1)
        ).scalar()
        if named is not None:
            return named
    waiting: int | None = conn.execute(
        mine.where(t.reports.c.status == Status.POSTPONED.value)
        .order_by(desc(t.reports.c.updated_at), desc(t.reports.c.id))
        .limit(1)
    ).scalar()
    return waiting


def reporter_message(
    conn: Connection,
    *,
    report_id: int,
    channel: str,
    text: str,
    key: str | None,
    at: datetime,
    photos: Sequence[NewPhoto] = (),
) -> tuple[bool, bool]:
    """The reporter's message on their report's conversation, and when the report waits for
    them (tunda) their answer, exactly as a reply through the private link: back to the
    coordinator, staff told. Photos sent with it join the report's photos, after the ones it
    has. (stored, answered); (False, False) for a retry."""
    if not record_inbound(conn, report_id=report_id, channel=channel, text=text, at=at, key=key):
        return False, False
    if photos:
        last = conn.execute(
            select(func.max(t.report_photos.c.position)).where(
                t.report_photos.c.report_id == report_id
            )
        ).scalar()
        start = -1 if last is None else int(last)
        conn.execute(
            insert(t.report_photos),
            [
                dict(
                    report_id=report_id,
                    position=start + 1 + index,
                    filename=p.filename,
                    content_type=p.content_type,
                    width=p.width,
                    height=p.height,
                    size_bytes=p.size_bytes,
                )
                for index, p in enumerate(photos)
            ],
        )
    row = conn.execute(select(t.reports).where(t.reports.c.id == report_id)).one()
    if row.status != Status.POSTPONED.value:
        # Nobody asked: the people who hold the report are told it has something to read.
        workflow.tell_staff(conn, row, Status(row.status), "reporter_message", text, at)
        return True, False
    workflow.reporter_acts(
        conn,
        report_id=report_id,
        seen_version=row.version,
        action=Action.REPLY,
        text=text[:NOTE_MAX],
        rating=None,
    )
    return True, True


def queue_reply(
    conn: Connection, *, report_id: int, actor: User, scope: Scope, text: str, at: datetime
) -> None:
    """Staff's message to the reporter through the outbox: a mail when they left an address,
    else on their number's channel. It leaves the status and its deadline alone."""
    row = conn.execute(
        select(t.reports).where(t.reports.c.id == report_id, inbox.scope_condition(conn, scope))
    ).first()
    if row is None:
        raise NotFound(f"no report {report_id} in scope")
    channel = reply_channel(
        channel_of(row.reply_address) if row.reply_address else None, row.reporter_email
    )
    if channel is None:
        raise ReplyError(ReplyRefusal.NO_CHANNEL)
    notice = ChangeNotice(
        row.id,
        row.tracking_code,
        row.title,
        Status(row.status),
        None,
        text,
        row.language,
        None,
        "staff_message",
    )
    if channel == EMAIL:
        outbox.queue_mail_message(
            conn, row.id, row.reporter_email, notice, at, actor_user_id=actor.id, text=text
        )
        return
    outbox.queue(conn, row.id, [row.reply_address], notice, at, actor_user_id=actor.id, text=text)


# -- numbers ----------------------------------------------------------------------------------


def _upsert(conn: Connection, address: str, values: dict[str, Any]) -> None:
    dialect = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    statement = dialect(t.channel_numbers).values(address=address, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["address"], set_=values))


def _tidy(conn: Connection, address: str) -> None:
    """A number with no rule left is not kept."""
    conn.execute(
        delete(t.channel_numbers).where(
            t.channel_numbers.c.address == address,
            t.channel_numbers.c.stopped_at.is_(None),
            t.channel_numbers.c.blocked_at.is_(None),
        )
    )


def set_stopped(conn: Connection, *, address: str, at: datetime | None) -> None:
    """STOP (at a time) or MULAI (None)."""
    _upsert(conn, address, {"stopped_at": at})
    _tidy(conn, address)


def set_blocked(conn: Connection, *, address: str, at: datetime | None, note: str = "") -> None:
    _upsert(conn, address, {"blocked_at": at, "block_note": (note or None) if at else None})
    _tidy(conn, address)


def number_rules(conn: Connection, *, address: str) -> tuple[bool, bool]:
    """(stopped, blocked) of one address."""
    row = conn.execute(
        select(t.channel_numbers).where(t.channel_numbers.c.address == address)
    ).first()
    if row is None:
        return False, False
    return row.stopped_at is not None, row.blocked_at is not None


def blocked(conn: Connection) -> list[tuple[str, datetime, str | None]]:
    """(address, since, note) of every blocked number, newest first."""
    query = (
        select(t.channel_numbers)
        .where(t.channel_numbers.c.blocked_at.is_not(None))
        .order_by(desc(t.channel_numbers.c.blocked_at))
    )
    return [(r.address, r.blocked_at, r.block_note) for r in conn.execute(query)]
