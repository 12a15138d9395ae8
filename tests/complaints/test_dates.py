"""The days a staff filter may name: far enough apart for every real report, near enough that
the calendar arithmetic on them (the day after a window, midnight in the office's zone as UTC,
a spreadsheet's date) never runs out of range."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from lapor.complaints.inbox import (
    FIRST_DAY,
    LAST_DAY,
    InboxQuery,
    Sort,
    read_inbox_query,
    received_window,
)
from lapor.complaints.monitoring import MONTHS_SHOWN, month_start, read_months

TODAY = date(2026, 11, 23)


def test_the_range_is_the_services_lifetime_and_then_some() -> None:
    assert date(2000, 1, 1) == FIRST_DAY and date(2100, 12, 31) == LAST_DAY


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize("raw", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_inbox_query_refuses_a_day_outside_the_range(name: str, raw: str) -> None:
    query, errors = read_inbox_query({name: raw, "kind": "pengaduan"})
    assert errors == ["dates"]
    assert query.received_from is None and query.received_to is None
    assert query.kind is not None  # the rest still applies


def test_one_message_for_both_ends_out_of_range() -> None:
    query, errors = read_inbox_query({"from": "0001-01-01", "to": "9999-12-31"})
    assert errors == ["dates"] and query == InboxQuery()


def test_a_malformed_day_keeps_its_own_error() -> None:
    assert read_inbox_query({"from": "kemarin"})[1] == ["from"]
    assert read_inbox_query({"from": "2026-02-30", "to": "9999-12-31"})[1] == ["from", "dates"]


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_inbox_query_accepts_the_edges_and_their_window_is_computable(zone: str) -> None:
    raw = {"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()}
    query, errors = read_inbox_query(raw)
    assert errors == []
    assert (query.received_from, query.received_to) == (FIRST_DAY, LAST_DAY)
    start, end = received_window(query, ZoneInfo(zone))
    assert start is not None and end is not None and start < end


@pytest.mark.parametrize(
    ("sort", "after"),
    [
        ("deadline", "0001-01-01.5"),
        ("deadline", "9999-12-31.5"),
        ("arrival", "0001-01-01T00:00:00.000000Z.5"),
        ("arrival", "9999-12-31T23:59:59.999999Z.5"),
    ],
)
def test_a_cursor_outside_the_range_is_a_damaged_link(sort: str, after: str) -> None:
    query, errors = read_inbox_query({"from": "2026-01-01", "sort": sort, "after": after})
    assert errors == ["after"] and query.after is None and query.sort is Sort(sort)


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("0001-01", "0001-12"),
        ("9999-01", "9999-12"),
        ("1999-12", "2000-01"),
        ("2100-12", "2101-01"),
        ("0001-01", ""),
        ("", "9999-12"),
    ],
)
def test_monitoring_refuses_months_outside_the_range(first: str, last: str) -> None:
    asked_first, asked_last, error = read_months(first, last, TODAY)
    assert error == "dates"
    # The default period instead: the last twelve months.
    assert (asked_first, asked_last) == (month_start(TODAY, MONTHS_SHOWN - 1), month_start(TODAY))


@pytest.mark.parametrize(("first", "last"), [("2000-01", "2000-12"), ("2100-01", "2100-12")])
def test_monitoring_accepts_the_edge_months(first: str, last: str) -> None:
    asked_first, asked_last, error = read_months(first, last, TODAY)
    assert error is None
    assert asked_first == date(int(first[:4]), int(first[5:]), 1)
    assert asked_last == date(int(last[:4]), int(last[5:]), 1)
    assert month_start(asked_last, -1) > asked_last  # the period's end, the month after


@pytest.mark.parametrize(
    ("first", "last"), [("2026-13", ""), ("2026-05", "2026-01"), ("2020-01", "2026-01")]
)
def test_monitoring_months_that_cannot_be_read(first: str, last: str) -> None:
    assert read_months(first, last, TODAY)[2] == "months"


def test_monitoring_defaults_to_the_last_twelve_months() -> None:
    assert read_months("", "", TODAY) == (date(2025, 12, 1), date(2026, 11, 1), None)
    assert read_months("2026-01", "", TODAY) == (date(2026, 1, 1), date(2026, 11, 1), None)
