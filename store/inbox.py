"""The inbox's SQL: scope, filters, search, both sort orders with keyset cursors, and the
per-status counters. Plain functions of a connection, called by Store inside one read or write.

Built for a million reports (bench/inbox.py measures it): every filter is an indexed range or
an index-ordered scan that stops at a page, and counts come from counter rows, not COUNT(*)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    column,
    func,
    literal_column,
    select,
    table,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from complaints import search
from complaints.access import Reach, Scope
from complaints.inbox import Due, InboxQuery, Sort
from complaints.reports import Channel, Kind, Status
from store import schema as t
from store.records import InboxItem

UNROUTED = 0  # report_counts.unit_id of reports nobody is responsible for yet

_R = t.reports


def subtree_ids(conn: Connection, path: str) -> list[int]:
    return list(conn.execute(select(t.units.c.id).where(t.units.c.path.startswith(path)))
                .scalars())


def scope_condition(conn: Connection, scope: Scope) -> ColumnElement[bool]:
    if scope.reach is Reach.ALL:
        return true()
    if scope.reach is Reach.FORWARDED:
        return _R.c.forwarded_unit_id == scope.unit_id
    ids = subtree_ids(conn, scope.unit_path)
    total = conn.execute(select(func.count()).select_from(t.units)).scalar_one()
    if len(ids) == total:
        # A whole tree: a list of every unit id would only slow the planner down.
        return _R.c.routed_unit_id.is_not(None)
    return _R.c.routed_unit_id.in_(ids)


def _filters(conn: Connection, query: InboxQuery, *, today: date, soon_until: date,
             received_window: tuple[datetime | None, datetime | None]
             ) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.statuses:
        where.append(_R.c.status.in_([s.value for s in query.statuses]))
    if query.kind:
        where.append(_R.c.kind == query.kind.value)
    if query.channel:
        where.append(_R.c.channel == query.channel.value)
    if query.unit_id is not None:
        path = conn.execute(select(t.units.c.path)
                            .where(t.units.c.id == query.unit_id)).scalar()
        where.append(_R.c.unit_id.in_(subtree_ids(conn, path) if path else []))
    if query.due is Due.OVERDUE:
        where.append(_R.c.due_on < today)
    elif query.due is Due.SOON:
        where.append(_R.c.due_on.between(today, soon_until))
    start, end = received_window
    if start is not None:
        where.append(_R.c.received_at >= start)
    if end is not None:
        where.append(_R.c.received_at < end)
    return where


_FTS = table("reports_fts", column("rowid"))


def _search(conn: Connection, words: tuple[str, ...]) -> tuple[Any, Any]:
    """The table to join (SQLite's FTS5 index, None on PostgreSQL) and the match condition.
    The PostgreSQL condition repeats the GIN index's expression word for word, or the index
    would not be used."""
    if conn.dialect.name == "sqlite":
        return _FTS, literal_column("reports_fts").op("MATCH")(search.fts5_match(words))
    return None, text("to_tsvector('simple'::regconfig, reports.search_text) "
                      "@@ to_tsquery('simple'::regconfig, :tsq)").bindparams(
        tsq=search.tsquery(words))


_ENTRY = t.units.alias("entry")
_PHOTO_COUNT = (select(func.count()).select_from(t.report_photos)
                .where(t.report_photos.c.report_id == _R.c.id).scalar_subquery())
_COLUMNS = (_R.c.id, _R.c.tracking_code, _R.c.kind, _R.c.status, _R.c.title,
            func.substr(_R.c.text, 1, 160).label("excerpt"), _ENTRY.c.name.label("unit_name"),
            _R.c.channel, _R.c.received_at, _R.c.verify_due, _R.c.due_on,
            _PHOTO_COUNT.label("photo_count"), _R.c.version)


def page_ids(conn: Connection, scope: Scope, query: InboxQuery, *, today: date,
             soon_until: date, received_window: tuple[datetime | None, datetime | None],
             limit: int, unrouted: bool = False) -> list[int]:
    """The ids of one page, in the query's order. The scan that decides the page runs on the
    reports table alone (and the search index); columns are fetched for the page only."""
    where = [scope_condition(conn, scope)]
    if unrouted:
        where.append(_R.c.routed_unit_id.is_(None))
    where += _filters(conn, query, today=today, soon_until=soon_until,
                      received_window=received_window)
    ids: Select[Any] = select(_R.c.id)
    arrival_key: Any = _R.c.id
    if query.words:
        source, match = _search(conn, query.words)
        if source is not None:
            # The FTS index drives the scan and hands its matches over newest first: ordered
            # by its own rowid, SQLite stops after one page instead of sorting every match
            # (a common word at a million reports: 250 ms down to 11 ms).
            ids = select(_R.c.id).select_from(source.join(_R, _R.c.id == source.c.rowid))
            arrival_key = source.c.rowid
        where.append(match)
    if query.sort is Sort.DEADLINE:
        where.append(_R.c.due_on.is_not(None))
        if query.after is not None and query.after.due_on is not None:
            where.append(tuple_(_R.c.due_on, _R.c.id)
                         > tuple_(query.after.due_on, query.after.id))
        ids = ids.order_by(_R.c.due_on, _R.c.id)
    else:
        if query.after is not None:
            where.append(arrival_key < query.after.id)
        ids = ids.order_by(arrival_key.desc())
    return list(conn.execute(ids.where(*where).limit(limit)).scalars())


def inbox_page(conn: Connection, scope: Scope, query: InboxQuery, *, today: date,
               soon_until: date, received_window: tuple[datetime | None, datetime | None],
               limit: int, unrouted: bool = False) -> list[InboxItem]:
    page = page_ids(conn, scope, query, today=today, soon_until=soon_until,
                    received_window=received_window, limit=limit, unrouted=unrouted)
    return [_item(r) for r in _in_page_order(
        conn, select(*_COLUMNS).join(_ENTRY, _ENTRY.c.id == _R.c.unit_id), page)]


def _in_page_order(conn: Connection, columns: Select[Any], page: list[int]) -> list[Any]:
    """The rows of `page`'s reports, in the page's order (IN gives them in any order)."""
    if not page:
        return []
    rows = {r.id: r for r in conn.execute(columns.where(_R.c.id.in_(page)))}
    return [rows[i] for i in page]


_FORWARDED = t.units.alias("forwarded")
# What an export carries: everything about the report except who reported it.
EXPORT_COLUMNS = (_R.c.id, _R.c.tracking_code, _R.c.received_at,
                  _ENTRY.c.name.label("unit_name"), _R.c.channel, _R.c.kind, _R.c.status,
                  _R.c.title, _R.c.category, _R.c.text, _R.c.location,
                  _FORWARDED.c.name.label("forwarded_name"), _R.c.due_on, _R.c.verified_at,
                  _R.c.followed_up_at, _R.c.closed_at, _R.c.rating)


def export_page(conn: Connection, scope: Scope, query: InboxQuery, *, today: date,
                soon_until: date, received_window: tuple[datetime | None, datetime | None],
                limit: int) -> list[Any]:
    page = page_ids(conn, scope, query, today=today, soon_until=soon_until,
                    received_window=received_window, limit=limit)
    return _in_page_order(
        conn, select(*EXPORT_COLUMNS).join(_ENTRY, _ENTRY.c.id == _R.c.unit_id)
        .outerjoin(_FORWARDED, _FORWARDED.c.id == _R.c.forwarded_unit_id), page)


def _item(r: Any) -> InboxItem:
    return InboxItem(r.id, r.tracking_code, Kind(r.kind), Status(r.status), r.excerpt,
                     r.unit_name, Channel(r.channel), r.received_at, r.verify_due,
                     r.photo_count, title=r.title, due_on=r.due_on, version=r.version)


def status_counts(conn: Connection, scope: Scope) -> dict[Status, int]:
    if scope.reach is Reach.FORWARDED:
        rows = conn.execute(select(_R.c.status, func.count()).where(
            _R.c.forwarded_unit_id == scope.unit_id).group_by(_R.c.status)).all()
    else:
        query = select(t.report_counts.c.status, func.sum(t.report_counts.c.n)).group_by(
            t.report_counts.c.status)
        if scope.reach is Reach.SUBTREE:
            query = query.where(t.report_counts.c.unit_id.in_(
                subtree_ids(conn, scope.unit_path)))
        rows = conn.execute(query).all()
    return {Status(status): int(n) for status, n in rows if n}


_SQLITE_BUMP = sqlite_insert(t.report_counts)
_PG_BUMP = pg_insert(t.report_counts)
_COUNT_KEY = [t.report_counts.c.unit_id, t.report_counts.c.status]
_UPSERT_COUNT = {
    "sqlite": _SQLITE_BUMP.on_conflict_do_update(
        index_elements=_COUNT_KEY, set_={"n": t.report_counts.c.n + _SQLITE_BUMP.excluded.n}),
    "postgresql": _PG_BUMP.on_conflict_do_update(
        index_elements=_COUNT_KEY, set_={"n": t.report_counts.c.n + _PG_BUMP.excluded.n}),
}


def bump_counts(conn: Connection, changes: Iterable[tuple[int | None, str, int]]) -> None:
    """Add the deltas to the counter rows, in one fixed order: two transactions that touch the
    same rows in opposite orders would deadlock on PostgreSQL."""
    totals: Counter[tuple[int, str]] = Counter()
    for unit_id, status, delta in changes:
        totals[(UNROUTED if unit_id is None else unit_id, status)] += delta
    upsert = _UPSERT_COUNT[conn.dialect.name]
    for (unit_id, status), delta in sorted(totals.items()):
        if delta:
            conn.execute(upsert, {"unit_id": unit_id, "status": status, "n": delta})
