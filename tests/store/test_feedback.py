"""Feedback in the store on both backends: stored once however often a kiosk resends it, and
summed by the database for the monitoring page."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from lapor.complaints.feedback import FeedbackSubmission, parse_feedback
from lapor.complaints.monitoring import roll_up
from lapor.complaints.records import FeedbackResult, NewFeedback
from lapor.store import schema as t
from lapor.store.errors import FeedbackConflict, NotFound
from lapor.store.monitoring import Period
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import EVERYTHING, TEST_KEY, World

WITA = ZoneInfo("Asia/Makassar")
RECEIVED = datetime(2026, 10, 5, 1, tzinfo=UTC)  # 09:00 WITA, Monday 5 October


@pytest.fixture
async def world(store: Store) -> World:
    return await World(store, Signing([TEST_KEY])).standard()


def submission(unit_id: int, **data: str) -> FeedbackSubmission:
    parsed, errors = parse_feedback(
        {"unit": str(unit_id), "language": "id", **data}, now=RECEIVED, languages=("id", "en")
    )
    assert parsed is not None, errors
    return parsed


async def give(
    store: Store, unit_id: int, key: str, *, received_at: datetime = RECEIVED, **data: str
) -> FeedbackResult:
    sub = submission(unit_id, **data)
    return await store.record_feedback(
        NewFeedback(
            submission=sub,
            idempotency_key=key,
            body_hash=sub.body_hash(),
            kiosk_id=None,
            received_at=received_at,
        )
    )


async def count_feedback(store: Store) -> int:
    def read(conn: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(t.feedback)).scalar_one())

    return await store.db.read(read)


async def test_a_resend_is_harmless_and_a_changed_body_is_a_conflict(world: World) -> None:
    store, unit = world.store, world.units["dinas"].id
    first = await give(
        store,
        unit,
        "kiosk-1-0001",
        kind="ikm",
        answers="342334421",
        reported_at="2026-10-05T09:00:00+08:00",
    )
    assert first.created
    again = await give(
        store,
        unit,
        "kiosk-1-0001",
        kind="ikm",
        answers="342334421",
        reported_at="2026-10-05T09:00:00+08:00",
    )
    assert again == FeedbackResult(first.id, created=False)
    with pytest.raises(FeedbackConflict) as conflict:
        await give(
            store,
            unit,
            "kiosk-1-0001",
            kind="ikm",
            answers="342334422",
            reported_at="2026-10-05T09:00:00+08:00",
        )
    assert conflict.value.feedback_id == first.id
    rating = await give(store, unit, "kiosk-1-0002", kind="rating", rating="5")
    assert rating.created and rating.id != first.id
    assert await count_feedback(store) == 2

    def read(conn: Any) -> list[Any]:
        return list(conn.execute(select(t.feedback).order_by(t.feedback.c.id)))

    survey_row, rating_row = await store.db.read(read)
    assert (survey_row.kind, survey_row.answers, survey_row.rating) == ("ikm", "342334421", None)
    assert survey_row.reported_at == datetime(2026, 10, 5, 1, tzinfo=UTC)
    assert survey_row.received_at == RECEIVED
    assert (rating_row.kind, rating_row.answers, rating_row.rating) == ("rating", None, 5)
    assert rating_row.reported_at is None and rating_row.language == "id"


async def test_concurrent_resends_store_one_row(world: World) -> None:
    store, unit = world.store, world.units["rsud"].id
    results = await asyncio.gather(
        *[give(store, unit, "burst", kind="rating", rating="2") for _ in range(8)]
    )
    assert sum(r.created for r in results) == 1
    assert len({r.id for r in results}) == 1
    assert await count_feedback(store) == 1


async def test_an_unknown_unit_is_refused(world: World) -> None:
    with pytest.raises(NotFound):
        await give(world.store, 987654, "nowhere", kind="rating", rating="3")
    assert await count_feedback(world.store) == 0


def period(first: date, last_exclusive: date) -> Period:
    return Period(
        datetime.combine(first, time(), WITA),
        datetime.combine(last_exclusive, time(), WITA),
        date(2026, 11, 23),
        WITA,
    )


async def test_the_database_sums_per_unit_and_month_within_scope(world: World) -> None:
    store, units = world.store, world.units
    await give(store, units["dinas"].id, "a", kind="ikm", answers="333233423")
    await give(store, units["dinas"].id, "b", kind="ikm", answers="433433433")
    await give(store, units["rsud"].id, "c", kind="ikm", answers="323434423")
    await give(store, units["rsud"].id, "d", kind="ikm", answers="332433314")
    await give(store, units["rsud"].id, "e", kind="rating", rating="4")
    await give(store, units["rsud"].id, "f", kind="rating", rating="1")
    await give(store, units["other"].id, "g", kind="ikm", answers="111111111")  # out of scope
    # The last half hour of October in WITA counts in October...
    await give(
        store,
        units["dinas"].id,
        "h",
        kind="rating",
        rating="5",
        received_at=datetime(2026, 10, 31, 15, 30, tzinfo=UTC),
    )
    # ...and 00:30 WITA on 1 November, still October in UTC, does not.
    await give(
        store,
        units["dinas"].id,
        "i",
        kind="rating",
        rating="5",
        received_at=datetime(2026, 10, 31, 16, 30, tzinfo=UTC),
    )

    october = period(date(2026, 10, 1), date(2026, 11, 1))
    raw = await store.monitoring(world.subtree("prov"), units["prov"].path, october)
    by_unit, total = roll_up(raw, lambda key: key[0])
    fb = {row.group: row.feedback for row in by_unit}
    assert fb[units["dinas"].id].ikm_responses == 2
    assert fb[units["dinas"].id].item_sums == (7, 6, 6, 6, 6, 6, 8, 5, 6)
    assert (fb[units["dinas"].id].ratings, fb[units["dinas"].id].rating_sum) == (1, 5)
    assert fb[units["rsud"].id].item_sums == (6, 5, 5, 8, 6, 7, 7, 3, 7)
    assert (fb[units["rsud"].id].ratings, fb[units["rsud"].id].rating_sum) == (2, 5)
    assert units["other"].id not in fb
    # The four surveys of the worked example in tests/complaints/test_feedback.py: 76.39.
    assert total.feedback.ikm_responses == 4 and total.feedback.ikm == Decimal("76.39")
    assert total.feedback.ratings == 3
    # A coordinator of the other province sees only theirs; an admin sees all.
    other = await store.monitoring(world.scope("koor@other.go.id"), units["other"].path, october)
    assert [f.ikm_responses for f in other.feedback.values()] == [1]
    everything = await store.monitoring(EVERYTHING, "", october)
    assert sum(f.ikm_responses for f in everything.feedback.values()) == 5
    # A subtree the scope does not reach adds nothing, even when asked for directly.
    peeking = await store.monitoring(world.subtree("prov"), units["other"].path, october)
    assert peeking.feedback == {}
    november = await store.monitoring(
        world.subtree("prov"), units["prov"].path, period(date(2026, 11, 1), date(2026, 12, 1))
    )
    assert [(k[1], f.ratings) for k, f in november.feedback.items()] == [("2026-11", 1)]
