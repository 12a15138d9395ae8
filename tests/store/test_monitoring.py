"""The inspectorate's figures, summed by the database, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from lapor.complaints.monitoring import median_days, merge_histograms, roll_up
from lapor.complaints.workflow import Action
from lapor.store import schema as t
from lapor.store.monitoring import Period
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import EVERYTHING, TEST_KEY, World
from tests.store.test_inbox import forward, submit

WITA = ZoneInfo("Asia/Makassar")
TODAY = date(2026, 11, 23)


@pytest.fixture
async def world(store: Store) -> World:
    return await World(store, Signing([TEST_KEY])).standard()


async def set_moment(world: World, report_id: int, **values: Any) -> None:
    def write(conn: Any) -> None:
        conn.execute(update(t.reports).where(t.reports.c.id == report_id).values(**values))

    await world.store.db.write(write)


def period(first: date, last_exclusive: date) -> Period:
    return Period(
        datetime.combine(first, time(), WITA),
        datetime.combine(last_exclusive, time(), WITA),
        TODAY,
        WITA,
    )


async def test_in_time_late_overdue_medians_and_satisfaction(world: World) -> None:
    store = world.store
    received = datetime(2026, 10, 5, 1, tzinfo=UTC)  # 09:00 WITA on Monday 5 October
    on_time = await submit(world, "a", received_at=received, verify_due=date(2026, 10, 8))
    late = await submit(world, "b", received_at=received, verify_due=date(2026, 10, 8))
    # "c" waits, never verified, past its deadline.
    await submit(world, "c", received_at=received, verify_due=date(2026, 10, 8))
    await submit(world, "d", unit="other", received_at=received, verify_due=date(2026, 10, 8))
    await forward(world, on_time, due=date(2026, 10, 15))
    await forward(world, late, due=date(2026, 10, 20))
    # Verified 2 days after receipt (in time) and 9 days after (late).
    await set_moment(world, on_time, verified_at=received + timedelta(days=2, hours=3))
    await set_moment(world, late, verified_at=received + timedelta(days=9))
    officer = await world.user("petugas@rsud.go.id", "officer", "rsud")
    await store.follow_up_report(
        on_time,
        seen_version=2,
        actor=officer,
        scope=world.scope("petugas@rsud.go.id"),
        answer="Sudah kami perbaiki, terima kasih.",
    )
    await set_moment(world, on_time, followed_up_at=received + timedelta(days=6))
    await store.reporter_acts(on_time, seen_version=3, action=Action.ACCEPT, rating=4)
    await set_moment(world, on_time, closed_at=received + timedelta(days=7, hours=12))

    raw = await store.monitoring(
        world.subtree("prov"),
        world.units["prov"].path,
        period(date(2026, 10, 1), date(2026, 11, 1)),
    )
    rows, total = roll_up(raw, lambda key: key[1], ["2026-10"])
    f = total.figures
    assert f.received == 3  # the other province's report is outside the scope
    assert (f.verified_in_time, f.verified_late) == (1, 2)  # "waiting" is late too
    assert (f.followed_up_in_time, f.followed_up_late) == (1, 1)  # "late" past 20 Oct, open
    assert f.overdue_now == 2 and f.closed == 1
    assert f.satisfaction == 4 and f.ratings == 1
    assert total.response_days == {2: 1, 9: 1}
    assert total.close_days == {7: 1}
    assert [r.group for r in rows] == ["2026-10"]
    # The admin sees the other province as well; a later period sees nothing.
    everything = await store.monitoring(
        EVERYTHING, "", period(date(2026, 10, 1), date(2026, 11, 1))
    )
    assert sum(x.received for x in everything.figures.values()) == 4
    nothing = await store.monitoring(EVERYTHING, "", period(date(2026, 11, 1), date(2026, 12, 1)))
    assert nothing.figures == {}


async def test_verification_on_the_due_day_is_in_time_in_local_time(world: World) -> None:
    # 23:30 WITA on the due day is 15:30 UTC the same day; 00:30 WITA the next day is 16:30
    # UTC the due day: a UTC date would call the second one in time.
    received = datetime(2026, 10, 5, 1, tzinfo=UTC)
    just = await submit(world, "j", received_at=received, verify_due=date(2026, 10, 8))
    after = await submit(world, "k", received_at=received, verify_due=date(2026, 10, 8))
    await forward(world, just)
    await forward(world, after)
    await set_moment(world, just, verified_at=datetime(2026, 10, 8, 15, 30, tzinfo=UTC))
    await set_moment(world, after, verified_at=datetime(2026, 10, 8, 16, 30, tzinfo=UTC))
    raw = await world.store.monitoring(EVERYTHING, "", period(date(2026, 10, 1), date(2026, 11, 1)))
    (figures,) = raw.figures.values()
    assert (figures.verified_in_time, figures.verified_late) == (1, 1)


def test_the_median_is_in_whole_days_and_agrees_with_its_parts() -> None:
    assert median_days({}) is None
    assert median_days({0: 1}) == 0  # closed in 11 minutes: not "0.5 days"
    assert median_days({3: 1}) == 3
    assert median_days({1: 2, 5: 2}) == 3.0
    assert median_days({0: 1, 2: 2, 10: 1}) == 2.0
    # Two months of 15 days and 0 days make a period of 7.5, between them (it said 1.0).
    months = ({15: 1}, {0: 1})
    overall = median_days(merge_histograms(months))
    assert overall == 7.5
    parts = [median_days(m) for m in months]
    assert parts == [15, 0]  # between them, as a whole's median must be
