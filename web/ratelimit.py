"""Rate limits through `limits`: per-process memory by default, Redis when several workers or
machines must share the counts. Limits protect the service; if Redis is unreachable we let
citizens through rather than refuse every report in the province."""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)


class RateLimits:
    def __init__(self, redis_url: str = "") -> None:
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage = storage_from_string(uri, implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        if not isinstance(storage, AsyncStorage):
            raise TypeError("limits returned a synchronous storage")
        self._storage = storage
        # A sliding-window counter costs O(1) per hit; the moving window's memory storage sweeps
        # every live key, which bench/ saw growing with the number of open forms.
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def _items(self, rule: str) -> list[RateLimitItem]:
        items = self._parsed.get(rule)
        if items is None:
            items = self._parsed[rule] = parse_many(rule)
        return items

    async def hit(self, rule: str, *key: str) -> bool:
        """Count one event; False when any window of the rule is already full."""
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
        try:
            for item in self._items(rule):
                await self._limiter.clear(item, *key)
        except Exception:
            log.exception("rate limit storage failed; the count stays")

    async def retry_after(self, rule: str, *key: str) -> int:
        """Whole seconds until one more event would fit every window of the rule (at least 1),
        for a Retry-After; a minute when the limit store cannot say."""
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
        await self._storage.reset()

    async def close(self) -> None:
        """Close the Redis connections; `limits` offers no close of its own."""
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing a broken connection must not fail a shutdown
                log.debug("closing the rate limit storage failed", exc_info=True)
