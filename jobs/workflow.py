"""Scheduled work of the workspace: the automatic moves of the SP4N-LAPOR! rules.

Each function takes the moment to act as an argument, so tests drive the calendar instead of
waiting for it; the server runs them on a timer that one process holds across machines
(`timer`, started by server.py)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from functools import partial

from lapor.complaints.deadlines import close_due, local_date
from lapor.complaints.workflow import WorkflowError
from lapor.jobs.leases import LeasedTimer
from lapor.settings import Settings
from lapor.store.store import Store
from lapor.web import logs

log = logging.getLogger(__name__)

TICK_SECONDS = 900


async def close_silent_reports(store: Store, settings: Settings, moment: datetime) -> int:
    """Close reports whose reporter did not respond within the close-after period (10 working
    days by default) after the unit's answer. Returns how many were closed."""
    rules = settings.deadline_rules
    today = local_date(moment, settings.timezone)
    # N working days span at least N calendar days: anything answered more recently than that
    # cannot be due, and the exact working-day check runs only on the rest.
    cutoff = moment - timedelta(days=rules.close_after_days)
    closed = 0
    for report_id, version, answered_at in await store.answered_before(cutoff):
        if close_due(answered_at, settings.calendar, rules, settings.timezone) > today:
            continue
        try:
            await store.auto_close(report_id, seen_version=version)
        except WorkflowError:
            continue  # the reporter replied or accepted in the meantime: they win
        closed += 1
    return closed


REMINDERS_PER_ROUND = 500


async def queue_reminders(store: Store, settings: Settings, moment: datetime) -> int:
    """Queue the reminders due at `moment`: deadlines within the reminder period, deadlines
    missed lately, reports past the Ombudsman flag. Returns how many were queued; a busy day
    beyond REMINDERS_PER_ROUND continues in the next round."""
    today = local_date(moment, settings.timezone)
    flag_days = settings.deadline_rules.escalate_after_calendar_days
    return await store.queue_reminders(
        today=today,
        soon_until=settings.calendar.add_working_days(today, settings.remind_before_days),
        flag_received_before=moment - timedelta(days=flag_days),
        limit=REMINDERS_PER_ROUND,
    )


async def run_round(store: Store, settings: Settings, moment: datetime) -> None:
    """One round of the timer: every step is safe to repeat, so a round a dead holder left
    half done is simply run again by the next."""
    started = time.monotonic()
    closed = await close_silent_reports(store, settings, moment)
    reminded = await queue_reminders(store, settings, moment)
    # Kiosk codes never used, long after they expired: no queued report can carry them any
    # more, so their status pages stop saying "waiting for the kiosk".
    released = await store.kiosks.sweep_codes(moment)
    logs.job_run(
        "workflow", started, closed=closed, reminders=reminded, kiosk_codes_released=released
    )


def timer(store: Store, settings: Settings) -> LeasedTimer:
    """The workflow timer, run by one process of all those sharing the database (the lease's
    holder), every TICK_SECONDS across them all. Its rounds would be right on several at once
    (a reminder is queued once by the reminders table's key, a closing checks the report's
    version), but each would repeat the others' queries."""
    return LeasedTimer(
        store,
        "workflow",
        every=timedelta(seconds=TICK_SECONDS),
        lease=settings.job_lease,
        work=partial(run_round, store, settings),
    )
