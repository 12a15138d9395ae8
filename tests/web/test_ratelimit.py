from __future__ import annotations

import os
import random
import time
import uuid

import pytest
from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from lapor.web.ratelimit import RateLimits, WindowCounters
from tests.conftest import require_service


async def test_memory_limits_count_per_key() -> None:
    limits = RateLimits()
    assert [await limits.hit("2/day", "a") for _ in range(3)] == [True, True, False]
    assert await limits.hit("2/day", "b")
    assert not await limits.allows("2/day", "a")


async def test_every_window_of_a_rule_applies() -> None:
    limits = RateLimits()
    results = [await limits.hit("100/hour;3/minute", "x") for _ in range(4)]
    assert results == [True, True, True, False]


async def test_retry_after_names_the_full_window() -> None:
    limits = RateLimits()
    assert await limits.retry_after("3/minute;100/day", "x") == 1  # nothing is full yet
    for _ in range(3):
        await limits.hit("3/minute;100/day", "x")
    # The minute is full, the day is not: a wait within the minute, never the day's.
    assert 1 <= await limits.retry_after("3/minute;100/day", "x") <= 60


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("LAPOR_TEST_REDIS_URL")
    if not url:
        require_service("LAPOR_TEST_REDIS_URL is not set (.ci/run sets it)")
    return str(url)


async def test_workers_share_counts_through_redis(redis_url: str) -> None:
    key = uuid.uuid4().hex
    worker_a, worker_b = RateLimits(redis_url), RateLimits(redis_url)
    try:
        assert await worker_a.hit("2/day", key)
        assert await worker_b.hit("2/day", key)
        assert not await worker_a.hit("2/day", key)
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_an_unreachable_redis_lets_citizens_through() -> None:
    limits = RateLimits("redis://127.0.0.1:1/0")
    try:
        assert await limits.hit("1/minute", "k")
        assert await limits.hit("1/minute", "k")
        assert await limits.retry_after("1/minute", "k") == 60
    finally:
        await limits.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.25

    def __call__(self) -> float:
        return self.now


async def test_memory_counts_as_limits_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same events at the same times get the same answers from our counters as from
    `limits`' own memory storage (which Redis's counting matches), Retry-After included."""
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    ours = WindowCounters(clock)
    theirs = SlidingWindowCounterRateLimiter(MemoryStorage())
    rules = [parse_many(rule) for rule in ("3/minute", "5/10 seconds", "2/day;4/hour", "1/second")]
    rng = random.Random(20)
    for _ in range(3000):
        clock.now += rng.choice((0.0, 0.0, 0.3, 1.7, 4.0, 11.0, 59.0, 900.0))
        items = rng.choice(rules)
        key = (rng.choice("ab"),)
        op = rng.choices(("hit", "fits", "wait", "clear"), weights=(8, 2, 2, 1))[0]
        for item in items:
            if op == "hit":
                assert ours.hit(item, key) == await theirs.hit(item, *key)
            elif op == "fits":
                assert ours.fits(item, key) == await theirs.test(item, *key)
            elif op == "clear":
                ours.clear(item, key)
                await theirs.clear(item, *key)
            else:
                stats = await theirs.get_window_stats(item, *key)
                expected = stats.reset_time - clock.now if stats.remaining <= 0 else 0.0
                assert ours.wait(item, key) == pytest.approx(expected, abs=1e-6)


def test_memory_drops_old_windows_whole() -> None:
    """A key per form served must not stay in memory, nor be swept one by one."""
    clock = Clock()
    counters = WindowCounters(clock)
    [item] = parse_many("5/hour")
    for nonce in range(10_000):
        assert counters.hit(item, ("submit-form", str(nonce)))
    assert len(counters) == 10_000
    clock.now += 3600  # the next window: the last one still weighs
    assert counters.hit(item, ("submit-form", "new"))
    assert len(counters) == 10_001
    clock.now += 3600  # two windows on, the first is no longer read
    assert counters.hit(item, ("submit-form", "newer"))
    assert len(counters) == 2
