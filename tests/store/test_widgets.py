"""Widgets in the store, on both backends; reports sent through one remember it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lapor.complaints.reports import Channel
from lapor.store.errors import InUse, NotFound, StoreError
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import EVERYTHING, TEST_KEY, World
from tests.store.test_store import new_report


@pytest.fixture
async def world(store: Store) -> World:
    return await World(store, Signing([TEST_KEY])).standard()


async def test_add_list_and_revoke_a_widget(world: World) -> None:
    store = world.store
    dinas = world.units["dinas"]
    widget = await store.add_widget(dinas.id, ["https://dinkes.go.id", "http://localhost:8080"])
    assert widget.origins == ("https://dinkes.go.id", "http://localhost:8080")
    assert (widget.version, widget.active, widget.unit_slug) == (1, True, "dinas")
    other = await store.add_widget(world.units["rsud"].id, ["https://rsud.go.id"])
    assert [w.id for w in await store.list_widgets()] == [widget.id, other.id]
    assert [w.id for w in await store.list_widgets(dinas.id)] == [widget.id]
    assert await store.widget_for_frame(widget.id) == widget
    revoked = await store.revoke_widget(widget.id)
    assert not revoked.active and revoked.revoked_at is not None
    # The frame's cache forgets it at once in this process.
    assert not (await store.widget_for_frame(widget.id)).active  # type: ignore[union-attr]
    assert (await store.widget(other.id)).active  # type: ignore[union-attr]
    with pytest.raises(StoreError):
        await store.revoke_widget(widget.id)
    with pytest.raises(NotFound):
        await store.revoke_widget(99999)
    assert await store.widget(99999) is None


async def test_a_widget_needs_a_unit_and_an_origin(world: World) -> None:
    with pytest.raises(NotFound):
        await world.store.add_widget(99999, ["https://dinkes.go.id"])
    with pytest.raises(StoreError):
        await world.store.add_widget(world.units["dinas"].id, [])
    assert await world.store.list_widgets() == []


async def test_a_unit_with_a_widget_cannot_be_deleted(world: World) -> None:
    unit = await world.store.add_unit("empty", "Empty unit")
    await world.store.add_widget(unit.id, ["https://empty.go.id"])
    with pytest.raises(InUse):
        await world.store.delete_unit(unit.id)


async def test_a_widget_report_keeps_its_widget_and_page(world: World) -> None:
    store = world.store
    dinas = world.units["dinas"]
    widget = await store.add_widget(dinas.id, ["https://dinkes.go.id"])
    new = replace(
        new_report(dinas.id, "w1"),
        channel=Channel.WIDGET,
        widget_id=widget.id,
        page_url="https://dinkes.go.id/layanan",
    )
    result = await store.submit_report(new)
    report = await store.report_for_staff(result.report_id, EVERYTHING)
    assert report is not None
    assert (report.channel, report.widget_id, report.page_url, report.poster_id) == (
        Channel.WIDGET,
        widget.id,
        "https://dinkes.go.id/layanan",
        None,
    )
    # Routed like a poster's report: to the province's coordinator.
    assert report.routed_unit_id == world.units["prov"].id


async def test_a_widgets_sites_are_changed_and_its_key_kept(world: World) -> None:
    store = world.store
    widget = await store.add_widget(world.units["dinas"].id, ["https://dinkes.go.id"])
    assert await store.widget_for_frame(widget.id) == widget
    changed = await store.set_widget_origins(
        widget.id, ["https://www.dinkes.go.id", "https://dinkes.go.id"]
    )
    assert changed.origins == ("https://www.dinkes.go.id", "https://dinkes.go.id")
    assert (changed.id, changed.version, changed.active) == (widget.id, 1, True)
    # The frame's cache forgets the old list at once in this process.
    assert await store.widget_for_frame(widget.id) == changed
    with pytest.raises(StoreError):
        await store.set_widget_origins(widget.id, [])
    with pytest.raises(NotFound):
        await store.set_widget_origins(99999, ["https://dinkes.go.id"])
    await store.revoke_widget(widget.id)
    with pytest.raises(StoreError):
        await store.set_widget_origins(widget.id, ["https://other.go.id"])
    kept = await store.widget(widget.id)
    assert kept is not None and kept.origins == changed.origins
