"""The public list of answered reports as the store reads it, on both backends: which reports,
newest answer first, the inbox's search, pages and the count, and holds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from lapor.complaints.publication import ANSWERED, ListHold
from lapor.complaints.reports import Identity
from lapor.store import publication, schema
from lapor.store.publication import PublicAnswer, Total
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, World
from tests.store.test_inbox import forward, submit


@pytest.fixture
async def world(store: Store) -> World:
    world = await World(store, Signing([TEST_KEY])).standard()
    await world.user("petugas@rsud.go.id", "officer", "rsud")
    return world


async def listed(
    store: Store, query: str = "", page: int = 1, size: int = 10
) -> tuple[list[PublicAnswer], Total]:
    items = await store.answered_reports(query=query, page=page, size=size)
    return items, await store.answered_total(query=query)


async def answer(world: World, key: str, text: str, answer: str) -> int:
    report_id = await submit(world, key, text=text)
    await forward(world, report_id, title=text[:20])
    await world.store.follow_up_report(
        report_id,
        seen_version=2,
        actor=world.users["petugas@rsud.go.id"],
        scope=world.scope("petugas@rsud.go.id"),
        answer=answer,
    )
    return report_id


async def test_the_list_its_search_pages_and_holds(world: World) -> None:
    store = world.store
    lamp = await answer(world, "a", "Lampu jalan di gang tiga mati.", "Lampu sudah diganti.")
    drain = await answer(world, "b", "Saluran drainase tersumbat sampah.", "Sudah dibersihkan.")
    await submit(world, "c", text="Belum dijawab sama sekali oleh unit.")
    items, total = await listed(store, "", 1, 10)
    assert total == Total(2) and [i.text for i in items] == [
        "Saluran drainase tersumbat sampah.",
        "Lampu jalan di gang tiga mati.",
    ]
    assert items[0].answer == "Sudah dibersihkan." and items[0].unit_name == "RSUD Ulin"
    found, count = await listed(store, "drainase", 1, 10)
    assert count == Total(1) and [i.text for i in found] == ["Saluran drainase tersumbat sampah."]
    second, total = await listed(store, "", 2, 1)
    assert total == Total(2) and [i.text for i in second] == ["Lampu jalan di gang tiga mati."]

    koor = world.users["koor@prov.go.id"]
    await store.set_list_hold(
        drain, actor=koor, scope=world.subtree("prov"), hold=ListHold.WITHHELD, reason="Alasan"
    )
    items, total = await listed(store, "", 1, 10)
    assert total == Total(1) and [i.text for i in items] == ["Lampu jalan di gang tiga mati."]
    await store.set_list_hold(lamp, actor=koor, scope=world.subtree("prov"), hold=None)
    await store.set_list_hold(drain, actor=koor, scope=world.subtree("prov"), hold=None)
    assert (await listed(store, "", 1, 10))[1] == Total(2)


async def test_an_answer_with_a_phone_number_waits_for_review(world: World) -> None:
    await answer(world, "a", "Jalan rusak di depan pasar induk.", "Hubungi 0812 3456 7890.")
    assert await listed(world.store, "", 1, 10) == ([], Total(0))


async def test_a_search_is_newest_report_first_and_counts_up_to_a_bound(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reports arrive in one order and are answered in the reverse one: the list follows
    # the answers, a search the reports (the search index's own order).
    first = await submit(world, "a", text="Trotoar rusak di depan sekolah dasar.")
    second = await submit(world, "b", text="Trotoar rusak dekat pasar lama.")
    third = await submit(world, "c", text="Trotoar rusak di jembatan kota.")
    officer = world.users["petugas@rsud.go.id"]
    for report_id in (third, second, first):
        await forward(world, report_id, title="Trotoar")
        await world.store.follow_up_report(
            report_id,
            seen_version=2,
            actor=officer,
            scope=world.scope("petugas@rsud.go.id"),
            answer="Sudah diperbaiki.",
        )
    store = world.store
    shown, total = await listed(store, "", 1, 10)
    assert total == Total(3) and [i.text for i in shown] == [
        "Trotoar rusak di depan sekolah dasar.",
        "Trotoar rusak dekat pasar lama.",
        "Trotoar rusak di jembatan kota.",
    ]
    found, count = await listed(store, "trotoar", 1, 10)
    assert [i.text for i in found] == [
        "Trotoar rusak di jembatan kota.",
        "Trotoar rusak dekat pasar lama.",
        "Trotoar rusak di depan sekolah dasar.",
    ]
    assert count == Total(3)

    # Past the bound the count says "more", and pages still go on.
    monkeypatch.setattr(publication, "SEARCH_COUNT", 2)
    page, count = await listed(store, "trotoar", 1, 1)
    assert count == Total(2, more=True) and [i.text for i in page] == [
        "Trotoar rusak di jembatan kota."
    ]
    page, count = await listed(store, "trotoar", 3, 1)
    assert [i.text for i in page] == ["Trotoar rusak di depan sekolah dasar."]
    assert await listed(store, "zzzz", 1, 1) == ([], Total(0))


def test_the_lists_index_names_the_domains_rules() -> None:
    # store/schema.py writes the list's condition as literal SQL (SQLite matches a partial
    # index only by its text): it must say what complaints/publication.py says.
    statuses = ", ".join(repr(s) for s in sorted(s.value for s in ANSWERED))
    for dialect, status in (("sqlite", "+status"), ("postgresql", "status")):
        condition = str(schema.listed(dialect))
        assert condition.startswith(f"{status} IN ({statuses}) AND ")
        assert f"identity != '{Identity.CONFIDENTIAL.value}'" in condition
        for term in ("list_hold IS NULL", "answer_text IS NOT NULL", "followed_up_at IS NOT NULL"):
            assert term in condition


# Without statistics SQLite's planner would take the status index and sort the whole list.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_sqlite_reads_the_list_from_its_own_index(world: World) -> None:
    await answer(world, "a", "Lampu jalan di gang tiga mati.", "Lampu sudah diganti.")

    def plans(conn: Any) -> list[str]:
        seen: list[tuple[str, Any]] = []

        def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
            if "FROM reports" in statement:
                seen.append((statement, parameters))

        event.listen(conn, "before_cursor_execute", record)
        try:
            publication.answered(conn, query="", page=3, size=10)
            publication.total(conn, query="")
        finally:
            event.remove(conn, "before_cursor_execute", record)
        return [
            " ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + q, p).all())
            for q, p in seen
        ]

    page, count = await world.store.db.read(plans)
    assert "USING INDEX ix_reports_listed" in page and "TEMP B-TREE" not in page
    assert "ix_reports_listed" in count
