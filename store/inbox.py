"""The inbox's SQL: scope, filters, search, both sort orders with keyset cursors, and the
per-status counters. Plain functions of a connection, called by Store inside one read or write.

Built for a million reports (bench/inbox.py measures it, and ten million): every filter is an
indexed range or an index-ordered scan that stops at a page, and counts come from counter rows
(per routed unit, and per unit reports are forwarded to), not COUNT(*)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    TextClause,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from lapor.complaints import search
from lapor.complaints.access import Reach, Scope
from lapor.complaints.inbox import Assigned, Cursor, Due, InboxQuery, Order
from lapor.complaints.records import InboxItem, InboxPage
from lapor.complaints.reports import Channel, Kind, Status
from lapor.store import schema as t
from lapor.store.prepared import Prepared

UNROUTED = 0  # report_counts.unit_id of reports nobody is responsible for yet

_R = t.reports


def subtree_ids(conn: Connection, path: str) -> list[int]:
    return list(conn.execute(select(t.units.c.id).where(t.units.c.path.startswith(path))).scalars())


# SQLite has no statistics (the server never runs ANALYZE), and to its planner `unit IN (...)`
# looks narrower than a range of dates: for the arrival and deadline orders it read all of an
# agency's 200,000 reports and sorted them (400 ms at a million reports). When the units hold
# at least this many reports, their condition is written so that no index serves it, and the
# scan walks the order's own index, filtering as it goes (0.2 ms); for fewer, reading them all
# and sorting stays the quicker way. Counting up to this many costs about 1 ms.
MANY_REPORTS = 10_000


def _at_least(conn: Connection, rows: Select[Any], n: int) -> bool:
    """Whether `rows` holds n rows or more, reading no more than n of them."""
    sample = rows.limit(n).subquery()
    found: int = conn.execute(select(func.count()).select_from(sample)).scalar_one()
    return found >= n


def _in_units(
    conn: Connection, column: Any, ids: list[int], *, ordered: bool
) -> ColumnElement[bool]:
    indexed: ColumnElement[bool] = column.in_(ids)
    if not ordered or conn.dialect.name != "sqlite":
        return indexed
    if not _at_least(conn, select(literal(1)).where(indexed), MANY_REPORTS):
        return indexed
    unindexed: ColumnElement[bool] = (column + 0).in_(ids)
    return unindexed


def _no_index(conn: Connection, column: Any) -> Any:
    """SQLite: `column` as an expression no index serves (unary +, a no-op on any value), so
    that the planner walks the page's own order instead."""
    if conn.dialect.name != "sqlite":
        return column
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def scope_condition(
    conn: Connection, scope: Scope, *, ordered: bool = False
) -> ColumnElement[bool]:
    """Which reports `scope` reaches. `ordered`: for a page in arrival or deadline order
    (see MANY_REPORTS)."""
    if scope.reach is Reach.ALL:
        return true()
    if scope.reach is Reach.FORWARDED:
        return _R.c.forwarded_unit_id == scope.unit_id
    ids = subtree_ids(conn, scope.unit_path)
    total = conn.execute(select(func.count()).select_from(t.units)).scalar_one()
    if len(ids) == total:
        # A whole tree: a list of every unit id would only slow the planner down.
        return _R.c.routed_unit_id.is_not(None)
    return _in_units(conn, _R.c.routed_unit_id, ids, ordered=ordered)


def entry_units(conn: Connection, root_path: str) -> ColumnElement[bool]:
    """Reports that came in at the units under `root_path`, for a scan that a range of
    arrival dates drives (the figures of a month or a year): the whole tree is no condition,
    and a list of units that hold many reports is kept off their index (see MANY_REPORTS).
    Otherwise SQLite walked a province's 500 units through the unit index, every report of
    every year, to keep one year's (30 s at a million reports)."""
    ids = subtree_ids(conn, root_path)
    total = conn.execute(select(func.count()).select_from(t.units)).scalar_one()
    if len(ids) == total:
        return true()
    return _in_units(conn, _R.c.unit_id, ids, ordered=True)


def _filters(
    conn: Connection,
    scope: Scope,
    query: InboxQuery,
    *,
    today: date,
    soon_until: date,
    received_window: tuple[datetime | None, datetime | None],
    ordered: bool,
    unindexed_due: bool = False,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.statuses:
        where.append(_R.c.status.in_([s.value for s in query.statuses]))
    if query.kind:
        where.append(_R.c.kind == query.kind.value)
    if query.channel:
        where.append(_R.c.channel == query.channel.value)
    if query.unit_id is not None:
        path = conn.execute(select(t.units.c.path).where(t.units.c.id == query.unit_id)).scalar()
        where.append(
            _in_units(conn, _R.c.unit_id, subtree_ids(conn, path) if path else [], ordered=ordered)
        )
    if query.category:
        where.append(_R.c.category == query.category)
    if query.tag:
        # Tags are stored comma-joined: a whole tag matches, never a part of one.
        where.append(
            (literal(",") + _R.c.tags + literal(",")).contains(f",{query.tag},", autoescape=True)
        )
    if query.assigned is Assigned.ME:
        where.append(_R.c.assigned_user_id == scope.user_id)
    elif query.assigned is Assigned.NOBODY:
        where.append(_R.c.assigned_user_id.is_(None))
    due_on = _no_index(conn, _R.c.due_on) if unindexed_due else _R.c.due_on
    if query.due is Due.OVERDUE:
        where.append(due_on < today)
    elif query.due is Due.SOON:
        where.append(due_on.between(today, soon_until))
    start, end = received_window
    if start is not None:
        where.append(_R.c.received_at >= start)
    if end is not None:
        where.append(_R.c.received_at < end)
    return where


_FTS = table("reports_fts", column("rowid"))
# SQLite: the FTS5 index's vocabulary, one row per occurrence of a term (fts5vocab, 0010).
_TERMS = table("reports_fts_terms", column("term"))
_VECTOR: ColumnElement[Any] = literal_column("reports.search_vector")  # PostgreSQL, 0007

# A search for words that are not rare looks at this many reports (by id, newest first) per
# request, so that a word common in the province but absent from the caller's reports cannot
# walk a million rows: the page then offers to search the next, older stretch. Measured at a
# million reports: about 1 µs per report passed on either backend, so 20,000 stay near 20 ms.
SEARCH_WINDOW = 20_000
# Words with fewer matches than this in all reports are searched through the search index
# whole, in one request: handing over a few thousand matches costs a few milliseconds.
RARE_MATCHES = 5_000


# A word that starts more of the index's terms than this stays a prefix query in SQLite: such
# a word is short and common, and its search runs in windows (SEARCH_WINDOW) anyway.
COMPLETIONS = 12


def completions(conn: Connection, words: tuple[str, ...]) -> dict[str, list[str] | None]:
    """SQLite: each word's completions, the index's terms that start with it, each found by
    one seek in the vocabulary. FTS5 reads an exact term's matches as the scan needs them, but
    all of a prefix's matches before handing over the first: 0.2 ms against 30 ms for a page
    of a word in half of a million reports."""
    found: dict[str, list[str] | None] = {}
    for word in words:
        terms: list[str] | None = []
        start = word
        while terms is not None:
            term = conn.execute(
                select(_TERMS.c.term).where(_TERMS.c.term >= start).limit(1)
            ).scalar()
            if term is None or not term.startswith(word):
                break
            if len(terms) == COMPLETIONS:
                terms = None
                break
            terms.append(term)
            # The smallest string after the term: a seek past its occurrences, not through them.
            start = term + "\x00"
        found[word] = terms
    return found


@dataclass(frozen=True)
class _Words:
    """A search's words, with SQLite's MATCH expression for them worked out once."""

    words: tuple[str, ...]
    fts5: str = ""


def _words(conn: Connection, words: tuple[str, ...]) -> _Words:
    if conn.dialect.name != "sqlite":
        return _Words(words)
    return _Words(words, search.fts5_match(words, completions(conn, words)))


def _search(conn: Connection, words: _Words, *, indexed: bool = True) -> tuple[Any, Any]:
    """The table to join (SQLite's FTS5 index, None on PostgreSQL) and the match condition.
    `indexed=False` (PostgreSQL): a condition the GIN index cannot serve, for a scan already
    bounded otherwise; the index would first collect every match in all reports."""
    if conn.dialect.name == "sqlite":
        return _FTS, literal_column("reports_fts").op("MATCH")(words.fts5)
    vector = _VECTOR if indexed else func.coalesce(_VECTOR, literal_column("''::tsvector"))
    return None, vector.op("@@")(
        func.to_tsquery(literal_column("'simple'::regconfig"), search.tsquery(words.words))
    )


def matching(conn: Connection, words: tuple[str, ...]) -> tuple[Any, ColumnElement[bool]]:
    """The search the inbox makes, for other readers of reports (the public list): the table
    to join on reports.id (SQLite's FTS5 index; None on PostgreSQL) and the condition."""
    return _search(conn, _words(conn, words))


def newest_matching(
    conn: Connection,
    words: tuple[str, ...],
    where: Sequence[ColumnElement[bool] | TextClause],
    *,
    limit: int,
    offset: int = 0,
) -> list[int]:
    """The ids of reports that hold `words` and meet `where`, newest first, for a reader whose
    other conditions most reports meet (the public list), so that no window is needed: on
    SQLite the search index hands its matches over newest first and the scan stops at the
    page; on PostgreSQL rare words are found through the GIN index and sorted, others walk
    the ids down, checking each report's words, until the page is full."""
    found = _words(conn, words)
    if conn.dialect.name == "sqlite":
        source, match = _search(conn, found)
        ids = (
            select(_R.c.id)
            .select_from(source.join(_R, _R.c.id == source.c.rowid))
            .where(match, *where)
            .order_by(source.c.rowid.desc())
        )
    elif _rare_in_statistics(conn, words):
        _, match = _search(conn, found)
        matches = select(_R.c.id).where(match).cte("matches").prefix_with("MATERIALIZED")
        ids = (
            select(_R.c.id)
            .where(_R.c.id.in_(select(matches.c.id)), *where)
            .order_by((_R.c.id + 0).desc())
        )
    else:
        _, match = _search(conn, found, indexed=False)
        ids = select(_R.c.id).where(match, *where).order_by(_R.c.id.desc())
    return list(conn.execute(ids.limit(limit).offset(offset)).scalars())


def _rare_in_statistics(conn: Connection, words: tuple[str, ...]) -> bool | None:
    """PostgreSQL: whether the words are rare, from the planner's own statistics on the
    tsvector column (the most common lexemes and their frequencies, gathered by ANALYZE).
    A word that is no common lexeme's prefix is rarer than the least common of them. None
    on SQLite, whose FTS5 index keeps no such figures (counting is left to `_few_matches`)."""
    if conn.dialect.name == "sqlite":
        return None
    row = conn.execute(
        text(
            "SELECT c.reltuples, s.most_common_elems::text::text[] AS elems, "
            "s.most_common_elem_freqs AS freqs FROM pg_class c LEFT JOIN pg_stats s "
            "ON s.schemaname = current_schema() AND s.tablename = 'reports' "
            "AND s.attname = 'search_vector' "
            "WHERE c.oid = to_regclass('reports')"
        )
    ).one_or_none()
    if row is None or not row.elems:
        # Never analysed: too few reports for statistics to matter yet, or far too many to
        # risk an unbounded search.
        return row is not None and max(row.reltuples, 0) < RARE_MATCHES
    rows = max(row.reltuples, 0)
    # After the per-element figures come the least and greatest of them and the null share;
    # a word among none of them counts as half the least, as PostgreSQL's own estimate does.
    unlisted = row.freqs[len(row.elems)] / 2
    share = min(
        sum(f for e, f in zip(row.elems, row.freqs, strict=False) if e.startswith(w)) or unlisted
        for w in words
    )
    rare: bool = rows * share < RARE_MATCHES
    return rare


def _few_matches(conn: Connection, words: _Words) -> bool:
    """SQLite: whether all reports hold fewer than RARE_MATCHES matches, counted by FTS5.
    The words as whole words first: a word common as a whole word is common as a prefix too,
    and a word left a prefix (see COMPLETIONS) costs FTS5 all its matches at once."""
    exact = " AND ".join(f'"{w}"' for w in words.words)
    for match in dict.fromkeys((exact, words.fts5)):
        matches = select(_FTS.c.rowid).where(literal_column("reports_fts").op("MATCH")(match))
        if _at_least(conn, matches, RARE_MATCHES):
            return False
    return True


def _id_span(conn: Connection) -> tuple[int, int]:
    # Two subqueries: min() and max() together in one SELECT would read the whole table.
    low = select(func.min(_R.c.id)).scalar_subquery()
    high = select(func.max(_R.c.id)).scalar_subquery()
    lowest, highest = conn.execute(select(low, high)).one()
    return lowest or 0, highest or 0


_ENTRY = t.units.alias("entry")
_PHOTO_COUNT = (
    select(func.count())
    .select_from(t.report_photos)
    .where(t.report_photos.c.report_id == _R.c.id)
    .scalar_subquery()
)
_COLUMNS = (
    _R.c.id,
    _R.c.tracking_code,
    _R.c.kind,
    _R.c.status,
    _R.c.title,
    func.substr(_R.c.text, 1, 160).label("excerpt"),
    _ENTRY.c.name.label("unit_name"),
    _R.c.channel,
    _R.c.received_at,
    _R.c.verify_due,
    _R.c.due_on,
    _PHOTO_COUNT.label("photo_count"),
    _R.c.version,
)


# Duplicates arrive close together: similar reports are looked for among this many ids on
# either side of the report, which also bounds the work on a word common everywhere.
SIMILAR_WINDOW = 20_000
_OPEN = [
    Status.RECEIVED.value,
    Status.POSTPONED.value,
    Status.FORWARDED.value,
    Status.FOLLOWED_UP.value,
]


def similar_reports(
    conn: Connection, report_id: int, unit_id: int, words: tuple[str, ...], scope: Scope, limit: int
) -> list[InboxItem]:
    """Open reports of the same unit sharing at least two of `words`, newest first."""
    if not words:
        return []
    if conn.dialect.name == "sqlite":
        source: Any = _FTS
        match: ColumnElement[bool] = literal_column("reports_fts").op("MATCH")(
            search.fts5_similar(words, completions(conn, words))
        )
    else:
        plan_for_values(conn)
        source = None
        match = _VECTOR.op("@@")(
            func.to_tsquery(literal_column("'simple'::regconfig"), search.tsquery_similar(words))
        )
    ids = select(_R.c.id)
    if source is not None:
        ids = ids.select_from(source.join(_R, _R.c.id == source.c.rowid))
    found = list(
        conn.execute(
            ids.where(
                match,
                _R.c.id != report_id,
                _R.c.unit_id == unit_id,
                _R.c.status.in_(_OPEN),
                _R.c.id.between(report_id - SIMILAR_WINDOW, report_id + SIMILAR_WINDOW),
                scope_condition(conn, scope),
            )
            .order_by(_R.c.id.desc())
            .limit(limit)
        ).scalars()
    )
    return [
        _item(r)
        for r in _in_page_order(
            conn, select(*_COLUMNS).join(_ENTRY, _ENTRY.c.id == _R.c.unit_id), found
        )
    ]


def plan_for_values(conn: Connection) -> None:
    """Have PostgreSQL plan this transaction's statements for their parameters' values.

    asyncpg prepares and caches statements; after five runs PostgreSQL may switch one to a
    generic plan made without the values, blind to how rare a search word is (measured at a
    million reports: 148 ms against 1.6 ms). Only for searches: for the deadline order the
    generic plan is the better one (0.96 ms walking the due_on index, against 25 ms for a
    custom bitmap plan that assumes status and due_on unrelated)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


def page_ids(
    conn: Connection,
    scope: Scope,
    query: InboxQuery,
    *,
    today: date,
    soon_until: date,
    received_window: tuple[datetime | None, datetime | None],
    limit: int,
    unrouted: bool = False,
) -> tuple[list[int], Cursor | None]:
    """The ids of one page, in the query's order, and where a search stopped before the
    oldest report when it did (see SEARCH_WINDOW): asking again after that cursor searches
    on. The scan that decides the page runs on the reports table alone (and the search
    index); columns are fetched for the page only."""
    if query.words:
        plan_for_values(conn)
    order = query.order
    ordered = order in (Order.DEADLINE, Order.RECEIVED)
    # Without statistics SQLite took a deadline range for the narrower condition in every
    # order: a page newest first read every report due in the range through the due_on index
    # (or all of an agency's through the unit index) and sorted them (95 ms at a million
    # reports for the 8,900 due within five working days; ten times that at ten million).
    # Reports due soon are the newest ones and overdue ones are spread evenly enough that
    # walking the page's own order meets a page within a few thousand reports, however many
    # there are (0.2 ms): outside the deadline order, neither the range nor a scope of many
    # reports is left to an index. An officer's scope keeps both: its own index holds them
    # (forwarded_unit_id, due_on, id).
    unindexed_due = (
        query.due is not None and order is not Order.DEADLINE and scope.reach is not Reach.FORWARDED
    )
    where = [scope_condition(conn, scope, ordered=ordered or unindexed_due)]
    if unrouted:
        where.append(_R.c.routed_unit_id.is_(None))
    where += _filters(
        conn,
        scope,
        query,
        today=today,
        soon_until=soon_until,
        received_window=received_window,
        ordered=ordered,
        unindexed_due=unindexed_due,
    )
    after = query.after
    if order is Order.DEADLINE:
        where.append(_R.c.due_on.is_not(None))
        if after is not None and after.due_on is not None:
            where.append(tuple_(_R.c.due_on, _R.c.id) > tuple_(after.due_on, after.id))
        ids = select(_R.c.id).order_by(_R.c.due_on, _R.c.id)
        if query.words:
            ids = _searching(conn, ids, _words(conn, query.words), where)
        return list(conn.execute(ids.where(*where).limit(limit)).scalars()), None
    if order is Order.RECEIVED:
        if after is not None and after.received_at is not None:
            moment = literal(after.received_at, _R.c.received_at.type)
            # The first condition alone lets the received_at index start at the cursor.
            where += [
                _R.c.received_at <= moment,
                tuple_(_R.c.received_at, _R.c.id) < tuple_(moment, after.id),
            ]
        ids = select(_R.c.id).order_by(_R.c.received_at.desc(), _R.c.id.desc())
        return list(conn.execute(ids.where(*where).limit(limit)).scalars()), None
    if not query.words:
        if after is not None:
            where.append(_R.c.id < after.id)
        ids = select(_R.c.id).order_by(_R.c.id.desc())
        return list(conn.execute(ids.where(*where).limit(limit)).scalars()), None
    return _search_page(conn, _words(conn, query.words), where, after, limit)


def _searching(
    conn: Connection, ids: Select[Any], words: _Words, where: list[ColumnElement[bool]]
) -> Select[Any]:
    source, match = _search(conn, words)
    where.append(match)
    if source is None:
        return ids
    return ids.select_from(source.join(_R, _R.c.id == source.c.rowid))


def _search_page(
    conn: Connection,
    words: _Words,
    where: list[ColumnElement[bool]],
    after: Cursor | None,
    limit: int,
) -> tuple[list[int], Cursor | None]:
    """A search newest first: the whole id range at once for rare words, a window of
    SEARCH_WINDOW ids below the cursor otherwise."""

    def run(low: int | None, *, index_first: bool = False) -> list[int]:
        # SQLite: the FTS index drives the scan and hands its matches over newest first, its
        # rowid bounded by the cursor and the window (FTS5 takes rowid ranges): ordered by
        # its own rowid, SQLite stops after one page instead of sorting every match.
        # PostgreSQL: within a window the scan is bounded by ids, so the GIN index is kept
        # out of it (it would collect the word's matches in all reports first: 125 ms for
        # 'jalan rusak' against 5 ms walking the window).
        source, match = _search(conn, words, indexed=low is None)
        key: Any = _R.c.id if source is None else source.c.rowid
        ids: Select[Any] = (
            select(_R.c.id)
            if source is None
            else select(_R.c.id).select_from(source.join(_R, _R.c.id == key))
        )
        bounds = [match, key < after.id] if after is not None else [match]
        if low is not None:
            bounds.append(key >= low)
        if index_first:
            # PostgreSQL, rare words: the GIN index finds the few matches first, on their
            # own (a materialised CTE), and the filters are applied to those only; otherwise
            # the planner intersects them with another index's bitmap (an agency's 200,000
            # reports: 30 ms for 15 matches). Ordered by an expression, the plan cannot walk
            # the primary key down hoping to meet a match soon (8.5 s for a word in 100
            # reports): the matches are sorted.
            found = select(_R.c.id).where(*bounds).cte("found").prefix_with("MATERIALIZED")
            ordered = ids.where(_R.c.id.in_(select(found.c.id))).order_by((_R.c.id + 0).desc())
            return list(conn.execute(ordered.where(*where).limit(limit)).scalars())
        ordered = ids.order_by(key.desc())
        return list(conn.execute(ordered.where(*where, *bounds).limit(limit)).scalars())

    rare = _rare_in_statistics(conn, words.words)
    if rare:
        return run(None, index_first=True), None
    lowest, highest = _id_span(conn)
    high = min(after.id, highest + 1) if after is not None else highest + 1
    low = high - SEARCH_WINDOW
    if low <= lowest:  # the window reaches the oldest report: nothing is left for later
        return run(lowest), None
    page = run(low)
    if len(page) == limit:
        return page, None
    if rare is None and _few_matches(conn, words):
        # SQLite finds out only now that the words are rare: all their matches, then.
        return run(None), None
    return page, Cursor(low)


def inbox_page(
    conn: Connection,
    scope: Scope,
    query: InboxQuery,
    *,
    today: date,
    soon_until: date,
    received_window: tuple[datetime | None, datetime | None],
    limit: int,
    unrouted: bool = False,
) -> InboxPage:
    page, rest = page_ids(
        conn,
        scope,
        query,
        today=today,
        soon_until=soon_until,
        received_window=received_window,
        limit=limit,
        unrouted=unrouted,
    )
    items = [
        _item(r)
        for r in _in_page_order(
            conn, select(*_COLUMNS).join(_ENTRY, _ENTRY.c.id == _R.c.unit_id), page
        )
    ]
    return InboxPage(items, rest)


def _in_page_order(conn: Connection, columns: Select[Any], page: list[int]) -> list[Any]:
    """The rows of `page`'s reports, in the page's order (IN gives them in any order)."""
    if not page:
        return []
    rows = {r.id: r for r in conn.execute(columns.where(_R.c.id.in_(page)))}
    return [rows[i] for i in page]


_FORWARDED = t.units.alias("forwarded")
# What an export carries: everything about the report except who reported it.
EXPORT_COLUMNS = (
    _R.c.id,
    _R.c.tracking_code,
    _R.c.received_at,
    _ENTRY.c.name.label("unit_name"),
    _R.c.channel,
    _R.c.kind,
    _R.c.status,
    _R.c.title,
    _R.c.category,
    _R.c.tags,
    _R.c.text,
    _R.c.location,
    _FORWARDED.c.name.label("forwarded_name"),
    _R.c.due_on,
    _R.c.verified_at,
    _R.c.followed_up_at,
    _R.c.closed_at,
    _R.c.rating,
)


def export_page(
    conn: Connection,
    scope: Scope,
    query: InboxQuery,
    *,
    today: date,
    soon_until: date,
    received_window: tuple[datetime | None, datetime | None],
    limit: int,
) -> tuple[list[Any], Cursor | None]:
    page, rest = page_ids(
        conn,
        scope,
        query,
        today=today,
        soon_until=soon_until,
        received_window=received_window,
        limit=limit,
    )
    return _in_page_order(
        conn,
        select(*EXPORT_COLUMNS)
        .join(_ENTRY, _ENTRY.c.id == _R.c.unit_id)
        .outerjoin(_FORWARDED, _FORWARDED.c.id == _R.c.forwarded_unit_id),
        page,
    ), rest


def _item(r: Any) -> InboxItem:
    return InboxItem(
        r.id,
        r.tracking_code,
        Kind(r.kind),
        Status(r.status),
        r.excerpt,
        r.unit_name,
        Channel(r.channel),
        r.received_at,
        r.verify_due,
        r.photo_count,
        title=r.title,
        due_on=r.due_on,
        version=r.version,
    )


def status_counts(conn: Connection, scope: Scope) -> dict[Status, int]:
    if scope.reach is Reach.FORWARDED:
        counts = t.report_forwarded_counts
        rows = conn.execute(
            select(counts.c.status, counts.c.n).where(counts.c.unit_id == scope.unit_id)
        ).all()
    else:
        query = select(t.report_counts.c.status, func.sum(t.report_counts.c.n)).group_by(
            t.report_counts.c.status
        )
        if scope.reach is Reach.SUBTREE:
            # The subtree's units as a subquery, in the same statement: a province's 500 ids
            # fetched, then sent back as 500 parameters, cost more than the sum itself.
            units = select(t.units.c.id).where(t.units.c.path.startswith(scope.unit_path))
            query = query.where(t.report_counts.c.unit_id.in_(units))
        rows = conn.execute(query).all()
    return {Status(status): int(n) for status, n in rows if n}


def _upserts(counts: Any) -> dict[str, Prepared]:
    # Every report and every change of status bumps a counter, hence prepared.
    key = [counts.c.unit_id, counts.c.status]
    on_sqlite, on_pg = sqlite_insert(counts), pg_insert(counts)
    return {
        "sqlite": Prepared(
            on_sqlite.on_conflict_do_update(
                index_elements=key, set_={"n": counts.c.n + on_sqlite.excluded.n}
            )
        ),
        "postgresql": Prepared(
            on_pg.on_conflict_do_update(
                index_elements=key, set_={"n": counts.c.n + on_pg.excluded.n}
            )
        ),
    }


_UPSERT_COUNT = _upserts(t.report_counts)
_UPSERT_FORWARDED_COUNT = _upserts(t.report_forwarded_counts)


def _bump(conn: Connection, upserts: dict[str, Prepared], totals: Counter[tuple[int, str]]) -> None:
    # In one fixed order: two transactions that touch the same rows in opposite orders would
    # deadlock on PostgreSQL.
    upsert = upserts[conn.dialect.name]
    for (unit_id, status), delta in sorted(totals.items()):
        if delta:
            upsert.many(conn, [{"unit_id": unit_id, "status": status, "n": delta}])


def bump_counts(conn: Connection, changes: Iterable[tuple[int | None, str, int]]) -> None:
    """Add the deltas to the counter rows of the units reports are routed to (None:
    unrouted)."""
    totals: Counter[tuple[int, str]] = Counter()
    for unit_id, status, delta in changes:
        totals[(UNROUTED if unit_id is None else unit_id, status)] += delta
    _bump(conn, _UPSERT_COUNT, totals)


def bump_forwarded_counts(conn: Connection, changes: Iterable[tuple[int | None, str, int]]) -> None:
    """Add the deltas to the counter rows of the units reports are forwarded to (None: not
    forwarded, nothing to count)."""
    totals: Counter[tuple[int, str]] = Counter()
    for unit_id, status, delta in changes:
        if unit_id is not None:
            totals[(unit_id, status)] += delta
    _bump(conn, _UPSERT_FORWARDED_COUNT, totals)
