"""The look-up caches' clock and the cache of served photos."""

from __future__ import annotations

import pytest

from lapor.store import cache
from lapor.store.cache import LOOKUP_CACHE_SECONDS, BytesLru, TtlCache


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
