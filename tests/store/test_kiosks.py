"""Kiosks in the store on both backends: going over a sending limit is counted on the kiosk's
row, for the admins' list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, World

AT = datetime(2026, 12, 2, 2, 12, tzinfo=UTC)


async def test_going_over_a_limit_is_counted_with_its_last_time(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    kiosk, _ = await store.kiosks.add(world.units["prov"].id, "Lantai 1", AT)
    other, _ = await store.kiosks.add(world.units["prov"].id, "Lantai 2", AT)
    assert (kiosk.limited_count, kiosk.limited_at) == (0, None)
    await store.kiosks.note_limited(kiosk.id, AT)
    await store.kiosks.note_limited(kiosk.id, AT + timedelta(minutes=5))
    marked = await store.kiosks.get(kiosk.id)
    assert marked is not None
    assert (marked.limited_count, marked.limited_at) == (2, AT + timedelta(minutes=5))
    untouched = await store.kiosks.get(other.id)
    assert untouched is not None and untouched.limited_count == 0
