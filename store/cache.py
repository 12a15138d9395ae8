"""A short-lived cache for look-ups on the busiest paths (a poster or widget per form view, a
unit's deadlines per submission, the unit list per inbox page).

Each process keeps its own: a change made through this process's store forgets the entry at
once, one made by another process is seen within LOOKUP_CACHE_SECONDS. That delay is also how
long a poster or widget revoked elsewhere may still be served, so it stays short.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

LOOKUP_CACHE_SECONDS = 5.0

logger = logging.getLogger(__name__)


def clock() -> float:
    """The caches' own clock, read at each look-up: a test moves it on to see what another
    machine serves once its entries are older than LOOKUP_CACHE_SECONDS, without waiting."""
    return time.monotonic()


class TtlCache(Generic[K, V]):
    """Values kept for `seconds` each. Past `max_entries` it starts afresh: simpler than
    tracking age, and the entries are cheap to read again."""

    def __init__(self, seconds: float = LOOKUP_CACHE_SECONDS, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The value kept for `key`, else what `load` returns, kept from now on. None is kept
        like any other value: a poster that does not exist is asked about as often."""
        found = self._entries.get(key)
        if found is not None and found[0] > clock():
            return found[1]
        value = await load()
        self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        if len(self._entries) > self.max_entries:
            self._entries.clear()
        self._entries[key] = (clock() + self.seconds, value)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


class SharedCache(Generic[K, V]):
    """Values that are dear to compute (a public page's figures summed over a million
    reports). Callers asking for the same key at once wait for one computation instead of
    each starting their own, so a burst of visitors costs one query. Past `seconds` a value
    is still served, for up to `stale_seconds`, while one computation in the background
    replaces it: only the first visitor after a start (or a long quiet spell) waits for the
    sum, never the visitor who happens to come when the five minutes are up."""

    def __init__(
        self,
        seconds: float,
        max_entries: int = 1_000,
        *,
        stale_seconds: float = 0.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._clock = clock  # None: the module's clock(), as the other caches read
        self.seconds = seconds
        self.stale_seconds = stale_seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}  # computed at (monotonic), value
        self._locks: dict[K, asyncio.Lock] = {}
        self._refreshing: dict[K, asyncio.Task[None]] = {}

    def _now(self) -> float:
        return self._clock() if self._clock is not None else clock()

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        found = self._entries.get(key)
        now = self._now()
        if found is not None:
            age = now - found[0]
            if age < self.seconds:
                return found[1]
            if age < self.seconds + self.stale_seconds:
                if key not in self._refreshing:
                    task = asyncio.create_task(self._refresh(key, load))
                    self._refreshing[key] = task
                return found[1]
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                found = self._entries.get(key)
                if found is not None and self._now() - found[0] < self.seconds:
                    return found[1]
                return await self._load(key, load)
        finally:
            if not lock.locked() and len(self._locks) > self.max_entries:
                self._locks.clear()

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        value = await load()
        if len(self._entries) > self.max_entries:
            self._entries.clear()
        self._entries[key] = (self._now(), value)
        return value

    async def _refresh(self, key: K, load: Callable[[], Awaitable[V]]) -> None:
        # A failed refresh keeps the stale value (a visitor still reads figures); the next
        # visitor after it tries again.
        try:
            async with self._locks.setdefault(key, asyncio.Lock()):
                await self._load(key, load)
        except Exception:
            logger.exception("refreshing a cached page's figures failed")
        finally:
            self._refreshing.pop(key, None)


class BytesLru(Generic[K, V]):
    """Values that never change once made (a kept photo's bytes, its small copy), kept by
    their size up to `budget` bytes, the least recently used going first. Unlike TtlCache it
    needs no expiry: nothing another process does can make an entry wrong."""

    def __init__(self, budget: int, largest: int) -> None:
        self.budget = budget
        self.largest = largest  # bigger values are not kept: a few letters would fill it
        self.used = 0
        self._entries: OrderedDict[K, tuple[int, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: K, value: V, size: int) -> None:
        if size > self.largest or key in self._entries:
            return
        self._entries[key] = (size, value)
        self.used += size
        while self.used > self.budget:
            _, (gone, _) = self._entries.popitem(last=False)
            self.used -= gone
