"""The inspectorate's figures: how many reports, how many handled inside the SP4N-LAPOR! time
limits, how long the first response and the closing took, how satisfied the reporters were.

Pure arithmetic over counts the store aggregates; medians come from day histograms so that a
province's million reports are summed in the database, never pulled row by row."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Generic, TypeVar

from lapor.complaints.feedback import FeedbackFigures
from lapor.complaints.inbox import FIRST_DAY, LAST_DAY

MAX_DAYS = 120  # durations are counted in whole days up to this; longer ones share the last
MONTHS_SHOWN = 12  # the period shown when none is asked for: the last twelve months
MONTHS_MAX = 60  # the longest period that may be asked for
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)


@dataclass
class Figures:
    received: int = 0
    verified_in_time: int = 0
    verified_late: int = 0  # verified after the deadline, or not verified and past it
    followed_up_in_time: int = 0
    followed_up_late: int = 0
    overdue_now: int = 0
    closed: int = 0
    rating_sum: int = 0
    ratings: int = 0

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def verified_share(self) -> float | None:
        return _share(self.verified_in_time, self.verified_late)

    @property
    def followed_up_share(self) -> float | None:
        return _share(self.followed_up_in_time, self.followed_up_late)

    @property
    def satisfaction(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


def _share(good: int, bad: int) -> float | None:
    return good / (good + bad) if good + bad else None


def median_days(histogram: Mapping[int, int]) -> float | None:
    """The median of durations given as {whole days: how many} (2.x days counts as 2): the
    middle one, or the mean of the two middle ones when there are an even number.

    Whole days, not a guess inside a day: a report closed in 11 minutes took 0 days, and the
    median of a period is always between the medians of its halves (interpolating inside the
    buckets made one closed in minutes "0.5" and two months of 15 and 0 days "1.0")."""
    total = sum(histogram.values())
    if not total:
        return None
    lower, upper = _nth(histogram, (total - 1) // 2), _nth(histogram, total // 2)
    return (lower + upper) / 2


def _nth(histogram: Mapping[int, int], n: int) -> int:
    """The n-th duration (from 0) in ascending order."""
    seen = 0
    for day in sorted(histogram):
        seen += histogram[day]
        if n < seen:
            return day
    raise AssertionError("unreachable: n is below the total")


def merge_histograms(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for day, count in histogram.items():
            merged[day] = merged.get(day, 0) + count
    return merged


def months_between(first: date, last: date) -> list[str]:
    """ "YYYY-MM" of every month from `first` to `last` inclusive."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_start(day: date, back: int = 0) -> date:
    """The first day of `day`'s month, `back` months earlier."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month(raw: str) -> date | None:
    return date(int(raw[:4]), int(raw[5:]), 1) if _MONTH.fullmatch(raw) else None


def read_months(raw_first: str, raw_last: str, today: date) -> tuple[date, date, str | None]:
    """The first and last month (as their first days) of the period asked for by the page's
    `from` and `to` ("YYYY-MM"; either missing means the default's), and an error code when
    they cannot be read, with the default period (the last MONTHS_SHOWN months) instead:
    "months" for a malformed, reversed or too long period, "dates" for a month outside the
    range staff filters may name (FIRST_DAY to LAST_DAY, see complaints/inbox.py)."""
    first, last = month_start(today, MONTHS_SHOWN - 1), month_start(today)
    if not (raw_first or raw_last):
        return first, last, None
    asked_first = _month(raw_first) if raw_first else first
    asked_last = _month(raw_last) if raw_last else last
    if asked_first is None or asked_last is None:
        return first, last, "months"
    if not (month_start(FIRST_DAY) <= asked_first and asked_last <= month_start(LAST_DAY)):
        return first, last, "dates"
    if asked_first > asked_last or len(months_between(asked_first, asked_last)) > MONTHS_MAX:
        return first, last, "months"
    return asked_first, asked_last, None


Key = tuple[int, str]  # (entry unit id, local month "YYYY-MM")
G = TypeVar("G", bound=Hashable)


@dataclass
class Raw:
    """What the store sums, per entry unit and month."""

    figures: dict[Key, Figures]
    response_days: dict[Key, dict[int, int]]  # received → first verification
    close_days: dict[Key, dict[int, int]]  # received → closed
    # Quick ratings and IKM surveys given at kiosks, by the unit they were given at.
    feedback: dict[Key, FeedbackFigures] = field(default_factory=dict)


@dataclass
class Row(Generic[G]):
    group: G
    figures: Figures = field(default_factory=Figures)
    response_days: dict[int, int] = field(default_factory=dict)
    close_days: dict[int, int] = field(default_factory=dict)
    feedback: FeedbackFigures = field(default_factory=FeedbackFigures)

    @property
    def median_response_days(self) -> float | None:
        return median_days(self.response_days)

    @property
    def median_close_days(self) -> float | None:
        return median_days(self.close_days)


def roll_up(
    raw: Raw, group_of: Callable[[Key], G | None], order: Iterable[G] = ()
) -> tuple[list[Row[G]], Row[None]]:
    """Rows per group (those in `order` first, even when empty, then any others) and a total."""
    rows: dict[G, Row[G]] = {g: Row(g) for g in order}
    total: Row[None] = Row(None)
    for key, figures in raw.figures.items():
        group = group_of(key)
        if group is None:
            continue
        row = rows.setdefault(group, Row(group))
        row.figures.add(figures)
        total.figures.add(figures)
    for attribute in ("response_days", "close_days"):
        for key, histogram in getattr(raw, attribute).items():
            group = group_of(key)
            if group is None:
                continue
            for target in (rows[group], total):
                setattr(
                    target, attribute, merge_histograms([getattr(target, attribute), histogram])
                )
    for key, feedback in raw.feedback.items():
        group = group_of(key)
        if group is None:
            continue
        rows.setdefault(group, Row(group)).feedback.add(feedback)
        total.feedback.add(feedback)
    return list(rows.values()), total
