"""Reminders: the mail a running deadline, a missed one or a report left unresolved too long
calls for, queued once each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.complaints.notices import ReminderNotice
from lapor.complaints.reminders import (
    ESCALATION_WINDOW_DAYS,
    OVERDUE_WINDOW_DAYS,
    RUNNING,
    UNRESOLVED,
    Audience,
    Reminder,
    audience,
)
from lapor.complaints.reports import Status
from lapor.store import outbox
from lapor.store import schema as t
from lapor.store.clock import now

_INSERT_REMINDER = {
    "sqlite": sqlite_insert(t.reminders).on_conflict_do_nothing(),
    "postgresql": pg_insert(t.reminders).on_conflict_do_nothing(),
}


def queue_reminders(
    conn: Connection,
    *,
    today: date,
    soon_until: date,
    flag_received_before: datetime,
    limit: int,
) -> int:
    """Queue the mails of every reminder now due (deadline within `soon_until`, missed
    lately, or received before `flag_received_before` and still unresolved), each once:
    the reminders table's key is what keeps two rounds or two processes from repeating
    one. Returns how many reminders were queued."""
    insert_reminder = _INSERT_REMINDER[conn.dialect.name]
    r, rem = t.reports.c, t.reminders.c
    kind = case((r.due_on < today, Reminder.OVERDUE.value), else_=Reminder.DUE_SOON.value)
    columns = (
        r.id,
        r.tracking_code,
        r.title,
        r.status,
        r.routed_unit_id,
        r.forwarded_unit_id,
        r.assigned_user_id,
    )
    deadlines = conn.execute(
        select(*columns, kind.label("kind"), r.due_on.label("day"))
        .where(
            r.due_on >= today - timedelta(days=OVERDUE_WINDOW_DAYS),
            r.due_on <= soon_until,
            r.status.in_([s.value for s in RUNNING]),
            ~exists().where(rem.report_id == r.id, rem.kind == kind, rem.due_on == r.due_on),
        )
        .order_by(r.due_on, r.id)
        .limit(limit)
    ).all()
    flagged = conn.execute(
        select(*columns, r.received_at)
        .where(
            r.received_at < flag_received_before,
            r.received_at >= flag_received_before - timedelta(days=ESCALATION_WINDOW_DAYS),
            r.status.in_([s.value for s in UNRESOLVED]),
            ~exists().where(rem.report_id == r.id, rem.kind == Reminder.OMBUDSMAN.value),
        )
        .order_by(r.received_at)
        .limit(limit)
    ).all()
    due: list[tuple[Any, Reminder, date]] = [
        (row, Reminder(row.kind), row.day) for row in deadlines
    ]
    due += [(row, Reminder.OMBUDSMAN, row.received_at.date()) for row in flagged]
    if not due:
        return 0
    people = _reminder_people(conn, [row for row, _, _ in due])
    at = now()
    queued = 0
    for row, reminder, day in due:
        result = conn.execute(
            insert_reminder.values(report_id=row.id, kind=reminder.value, due_on=day, queued_at=at)
        )
        if result.rowcount != 1:
            continue  # another process announced it first
        queued += 1
        status = Status(row.status)
        recipients = sorted(
            {email for group in audience(reminder, status) for email in people(row, group)}
        )
        if recipients:
            notice = ReminderNotice(row.id, row.tracking_code, row.title, reminder, status, day)
            outbox.queue(conn, row.id, recipients, notice, at)
    return queued


def _reminder_people(conn: Connection, rows: list[Any]) -> Callable[[Any, Audience], list[str]]:
    """Who hears of a reminder about `row`, looked up once for a whole round."""
    units = {u for row in rows for u in (row.routed_unit_id, row.forwarded_unit_id) if u}
    assigned = {row.assigned_user_id for row in rows if row.assigned_user_id}
    staff = conn.execute(
        select(t.users.c.id, t.users.c.email, t.users.c.role, t.users.c.unit_id).where(
            t.users.c.active.is_(True),
            or_(
                and_(
                    t.users.c.unit_id.in_(sorted(units)),
                    t.users.c.role.in_(["coordinator", "officer"]),
                ),
                t.users.c.id.in_(sorted(assigned)),
            ),
        )
    ).all()

    def people(row: Any, group: Audience) -> list[str]:
        if group is Audience.COORDINATORS:
            return [
                u.email
                for u in staff
                if u.unit_id == row.routed_unit_id and u.role == "coordinator"
            ]
        chosen = [u.email for u in staff if u.id == row.assigned_user_id]
        return chosen or [
            u.email for u in staff if u.unit_id == row.forwarded_unit_id and u.role == "officer"
        ]

    return people
