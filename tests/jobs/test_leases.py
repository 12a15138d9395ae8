"""The lease-held timer: a round runs on one of the processes sharing the database, is kept
by a holder that renews it however long the round takes, and moves to another process within
the lease once its holder dies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from lapor.jobs.leases import LeasedTimer, renewing
from lapor.store import schema as t
from lapor.store.store import Store

LEASE = timedelta(seconds=1)
HOUR = timedelta(hours=1)


def timers(
    store: Store, count: int, work: list[datetime], every: timedelta = HOUR
) -> list[LeasedTimer]:
    """`count` processes' timers over one database, all recording their rounds in `work`."""

    async def round_(moment: datetime) -> None:
        work.append(moment)

    return [LeasedTimer(store, "workflow", every, LEASE, round_) for _ in range(count)]


async def test_a_round_runs_on_one_process_of_several(store: Store) -> None:
    work: list[datetime] = []
    processes = timers(store, 3, work)
    for _ in range(4):
        await asyncio.gather(*(p.step() for p in processes))
    assert len(work) == 1
    assert sorted(p.rounds for p in processes) == [0, 0, 1]


async def test_a_dead_holders_timer_is_taken_over_within_the_lease(store: Store) -> None:
    work: list[datetime] = []
    holder, other = timers(store, 2, work)
    assert await holder.step()
    # An hour on, a round is due; the holder died without a word (no release, no renewal).
    await store.db.write(
        lambda conn: conn.execute(update(t.leases).values(ran_at=datetime.now(UTC) - 2 * HOUR))
    )
    assert not await other.step()  # its lease still runs
    started = asyncio.get_running_loop().time()
    while not await other.step():
        assert asyncio.get_running_loop().time() - started < 2 * LEASE.total_seconds()
        await asyncio.sleep(0.05)
    assert len(work) == 2 and other.rounds == 1
    assert not await holder.step()  # back from the dead, it finds the lease taken


async def test_a_live_holder_keeps_its_lease_through_a_round_longer_than_it(store: Store) -> None:
    work: list[datetime] = []
    other_tried = 0

    async def slow_round(moment: datetime) -> None:
        nonlocal other_tried
        # Three leases long, while the other process asks for the lease every few beats.
        for _ in range(15):
            assert not await other.step()
            other_tried += 1
            await asyncio.sleep(0.2)
        work.append(moment)

    holder = LeasedTimer(store, "workflow", timedelta(0), LEASE, slow_round)
    [other] = timers(store, 1, work, every=timedelta(0))
    assert await holder.step()
    assert other_tried == 15 and len(work) == 1 and other.rounds == 0


async def test_renewing_stops_once_the_claim_is_gone() -> None:
    renewals: list[bool] = []

    async def renew() -> bool:
        renewals.append(len(renewals) < 2)
        return renewals[-1]

    async with renewing(renew, timedelta(seconds=0.3), "a test's claim"):
        await asyncio.sleep(0.8)
    # Renewed twice, then found taken over: no further renewals of a claim that is not ours.
    assert renewals == [True, True, False]


async def test_a_stopping_process_gives_its_lease_up(store: Store) -> None:
    work: list[datetime] = []
    holder, other = timers(store, 2, work)
    running = asyncio.create_task(holder.run())
    while holder.rounds == 0:
        await asyncio.sleep(0.05)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    # The next process takes the lease at once instead of waiting it out (not due: no round).
    assert not await other.step()
    assert await store.take_lease("workflow", other.holder, LEASE) is not None
    assert await store.take_lease("workflow", holder.holder, LEASE) is None
