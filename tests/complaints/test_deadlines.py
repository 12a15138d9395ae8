from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from holidays.constants import GOVERNMENT, PUBLIC
from hypothesis import given
from hypothesis import strategies as st

from lapor.complaints import deadlines
from lapor.complaints.deadlines import (
    DeadlineRules,
    UnitDeadlines,
    WorkingCalendar,
    close_due,
    escalation_due,
    follow_up_due,
    parse_extra_holidays,
    read_unit_days,
    verification_due,
)

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")

CALENDAR = WorkingCalendar()
RULES = DeadlineRules()

report_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


def brute_force_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    if end < start:
        return -brute_force_between(calendar, end, start)
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        count += calendar.is_working_day(day)
        day += timedelta(days=1)
    return count


def test_received_on_friday_is_due_on_wednesday() -> None:
    friday = date(2025, 10, 10)
    assert friday.strftime("%A") == "Friday"
    assert CALENDAR.add_working_days(friday, 3) == date(2025, 10, 15)


def test_received_on_a_weekend_counts_from_monday() -> None:
    assert CALENDAR.add_working_days(date(2025, 10, 11), 3) == date(2025, 10, 15)
    assert CALENDAR.add_working_days(date(2025, 10, 12), 1) == date(2025, 10, 13)


def test_received_on_a_holiday_counts_from_the_next_working_day() -> None:
    # Christmas 2025 (Thursday) is followed by cuti bersama on Friday 26 December.
    assert CALENDAR.add_working_days(date(2025, 12, 25), 3) == date(2025, 12, 31)


def test_zero_days_is_the_start_and_negative_days_are_refused() -> None:
    assert CALENDAR.add_working_days(date(2025, 10, 11), 0) == date(2025, 10, 11)
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(2025, 10, 10), -1)


# These dates come from the SKB 3 Menteri on national holidays and cuti bersama; if a release of
# `holidays` changes them, this test says so instead of deadlines shifting silently.
@pytest.mark.parametrize(
    ("day", "category"),
    [
        (date(2025, 3, 31), PUBLIC),  # Idul Fitri 1446 H
        (date(2025, 4, 1), PUBLIC),
        (date(2025, 4, 2), GOVERNMENT),  # cuti bersama Idul Fitri
        (date(2025, 4, 3), GOVERNMENT),
        (date(2025, 4, 4), GOVERNMENT),
        (date(2025, 4, 7), GOVERNMENT),
        (date(2025, 8, 18), GOVERNMENT),  # cuti bersama after Independence Day on a Sunday
        (date(2025, 12, 26), GOVERNMENT),  # cuti bersama Natal
        (date(2026, 3, 18), GOVERNMENT),  # cuti bersama Nyepi
        (date(2026, 3, 19), PUBLIC),  # Nyepi
        (date(2026, 3, 20), GOVERNMENT),  # cuti bersama Idul Fitri 1447 H
        (date(2026, 3, 21), PUBLIC),  # Idul Fitri 1447 H
        (date(2026, 3, 22), PUBLIC),
        (date(2026, 3, 23), GOVERNMENT),
        (date(2026, 3, 24), GOVERNMENT),
        (date(2026, 12, 24), GOVERNMENT),  # cuti bersama Natal
    ],
)
def test_known_days_off_2025_2026(day: date, category: str) -> None:
    assert day in holidays.country_holidays("ID", years=day.year, categories=(category,))
    assert not CALENDAR.is_working_day(day)


def test_cuti_bersama_needs_the_government_category() -> None:
    # Why GOVERNMENT is included: with PUBLIC alone, Monday 23 March 2026 would be a working day.
    public_only = holidays.country_holidays("ID", years=2026, categories=(PUBLIC,))
    assert date(2026, 3, 23) not in public_only
    assert not CALENDAR.is_working_day(date(2026, 3, 23))


def test_idul_fitri_2026_block() -> None:
    block = [date(2026, 3, 18) + timedelta(days=i) for i in range(7)]
    assert [CALENDAR.is_working_day(day) for day in block] == [False] * 7
    assert CALENDAR.is_working_day(date(2026, 3, 17))
    assert CALENDAR.is_working_day(date(2026, 3, 25))
    # Received the Tuesday before the break, or inside it: due on Friday 27 March.
    assert CALENDAR.add_working_days(date(2026, 3, 17), 3) == date(2026, 3, 27)
    assert CALENDAR.add_working_days(date(2026, 3, 23), 3) == date(2026, 3, 27)
    assert CALENDAR.working_days_between(date(2026, 3, 17), date(2026, 3, 24)) == 0


def test_extra_holidays_are_respected() -> None:
    regional = WorkingCalendar(extra_holidays=frozenset({date(2025, 10, 13)}))
    assert not regional.is_working_day(date(2025, 10, 13))
    assert regional.add_working_days(date(2025, 10, 10), 3) == date(2025, 10, 16)
    assert regional.working_days_between(date(2025, 10, 10), date(2025, 10, 16)) == 3
    # A declared day that is already off (weekend or national holiday) is not counted twice.
    overlapping = WorkingCalendar(
        extra_holidays=frozenset({date(2025, 10, 11), date(2025, 12, 25), date(2025, 12, 29)})
    )
    assert overlapping.working_days_between(date(2025, 12, 24), date(2025, 12, 31)) == 2


def test_extra_holidays_accept_any_iterable_and_refuse_datetimes() -> None:
    calendar = WorkingCalendar(extra_holidays={date(2025, 10, 13)})  # type: ignore[arg-type]
    assert isinstance(calendar.extra_holidays, frozenset)
    assert hash(calendar) == hash(WorkingCalendar(frozenset({date(2025, 10, 13)})))
    with pytest.raises(TypeError):
        WorkingCalendar(extra_holidays=frozenset({datetime(2025, 10, 13)}))


def test_a_datetime_is_refused_rather_than_missing_the_holiday() -> None:
    with pytest.raises(TypeError):
        CALENDAR.is_working_day(datetime(2026, 3, 23, 9, 0))
    with pytest.raises(TypeError):
        CALENDAR.add_working_days(datetime(2026, 3, 23, 9, 0), 3)


@given(report_dates, st.integers(min_value=0, max_value=80))
def test_add_working_days_properties(start: date, days: int) -> None:
    due = CALENDAR.add_working_days(start, days)
    if days:
        assert due > start
        assert CALENDAR.is_working_day(due)
    else:
        assert due == start
    assert CALENDAR.working_days_between(start, due) == days
    assert CALENDAR.working_days_left(start, due) == days


@given(
    report_dates,
    report_dates,
    st.frozensets(st.dates(min_value=date(2019, 12, 1), max_value=date(2031, 1, 31)), max_size=40),
)
def test_working_days_between_matches_counting_day_by_day(
    start: date, end: date, extra: frozenset[date]
) -> None:
    calendar = WorkingCalendar(extra_holidays=extra)
    if abs((end - start).days) > 800:  # keep the day-by-day reference quick
        end = start + timedelta(days=(end - start).days % 800)
    expected = brute_force_between(calendar, start, end)
    assert calendar.working_days_between(start, end) == expected
    assert calendar.working_days_between(end, start) == -expected


def test_working_days_left() -> None:
    friday = date(2025, 10, 10)
    assert CALENDAR.working_days_left(date(2025, 10, 7), friday) == 3
    assert CALENDAR.working_days_left(friday, friday) == 0
    # Due Friday and asked on Saturday: already late, not "due today".
    assert CALENDAR.working_days_left(date(2025, 10, 11), friday) == -1
    assert CALENDAR.working_days_left(date(2025, 10, 13), friday) == -1
    assert CALENDAR.working_days_left(date(2025, 10, 14), friday) == -2


def test_verification_due_uses_the_local_date() -> None:
    received = datetime(2025, 10, 10, 9, 15, tzinfo=WIB)
    assert verification_due(received, CALENDAR, RULES, WIB) == date(2025, 10, 15)


def test_friday_23_30_wib_is_already_saturday_in_wita_and_wit() -> None:
    received = datetime(2025, 10, 10, 23, 30, tzinfo=WIB)
    assert deadlines.local_date(received, WIB) == date(2025, 10, 10)
    assert deadlines.local_date(received, WITA) == date(2025, 10, 11)
    assert deadlines.local_date(received, WIT) == date(2025, 10, 11)
    # Friday and Saturday both count from Monday, so the due date is the same here...
    assert verification_due(received, CALENDAR, RULES, WIB) == date(2025, 10, 15)
    assert verification_due(received, CALENDAR, RULES, WITA) == date(2025, 10, 15)


def test_thursday_23_30_wib_gives_different_due_dates_in_wib_and_wita() -> None:
    # ...but on a Thursday night the extra hour in WITA moves receipt to Friday.
    received = datetime(2025, 10, 9, 23, 30, tzinfo=WIB)
    assert verification_due(received, CALENDAR, RULES, WIB) == date(2025, 10, 14)
    assert verification_due(received, CALENDAR, RULES, WITA) == date(2025, 10, 15)


def test_friday_23_30_wita_is_still_friday_in_wib() -> None:
    received = datetime(2025, 10, 10, 23, 30, tzinfo=WITA)
    assert deadlines.local_date(received, WIB) == date(2025, 10, 10)
    assert verification_due(received, CALENDAR, RULES, WIB) == date(2025, 10, 15)


def test_received_in_utc_is_converted() -> None:
    received = datetime(2025, 10, 9, 17, 0, tzinfo=UTC)  # 00:00 Friday WIB
    assert verification_due(received, CALENDAR, RULES, WIB) == date(2025, 10, 15)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        verification_due(datetime(2025, 10, 10, 9, 0), CALENDAR, RULES, WIB)


def test_other_deadlines_use_their_rules() -> None:
    rules = DeadlineRules(verify_days=1, follow_up_days=2, close_after_days=4)
    friday = datetime(2025, 10, 10, 10, 0, tzinfo=WIB)
    assert verification_due(friday, CALENDAR, rules, WIB) == date(2025, 10, 13)
    assert follow_up_due(friday, CALENDAR, rules, WIB) == date(2025, 10, 14)
    assert close_due(friday, CALENDAR, rules, WIB) == date(2025, 10, 16)
    assert follow_up_due(friday, CALENDAR, RULES, WIB) == date(2025, 10, 17)
    assert close_due(friday, CALENDAR, RULES, WIB) == date(2025, 10, 24)
    # Escalation counts calendar days, holidays included.
    assert escalation_due(friday, RULES, WIB) == date(2025, 12, 9)


@pytest.mark.parametrize("field", ["verify_days", "follow_up_days", "close_after_days"])
def test_rules_refuse_negative_days(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        DeadlineRules(**{field: -1})


def test_holidays_are_built_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    real = holidays.country_holidays

    def counting(*args: Any, **kwargs: Any) -> holidays.HolidayBase:
        built.append(1)
        return real(*args, **kwargs)

    deadlines._national_days_off.cache_clear()
    deadlines._national_weekday_days_off.cache_clear()
    monkeypatch.setattr(holidays, "country_holidays", counting)
    day = date(2025, 1, 1)
    for _ in range(730):
        CALENDAR.is_working_day(day)
        day += timedelta(days=1)
    CALENDAR.working_days_between(date(2025, 1, 1), date(2026, 12, 31))
    assert len(built) == 2


def test_parse_extra_holidays() -> None:
    assert parse_extra_holidays("") == frozenset()
    assert parse_extra_holidays("  ") == frozenset()
    assert parse_extra_holidays("2026-03-25, 2026-04-01,") == frozenset(
        {date(2026, 3, 25), date(2026, 4, 1)}
    )
    assert parse_extra_holidays("2026-03-25,2026-03-25") == frozenset({date(2026, 3, 25)})


@pytest.mark.parametrize(
    ("text", "bad_item"),
    [
        ("2026-03-25, 25/03/2026", "25/03/2026"),
        ("2026-02-30", "2026-02-30"),
        ("20260325", "20260325"),
        ("2026-03-25;2026-03-26", "2026-03-25;2026-03-26"),
        ("2026-3-5", "2026-3-5"),
    ],
)
def test_parse_extra_holidays_names_the_bad_item(text: str, bad_item: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad_item))):
        parse_extra_holidays(text)


def test_a_unit_limit_comes_from_the_nearest_unit_that_set_it() -> None:
    chain = [UnitDeadlines(None, 2), UnitDeadlines(None, None), UnitDeadlines(1, 7)]
    assert UnitDeadlines.resolve(chain) == UnitDeadlines(1, 2)
    assert UnitDeadlines.resolve([]) == UnitDeadlines()
    rules = DeadlineRules().for_unit(UnitDeadlines(None, 2))
    assert (rules.verify_days, rules.follow_up_days, rules.close_after_days) == (3, 2, 10)


@pytest.mark.parametrize("raw", ["0", "31", "-1", "2.5", "٣", "x"])
def test_unit_limits_are_whole_days_within_bounds(raw: str) -> None:
    with pytest.raises(ValueError):
        read_unit_days(raw)


def test_an_empty_unit_limit_follows_the_unit_above() -> None:
    assert read_unit_days("  ") is None
    assert read_unit_days(" 30 ") == 30
