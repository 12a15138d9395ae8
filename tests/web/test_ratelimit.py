from __future__ import annotations

import os
import uuid

import pytest

from lapor.web.ratelimit import RateLimits
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
