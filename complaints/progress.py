"""Which deadline of a report is running, or how it was met: what the citizen's page and the
staff's report page show instead of a verification deadline that stays after it was kept.

The report's events say when each step happened (every status change is one), so nothing more
needs storing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from lapor.complaints.deadlines import DeadlineRules, WorkingCalendar, close_due, local_date
from lapor.complaints.records import Event, Report
from lapor.complaints.reports import Status


class Step(StrEnum):
    VERIFY = "verify"  # the coordinator must verify by `due`
    WAIT_REPORTER = "wait_reporter"  # the coordinator asked the reporter; nothing runs
    FOLLOW_UP = "follow_up"  # the unit must answer by `due`
    ANSWERED = "answered"  # answered on `on`; closes by itself on `due` without a reply
    CLOSED = "closed"  # closed on `on`
    DECIDED = "decided"  # not our authority or archived, on `on`


@dataclass(frozen=True)
class Progress:
    step: Step
    due: date | None = None
    on: date | None = None  # when the last step happened
    verified_on: date | None = None  # when the report left "received", for staff
    verified_late: bool = False
    # ANSWERED: the working days from the answer to `due`, as the deadline rules say.
    close_after_days: int | None = None


def _last_entry(report: Report, status: Status) -> datetime | None:
    moments = [e.at for e in report.events if e.to_status == status.value]
    return max(moments) if moments else None


def progress(
    report: Report, calendar: WorkingCalendar, rules: DeadlineRules, tz: ZoneInfo
) -> Progress:
    left = [e.at for e in report.events if e.from_status == Status.RECEIVED.value]
    verified_on = local_date(min(left), tz) if left else None
    late = verified_on is not None and verified_on > report.verify_due

    def on(status: Status) -> date | None:
        moment = _last_entry(report, status)
        return local_date(moment, tz) if moment else None

    status = report.status
    if status is Status.RECEIVED:
        return Progress(Step.VERIFY, due=report.verify_due)
    if status is Status.POSTPONED:
        return Progress(
            Step.WAIT_REPORTER, on=on(status), verified_on=verified_on, verified_late=late
        )
    if status is Status.FORWARDED:
        return Progress(
            Step.FOLLOW_UP, due=report.follow_up_due, verified_on=verified_on, verified_late=late
        )
    if status is Status.FOLLOWED_UP:
        answered = _last_entry(report, status)
        closes = close_due(answered, calendar, rules, tz) if answered else None
        return Progress(
            Step.ANSWERED,
            due=closes,
            on=local_date(answered, tz) if answered else None,
            verified_on=verified_on,
            verified_late=late,
            close_after_days=rules.close_after_days,
        )
    if status is Status.CLOSED:
        return Progress(Step.CLOSED, on=on(status), verified_on=verified_on, verified_late=late)
    return Progress(Step.DECIDED, on=on(status), verified_on=verified_on, verified_late=late)


def current_answer(report: Report) -> Event | None:
    """The unit's answer the report stands on: the last follow-up, while the report is
    answered or closed after it. None while a reporter's reply waits for a new answer, or
    when the report was never answered."""
    if report.status not in (Status.FOLLOWED_UP, Status.CLOSED):
        return None
    latest: Event | None = None
    for event in report.events:
        if event.kind == "followed_up":
            latest = event
        elif event.kind == "reporter_reply":
            latest = None
    return latest


def pending_question(report: Report) -> Event | None:
    """What the coordinator asked the reporter, while the report waits for the answer."""
    if report.status is not Status.POSTPONED:
        return None
    asked = [e for e in report.events if e.kind == "postpone"]
    return asked[-1] if asked else None
