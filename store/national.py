"""The national portal SP4N-LAPOR! in the store: a report's delivery there is one outbox row
addressed "national:<tracking code>" (claimed, retried and resent like any other, see
store/outbox.py), the national tracking ID it gets back is kept on the report, and the portal's
status callbacks land on the report's timeline once each, by their event id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from lapor.complaints import national, tracking
from lapor.complaints.access import Scope
from lapor.complaints.records import Report, Unit, User
from lapor.complaints.reports import Status
from lapor.store import inbox, rows
from lapor.store import reports as report_reads
from lapor.store import schema as t
from lapor.store.errors import NotFound

# What the outbox page shows of a delivery: where it goes; the JSON itself is composed at
# each try from the report as it is then (jobs/national.py), and its identity never kept here.
SUBJECT = "SP4N-LAPOR!"


def _queued(conn: Connection, report_id: int) -> bool:
    """A delivery waiting, under way or failed (staff resend a failed one, not a second)."""
    o = t.outbox.c
    found = conn.execute(
        select(o.id).where(
            o.report_id == report_id,
            o.to_address.like(national.PREFIX + "%"),
            o.status != "sent",
        )
    ).first()
    return found is not None


def _queue(
    conn: Connection, row: Any, at: datetime, actor_user_id: int | None, note: str | None
) -> None:
    code = tracking.format_code(row.tracking_code)
    conn.execute(
        insert(t.outbox).values(
            to_address=national.address(row.tracking_code),
            subject=SUBJECT,
            body=f"{code} → SP4N-LAPOR!",
            notice=None,
            report_id=row.id,
            status="pending",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
    )
    conn.execute(
        insert(t.report_events).values(
            report_id=row.id,
            at=at,
            actor_user_id=actor_user_id,
            kind="national_queued",
            note=note,
            public=False,
        )
    )


def send(conn: Connection, *, report_id: int, actor: User, scope: Scope, at: datetime) -> None:
    """Staff send a verified report to the national portal: one delivery, queued now.
    NotFound outside their scope; NationalError when it cannot be sent (again)."""
    row = conn.execute(
        select(t.reports)
        .where(t.reports.c.id == report_id, inbox.scope_condition(conn, scope))
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no report {report_id} in scope")
    refused = national.refusal(Status(row.status), row.national_id, _queued(conn, report_id))
    if refused is not None:
        raise national.NationalError(refused)
    _queue(conn, row, at, actor.id, None)


def send_if_unit_sends(conn: Connection, report_id: int, at: datetime) -> bool:
    """Queue the delivery of a report just verified when its unit, or a unit above it, sends
    every verified report; True when it did."""
    row = conn.execute(select(t.reports).where(t.reports.c.id == report_id)).one()
    path = conn.execute(select(t.units.c.path).where(t.units.c.id == row.unit_id)).scalar_one()
    ancestors = [int(p) for p in path.strip("/").split("/")]
    sends = conn.execute(
        select(t.units.c.name)
        .where(t.units.c.id.in_(ancestors), t.units.c.sends_national.is_(True))
        .limit(1)
    ).scalar()
    if sends is None:
        return False
    if national.refusal(Status(row.status), row.national_id, _queued(conn, report_id)):
        return False
    _queue(conn, row, at, None, sends)
    return True


def report(conn: Connection, *, report_id: int) -> Report:
    """The report whole, as it is sent."""
    if conn.execute(select(t.reports.c.id).where(t.reports.c.id == report_id)).first() is None:
        raise NotFound(f"no report {report_id}")
    return report_reads.read_report(conn, report_id)


def record_sent(conn: Connection, *, report_id: int, national_id: str, at: datetime) -> None:
    """The portal took the report and gave its tracking ID: kept once, on the timeline for
    staff and the reporter. A second answer for the same delivery (a retry after a lost
    answer) changes nothing."""
    result = conn.execute(
        update(t.reports)
        .where(t.reports.c.id == report_id, t.reports.c.national_id.is_(None))
        .values(national_id=national_id)
    )
    if result.rowcount:
        conn.execute(
            insert(t.report_events).values(
                report_id=report_id,
                at=at,
                actor_user_id=None,
                kind="national_sent",
                note=national_id,
                public=True,
            )
        )


def record_event(conn: Connection, *, event: national.PortalEvent, at: datetime) -> bool | None:
    """A status callback on its report's timeline; False when this event id was recorded
    before, None when no report has its national tracking ID."""
    report_id = conn.execute(
        select(t.reports.c.id).where(t.reports.c.national_id == event.national_id)
    ).scalar()
    if report_id is None:
        return None
    if conn.execute(
        select(t.national_events.c.event_id).where(t.national_events.c.event_id == event.event_id)
    ).first():
        return False
    try:
        with conn.begin_nested():
            conn.execute(
                insert(t.national_events).values(
                    event_id=event.event_id, report_id=report_id, received_at=at
                )
            )
    except IntegrityError:
        return False  # the same callback, delivered twice at once
    conn.execute(
        insert(t.report_events).values(
            report_id=report_id,
            at=at,
            actor_user_id=None,
            kind=event.kind,
            note=event.timeline_note(),
            public=event.public,
        )
    )
    return True


def report_id_for_staff(conn: Connection, *, national_id: str, scope: Scope) -> int | None:
    """The report with this national tracking ID, if `scope` reaches it."""
    found: int | None = conn.execute(
        select(t.reports.c.id).where(
            t.reports.c.national_id == national_id, inbox.scope_condition(conn, scope)
        )
    ).scalar()
    return found


def national_id_taken(conn: Connection, *, national_id: str) -> bool:
    found = conn.execute(
        select(t.reports.c.id).where(t.reports.c.national_id == national_id)
    ).first()
    return found is not None


def set_unit_sends(conn: Connection, *, unit_id: int, sends: bool) -> Unit:
    result = conn.execute(
        update(t.units).where(t.units.c.id == unit_id).values(sends_national=sends)
    )
    if not result.rowcount:
        raise NotFound(f"no unit {unit_id}")
    return rows.unit(conn.execute(select(t.units).where(t.units.c.id == unit_id)).one())
