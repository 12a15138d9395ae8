"""Leases: background work held by one process is kept by it while it runs, and taken over by
another process once the holder is gone (killed, its machine lost).

Every claim (an outbox row, an export job, a WhatsApp batch, the workflow timer's lease) lasts
LAPOR_JOB_LEASE_SECONDS and is renewed by a heartbeat every third of that while its work runs,
so a slow SMTP conversation keeps its claim however long it takes, and a claim whose holder
died runs out within one lease. The heartbeat runs on the event loop beside the work (which
waits on a thread or the network), so it stops only when the process does, or its loop is
stuck, and then the work should move."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from lapor.store.store import Store, now

log = logging.getLogger(__name__)

Renew = Callable[[], Awaitable[bool]]


def beat(lease: timedelta) -> float:
    """Seconds between renewals: three chances to renew before the lease runs out."""
    return lease.total_seconds() / 3


@contextlib.asynccontextmanager
async def renewing(renew: Renew, lease: timedelta, what: str) -> AsyncIterator[None]:
    """Renew a claim every third of its lease while the body runs. A renewal that fails (the
    database away for a moment) is tried again at the next beat; one that finds the claim
    gone (it ran out and another process took the work over) stops renewing: the holder's
    outcome will be refused by its claim token, and the new holder's wins."""

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(beat(lease))
            try:
                held = await renew()
            except Exception:
                log.exception("renewing the claim on %s failed; trying again", what)
                continue
            if not held:
                log.warning("the claim on %s was taken over by another process", what)
                return

    task = asyncio.create_task(heartbeat(), name=f"heartbeat {what}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


Round = Callable[[datetime], Awaitable[None]]


class LeasedTimer:
    """A round of work every `every` that runs on one process of all those sharing the
    database: the one holding the lease `name` (store/leases.py). Every process asks for the
    lease every third of its length; the holder keeps it, and runs the round when the last
    one (by whichever holder) began `every` ago. When the holder dies its lease runs out, the
    next process to ask takes it over, and a round that is due runs there: within one lease
    and one beat of the death."""

    def __init__(
        self, store: Store, name: str, every: timedelta, lease: timedelta, work: Round
    ) -> None:
        self.store = store
        self.name = name
        self.every = every
        self.lease = lease
        self.work = work
        self.holder = secrets.token_hex(16)
        self.rounds = 0  # rounds this process ran, for tests and logs

    async def step(self) -> bool:
        """Take or keep the lease and run the round if it is due; whether it ran here."""
        held = await self.store.take_lease(self.name, self.holder, self.lease)
        if held is None:
            return False
        moment = now()
        if held.ran_at is not None and held.ran_at + self.every > moment:
            return False
        # Recorded before the round: a round that fails is not retried at every beat, but at
        # the next tick, as on one machine. A holder dying mid-round leaves its work to the
        # next round, which every round here is written to survive (each is idempotent).
        if not await self.store.lease_ran(self.name, self.holder, moment):
            return False
        renew = lambda: self.store.renew_lease(self.name, self.holder, self.lease)  # noqa: E731
        async with renewing(renew, self.lease, self.name):
            self.rounds += 1
            await self.work(moment)
        return True

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.step()
                except Exception:
                    log.exception("%s round failed; retrying", self.name)
                await asyncio.sleep(beat(self.lease))
        finally:
            # A process stopping gives the lease up, so the next holder need not wait it out.
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.release_lease(self.name, self.holder))
