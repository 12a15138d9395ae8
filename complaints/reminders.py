"""Reminders of the SP4N-LAPOR! clocks: who is told, and when, before and after a deadline.

The periodic task (jobs/workflow.py) asks the store for reports due for each reminder; the
store records every reminder it queues, so each one goes out once per deadline."""

from __future__ import annotations

from enum import StrEnum

from lapor.complaints.reports import Status


class Reminder(StrEnum):
    DUE_SOON = "due_soon"  # the running deadline is close: the people who must act
    OVERDUE = "overdue"  # the running deadline passed: the coordinator (and the unit)
    OMBUDSMAN = "ombudsman"  # unresolved after the escalation period: the coordinator


class Audience(StrEnum):
    COORDINATORS = "coordinators"  # of the unit the report is routed to
    UNIT = "unit"  # the person it is assigned to, else the officers of the unit holding it


# The deadlines that run while a report waits for staff (see reports.due_on).
RUNNING = frozenset({Status.RECEIVED, Status.FORWARDED})
# Not resolved for the Ombudsman's count: still waiting for staff or for the reporter's word.
UNRESOLVED = frozenset({Status.RECEIVED, Status.POSTPONED, Status.FORWARDED, Status.FOLLOWED_UP})
# A deadline missed longer ago than this (say, while the server was down for a week, or
# before reminders existed) is not announced any more: the inbox's overdue filter shows it.
OVERDUE_WINDOW_DAYS = 5
ESCALATION_WINDOW_DAYS = 30


def audience(reminder: Reminder, status: Status) -> tuple[Audience, ...]:
    if reminder is Reminder.DUE_SOON:
        return (Audience.UNIT,) if status is Status.FORWARDED else (Audience.COORDINATORS,)
    if reminder is Reminder.OVERDUE and status is Status.FORWARDED:
        return (Audience.COORDINATORS, Audience.UNIT)
    return (Audience.COORDINATORS,)
