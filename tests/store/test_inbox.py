"""The inbox's filters, search, sort orders and counters, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select

from lapor.complaints.inbox import (
    Assigned,
    Cursor,
    Due,
    InboxQuery,
    Sort,
    next_cursor,
    read_inbox_query,
)
from lapor.complaints.records import NewReport
from lapor.complaints.reports import Channel, Identity, Kind, Status, Submission
from lapor.complaints.workflow import Action, Forwarding
from lapor.store import schema as t
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import EVERYTHING, TEST_KEY, World

TODAY = date(2026, 11, 23)  # a Monday


@pytest.fixture
async def world(store: Store) -> World:
    return await World(store, Signing([TEST_KEY])).standard()


async def submit(
    world: World,
    key: str,
    *,
    unit: str = "dinas",
    text: str = "Antrean panjang sekali di loket.",
    kind: Kind = Kind.COMPLAINT,
    channel: Channel = Channel.POSTER,
    received_at: datetime | None = None,
    verify_due: date = TODAY,
) -> int:
    submission = Submission(kind, text, None, Identity.ANONYMOUS, None, None, None)
    result = await world.store.submit_report(
        NewReport(
            submission=submission,
            channel=channel,
            unit_id=world.units[unit].id,
            poster_id=None,
            idempotency_key=key,
            body_hash=submission.body_hash(),
            language="id",
            received_at=received_at or datetime(2026, 11, 20, 3, tzinfo=UTC),
            verify_due=verify_due,
        ),
    )
    return result.report_id


async def ids(
    world: World,
    query: InboxQuery | None = None,
    *,
    scope: Any = EVERYTHING,
    soon_until: date = TODAY,
    limit: int = 50,
    **params: Any,
) -> list[int]:
    page = await world.store.inbox(
        scope, query, today=TODAY, soon_until=soon_until, limit=limit, **params
    )
    return [i.id for i in page.items]


async def forward(
    world: World,
    report_id: int,
    version: int = 1,
    title: str = "Judul",
    due: date = date(2026, 11, 30),
) -> int:
    return await world.store.forward_report(
        report_id,
        seen_version=version,
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        forwarding=Forwarding(title, None, world.units["rsud"].id),
        follow_up_due=due,
    )


async def counted(world: World) -> dict[Status, int]:
    def read(conn: Any) -> dict[Status, int]:
        rows = conn.execute(
            select(t.reports.c.status, func.count()).group_by(t.reports.c.status)
        ).all()
        return {Status(s): n for s, n in rows}

    return await world.store.db.read(read)


async def test_counters_follow_every_change_and_respect_scope(world: World) -> None:
    store = world.store
    a = await submit(world, "a")
    b = await submit(world, "b")
    await submit(world, "c", unit="other")
    lonely = await store.add_unit("lonely", "Tanpa koordinator")
    world.units["lonely"] = lonely
    await submit(world, "d", unit="lonely")
    await forward(world, a)
    await store.decide(
        b,
        seen_version=1,
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        action=Action.ARCHIVE,
        reason="Laporan tidak jelas sama sekali.",
        duplicate_of=None,
    )
    assert await store.status_counts(EVERYTHING) == await counted(world)
    assert await store.status_counts(world.subtree("prov")) == {
        Status.FORWARDED: 1,
        Status.ARCHIVED: 1,
    }
    assert await store.status_counts(world.subtree("other")) == {Status.RECEIVED: 1}
    await world.user("petugas@rsud.go.id", "officer", "rsud")
    assert await store.status_counts(world.scope("petugas@rsud.go.id")) == {Status.FORWARDED: 1}


async def forwarded_counted(world: World) -> dict[tuple[int, Status], int]:
    def read(conn: Any) -> dict[tuple[int, Status], int]:
        r = t.reports.c
        rows = conn.execute(
            select(r.forwarded_unit_id, r.status, func.count())
            .where(r.forwarded_unit_id.is_not(None))
            .group_by(r.forwarded_unit_id, r.status)
        ).all()
        return {(u, Status(s)): n for u, s, n in rows}

    return await world.store.db.read(read)


async def forwarded_counters(world: World) -> dict[tuple[int, Status], int]:
    def read(conn: Any) -> dict[tuple[int, Status], int]:
        c = t.report_forwarded_counts.c
        rows = conn.execute(select(c.unit_id, c.status, c.n).where(c.n != 0)).all()
        return {(u, Status(s)): n for u, s, n in rows}

    return await world.store.db.read(read)


async def test_an_officers_counts_follow_forwarding_answers_closing_and_hand_backs(
    world: World,
) -> None:
    store = world.store
    await world.user("petugas@rsud.go.id", "officer", "rsud")
    await world.user("petugas@dinas.go.id", "officer", "dinas")
    rsud, dinas = world.scope("petugas@rsud.go.id"), world.scope("petugas@dinas.go.id")
    a, b, c = [await submit(world, key) for key in "abc"]
    version = {report: await forward(world, report) for report in (a, b, c)}
    assert await store.status_counts(rsud) == {Status.FORWARDED: 3}
    # rsud hands one back: verification again, then forwarded to dinas instead
    version[c] = await store.reroute_report(
        c,
        seen_version=version[c],
        actor=world.users["petugas@rsud.go.id"],
        scope=rsud,
        reason="Bukan tugas kami, ini urusan dinas.",
        verify_due=TODAY,
    )
    assert await store.status_counts(rsud) == {Status.FORWARDED: 2}
    assert await store.status_counts(dinas) == {}
    await store.forward_report(
        c,
        seen_version=version[c],
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        forwarding=Forwarding("Judul", None, world.units["dinas"].id),
        follow_up_due=date(2026, 11, 30),
    )
    answered = await store.follow_up_report(
        a,
        seen_version=version[a],
        actor=world.users["petugas@rsud.go.id"],
        scope=rsud,
        answer="Sudah kami perbaiki, terima kasih.",
    )
    assert await store.status_counts(rsud) == {Status.FORWARDED: 1, Status.FOLLOWED_UP: 1}
    await store.reporter_acts(a, seen_version=answered, action=Action.ACCEPT, rating=5)
    assert await store.status_counts(rsud) == {Status.FORWARDED: 1, Status.CLOSED: 1}
    assert await store.status_counts(dinas) == {Status.FORWARDED: 1}
    assert await forwarded_counters(world) == await forwarded_counted(world)


async def test_search_folds_case_and_accents_and_matches_word_prefixes(world: World) -> None:
    hit = await submit(world, "hit", text="Jalan di depan PUSKESMAS Banjarbaru rusák parah.")
    await submit(world, "miss", text="Guru sekolah sering tidak hadir mengajar.")
    for words in ("puskesmas", "Rusak", "RUSÁK jalan", "banjar", "ｐｕｓｋｅｓｍａｓ"):
        query, errors = read_inbox_query({"q": words})
        assert not errors
        assert await ids(world, query) == [hit], words
    query, _ = read_inbox_query({"q": "puskesmas sekolah"})
    assert await ids(world, query) == []


async def test_a_word_finds_every_word_it_begins_however_many(
    world: World, monkeypatch: Any
) -> None:
    from lapor.store import inbox

    school = await submit(world, "a", text="Atap sekolah bocor.")
    schools = await submit(world, "b", text="Sekolahnya jauh, sekolah lain penuh.")
    await submit(world, "c", text="Antrean panjang sekali.")
    query, _ = read_inbox_query({"q": "sekol atap"})
    assert await ids(world, query) == [school]
    query, _ = read_inbox_query({"q": "sekol"})
    assert await ids(world, query) == [schools, school]
    assert await ids(world, read_inbox_query({"q": "sekolahku"})[0]) == []
    # More completions than are worth listing: the word is searched as a prefix, same matches.
    monkeypatch.setattr(inbox, "COMPLETIONS", 1)
    assert await ids(world, query) == [schools, school]


# The vocabulary of SQLite's FTS5 index; PostgreSQL reads a prefix's matches as it goes.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_completions_come_from_the_search_index(world: World, monkeypatch: Any) -> None:
    from lapor.store import inbox

    for key, text in (
        ("a", "sekolah sekolah sekolah"),
        ("b", "Sekolahnya"),
        ("c", "sekali"),
        ("d", "sekolah"),
    ):
        await submit(world, key, text=text)
    found = await world.store.db.read(
        lambda conn: inbox.completions(conn, ("sekol", "sek", "rumah", "sekolah"))
    )
    assert found == {
        "sekol": ["sekolah", "sekolahnya"],
        "sek": ["sekali", "sekolah", "sekolahnya"],
        "rumah": [],
        "sekolah": ["sekolah", "sekolahnya"],
    }
    monkeypatch.setattr(inbox, "COMPLETIONS", 2)
    found = await world.store.db.read(lambda conn: inbox.completions(conn, ("sek",)))
    assert found == {"sek": None}


async def test_a_title_given_at_forwarding_is_searchable(world: World) -> None:
    report_id = await submit(world, "t")
    query, _ = read_inbox_query({"q": "ambulans"})
    assert await ids(world, query) == []
    await forward(world, report_id, title="Ambulans terlambat datang")
    assert await ids(world, query) == [report_id]


async def test_filters_combine(world: World) -> None:
    poster = await submit(world, "p", kind=Kind.COMPLAINT)
    kiosk = await submit(world, "k", kind=Kind.ASPIRATION, channel=Channel.KIOSK, unit="rsud")
    widget = await submit(world, "w", kind=Kind.ASPIRATION, channel=Channel.WIDGET)
    assert await ids(world, InboxQuery(kind=Kind.ASPIRATION)) == [widget, kiosk]
    assert await ids(world, InboxQuery(kind=Kind.ASPIRATION, channel=Channel.KIOSK)) == [kiosk]
    assert await ids(world, InboxQuery(unit_id=world.units["dinas"].id)) == [widget, poster]
    assert await ids(world, InboxQuery(unit_id=world.units["prov"].id)) == [widget, kiosk, poster]
    await forward(world, kiosk)
    assert await ids(world, InboxQuery(statuses=(Status.FORWARDED,))) == [kiosk]
    assert await ids(
        world, InboxQuery(statuses=(Status.FORWARDED, Status.RECEIVED), channel=Channel.POSTER)
    ) == [poster]


async def test_received_window_is_in_local_days(world: World) -> None:
    wita = __import__("zoneinfo").ZoneInfo("Asia/Makassar")
    # 23:30 WITA on 19 November is 15:30 UTC the same day; 00:30 WITA on 20 November is
    # 16:30 UTC on the 19th: a UTC date filter would put both on the 19th.
    late = await submit(world, "late", received_at=datetime(2026, 11, 19, 15, 30, tzinfo=UTC))
    early = await submit(world, "early", received_at=datetime(2026, 11, 19, 16, 30, tzinfo=UTC))
    from lapor.complaints.inbox import received_window

    query = InboxQuery(received_from=date(2026, 11, 20), received_to=date(2026, 11, 20))
    assert await ids(world, query, received_window=received_window(query, wita)) == [early]
    query = InboxQuery(received_to=date(2026, 11, 19))
    assert await ids(world, query, received_window=received_window(query, wita)) == [late]


async def test_due_filters_and_deadline_order_with_a_cursor(world: World) -> None:
    overdue = await submit(world, "o", verify_due=TODAY - timedelta(days=3))
    today = await submit(world, "d", verify_due=TODAY)
    later = await submit(world, "l", verify_due=TODAY + timedelta(days=7))
    done = await submit(world, "x", verify_due=TODAY - timedelta(days=5))
    await forward(world, done, due=TODAY + timedelta(days=2))
    assert await ids(world, InboxQuery(due=Due.OVERDUE)) == [overdue]
    soon = InboxQuery(due=Due.SOON)
    assert await ids(world, soon, soon_until=TODAY + timedelta(days=2)) == [done, today]
    by_deadline = InboxQuery(sort=Sort.DEADLINE)
    assert await ids(world, by_deadline) == [overdue, today, done, later]
    first = (await world.store.inbox(EVERYTHING, by_deadline, today=TODAY, limit=2)).items
    rest = replace(by_deadline, after=next_cursor(first[-1], by_deadline))
    assert await ids(world, rest) == [done, later]
    # A report with no running deadline (archived, answered...) is not in the deadline order.
    await world.store.decide(
        later,
        seen_version=1,
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        action=Action.ARCHIVE,
        reason="Duplikat dari laporan lain.",
        duplicate_of=None,
    )
    assert later not in await ids(world, by_deadline)


async def ordered_pages(world: World) -> list[list[int]]:
    from lapor.complaints.inbox import received_window

    wita = __import__("zoneinfo").ZoneInfo("Asia/Makassar")
    dinas = world.units["dinas"].id
    queries = [
        InboxQuery(sort=Sort.DEADLINE),
        InboxQuery(received_to=date(2026, 11, 30)),
        InboxQuery(unit_id=dinas, sort=Sort.DEADLINE),
        InboxQuery(unit_id=dinas, received_from=date(2026, 11, 12)),
    ]
    return [
        await ids(
            world, q, scope=world.subtree("prov"), limit=3, received_window=received_window(q, wita)
        )
        for q in queries
    ]


async def test_a_scope_with_many_reports_pages_the_same_in_either_plan(
    world: World, monkeypatch: Any
) -> None:
    from lapor.store import inbox

    for i in range(9):
        await submit(
            world,
            f"m{i}",
            unit=("dinas", "rsud", "other")[i % 3],
            received_at=datetime(2026, 11, 10 + i, 3, tzinfo=UTC),
            verify_due=TODAY + timedelta(days=(5 * i) % 7),
        )
    expected = await ordered_pages(world)
    assert expected == [[1, 8, 4], [8, 7, 5], [1, 4, 7], [7, 4]]
    monkeypatch.setattr(inbox, "MANY_REPORTS", 1)  # every scope counts as a large one
    assert await ordered_pages(world) == expected


# Without statistics SQLite's planner needs telling (store.inbox.MANY_REPORTS).
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_sqlite_walks_the_arrival_index_for_a_scope_with_many_reports(
    world: World, monkeypatch: Any
) -> None:
    from lapor.store import inbox

    for i in range(3):
        await submit(world, f"m{i}", received_at=datetime(2026, 11, 10 + i, 3, tzinfo=UTC))
    query = InboxQuery(received_to=date(2026, 11, 30))

    def plan(conn: Any) -> str:
        return _plan_of_page(
            conn,
            world.subtree("prov"),
            query,
            TODAY,
            received_window=(None, datetime(2026, 12, 1, tzinfo=UTC)),
            picks=lambda statement: "ORDER BY reports.received_at" in statement,
        )

    assert "ix_reports_routed_unit_id_id" in await world.store.db.read(plan)
    monkeypatch.setattr(inbox, "MANY_REPORTS", 2)
    assert "ix_reports_received_at" in await world.store.db.read(plan)


async def due_pages(world: World) -> list[list[int]]:
    """The due filters newest first in the province's scope, in a unit's and in an officer's
    (rsud's), a page of two."""
    soon = TODAY + timedelta(days=3)
    return [
        await ids(world, InboxQuery(**query), scope=scope, soon_until=soon, limit=2)
        for scope in (world.subtree("prov"), world.scope("petugas@rsud.go.id"))
        for query in (
            {"due": Due.OVERDUE},
            {"due": Due.SOON},
            {"due": Due.OVERDUE, "unit_id": world.units["dinas"].id},
            {"due": Due.SOON, "kind": Kind.COMPLAINT},
        )
    ]


async def test_due_filters_newest_first_page_the_same_in_either_plan(
    world: World, monkeypatch: Any
) -> None:
    from lapor.store import inbox

    await world.user("petugas@rsud.go.id", "officer", "rsud")
    # due_on, in days from today: -2 -1 0 1 2 -2 (received) then -1 0 1 -1 (forwarded to rsud)
    m = [
        await submit(
            world,
            f"d{i}",
            unit=("dinas", "rsud")[i % 2],
            verify_due=TODAY + timedelta(days=(i % 5) - 2),
        )
        for i in range(10)
    ]
    for k, report in enumerate(m[6:]):
        await forward(world, report, due=TODAY + timedelta(days=k % 3 - 1))
    expected = await due_pages(world)
    assert expected == [
        [m[9], m[6]],
        [m[8], m[7]],
        [m[6], m[0]],
        [m[8], m[7]],
        [m[9], m[6]],
        [m[8], m[7]],
        [m[6]],
        [m[8], m[7]],
    ]
    monkeypatch.setattr(inbox, "MANY_REPORTS", 1)  # every scope counts as a large one
    assert await due_pages(world) == expected


def _plan_of_page(
    conn: Any,
    scope: Any,
    query: InboxQuery,
    soon_until: date,
    *,
    received_window: tuple[datetime | None, datetime | None] = (None, None),
    picks: Callable[[str], bool] | None = None,
) -> str:
    """SQLite's plan for the statement of `inbox.page_ids` that `picks` (by default the page's
    own SELECT of ids)."""
    from sqlalchemy import event

    from lapor.store import inbox

    seen: list[tuple[str, Any]] = []
    chosen = picks or (lambda sql: sql.lstrip().startswith("SELECT reports.id") and "LIMIT" in sql)

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if chosen(statement):
            seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        inbox.page_ids(
            conn,
            scope,
            query,
            today=TODAY,
            soon_until=soon_until,
            received_window=received_window,
            limit=3,
        )
    finally:
        event.remove(conn, "before_cursor_execute", record)
    [(statement, parameters)] = seen
    return " ".join(
        r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    )


# Without statistics SQLite took the due range for the narrow condition: it read every report
# due in it through ix_reports_due_on_id and sorted them all (store.inbox.page_ids).
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_sqlite_walks_the_newest_reports_for_a_due_filter(
    world: World, monkeypatch: Any
) -> None:
    from lapor.store import inbox

    await world.user("petugas@rsud.go.id", "officer", "rsud")
    for i in range(3):
        await submit(world, f"m{i}", verify_due=TODAY + timedelta(days=i - 1))
    monkeypatch.setattr(inbox, "MANY_REPORTS", 2)  # the province's three count as many
    soon = TODAY + timedelta(days=3)
    for due in (Due.SOON, Due.OVERDUE):
        plan = await world.store.db.read(
            partial(
                _plan_of_page,
                scope=world.subtree("prov"),
                query=InboxQuery(due=due),
                soon_until=soon,
            )
        )
        assert "ix_reports_due_on_id" not in plan and "TEMP B-TREE" not in plan, plan
    # In deadline order the due_on index is the page's order, and stays in use.
    plan = await world.store.db.read(
        lambda conn: _plan_of_page(
            conn, world.subtree("prov"), InboxQuery(due=Due.SOON, sort=Sort.DEADLINE), soon
        )
    )
    assert "due_on" in plan and "TEMP B-TREE" not in plan, plan
    # An officer's reports due soon: their own index holds both conditions.
    plan = await world.store.db.read(
        lambda conn: _plan_of_page(
            conn, world.scope("petugas@rsud.go.id"), InboxQuery(due=Due.SOON), soon
        )
    )
    assert "ix_reports_forwarded_unit_id_due_on_id" in plan, plan


async def test_arrival_order_pages_without_gaps_or_repeats(world: World) -> None:
    made = [await submit(world, f"r{i}") for i in range(7)]
    seen: list[int] = []
    query = InboxQuery()
    while True:
        page = (await world.store.inbox(EVERYTHING, query, today=TODAY, limit=3)).items
        seen += [i.id for i in page]
        if len(page) < 3:
            break
        query = replace(query, after=Cursor(page[-1].id))
    assert seen == sorted(made, reverse=True)


async def test_scope_limits_every_filter(world: World) -> None:
    inside = await submit(world, "in", text="Lampu jalan mati total.")
    await submit(world, "out", unit="other", text="Lampu jalan mati juga di sini.")
    query, _ = read_inbox_query({"q": "lampu"})
    assert await ids(world, query, scope=world.subtree("prov")) == [inside]
    assert len(await ids(world, query)) == 2
    await world.user("petugas@rsud.go.id", "officer", "rsud")
    officer = world.scope("petugas@rsud.go.id")
    assert await ids(world, query, scope=officer) == []
    await forward(world, inside)
    assert await ids(world, query, scope=officer) == [inside]


def test_query_string_errors_name_the_parameter() -> None:
    query, errors = read_inbox_query(
        {
            "status": ["masuk", "nope"],
            "kind": "x",
            "within": "0",
            "from": "2026-13-01",
            "q": "!",
            "after": "abc",
            "sort": "random",
            "category": "Kesehatan",
            "tag": "a,b",
            "assigned": "everyone",
        }
    )
    assert query == InboxQuery(statuses=(Status.RECEIVED,))
    assert sorted(errors) == [
        "after",
        "assigned",
        "category",
        "from",
        "kind",
        "q",
        "sort",
        "status",
        "tag",
        "within",
    ]
    query, errors = read_inbox_query({"from": "2026-11-20", "to": "2026-11-01"})
    assert errors == ["to"] and query.received_to is None


def test_query_round_trips_through_its_own_link() -> None:
    from urllib.parse import parse_qs, urlencode

    query = InboxQuery(
        statuses=(Status.RECEIVED, Status.FORWARDED),
        kind=Kind.INFORMATION,
        channel=Channel.STAFF,
        unit_id=9,
        due=Due.SOON,
        within_days=5,
        received_from=date(2026, 1, 1),
        received_to=date(2026, 2, 1),
        text="Jalan Rusak",
        words=("jalan", "rusak"),
        sort=Sort.DEADLINE,
        category="infrastruktur",
        tag="jalan rusak",
        assigned=Assigned.ME,
    )
    cursor = Cursor(41, date(2026, 11, 30))
    again, errors = read_inbox_query(parse_qs(urlencode(query.params(after=cursor))))
    assert errors == [] and again == replace(query, after=cursor)


async def test_a_received_window_pages_newest_first_without_gaps_or_repeats(world: World) -> None:
    wita = __import__("zoneinfo").ZoneInfo("Asia/Makassar")
    from lapor.complaints.inbox import Order, received_window

    # Ids out of step with received_at (a kiosk's queue sent late), and three reports received
    # at the same moment: the order is received_at, then id.
    moments = [
        datetime(2026, 11, 10, 2, tzinfo=UTC) + timedelta(hours=h) for h in (5, 1, 3, 3, 3, 9, 0)
    ]
    made = [await submit(world, f"w{i}", received_at=m) for i, m in enumerate(moments)]
    outside = await submit(world, "late", received_at=datetime(2026, 11, 12, 2, tzinfo=UTC))
    query = InboxQuery(received_from=date(2026, 11, 10), received_to=date(2026, 11, 10))
    assert query.order is Order.RECEIVED
    window = received_window(query, wita)
    expected = [i for _, i in sorted(zip(moments, made, strict=True), reverse=True)]
    seen: list[int] = []
    page_query = query
    while True:
        page = (
            await world.store.inbox(
                EVERYTHING, page_query, today=TODAY, limit=2, received_window=window
            )
        ).items
        seen += [i.id for i in page]
        if len(page) < 2:
            break
        cursor = next_cursor(page[-1], query)
        # The link carries the cursor and reads it back as it was.
        again, errors = read_inbox_query({k: [v] for k, v in query.params(after=cursor)})
        assert errors == [] and again.after == cursor
        page_query = replace(query, after=cursor)
    assert seen == expected and outside not in seen


async def test_a_common_word_is_searched_a_stretch_at_a_time(
    world: World, monkeypatch: Any
) -> None:
    from lapor.store import inbox

    # Every word counts as common and a request looks at 3 ids: the million-report case in
    # miniature. Matches are 1 in 2 reports, some in another unit (out of scope).
    monkeypatch.setattr(inbox, "RARE_MATCHES", 0)
    monkeypatch.setattr(inbox, "SEARCH_WINDOW", 3)
    made = []
    for i in range(12):
        text = "Lampu jalan mati lagi." if i % 2 else "Antrean panjang sekali di loket."
        made.append(
            (await submit(world, f"s{i}", text=text, unit="other" if i % 4 == 3 else "dinas"), i)
        )
    expected = [r for r, i in sorted(made, reverse=True) if i % 2 and i % 4 != 3]
    query, _ = read_inbox_query({"q": "lampu"})
    scope = world.subtree("prov")
    seen: list[int] = []
    stops = 0
    while True:
        page = await world.store.inbox(scope, query, today=TODAY, limit=2)
        seen += [i.id for i in page.items]
        if len(page.items) == 2:
            query = replace(query, after=next_cursor(page.items[-1], query))
        elif page.rest is not None:
            stops += 1
            query = replace(query, after=page.rest)
        else:
            break
    assert seen == expected
    assert stops >= 2  # it did stop short and go on
    # Rare words are searched whole, in one request, however many reports there are.
    monkeypatch.setattr(inbox, "RARE_MATCHES", 1000)
    query, _ = read_inbox_query({"q": "lampu"})
    page = await world.store.inbox(scope, query, today=TODAY, limit=50)
    assert [i.id for i in page.items] == expected and page.rest is None


def test_cursors_are_read_for_the_order_they_continue() -> None:
    from lapor.complaints.inbox import Order

    dated = {"from": "2026-01-01"}
    moment = datetime(2026, 1, 5, 3, 4, 5, 60, tzinfo=UTC)
    query, errors = read_inbox_query({**dated, "after": "2026-01-05T03:04:05.000060Z.17"})
    assert errors == [] and query.order is Order.RECEIVED
    assert query.after == Cursor(17, received_at=moment)
    assert Cursor(17, received_at=moment).encode() == "2026-01-05T03:04:05.000060Z.17"
    for bad in (
        "17",
        "2026-01-05.17",
        "2026-01-05T03:04:05Z.17",
        "2026-02-30T03:04:05.000000Z.1",
        "2026-01-05T03:04:05.000060+00:00.17",
        "2026-01-05T03:04:05.000060Z.",
        "2026-01-05T03:04:05.000060Z.x",
        "2026-01-05T03:04:05.000060Z.-1",
        "２０２６-01-05T03:04:05.000060Z.17",
    ):
        query, errors = read_inbox_query({**dated, "after": bad})
        assert errors == ["after"] and query.after is None, bad
    # A search keeps the id order even within dates; the deadline order its own cursor.
    query, errors = read_inbox_query({**dated, "q": "jalan", "after": "17"})
    assert errors == [] and query.order is Order.ID and query.after == Cursor(17)
    query, errors = read_inbox_query({**dated, "sort": "deadline", "after": "2026-01-09.4"})
    assert errors == [] and query.after == Cursor(4, due_on=date(2026, 1, 9))
    query, errors = read_inbox_query(
        {"sort": "deadline", "after": "2026-01-05T03:04:05.000060Z.17"}
    )
    assert errors == ["after"]


async def test_category_tag_and_assignment_filters(world: World) -> None:
    from lapor.complaints.access import scope_of

    store = world.store
    coordinator = world.users["koor@prov.go.id"]
    road, lamp, other = (
        await submit(world, "road"),
        await submit(world, "lamp"),
        await submit(world, "other"),
    )
    for report_id, tags in ((road, ("jalan rusak", "aspal")), (lamp, ("lampu",))):
        await store.forward_report(
            report_id,
            seen_version=1,
            actor=coordinator,
            scope=world.subtree("prov"),
            forwarding=Forwarding("Judul", None, world.units["rsud"].id, "infrastruktur", tags),
            follow_up_due=date(2026, 11, 30),
        )
    assert await ids(world, InboxQuery(category="infrastruktur")) == [lamp, road]
    assert await ids(world, InboxQuery(tag="jalan rusak")) == [road]
    assert await ids(world, InboxQuery(tag="jalan")) == []  # a whole tag, never a part
    assert await ids(world, InboxQuery(tag="%")) == []  # LIKE's wildcards mean themselves
    prov = world.units["prov"]
    mine = scope_of("coordinator", prov.id, prov.path, coordinator.id)
    await store.assign_report(
        other, seen_version=1, actor=coordinator, scope=mine, assignee_id=coordinator.id
    )
    assert await ids(world, InboxQuery(assigned=Assigned.ME), scope=mine) == [other]
    assert await ids(world, InboxQuery(assigned=Assigned.NOBODY), scope=mine) == [lamp, road]


def test_key_words_are_the_long_uncommon_ones() -> None:
    from lapor.complaints import search

    words = search.key_words(
        "Saya sudah menunggu di loket PERIZINAN sejak pagi, antrean "
        "tidak bergerak dan petugas perizinan tidak ada."
    )
    assert words == ("menunggu", "perizinan", "antrean", "bergerak")
    assert search.key_words("yang dan di ke") == ()


async def test_similar_open_reports_of_the_same_unit(world: World) -> None:
    store = world.store
    first = await submit(world, "a", text="Lampu penerangan jalan di simpang pasar mati total.")
    same = await submit(world, "b", text="Lampu penerangan di simpang pasar mati lagi malam ini.")
    one_word = await submit(world, "c", text="Penerangan ruang tunggu terlalu redup.")
    await submit(world, "d", unit="rsud", text="Lampu penerangan di simpang pasar IGD mati.")
    closed = await submit(world, "e", text="Lampu penerangan simpang pasar mati, sudah diurus.")
    await store.decide(
        closed,
        seen_version=1,
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        action=Action.ARCHIVE,
        reason="Sudah ditangani bersama laporan lain.",
        duplicate_of=None,
    )
    report = await store.report_for_staff(first, EVERYTHING)
    assert report is not None
    found = [i.id for i in await store.similar_reports(report, EVERYTHING)]
    # Same unit, still open, at least two words in common; not itself.
    assert found == [same]
    assert one_word not in found
    other_region = await store.similar_reports(report, world.scope("koor@other.go.id"))
    assert other_region == []
