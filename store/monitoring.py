"""The monitoring page's SQL: figures and duration histograms per (entry unit, local month),
summed by the database over every report of a scope and period, and the kiosks' feedback
summed the same way (store/feedback.py). See complaints/monitoring.py for what the figures
mean."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
)

from lapor.complaints.access import Scope
from lapor.complaints.monitoring import MAX_DAYS, Figures, Key, Raw
from lapor.complaints.reminders import UNRESOLVED
from lapor.complaints.reports import Status
from lapor.store import feedback
from lapor.store import schema as t
from lapor.store.inbox import entry_units, scope_condition

_R = t.reports


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    today: date  # local; what "late" and "overdue" are measured against
    tz: ZoneInfo
    # Reports received before this and still unresolved are past the escalation limit (the
    # Ombudsman flag); None: not counted.
    escalate_before: datetime | None = None


class _Dialect:
    """The three expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, conn: Connection, tz: ZoneInfo) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self.tz = tz
        # Indonesia keeps no daylight saving time: a fixed offset is exact for SQLite.
        offset = tz.utcoffset(datetime(2026, 1, 1)) or timedelta()
        self.modifier = f"{int(offset.total_seconds() // 60):+d} minutes"

    def month(self, column: Any) -> ColumnElement[str]:
        if self.sqlite:
            return func.strftime("%Y-%m", column, self.modifier)
        return func.to_char(func.timezone(self.tz.key, column), "YYYY-MM")

    def local_date(self, column: Any) -> ColumnElement[Any]:
        if self.sqlite:
            return func.date(column, self.modifier)
        return cast(func.timezone(self.tz.key, column), t.reports.c.verify_due.type)

    def days(self, later: Any, earlier: Any) -> ColumnElement[int]:
        if self.sqlite:
            raw = cast(func.julianday(later) - func.julianday(earlier), Integer)
        else:
            raw = cast(func.floor(func.extract("epoch", later - earlier) / 86400), Integer)
        return case((raw > MAX_DAYS, MAX_DAYS), (raw < 0, 0), else_=raw)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def monitoring(conn: Connection, scope: Scope, root_path: str, period: Period) -> Raw:
    d = _Dialect(conn, period.tz)
    month = d.month(_R.c.received_at).label("month")
    where = [
        scope_condition(conn, scope, ordered=True),
        entry_units(conn, root_path),
        _R.c.received_at >= period.start,
        _R.c.received_at < period.end,
    ]
    today = period.today
    verified_day = d.local_date(_R.c.verified_at)
    answered_day = d.local_date(_R.c.followed_up_at)
    figures_query = (
        select(
            _R.c.unit_id,
            month,
            func.count().label("received"),
            _count(and_(_R.c.verified_at.is_not(None), verified_day <= _R.c.verify_due)),
            _count(
                or_(
                    and_(_R.c.verified_at.is_not(None), verified_day > _R.c.verify_due),
                    and_(
                        _R.c.verified_at.is_(None),
                        _R.c.status == Status.RECEIVED.value,
                        _R.c.verify_due < today,
                    ),
                )
            ),
            _count(and_(_R.c.followed_up_at.is_not(None), answered_day <= _R.c.follow_up_due)),
            _count(
                or_(
                    and_(_R.c.followed_up_at.is_not(None), answered_day > _R.c.follow_up_due),
                    and_(
                        _R.c.followed_up_at.is_(None),
                        _R.c.status == Status.FORWARDED.value,
                        _R.c.follow_up_due < today,
                    ),
                )
            ),
            _count(_R.c.due_on < today),
            _count(_R.c.status == Status.CLOSED.value),
            func.coalesce(func.sum(_R.c.rating), 0),
            func.count(_R.c.rating),
            _count(
                and_(
                    _R.c.status.in_([s.value for s in UNRESOLVED]),
                    _R.c.received_at < period.escalate_before,
                )
                if period.escalate_before is not None
                else false()
            ),
        )
        .where(*where)
        .group_by(_R.c.unit_id, literal_column("month"))
    )
    figures = {(r[0], r[1]): Figures(*r[2:]) for r in conn.execute(figures_query)}

    def histogram(done: Any) -> dict[Key, dict[int, int]]:
        bucket = d.days(done, _R.c.received_at).label("bucket")
        query = (
            select(_R.c.unit_id, month, bucket, func.count())
            .where(*where, done.is_not(None))
            .group_by(_R.c.unit_id, literal_column("month"), literal_column("bucket"))
        )
        out: dict[Key, dict[int, int]] = {}
        for unit_id, month_, day, count in conn.execute(query):
            out.setdefault((unit_id, month_), {})[int(day)] = count
        return out

    return Raw(
        figures,
        histogram(_R.c.verified_at),
        histogram(_R.c.closed_at),
        feedback.sums(
            conn, scope, root_path, d.month(t.feedback.c.received_at), period.start, period.end
        ),
    )


def follow_up_dates(
    conn: Connection, scope: Scope, root_path: str, period: Period
) -> dict[Key, dict[tuple[date, date], int]]:
    """How many reports of each (entry unit, month received) were forwarded on one local day
    and answered on another: what the working-day calendar turns into the unit's time to
    answer (complaints.monitoring.with_follow_up_days). Grouped by days, so a million
    reports come back as a few rows per unit and month."""
    d = _Dialect(conn, period.tz)
    month = d.month(_R.c.received_at).label("month")
    forwarded = d.local_date(_R.c.forwarded_at).label("forwarded")
    answered = d.local_date(_R.c.followed_up_at).label("answered")
    query = (
        select(_R.c.unit_id, month, forwarded, answered, func.count())
        .where(
            scope_condition(conn, scope, ordered=True),
            entry_units(conn, root_path),
            _R.c.received_at >= period.start,
            _R.c.received_at < period.end,
            _R.c.forwarded_at.is_not(None),
            _R.c.followed_up_at.is_not(None),
        )
        .group_by(
            _R.c.unit_id,
            literal_column("month"),
            literal_column("forwarded"),
            literal_column("answered"),
        )
    )
    out: dict[Key, dict[tuple[date, date], int]] = {}
    for unit_id, month_, start, end, count in conn.execute(query):
        pair = (_as_date(start), _as_date(end))
        out.setdefault((unit_id, month_), {})[pair] = count
    return out


def _as_date(value: Any) -> date:
    # SQLite's date() answers text, PostgreSQL a date.
    return value if isinstance(value, date) else date.fromisoformat(value)


def first_received(conn: Connection) -> datetime | None:
    """When the oldest report was received (the first entry of the received_at index)."""
    found: datetime | None = conn.execute(select(func.min(_R.c.received_at))).scalar_one()
    return found
