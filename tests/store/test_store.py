"""Store behaviour on both backends (the `database` fixture runs SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from complaints.inbox import Cursor, InboxQuery
from complaints.reports import Channel, Identity, Kind, Status, Submission
from store.db import Database
from store.records import Duplicate, IdempotencyConflict, NotFound, Report
from store.store import NewReport, Notice, Store, SubmitResult
from tests.conftest import EVERYTHING, TEST_KEY, World
from web.signing import Signing


def compose(notice: Notice) -> tuple[str, str]:
    return f"new {notice.tracking_code}", f"to {notice.routed_unit_name or 'admins'}"


def new_report(unit_id: int, key: str, *, text: str = "Pelayanan lambat sekali hari ini.",
               identity: Identity = Identity.NAMED, poster_id: int | None = None) -> NewReport:
    named = identity is not Identity.ANONYMOUS
    submission = Submission(Kind.COMPLAINT, text, None, identity,
                            "Siti" if named else None, "+6281234567890" if named else None, None)
    return NewReport(submission=submission, channel=Channel.POSTER, unit_id=unit_id,
                     poster_id=poster_id, idempotency_key=key, body_hash=submission.body_hash(),
                     language="id", received_at=datetime.now(UTC),
                     verify_due=date(2026, 12, 1))


async def stored(store: Store, result: SubmitResult) -> Report:
    report = await store.report_for_staff(result.report_id, EVERYTHING)
    assert report is not None
    return report


@pytest.fixture
async def world(store: Store) -> World:
    return await World(store, Signing([TEST_KEY])).standard()


async def test_unit_tree_paths_and_refusals(world: World) -> None:
    store = world.store
    child = await store.add_unit("sub", "Sub unit", "dinas")
    assert child.ancestor_ids == [child.id, world.units["dinas"].id, world.units["prov"].id]
    with pytest.raises(Duplicate):
        await store.add_unit("sub", "Again")
    with pytest.raises(NotFound):
        await store.add_unit("orphan", "Orphan", "nope")
    assert await store.unit_by_slug("orphan") is None


async def test_report_routes_to_nearest_coordinator_and_mails_them(world: World) -> None:
    store = world.store
    result = await store.submit_report(new_report(world.units["dinas"].id, "k1"), compose)
    assert result.created
    report = await stored(store, result)
    assert report.routed_unit_id == world.units["prov"].id
    assert report.status is Status.RECEIVED
    assert [e.kind for e in report.events] == ["received", "routed"]
    # A coordinator closer to the unit takes over from then on.
    await world.user("koor@dinas.go.id", "coordinator", "dinas")
    closer = await store.submit_report(new_report(world.units["dinas"].id, "k2"), compose)
    assert (await stored(store, closer)).routed_unit_id == world.units["dinas"].id
    mail = await store.list_outbox()
    assert {(m.to_address, m.body) for m in mail} == {
        ("koor@prov.go.id", "to Pemerintah Provinsi"),
        ("koor@dinas.go.id", "to Dinas Kependudukan")}


async def test_report_without_any_coordinator_is_kept_for_admins(world: World) -> None:
    store = world.store
    lonely = await store.add_unit("lonely", "Tanpa koordinator")
    result = await store.submit_report(new_report(lonely.id, "k-lonely"), compose)
    assert (await stored(store, result)).routed_unit_id is None
    unrouted = await store.inbox(EVERYTHING, today=date(2026, 11, 23), unrouted=True)
    assert [i.id for i in unrouted.items] == [result.report_id]
    assert [m.to_address for m in await store.list_outbox()] == ["admin@prov.go.id"]


async def test_same_key_returns_same_report_different_body_conflicts(world: World) -> None:
    store = world.store
    unit_id = world.units["dinas"].id
    first = await store.submit_report(new_report(unit_id, "same"), compose)
    again = await store.submit_report(new_report(unit_id, "same"), compose)
    assert not again.created and again.tracking_code == first.tracking_code
    with pytest.raises(IdempotencyConflict) as conflict:
        await store.submit_report(new_report(unit_id, "same", text="Sesuatu yang lain sama sekali"),
                                  compose)
    assert conflict.value.tracking_code == first.tracking_code
    assert await store.count_reports() == 1


async def test_concurrent_retries_store_one_report(world: World) -> None:
    store = world.store
    unit_id = world.units["dinas"].id
    results = await asyncio.gather(*[store.submit_report(new_report(unit_id, "burst"), compose)
                                     for _ in range(12)])
    assert sum(r.created for r in results) == 1
    assert len({r.tracking_code for r in results}) == 1
    assert await store.count_reports() == 1


async def test_anonymous_report_stores_no_identity(world: World) -> None:
    submission = Submission(Kind.ASPIRATION, "Tolong tambah kursi ruang tunggu.", None,
                            Identity.ANONYMOUS, "Should not be kept", "+628111", "x@y.id")
    new = NewReport(submission=submission, channel=Channel.POSTER,
                    unit_id=world.units["dinas"].id, poster_id=None, idempotency_key="anon",
                    body_hash="h", language="id", received_at=datetime.now(UTC),
                    verify_due=date(2026, 12, 1))
    report = await stored(world.store, await world.store.submit_report(new, compose))
    assert (report.reporter_name, report.reporter_phone, report.reporter_email) == (None,) * 3


async def test_inbox_is_scoped_to_the_subtree_and_keyset_paginated(world: World) -> None:
    store = world.store
    ids = [(await store.submit_report(new_report(world.units["dinas"].id, f"p{i}"), compose))
           .report_id for i in range(5)]
    outside = await store.submit_report(new_report(world.units["other"].id, "o"), compose)
    prov = world.subtree("prov")
    today = date(2026, 11, 23)
    page1 = (await store.inbox(prov, today=today, limit=3)).items
    page2 = (await store.inbox(prov, InboxQuery(after=Cursor(page1[-1].id)), today=today,
                               limit=3)).items
    assert [i.id for i in page1 + page2] == sorted(ids, reverse=True)
    assert outside.report_id not in {i.id for i in (await store.inbox(prov, today=today)).items}
    assert await store.report_for_staff(outside.report_id, prov) is None
    assert await store.report_for_staff(ids[0], prov) is not None
    assert await store.report_for_staff(ids[0], world.subtree("other")) is None


async def test_poster_revoke_bumps_version_only_for_that_poster(world: World) -> None:
    store = world.store
    loket, igd = world.posters["loket"], world.posters["igd"]
    revoked = await store.revoke_poster(loket.id)
    assert revoked.version == loket.version + 1 and revoked.revoked_at is not None
    assert (await store.poster(igd.id)).version == igd.version  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await store.revoke_poster(99999)


async def test_outbox_claim_is_exclusive_and_expired_claims_return(world: World) -> None:
    store = world.store
    for i in range(3):
        await store.submit_report(new_report(world.units["dinas"].id, f"m{i}"), compose)
    first, second = await asyncio.gather(store.claim_outbox(10, timedelta(minutes=5)),
                                         store.claim_outbox(10, timedelta(minutes=5)))
    assert len(first) + len(second) == 3
    assert not {m.id for m in first} & {m.id for m in second}
    assert await store.claim_outbox(10, timedelta(minutes=5)) == []
    # A sender that died holding a claim: once the lease is over the row is taken again.
    crashed = await store.claim_outbox(10, timedelta(seconds=-1))
    assert crashed == []
    taken = (first + second)[0]
    assert await store.finish_outbox(taken, status="failed", error="550 no such user")
    # A sender whose claim is gone cannot overwrite the outcome.
    assert not await store.finish_outbox(taken, status="sent")
    await store.resend_outbox((first + second)[0].id)
    again = await store.claim_outbox(10, timedelta(minutes=5))
    assert [m.id for m in again] == [(first + second)[0].id]
    assert again[0].attempts == 1


async def test_sessions_expire_and_are_deleted(world: World) -> None:
    store = world.store
    user = world.users["koor@prov.go.id"]
    await store.create_session(user.id, "live", max_age=60)
    await store.create_session(user.id, "dead", max_age=-1)
    live = await store.session("live")
    assert live is not None and live.user.email == "koor@prov.go.id" and live.unit.slug == "prov"
    assert await store.session("dead") is None
    await store.delete_session("live")
    assert await store.session("live") is None


async def test_a_failing_write_does_not_break_its_batch(database: Database) -> None:
    store = Store(database)
    await store.add_unit("a", "A")
    results = await asyncio.gather(store.add_unit("b", "B"), store.add_unit("a", "dup"),
                                   store.add_unit("c", "C"), return_exceptions=True)
    assert isinstance(results[1], Duplicate)
    assert {u.slug for u in await store.list_units()} == {"a", "b", "c"}


async def test_concurrent_submissions_share_commits(world: World) -> None:
    db = world.store.db
    if not db.is_sqlite:
        pytest.skip("PostgreSQL groups commits inside the server; nothing of ours to check")
    before_batches, before_writes = db.batches_committed, db.writes_committed
    await asyncio.gather(*[world.store.submit_report(
        new_report(world.units["dinas"].id, f"g{i}"), compose) for i in range(40)])
    writes = db.writes_committed - before_writes
    batches = db.batches_committed - before_batches
    assert writes == 40 and batches < writes


async def test_concurrent_forwards_one_wins_on_both_backends(world: World) -> None:
    from complaints.workflow import Forwarding, Refusal, WorkflowError

    store = world.store
    result = await store.submit_report(new_report(world.units["dinas"].id, "race"), compose)
    coordinator = world.users["koor@prov.go.id"]

    async def forward(unit: str) -> int | Refusal:
        try:
            return await store.forward_report(
                result.report_id, seen_version=1, actor=coordinator, scope=world.subtree("prov"),
                forwarding=Forwarding("Judul", None, world.units[unit].id),
                follow_up_due=date(2026, 12, 8), compose_mail=lambda notice: ("s", "b"))
        except WorkflowError as exc:
            return exc.refusal

    outcomes = await asyncio.gather(forward("dinas"), forward("rsud"))
    assert sorted(map(str, outcomes)) == ["2", Refusal.STALE.value]
    report = await stored(store, result)
    assert report.status is Status.FORWARDED and report.version == 2
    assert [e.kind for e in report.events].count("forwarded") == 1
