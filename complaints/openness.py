"""What the public may see of how reports are handled: the organisation's and each unit's
figures, by month, as a page and as open data (CSV and JSON). The same sums as the
inspectorate's monitoring (complaints/monitoring.py), so the public and the inspectorate read
the same numbers; nothing about any one report, reporter or member of staff.

The period is the last twelve months, or one calendar year: a small, fixed set of periods, so
that each can be computed once and served to every visitor (public/views.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lapor.complaints.feedback import FeedbackFigures
from lapor.complaints.inbox import FIRST_DAY
from lapor.complaints.monitoring import MONTHS_SHOWN, Row, month_start

_YEAR = re.compile(r"[0-9]{4}", re.ASCII)

# The open data's fields, in order: JSON keys and CSV headers (stable: clients read them).
FIELDS = (
    "received",
    "verified_in_time",
    "verified_late",
    "verified_in_time_percent",
    "followed_up_in_time",
    "followed_up_late",
    "followed_up_in_time_percent",
    "median_working_days_to_follow_up",
    "closed",
    "closed_by_acceptance",
    "closed_by_acceptance_percent",
    "past_escalation",
    "ikm_responses",
    "ikm",
    "ikm_grade",
)


@dataclass(frozen=True)
class PublicPeriod:
    first: date  # the first day of the first month
    last: date  # the first day of the last month
    year: int | None  # None: the last twelve months


def read_period(raw_year: str, today: date) -> tuple[PublicPeriod, bool]:
    """The period `?year=` asks for (a calendar year from the first one reports can have up
    to this one), else the last twelve months; and whether what was asked could be read."""
    default = PublicPeriod(month_start(today, MONTHS_SHOWN - 1), month_start(today), None)
    if not raw_year:
        return default, True
    if not _YEAR.fullmatch(raw_year) or not FIRST_DAY.year <= int(raw_year) <= today.year:
        return default, False
    year = int(raw_year)
    return PublicPeriod(date(year, 1, 1), date(year, 12, 1), year), True


def years_offered(today: date, first_report: date | None) -> list[int]:
    """The years a visitor may pick: from the first report's to this one, newest first."""
    start = first_report.year if first_report else today.year
    return list(range(today.year, max(start, FIRST_DAY.year) - 1, -1))


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _rounded(value: float | Decimal | None, places: int = 1) -> float | None:
    return None if value is None else round(float(value), places)


def open_data(row: Row[Any]) -> dict[str, Any]:
    """A row's figures under FIELDS' names: numbers, or None where there is nothing to
    divide (no report verified yet has no share verified in time)."""
    f = row.figures
    fb: FeedbackFigures = row.feedback
    grade = fb.grade
    return {
        "received": f.received,
        "verified_in_time": f.verified_in_time,
        "verified_late": f.verified_late,
        "verified_in_time_percent": _percent(f.verified_share),
        "followed_up_in_time": f.followed_up_in_time,
        "followed_up_late": f.followed_up_late,
        "followed_up_in_time_percent": _percent(f.followed_up_share),
        "median_working_days_to_follow_up": _rounded(row.median_follow_up_working_days),
        "closed": f.closed,
        "closed_by_acceptance": f.ratings,
        "closed_by_acceptance_percent": _percent(f.accepted_share),
        "past_escalation": f.past_escalation,
        "ikm_responses": fb.ikm_responses,
        "ikm": _rounded(fb.ikm, 2),
        "ikm_grade": grade.letter if grade else None,
    }
