"""The public list of answered reports as the store reads it, on both backends: which reports,
newest answer first, the inbox's search, pages and the count, and holds."""

from __future__ import annotations

import pytest

from lapor.complaints.publication import ListHold
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, World
from tests.store.test_inbox import forward, submit


@pytest.fixture
async def world(store: Store) -> World:
    world = await World(store, Signing([TEST_KEY])).standard()
    await world.user("petugas@rsud.go.id", "officer", "rsud")
    return world


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
    items, total = await store.answered_reports(query="", page=1, size=10)
    assert total == 2 and [i.text for i in items] == [
        "Saluran drainase tersumbat sampah.",
        "Lampu jalan di gang tiga mati.",
    ]
    assert items[0].answer == "Sudah dibersihkan." and items[0].unit_name == "RSUD Ulin"
    found, count = await store.answered_reports(query="drainase", page=1, size=10)
    assert count == 1 and [i.text for i in found] == ["Saluran drainase tersumbat sampah."]
    second, total = await store.answered_reports(query="", page=2, size=1)
    assert total == 2 and [i.text for i in second] == ["Lampu jalan di gang tiga mati."]

    koor = world.users["koor@prov.go.id"]
    await store.set_list_hold(
        drain, actor=koor, scope=world.subtree("prov"), hold=ListHold.WITHHELD, reason="Alasan"
    )
    items, total = await store.answered_reports(query="", page=1, size=10)
    assert total == 1 and [i.text for i in items] == ["Lampu jalan di gang tiga mati."]
    await store.set_list_hold(lamp, actor=koor, scope=world.subtree("prov"), hold=None)
    await store.set_list_hold(drain, actor=koor, scope=world.subtree("prov"), hold=None)
    assert (await store.answered_reports(query="", page=1, size=10))[1] == 2


async def test_an_answer_with_a_phone_number_waits_for_review(world: World) -> None:
    await answer(world, "a", "Jalan rusak di depan pasar induk.", "Hubungi 0812 3456 7890.")
    assert await world.store.answered_reports(query="", page=1, size=10) == ([], 0)
