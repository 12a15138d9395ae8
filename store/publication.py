"""The public list of answered reports (complaints/publication.py says which) and what keeps
a report off it: staff's withholding with its reason, and the review a text that looks like
it holds personal data waits for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select, update

from lapor.complaints import search
from lapor.complaints.access import Scope
from lapor.complaints.publication import ListHold
from lapor.complaints.records import User
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


# How many matches a search counts at most: past it the page says "more than" (counting every
# report a common word is in would read half a million rows for one figure).
SEARCH_COUNT = 1_000


@dataclass(frozen=True)
class Total:
    """How many reports the list (or a search of it) holds; `more` when the count stopped at
    SEARCH_COUNT and there are more."""

    count: int
    more: bool = False


def _columns() -> Select[Any]:
    answering = func.coalesce(_R.forwarded_unit_id, _R.unit_id)
    return select(
        _R.tracking_code,
        _R.title,
        _R.text,
        _R.kind,
        t.units.c.name,
        _R.answer_text,
        _R.received_at,
        _R.followed_up_at,
        _R.status,
    ).select_from(t.reports.join(t.units, t.units.c.id == answering))


def answered(conn: Connection, *, query: str, page: int, size: int) -> list[PublicAnswer]:
    """A page of the list, newest answer first, or of a search of it, newest report first."""
    offset = (page - 1) * size
    words = search.tokens(query)
    if not words:
        rows = conn.execute(
            _columns()
            .where(t.listed(conn.dialect.name))
            .order_by(_R.followed_up_at.desc(), _R.id.desc())
            .limit(size)
            .offset(offset)
        ).all()
        return [PublicAnswer(*row) for row in rows]
    # Most reports are on the list, so the list's condition is no filter to plan around: the
    # search index's own newest-first order decides, as in the inbox.
    ids = inbox.newest_matching(
        conn, words, [t.listed(conn.dialect.name)], limit=size, offset=offset
    )
    by_id = {
        row.id: row
        for row in conn.execute(_columns().add_columns(_R.id).where(_R.id.in_(ids))).all()
    }
    return [PublicAnswer(*by_id[i][:-1]) for i in ids if i in by_id]


def total(conn: Connection, *, query: str) -> Total:
    """How many reports the list holds (every entry of its index: 0.1 s at a million, so the
    page keeps the figure a minute), or a search of it (up to SEARCH_COUNT)."""
    words = search.tokens(query)
    if not words:
        counted = select(func.count()).select_from(t.reports).where(t.listed(conn.dialect.name))
        return Total(conn.execute(counted).scalar_one())
    found = inbox.newest_matching(
        conn, words, [t.listed(conn.dialect.name)], limit=SEARCH_COUNT + 1
    )
    return Total(min(len(found), SEARCH_COUNT), more=len(found) > SEARCH_COUNT)


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
