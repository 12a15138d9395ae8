"""The public list of answered reports (complaints/publication.py says which) and what keeps
a report off it: staff's withholding with its reason, and the review a text that looks like
it holds personal data waits for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from lapor.complaints import search
from lapor.complaints.access import Scope
from lapor.complaints.publication import ANSWERED, ListHold
from lapor.complaints.records import User
from lapor.complaints.reports import Identity
from lapor.store import inbox
from lapor.store import schema as t
from lapor.store.errors import NotFound

_R = t.reports.c


@dataclass(frozen=True)
class PublicAnswer:
    """One report as the public list shows it: nothing of who reported."""

    tracking_code: str
    title: str | None
    text: str
    kind: str
    unit_name: str
    answer: str
    received_at: datetime
    answered_at: datetime
    status: str


def _listed() -> list[Any]:
    return [
        _R.status.in_([s.value for s in ANSWERED]),
        _R.identity != Identity.CONFIDENTIAL.value,
        _R.list_hold.is_(None),
        _R.answer_text.is_not(None),
        _R.followed_up_at.is_not(None),
    ]


def answered(
    conn: Connection, *, query: str, page: int, size: int
) -> tuple[list[PublicAnswer], int]:
    """A page of the list, newest answer first, and how many reports the list (or the search)
    holds."""
    where = _listed()
    source: Any = None
    words = search.tokens(query)
    if words:
        source, match = inbox.matching(conn, words)
        where.append(match)
    answering = func.coalesce(_R.forwarded_unit_id, _R.unit_id)
    joined: Any = t.reports.join(t.units, t.units.c.id == answering)
    if source is not None:
        joined = source.join(joined, _R.id == source.c.rowid)
    rows = conn.execute(
        select(
            _R.tracking_code,
            _R.title,
            _R.text,
            _R.kind,
            t.units.c.name,
            _R.answer_text,
            _R.received_at,
            _R.followed_up_at,
            _R.status,
        )
        .select_from(joined)
        .where(and_(*where))
        .order_by(_R.followed_up_at.desc(), _R.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    counted: Any = t.reports if source is None else source.join(t.reports, _R.id == source.c.rowid)
    total = conn.execute(select(func.count()).select_from(counted).where(and_(*where))).scalar()
    return [PublicAnswer(*row) for row in rows], int(total or 0)


def set_hold(
    conn: Connection,
    *,
    report_id: int,
    actor: User,
    scope: Scope,
    hold: ListHold | None,
    reason: str | None,
    at: datetime,
) -> None:
    """Keep a report off the public list (WITHHELD, with the reason) or let it on (None: staff
    looked, a review hold is lifted too); the audit trail keeps who, when and why."""
    row = conn.execute(
        select(_R.id, _R.list_hold).where(_R.id == report_id, inbox.scope_condition(conn, scope))
    ).first()
    if row is None:
        raise NotFound(f"no report {report_id} in scope")
    conn.execute(
        update(t.reports)
        .where(_R.id == report_id)
        .values(list_hold=hold.value if hold else None, list_hold_reason=reason)
    )
    kind = "list_withheld" if hold is ListHold.WITHHELD else "list_published"
    conn.execute(
        insert(t.report_events).values(
            report_id=report_id,
            at=at,
            actor_user_id=actor.id,
            kind=kind,
            note=reason,
            public=False,
        )
    )
