"""Working-day deadlines in the life of a report (laporan).

SP4N-LAPOR! counts its time limits in working days (hari kerja) of the government: Saturdays,
Sundays, national public holidays (hari libur nasional) and collective leave days (cuti bersama)
do not count. Cuti bersama matter here because government offices, and so the coordinators and
liaison officers who must act on a report, are closed on them.

National days off come from the `holidays` package, which for Indonesia offers two categories:
PUBLIC (hari libur nasional) and GOVERNMENT (cuti bersama for civil servants, set each year by a
joint decree of three ministers, the SKB 3 Menteri). Both are used. Regional holidays and cuti
bersama announced after the installed `holidays` release are declared by the operator as
`extra_holidays` (setting LAPOR_EXTRA_HOLIDAYS, parsed by `parse_extra_holidays`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays
from holidays.constants import GOVERNMENT, PUBLIC

HOLIDAY_CATEGORIES: Final = (PUBLIC, GOVERNMENT)

_ONE_DAY: Final = timedelta(days=1)
_SATURDAY: Final = 5
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@lru_cache(maxsize=128)
def _national_days_off(year: int) -> frozenset[date]:
    # Building a holidays object costs milliseconds (lunar and Islamic calendar conversions);
    # a deadline check runs per report per page view, so each year is built once per process.
    return frozenset(holidays.country_holidays("ID", years=year, categories=HOLIDAY_CATEGORIES))


@lru_cache(maxsize=128)
def _national_weekday_days_off(year: int) -> tuple[date, ...]:
    # Only days off that fall on a weekday remove a working day; sorted for bisection.
    return tuple(sorted(day for day in _national_days_off(year) if day.weekday() < _SATURDAY))


def _weekdays_through(day: date) -> int:
    # Monday to Friday among the ordinals 1..day; ordinal 1 (0001-01-01) is a Monday.
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def _require_date(day: date) -> None:
    # A datetime is a date subclass but never equals a date, so holiday lookups would silently
    # miss; callers must convert to the local date first (see `verification_due`).
    if isinstance(day, datetime):
        raise TypeError(f"expected a date, got a datetime: {day!r}")


@dataclass(frozen=True)
class WorkingCalendar:
    """Government working days: Monday to Friday minus national and operator-declared days off."""

    # Operator-declared days off (regional holidays, newly announced cuti bersama).
    extra_holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # Accept any iterable from configuration code, but keep the field hashable.
        extra = frozenset(self.extra_holidays)
        for day in extra:
            _require_date(day)
        object.__setattr__(self, "extra_holidays", extra)

    def is_working_day(self, day: date) -> bool:
        _require_date(day)
        if day.weekday() >= _SATURDAY:
            return False
        if day in self.extra_holidays:
            return False
        return day not in _national_days_off(day.year)

    def add_working_days(self, start: date, days: int) -> date:
        """Return the `days`-th working day strictly after `start`; `start` itself never counts.

        A report received on a Friday with 3 working days is due on Wednesday; one received on a
        holiday or a weekend likewise counts from the next working day. Zero days gives `start`.
        """
        _require_date(start)
        if days < 0:
            raise ValueError(f"a number of working days cannot be negative, got {days}")
        day = start
        remaining = days
        while remaining:
            day += _ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days d with start < d <= end; negative when `end` is before `start`."""
        _require_date(start)
        _require_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        # Counted rather than walked, so long spans (inspectorate reports over months) stay cheap.
        count = _weekdays_through(end) - _weekdays_through(start)
        for year in range(start.year, end.year + 1):
            days_off = _national_weekday_days_off(year)
            count -= bisect_right(days_off, end) - bisect_right(days_off, start)
        for day in self.extra_holidays:
            if (
                start < day <= end
                and day.weekday() < _SATURDAY
                and day not in _national_days_off(day.year)
            ):
                count -= 1
        return count

    def working_days_left(self, today: date, due: date) -> int:
        """Working days left until `due`: >0 left, 0 due today, <0 overdue by that many.

        Once `due` has passed the result is at least -1 even if no working day has gone by
        (due Friday, asked on Saturday): the report is late and must not read as "due today".
        """
        between = self.working_days_between(today, due)
        if due < today:
            return min(between, -1)
        return between


@dataclass(frozen=True)
class DeadlineRules:
    """Time limits for one report; defaults follow the SP4N-LAPOR! handling rules."""

    verify_days: int = 3  # working days from receipt to verification by the coordinator
    follow_up_days: int = 5  # working days from forwarding to the agency's follow-up
    close_after_days: int = 10  # working days after the follow-up before the report closes
    escalate_after_calendar_days: int = 60  # calendar days before escalation (e.g. Ombudsman)

    def __post_init__(self) -> None:
        for name in (
            "verify_days",
            "follow_up_days",
            "close_after_days",
            "escalate_after_calendar_days",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of days >= 0, got {value!r}")

    def for_unit(self, days: UnitDeadlines) -> DeadlineRules:
        """These rules with a unit's own time limits where it set them."""
        return replace(
            self,
            verify_days=self.verify_days if days.verify_days is None else days.verify_days,
            follow_up_days=(
                self.follow_up_days if days.follow_up_days is None else days.follow_up_days
            ),
        )


UNIT_DAYS_MAX = 30


@dataclass(frozen=True)
class UnitDeadlines:
    """A unit's own limits in working days; None follows the unit above it, and at the top
    the settings. What a unit sets holds for every unit below it that sets nothing."""

    verify_days: int | None = None
    follow_up_days: int | None = None

    @staticmethod
    def resolve(chain: list[UnitDeadlines]) -> UnitDeadlines:
        """The limits in force for the first unit of `chain` (the unit itself, then its
        parent, up to the root): each limit from the nearest unit that set it."""
        verify = next((d.verify_days for d in chain if d.verify_days is not None), None)
        follow = next((d.follow_up_days for d in chain if d.follow_up_days is not None), None)
        return UnitDeadlines(verify, follow)


def read_unit_days(raw: str) -> int | None:
    """A unit's limit as typed: empty follows the unit above; otherwise 1 to UNIT_DAYS_MAX."""
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= UNIT_DAYS_MAX:
        raise ValueError(raw)
    return int(raw)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar date of `moment` where the report is handled (WIB, WITA or WIT)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
    return moment.astimezone(tz).date()


def verification_due(
    received: datetime, calendar: WorkingCalendar, rules: DeadlineRules, tz: ZoneInfo
) -> date:
    """Last day for the coordinator to verify a report received at `received`."""
    return calendar.add_working_days(local_date(received, tz), rules.verify_days)


def follow_up_due(
    forwarded: datetime, calendar: WorkingCalendar, rules: DeadlineRules, tz: ZoneInfo
) -> date:
    """Last day for the agency to post its follow-up (tindak lanjut) after forwarding."""
    return calendar.add_working_days(local_date(forwarded, tz), rules.follow_up_days)


def close_due(
    followed_up: datetime, calendar: WorkingCalendar, rules: DeadlineRules, tz: ZoneInfo
) -> date:
    """Day on which a followed-up report closes if the reporter does not respond."""
    return calendar.add_working_days(local_date(followed_up, tz), rules.close_after_days)


def escalation_due(received: datetime, rules: DeadlineRules, tz: ZoneInfo) -> date:
    """Day from which an unresolved report escalates; counted in calendar days, not working days."""
    return local_date(received, tz) + timedelta(days=rules.escalate_after_calendar_days)


def parse_extra_holidays(text: str) -> frozenset[date]:
    """Parse a comma-separated list of ISO dates (YYYY-MM-DD), as in LAPOR_EXTRA_HOLIDAYS.

    Blank items (a trailing comma, an empty setting) are ignored; anything else that is not a
    real date raises ValueError naming the item, so a typo cannot silently drop a day off.
    """
    days: set[date] = set()
    for position, raw in enumerate(text.split(","), start=1):
        item = raw.strip()
        if not item:
            continue
        # fromisoformat alone would also take "20260325" or week dates; one form only is clearer.
        if not _ISO_DATE.fullmatch(item):
            raise ValueError(f"extra holiday #{position} {item!r} is not a date in YYYY-MM-DD form")
        try:
            days.add(date.fromisoformat(item))
        except ValueError as error:
            raise ValueError(f"extra holiday #{position} {item!r} is not a real date") from error
    return frozenset(days)
