"""WhatsApp's inbound messages, kept by their message id before Meta is answered, claimed a
sender's batch at a time by the job that turns them into reports (jobs/whatsapp.py); and the
delivery statuses Meta reports for the messages we sent, on their outbox rows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.complaints.whatsapp import Inbound, Status, later_delivery
from lapor.store import conversation
from lapor.store import schema as t

_M = t.whatsapp_messages
_INSERT = {
    "sqlite": sqlite_insert(_M).on_conflict_do_nothing().returning(_M.c.id),
    "postgresql": pg_insert(_M).on_conflict_do_nothing().returning(_M.c.id),
}


@dataclass(frozen=True)
class Claimed:
    """One sender's messages, claimed by one worker under `token`, oldest first."""

    phone: str
    token: str
    messages: tuple[Inbound, ...]
    ids: tuple[int, ...]
    attempts: int


def known(conn: Connection, wamids: Sequence[str]) -> set[str]:
    """Which of these message ids were stored before (Meta's retries)."""
    if not wamids:
        return set()
    return set(conn.execute(select(_M.c.wamid).where(_M.c.wamid.in_(list(wamids)))).scalars())


def record(conn: Connection, messages: Sequence[Inbound], at: datetime) -> int:
    """Store the messages not stored before; how many were new. ON CONFLICT on the message id:
    two deliveries of one message at once still make one row."""
    insert = _INSERT[conn.dialect.name]
    new = 0
    for m in messages:
        row = conn.execute(
            insert,
            dict(
                wamid=m.wamid,
                phone=m.phone,
                kind=m.kind,
                text=m.text,
                media_id=m.media_id,
                location=m.location,
                profile_name=m.profile_name,
                sent_at=m.sent_at,
                received_at=at,
                status="pending",
                attempts=0,
            ),
        ).first()
        new += row is not None
    return new


def claim(
    conn: Connection, at: datetime, quiet_before: datetime, lease: timedelta
) -> Claimed | None:
    """The pending messages of one sender whose newest message came before `quiet_before`
    (so a text and the photos right behind it are one batch), or whose claim expired; None
    when no sender is due."""
    waiting = or_(_M.c.status == "pending", and_(_M.c.status == "working", _M.c.claimed_until < at))
    phone = conn.execute(
        select(_M.c.phone)
        .where(waiting)
        .group_by(_M.c.phone)
        .having(func.max(_M.c.received_at) <= quiet_before)
        .order_by(func.min(_M.c.id))
        .limit(1)
    ).scalar()
    if phone is None:
        return None
    token = secrets.token_hex(16)
    claimed = conn.execute(
        update(_M)
        .where(_M.c.phone == phone, waiting)
        .values(
            status="working",
            claim_token=token,
            claimed_until=at + lease,
            attempts=_M.c.attempts + 1,
        )
        .returning(*_M.c)
    ).all()
    if not claimed:
        # Another worker claimed this sender between our look and our update (PostgreSQL
        # re-checks the update's condition on the rows it waited for).
        return None
    rows = sorted(claimed, key=lambda r: (r.sent_at, r.id))
    messages = tuple(
        Inbound(
            r.wamid,
            r.phone,
            r.kind,
            r.sent_at,
            text=r.text,
            media_id=r.media_id,
            location=r.location,
            profile_name=r.profile_name,
        )
        for r in rows
    )
    return Claimed(phone, token, messages, tuple(r.id for r in rows), max(r.attempts for r in rows))


def renew(conn: Connection, claimed: Claimed, *, until: datetime) -> bool:
    """Extend a claim its runner still holds while it makes the batch's report; False when
    the claim ran out and another runner took the batch over."""
    result = conn.execute(
        update(_M)
        .where(
            _M.c.id.in_(claimed.ids),
            _M.c.claim_token == claimed.token,
            _M.c.status == "working",
        )
        .values(claimed_until=until)
    )
    return bool(result.rowcount)


def finish(
    conn: Connection,
    claimed: Claimed,
    *,
    status: str,
    report_id: int | None = None,
    error: str | None = None,
) -> None:
    """The outcome of a claimed batch: "report" (with its report), "help" or "ignored"."""
    conn.execute(
        update(_M)
        .where(_M.c.id.in_(claimed.ids), _M.c.claim_token == claimed.token)
        .values(
            status=status,
            report_id=report_id,
            last_error=error,
            claim_token=None,
            claimed_until=None,
        )
    )


def release(conn: Connection, claimed: Claimed, *, error: str, retry_at: datetime) -> None:
    """Leave a batch claimed until `retry_at` (the Graph API was down): it is taken again then."""
    conn.execute(
        update(_M)
        .where(_M.c.id.in_(claimed.ids), _M.c.claim_token == claimed.token)
        .values(last_error=error[:500], claimed_until=retry_at)
    )


def last_inbound(conn: Connection, phone: str) -> datetime | None:
    """When the number last sent us a message, as Meta stamped it: the start of the 24-hour
    window in which we may answer in free text."""
    found: datetime | None = conn.execute(
        select(func.max(_M.c.sent_at)).where(_M.c.phone == phone)
    ).scalar()
    return found


def record_statuses(conn: Connection, statuses: Sequence[Status]) -> int:
    """Put what Meta reports of our messages on their outbox rows; how many rows it named.
    A status never goes back (a late "delivered" after "read"); "failed" keeps Meta's error."""
    matched = 0
    for status in statuses:
        row = conn.execute(
            select(t.outbox.c.id, t.outbox.c.delivery).where(t.outbox.c.provider_id == status.wamid)
        ).first()
        if row is None:
            continue
        matched += 1
        if not later_delivery(row.delivery, status.status):
            continue
        values: dict[str, object] = dict(delivery=status.status, delivery_at=status.at)
        if status.status == "failed":
            values["last_error"] = "WhatsApp: " + (status.error or "failed")
        conn.execute(update(t.outbox).where(t.outbox.c.id == row.id).values(**values))
        if status.status != "sent":
            # The report's conversation shows it too: read is delivered, and more.
            conversation.mark_delivery(conn, outbox_id=row.id, delivered=status.status != "failed")
    return matched


def forget(conn: Connection, before: datetime) -> int:
    """Delete the messages handled before `before` (their report keeps what it needs, and
    Meta has long stopped retrying them); how many went."""
    result = conn.execute(
        delete(_M).where(_M.c.status.in_(("report", "help", "ignored")), _M.c.received_at < before)
    )
    return int(result.rowcount)
