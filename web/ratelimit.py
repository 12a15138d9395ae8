"""Rate limits: per-process memory by default, Redis (through `limits`) when several workers or
machines must share the counts. Limits protect the service; if Redis is unreachable we let
citizens through rather than refuse every report in the province.

Both count the same way, `limits`' sliding window counter: the count of the current fixed
window plus the previous window's, weighted by how much of it still overlaps the sliding one."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)


class RateLimits:
    def __init__(self, redis_url: str = "") -> None:
        self._parsed: dict[str, list[RateLimitItem]] = {}
        self._memory: WindowCounters | None = None
        self._storage: AsyncStorage | None = None
        if not redis_url:
            self._memory = WindowCounters()
            return
        uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
        storage = storage_from_string(uri, implementation="redispy")
        if not isinstance(storage, AsyncStorage):
            raise TypeError("limits returned a synchronous storage")
        self._storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def _items(self, rule: str) -> list[RateLimitItem]:
        items = self._parsed.get(rule)
        if items is None:
            items = self._parsed[rule] = parse_many(rule)
        return items

    async def hit(self, rule: str, *key: str) -> bool:
        """Count one event; False when any window of the rule is already full."""
        if self._memory is not None:
            allowed = True
            for item in self._items(rule):
                if not self._memory.hit(item, key):
                    allowed = False
            return allowed
        try:
            allowed = True
            for item in self._items(rule):
                if not await self._limiter.hit(item, *key):
                    allowed = False
            return allowed
        except Exception:  # a limit store outage must not become a denial of service
            log.exception("rate limit storage failed; allowing the request")
            return True

    async def allows(self, rule: str, *key: str) -> bool:
        """Whether one more event would fit, without counting it (login: only failures count)."""
        if self._memory is not None:
            return all(self._memory.fits(item, key) for item in self._items(rule))
        try:
            for item in self._items(rule):
                if not await self._limiter.test(item, *key):
                    return False
            return True
        except Exception:
            log.exception("rate limit storage failed; allowing the request")
            return True

    async def clear(self, rule: str, *key: str) -> None:
        """Forget the events counted under `key` (a staff member who signed in is no guesser)."""
        if self._memory is not None:
            for item in self._items(rule):
                self._memory.clear(item, key)
            return
        try:
            for item in self._items(rule):
                await self._limiter.clear(item, *key)
        except Exception:
            log.exception("rate limit storage failed; the count stays")

    async def retry_after(self, rule: str, *key: str) -> int:
        """Whole seconds until one more event would fit every window of the rule (at least 1),
        for a Retry-After; a minute when the limit store cannot say."""
        if self._memory is not None:
            wait = max((self._memory.wait(item, key) for item in self._items(rule)), default=0)
            return max(1, math.ceil(wait))
        try:
            wait = 0.0
            for item in self._items(rule):
                stats = await self._limiter.get_window_stats(item, *key)
                if stats.remaining <= 0:
                    wait = max(wait, stats.reset_time - time.time())
            return max(1, math.ceil(wait))
        except Exception:
            log.exception("rate limit storage failed; suggesting a minute")
            return 60

    async def reset(self) -> None:
        if self._memory is not None:
            self._memory.reset()
        elif self._storage is not None:
            await self._storage.reset()

    async def close(self) -> None:
        """Close the Redis connections; `limits` offers no close of its own."""
        if self._storage is None:
            return
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing a broken connection must not fail a shutdown
                log.debug("closing the rate limit storage failed", exc_info=True)


class WindowCounters:
    """The sliding window counter of `limits`, in this process's memory, at a constant cost.

    `limits`' own memory storage sweeps every key it holds whenever an event comes in; with a
    key per form served (a submission's per-form limit) that sweep was up to 9 % of a submission's
    CPU on SQLite and 17 % on PostgreSQL, growing with the forms open (bench/load.py
    --profile). Here the counts of one fixed window of one length live in one dict, and a
    window's dict is dropped whole once it is older than the previous window: nothing is ever
    swept key by key. Everything runs on the event loop, between awaits, so no lock is needed
    and a hit cannot race another."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        # (window length in seconds, window number) -> counts by key.
        self._windows: dict[tuple[int, int], dict[str, int]] = {}
        # The newest window number seen for each length: older windows than the one before
        # it can be dropped.
        self._newest: dict[int, int] = {}

    def hit(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> bool:
        """Count one event unless the sliding window is full (then count nothing)."""
        now = self._clock()
        key = item.key_for(*identifiers)
        expiry = item.get_expiry()
        current = self._current(expiry, now)
        weighted = self._weighted(key, expiry, now, current)
        if math.floor(weighted) + 1 > item.amount:
            return False
        current[key] = current.get(key, 0) + 1
        return True

    def fits(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> bool:
        now = self._clock()
        expiry = item.get_expiry()
        key = item.key_for(*identifiers)
        return self._weighted(key, expiry, now, self._current(expiry, now)) < item.amount

    def wait(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> float:
        """Seconds until one more event fits the sliding window (0 when one fits now), as
        `limits`' window stats put it: when the previous window has weighed one event less,
        or the current window ends, whichever comes first."""
        now = self._clock()
        expiry = item.get_expiry()
        key = item.key_for(*identifiers)
        current = self._current(expiry, now)
        if math.floor(self._weighted(key, expiry, now, current)) < item.amount:
            return 0.0
        previous_count = self._previous(expiry, now).get(key, 0)
        current_count = current.get(key, 0)
        soonest = math.inf
        if previous_count:
            soonest = self._previous_weight(expiry, now) % (expiry / previous_count)
        if current_count:
            soonest = min(soonest, ((1 - (now / expiry) % 1) * expiry + expiry) % expiry)
        return 0.0 if soonest == math.inf else soonest

    def clear(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> None:
        now = self._clock()
        expiry = item.get_expiry()
        key = item.key_for(*identifiers)
        self._current(expiry, now).pop(key, None)
        self._previous(expiry, now).pop(key, None)

    def reset(self) -> None:
        self._windows.clear()
        self._newest.clear()

    def __len__(self) -> int:
        """How many counts are held: the keys of the current and the previous windows."""
        return sum(len(counts) for counts in self._windows.values())

    def _current(self, expiry: int, now: float) -> dict[str, int]:
        number = int(now / expiry)
        counts = self._windows.get((expiry, number))
        if counts is None:
            counts = self._windows[(expiry, number)] = {}
            newest = self._newest.get(expiry)
            if newest is None or number > newest:
                self._newest[expiry] = number
                # Only this window and the one before it are ever read again.
                for old in [k for k in self._windows if k[0] == expiry and k[1] < number - 1]:
                    del self._windows[old]
        return counts

    def _previous(self, expiry: int, now: float) -> dict[str, int]:
        return self._windows.get((expiry, int(now / expiry) - 1), {})

    @staticmethod
    def _previous_weight(expiry: int, now: float) -> float:
        """Seconds of the previous window still inside the sliding one."""
        return (1 - (((now - expiry) / expiry) % 1)) * expiry

    def _weighted(self, key: str, expiry: int, now: float, current: dict[str, int]) -> float:
        previous_count = self._previous(expiry, now).get(key, 0)
        weighted = float(current.get(key, 0))
        if previous_count:
            weighted += previous_count * self._previous_weight(expiry, now) / expiry
        return weighted
