"""Export jobs: a spreadsheet of the inbox asked for by a member of staff, written in the
background (jobs/exports.py) and fetched by its owner alone."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from lapor.complaints.records import ExportJob, StaffSession
from lapor.store import rows
from lapor.store import schema as t
from lapor.store.clock import now
from lapor.store.organisation import owner

_J = t.export_jobs.c


def create_export(conn: Connection, *, user_id: int, query: str, rows_total: int | None) -> str:
    """A pending job; returns its token."""
    token = secrets.token_hex(16)
    conn.execute(
        insert(t.export_jobs).values(
            token=token,
            user_id=user_id,
            query=query,
            status="pending",
            rows_done=0,
            rows_total=rows_total,
            created_at=now(),
        )
    )
    return token


def export_job(conn: Connection, *, token: str, user_id: int) -> ExportJob | None:
    """The job if it is this user's: nobody else may watch or download it."""
    row = conn.execute(
        select(t.export_jobs).where(_J.token == token, _J.user_id == user_id)
    ).first()
    return rows.export_job(row) if row else None


def claim_export(conn: Connection, *, skip_locked: bool) -> tuple[ExportJob, StaffSession] | None:
    """The oldest pending job, marked running, with its owner as a session would have
    them (the job runs with the owner's scope as it is now, not as it was when asked)."""
    pick = select(_J.id).where(_J.status == "pending").order_by(_J.id).limit(1)
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True)
    job_id = conn.execute(pick).scalar()
    if job_id is None:
        return None
    row = conn.execute(
        update(t.export_jobs)
        .where(_J.id == job_id)
        .values(status="running", rows_done=0)
        .returning(*t.export_jobs.c)
    ).one()
    user, unit = owner(conn, row.user_id)
    return rows.export_job(row), StaffSession(user, unit, "", now())


def export_progress(conn: Connection, *, job_id: int, rows_done: int) -> None:
    conn.execute(update(t.export_jobs).where(_J.id == job_id).values(rows_done=rows_done))


def finish_export(conn: Connection, *, job_id: int, rows_done: int, error: str | None) -> None:
    conn.execute(
        update(t.export_jobs)
        .where(_J.id == job_id)
        .values(
            status="failed" if error else "done",
            rows_done=rows_done,
            error=error,
            finished_at=now(),
        )
    )


def requeue_running_exports(conn: Connection) -> None:
    """Jobs a killed server left half-done start again from the beginning."""
    conn.execute(
        update(t.export_jobs).where(_J.status == "running").values(status="pending", rows_done=0)
    )


def expire_exports(conn: Connection, *, before: datetime) -> list[str]:
    """Forget jobs finished before `before`; returns their tokens (the files to delete)."""
    old = _J.finished_at < before
    tokens = list(conn.execute(select(_J.token).where(old)).scalars())
    conn.execute(t.export_jobs.delete().where(old))
    return tokens
