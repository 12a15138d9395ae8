"""Leases on work one process does at a time: taken by one holder, kept while renewed, taken
over once they run out, given up on release."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from lapor.store.store import Store

LONG = timedelta(minutes=5)


async def test_one_holder_at_a_time_until_the_lease_runs_out(store: Store) -> None:
    held = await store.take_lease("workflow", "a" * 32, LONG)
    assert held is not None and held.ran_at is None
    assert await store.take_lease("workflow", "b" * 32, LONG) is None
    assert await store.take_lease("workflow", "a" * 32, LONG) is not None  # the holder keeps it
    assert await store.renew_lease("workflow", "a" * 32, LONG)
    # A holder that stopped renewing: once its lease is over, another takes it, and the late
    # holder can neither renew it nor record a round.
    assert await store.take_lease("workflow", "c" * 32, LONG) is None
    assert await store.renew_lease("workflow", "a" * 32, timedelta(seconds=-1))
    taken = await store.take_lease("workflow", "b" * 32, LONG)
    assert taken is not None
    assert not await store.renew_lease("workflow", "a" * 32, LONG)
    assert not await store.lease_ran("workflow", "a" * 32, taken.until)


async def test_two_processes_asking_at_once_get_one_lease(store: Store) -> None:
    for round_ in range(5):
        name = f"sweep-{round_}"
        answers = await asyncio.gather(
            *(store.take_lease(name, str(i) * 32, LONG) for i in range(4))
        )
        assert sum(a is not None for a in answers) == 1


async def test_the_next_holder_knows_when_the_last_round_ran(store: Store) -> None:
    held = await store.take_lease("workflow", "a" * 32, LONG)
    assert held is not None
    assert await store.lease_ran("workflow", "a" * 32, held.until)
    await store.release_lease("workflow", "a" * 32)
    # Released: the next holder need not wait the lease out, and sees the round.
    taken = await store.take_lease("workflow", "b" * 32, LONG)
    assert taken is not None and taken.ran_at == held.until
    await store.release_lease("workflow", "a" * 32)  # not the holder's any more: no effect
    assert await store.take_lease("workflow", "c" * 32, LONG) is None
