"""Export jobs: a spreadsheet of the inbox asked for by a member of staff, written in the
background (jobs/exports.py) and fetched by its owner alone."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

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


def claim_export(
    conn: Connection, *, skip_locked: bool, at: datetime, until: datetime
) -> tuple[ExportJob, StaffSession] | None:
    """The oldest pending job, or a running one whose claim ran out (its machine died: it
    starts again from the beginning), claimed until `until` and marked running, with its
    owner as a session would have them (the job runs with the owner's scope as it is now, not
    as it was when asked). A running job without a claim was left by a release before claims."""
    waiting = or_(
        _J.status == "pending",
        and_(_J.status == "running", or_(_J.claimed_until.is_(None), _J.claimed_until < at)),
    )
    pick = select(_J.id).where(waiting).order_by(_J.id).limit(1)
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True)
    job_id = conn.execute(pick).scalar()
    if job_id is None:
        return None
    row = conn.execute(
        update(t.export_jobs)
        .where(_J.id == job_id)
        .values(
            status="running", rows_done=0, claimed_until=until, claim_token=secrets.token_hex(16)
        )
        .returning(*t.export_jobs.c)
    ).one()
    user, unit = owner(conn, row.user_id)
    return rows.export_job(row), StaffSession(user, unit, "", now())


def _held(job: ExportJob) -> Any:
    return and_(_J.id == job.id, _J.claim_token == job.claim_token, _J.status == "running")


def renew_export(conn: Connection, *, job: ExportJob, until: datetime) -> bool:
    """Extend the claim of a job this process is still writing; False when another took it."""
    return bool(
        conn.execute(update(t.export_jobs).where(_held(job)).values(claimed_until=until)).rowcount
    )


def export_progress(conn: Connection, *, job: ExportJob, rows_done: int) -> None:
    conn.execute(update(t.export_jobs).where(_held(job)).values(rows_done=rows_done))


def finish_export(conn: Connection, *, job: ExportJob, rows_done: int, error: str | None) -> bool:
    """The job's outcome, if its claim is still this process's; False when its claim ran out
    and another process took the job over (that one's outcome counts). A job done hands out
    the file its claim kept (`file_token`), recorded in the same statement that checks the
    claim: a writer taken over can never make its file the one downloaded."""
    result = conn.execute(
        update(t.export_jobs)
        .where(_held(job))
        .values(
            status="failed" if error else "done",
            rows_done=rows_done,
            error=error,
            finished_at=now(),
            claimed_until=None,
            claim_token=None,
            file_token=None if error else job.claim_token,
        )
    )
    return bool(result.rowcount)


def expire_exports(conn: Connection, *, before: datetime) -> list[str]:
    """Forget jobs finished before `before`, with every piece of their files any claim kept in
    the database; returns their tokens (the files of the data directory to delete)."""
    old = _J.finished_at < before
    tokens = list(conn.execute(select(_J.token).where(old)).scalars())
    # The foreign key cascades too; said here as well, so no backend's settings decide it.
    conn.execute(
        delete(t.export_pieces).where(t.export_pieces.c.job_id.in_(select(_J.id).where(old)))
    )
    conn.execute(t.export_jobs.delete().where(old))
    return tokens
