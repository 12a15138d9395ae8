"""The caches in front of the store: the look-up caches' clock, SharedCache computing a dear
value once for callers that ask together and serving a stale one while a single background
computation replaces it, and the cache of served photos."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lapor.store import cache
from lapor.store.cache import LOOKUP_CACHE_SECONDS, BytesLru, SharedCache, TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Sums:
    """A dear computation that counts its runs and can be held until released."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.release.set()
        self.fail = False

    async def __call__(self) -> int:
        self.runs += 1
        await self.release.wait()
        if self.fail:
            raise RuntimeError("the database went away")
        return self.runs


async def test_callers_together_wait_for_one_computation(clock: Clock) -> None:
    cache: SharedCache[str, int] = SharedCache(300, clock=clock)
    sums = Sums()
    sums.release.clear()
    waiting = [asyncio.create_task(cache.get("prov", sums)) for _ in range(5)]
    await asyncio.sleep(0)
    sums.release.set()
    assert await asyncio.gather(*waiting) == [1] * 5
    assert sums.runs == 1


async def test_a_stale_value_is_served_while_one_refresh_runs(clock: Clock) -> None:
    cache: SharedCache[str, int] = SharedCache(300, stale_seconds=3600, clock=clock)
    sums = Sums()
    assert await cache.get("prov", sums) == 1
    clock.now += 301
    sums.release.clear()
    # Past five minutes: the kept figures at once, and one computation behind them however
    # many visitors come meanwhile.
    assert [await cache.get("prov", sums) for _ in range(3)] == [1, 1, 1]
    await asyncio.sleep(0)
    assert sums.runs == 2
    sums.release.set()
    for _ in range(3):
        await asyncio.sleep(0)
    assert await cache.get("prov", sums) == 2 and sums.runs == 2


async def test_past_the_stale_window_the_visitor_waits_for_fresh_figures(clock: Clock) -> None:
    cache: SharedCache[str, int] = SharedCache(300, stale_seconds=3600, clock=clock)
    sums = Sums()
    assert await cache.get("prov", sums) == 1
    clock.now += 300 + 3600
    assert await cache.get("prov", sums) == 2


async def test_a_failed_refresh_keeps_the_stale_value(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    cache: SharedCache[str, int] = SharedCache(300, stale_seconds=3600, clock=clock)
    sums = Sums()
    assert await cache.get("prov", sums) == 1
    clock.now += 301
    sums.fail = True
    with caplog.at_level(logging.ERROR, logger="lapor.store.cache"):
        assert await cache.get("prov", sums) == 1
        for _ in range(3):
            await asyncio.sleep(0)
    assert "refreshing" in caplog.text
    sums.fail = False
    assert await cache.get("prov", sums) == 1  # still the kept value, a new refresh behind it
    for _ in range(3):
        await asyncio.sleep(0)
    assert await cache.get("prov", sums) == 3


async def test_without_a_stale_window_an_old_value_is_computed_again(clock: Clock) -> None:
    cache: SharedCache[str, int] = SharedCache(300, clock=clock)
    sums = Sums()
    assert await cache.get("prov", sums) == 1
    clock.now += 301
    assert await cache.get("prov", sums) == 2


async def test_a_look_up_is_read_again_once_older_than_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[int] = []

    async def load() -> int:
        loads.append(len(loads))
        return len(loads)

    kept: TtlCache[str, int] = TtlCache()
    assert await kept.get("poster", load) == 1
    assert await kept.get("poster", load) == 1
    now = cache.clock
    monkeypatch.setattr(cache, "clock", lambda: now() + LOOKUP_CACHE_SECONDS)
    assert await kept.get("poster", load) == 2


def test_served_photos_are_kept_within_their_budget_least_recent_first() -> None:
    served: BytesLru[str, bytes] = BytesLru(budget=10, largest=6)
    served.put("a", b"aaaa", 4)
    served.put("b", b"bbbb", 4)
    assert served.get("a") == b"aaaa"  # now the most recent
    served.put("c", b"cccc", 4)  # 12 bytes: the least recent, b, goes
    assert served.get("b") is None and served.get("a") == b"aaaa" and served.get("c") == b"cccc"
    assert served.used == 8
    served.put("letter", b"x" * 7, 7)  # larger than any entry may be: not kept
    assert served.get("letter") is None and served.used == 8
