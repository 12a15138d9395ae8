"""Store behaviour on both backends (the `database` fixture runs SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from lapor.complaints.inbox import Cursor, InboxQuery
from lapor.complaints.notices import Notice
from lapor.complaints.records import NewReport, Report, SubmitResult
from lapor.complaints.reports import Channel, Identity, Kind, Status, Submission
from lapor.store.db import Database
from lapor.store.errors import Duplicate, IdempotencyConflict, InUse, NotFound
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import EVERYTHING, TEST_KEY, World


def new_report(
    unit_id: int,
    key: str,
    *,
    text: str = "Pelayanan lambat sekali hari ini.",
    identity: Identity = Identity.NAMED,
    poster_id: int | None = None,
) -> NewReport:
    named = identity is not Identity.ANONYMOUS
    submission = Submission(
        Kind.COMPLAINT,
        text,
        None,
        identity,
        "Siti" if named else None,
        "+6281234567890" if named else None,
        None,
    )
    return NewReport(
        submission=submission,
        channel=Channel.POSTER,
        unit_id=unit_id,
        poster_id=poster_id,
        idempotency_key=key,
        body_hash=submission.body_hash(),
        language="id",
        received_at=datetime.now(UTC),
        verify_due=date(2026, 12, 1),
    )


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
    result = await store.submit_report(new_report(world.units["dinas"].id, "k1"))
    assert result.created
    report = await stored(store, result)
    assert report.routed_unit_id == world.units["prov"].id
    assert report.status is Status.RECEIVED
    assert [e.kind for e in report.events] == ["received", "routed"]
    # A coordinator closer to the unit takes over from then on.
    await world.user("koor@dinas.go.id", "coordinator", "dinas")
    closer = await store.submit_report(new_report(world.units["dinas"].id, "k2"))
    assert (await stored(store, closer)).routed_unit_id == world.units["dinas"].id
    mail = await store.list_outbox()
    # The rows keep what the mail is about; the sender chooses the words (jobs/mail.py).
    notices = {m.to_address: m.notice for m in mail}
    assert {a: (type(n), n.tracking_code) for a, n in notices.items() if n} == {
        "koor@prov.go.id": (Notice, result.tracking_code),
        "koor@dinas.go.id": (Notice, closer.tracking_code),
    }
    assert {getattr(n, "routed_unit_name", None) for n in notices.values()} == {
        "Pemerintah Provinsi",
        "Dinas Kependudukan",
    }
    assert all(m.subject is None and m.body is None for m in mail)


async def test_report_without_any_coordinator_is_kept_for_admins(world: World) -> None:
    store = world.store
    lonely = await store.add_unit("lonely", "Tanpa koordinator")
    result = await store.submit_report(new_report(lonely.id, "k-lonely"))
    assert (await stored(store, result)).routed_unit_id is None
    unrouted = await store.inbox(EVERYTHING, today=date(2026, 11, 23), unrouted=True)
    assert [i.id for i in unrouted.items] == [result.report_id]
    assert [m.to_address for m in await store.list_outbox()] == ["admin@prov.go.id"]


async def test_same_key_returns_same_report_different_body_conflicts(world: World) -> None:
    store = world.store
    unit_id = world.units["dinas"].id
    first = await store.submit_report(new_report(unit_id, "same"))
    again = await store.submit_report(new_report(unit_id, "same"))
    assert not again.created and again.tracking_code == first.tracking_code
    with pytest.raises(IdempotencyConflict) as conflict:
        await store.submit_report(new_report(unit_id, "same", text="Sesuatu yang lain sama sekali"))
    assert conflict.value.tracking_code == first.tracking_code
    assert await store.count_reports() == 1


async def test_concurrent_retries_store_one_report(world: World) -> None:
    store = world.store
    unit_id = world.units["dinas"].id
    results = await asyncio.gather(
        *[store.submit_report(new_report(unit_id, "burst")) for _ in range(12)]
    )
    assert sum(r.created for r in results) == 1
    assert len({r.tracking_code for r in results}) == 1
    assert await store.count_reports() == 1


async def test_anonymous_report_stores_no_identity(world: World) -> None:
    submission = Submission(
        Kind.ASPIRATION,
        "Tolong tambah kursi ruang tunggu.",
        None,
        Identity.ANONYMOUS,
        "Should not be kept",
        "+628111",
        "x@y.id",
    )
    new = NewReport(
        submission=submission,
        channel=Channel.POSTER,
        unit_id=world.units["dinas"].id,
        poster_id=None,
        idempotency_key="anon",
        body_hash="h",
        language="id",
        received_at=datetime.now(UTC),
        verify_due=date(2026, 12, 1),
    )
    report = await stored(world.store, await world.store.submit_report(new))
    assert (report.reporter_name, report.reporter_phone, report.reporter_email) == (None,) * 3


async def test_inbox_is_scoped_to_the_subtree_and_keyset_paginated(world: World) -> None:
    store = world.store
    ids = [
        (await store.submit_report(new_report(world.units["dinas"].id, f"p{i}"))).report_id
        for i in range(5)
    ]
    outside = await store.submit_report(new_report(world.units["other"].id, "o"))
    prov = world.subtree("prov")
    today = date(2026, 11, 23)
    page1 = (await store.inbox(prov, today=today, limit=3)).items
    page2 = (
        await store.inbox(prov, InboxQuery(after=Cursor(page1[-1].id)), today=today, limit=3)
    ).items
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


async def test_unit_summaries_count_staff_posters_and_sub_units(world: World) -> None:
    store = world.store
    gone = await world.user("gone@dinas.go.id", "officer", "dinas")
    await store.set_user_active(gone.id, False)
    summaries = {s.unit.slug: s for s in await store.unit_summaries()}
    assert [s.unit.slug for s in await store.unit_summaries()] == [
        u.slug for u in await store.list_units()
    ]  # tree order
    assert (summaries["prov"].staff, summaries["prov"].posters, summaries["prov"].children) == (
        3,
        0,
        2,
    )
    assert (summaries["dinas"].staff, summaries["dinas"].inactive, summaries["dinas"].posters) == (
        0,
        1,
        1,
    )
    assert not summaries["dinas"].empty
    fresh = await store.add_unit("fresh", "Fresh", "rsud")
    assert next(s for s in await store.unit_summaries() if s.unit.id == fresh.id).empty


async def test_rename_unit_keeps_slug_and_path(world: World) -> None:
    store = world.store
    dinas = world.units["dinas"]
    renamed = await store.rename_unit(dinas.id, "Disdukcapil")
    assert (renamed.name, renamed.slug, renamed.path) == ("Disdukcapil", "dinas", dinas.path)
    assert (await store.unit(dinas.id)) == renamed
    with pytest.raises(NotFound):
        await store.rename_unit(99999, "X")


async def test_only_units_nothing_refers_to_can_be_deleted(world: World) -> None:
    store = world.store
    empty = await store.add_unit("empty", "Empty", "rsud")
    await store.delete_unit(empty.id)
    assert await store.unit(empty.id) is None
    with pytest.raises(NotFound):
        await store.delete_unit(empty.id)
    for slug in ("prov", "dinas", "other"):  # sub-units; a poster; a coordinator
        with pytest.raises(InUse):
            await store.delete_unit(world.units[slug].id)
    # A report taken without a poster still ties its unit down: its history names it.
    desk = await store.add_unit("desk", "Front desk", "prov")
    await store.submit_report(new_report(desk.id, "desk"))
    with pytest.raises(InUse):
        await store.delete_unit(desk.id)
    assert await store.unit(desk.id) is not None
    # So does anything added to the schema later that points at a unit, such as a template.
    from lapor.complaints.workflow import AnswerTemplateDraft

    kept = await store.add_unit("kept", "Keeps a template", "prov")
    await store.save_answer_template(
        None,
        AnswerTemplateDraft(kept.id, None, "Terima kasih", "Terima kasih atas laporan."),
        world.users["koor@prov.go.id"],
        [kept.id],
    )
    with pytest.raises(InUse):
        await store.delete_unit(kept.id)


async def test_deactivation_ends_sessions_and_reactivation_revives_none(world: World) -> None:
    store = world.store
    koor = world.users["koor@prov.go.id"]
    await store.create_session(koor.id, "koor-session", max_age=60)
    assert (await store.set_user_active(koor.id, False)).active is False
    assert await store.session("koor-session") is None
    assert (await store.set_user_active(koor.id, True)).active is True
    assert await store.session("koor-session") is None  # the cookie stays dead
    assert (await store.user(koor.id)).active  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await store.set_user_active(99999, False)


async def test_password_reset_ends_every_session_but_the_one_kept(world: World) -> None:
    store = world.store
    koor = world.users["koor@prov.go.id"]
    for token in ("a", "b", "c"):
        await store.create_session(koor.id, f"reset-{token}", max_age=60)
    admin = world.users["admin@prov.go.id"]
    await store.create_session(admin.id, "admin-session", max_age=60)
    user = await store.reset_password(koor.id, "new-hash", keep_token_hash="reset-b")
    assert user.password_hash == "new-hash"
    assert [await store.session(f"reset-{t}") is not None for t in "abc"] == [False, True, False]
    await store.reset_password(koor.id, "newer-hash")
    assert await store.session("reset-b") is None
    assert await store.session("admin-session") is not None  # nobody else's
    with pytest.raises(NotFound):
        await store.reset_password(99999, "x")


async def test_users_and_posters_need_an_existing_unit(world: World) -> None:
    with pytest.raises(NotFound):
        await world.store.add_user("x@y.go.id", "hash", "officer", 99999)
    with pytest.raises(NotFound):
        await world.store.add_poster(99999, "Loket")


async def test_outbox_claim_is_exclusive_and_expired_claims_return(world: World) -> None:
    store = world.store
    for i in range(3):
        await store.submit_report(new_report(world.units["dinas"].id, f"m{i}"))
    first, second = await asyncio.gather(
        store.claim_outbox(10, timedelta(minutes=5)), store.claim_outbox(10, timedelta(minutes=5))
    )
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
    results = await asyncio.gather(
        store.add_unit("b", "B"),
        store.add_unit("a", "dup"),
        store.add_unit("c", "C"),
        return_exceptions=True,
    )
    assert isinstance(results[1], Duplicate)
    assert {u.slug for u in await store.list_units()} == {"a", "b", "c"}


async def test_a_write_failing_halfway_leaves_nothing_and_its_batch_whole(
    database: Database,
) -> None:
    """Each write of a group commit is its own savepoint: what a failing one wrote before it
    failed is undone, its neighbours in the same commit are kept."""
    from sqlalchemy import Connection, insert, select

    from lapor.store import schema as t

    def unit(slug: str, fail: bool = False) -> Callable[[Connection], str]:
        def write(conn: Connection) -> str:
            conn.execute(
                insert(t.units).values(slug=slug, name=slug, path="/", created_at=datetime.now(UTC))
            )
            if fail:
                raise RuntimeError("halfway")
            return slug

        return write

    results = await asyncio.gather(
        database.write(unit("x1")),
        database.write(unit("x2", fail=True)),
        database.write(unit("x3")),
        database.write(unit("x4", fail=True)),
        return_exceptions=True,
    )
    assert [str(r) for r in results] == ["x1", "halfway", "x3", "halfway"]
    slugs = await database.read(lambda c: set(c.execute(select(t.units.c.slug)).scalars()))
    assert slugs == {"x1", "x3"}


async def test_concurrent_submissions_share_commits(world: World) -> None:
    db = world.store.db
    if not db.is_sqlite:
        pytest.skip("PostgreSQL groups commits inside the server; nothing of ours to check")
    before_batches, before_writes = db.batches_committed, db.writes_committed
    await asyncio.gather(
        *[
            world.store.submit_report(new_report(world.units["dinas"].id, f"g{i}"))
            for i in range(40)
        ]
    )
    writes = db.writes_committed - before_writes
    batches = db.batches_committed - before_batches
    assert writes == 40 and batches < writes


async def test_concurrent_forwards_one_wins_on_both_backends(world: World) -> None:
    from lapor.complaints.workflow import Forwarding, Refusal, WorkflowError

    store = world.store
    result = await store.submit_report(new_report(world.units["dinas"].id, "race"))
    coordinator = world.users["koor@prov.go.id"]

    async def forward(unit: str) -> int | Refusal:
        try:
            return await store.forward_report(
                result.report_id,
                seen_version=1,
                actor=coordinator,
                scope=world.subtree("prov"),
                forwarding=Forwarding("Judul", None, world.units[unit].id),
                follow_up_due=date(2026, 12, 8),
            )
        except WorkflowError as exc:
            return exc.refusal

    outcomes = await asyncio.gather(forward("dinas"), forward("rsud"))
    assert sorted(map(str, outcomes)) == ["2", Refusal.STALE.value]
    report = await stored(store, result)
    assert report.status is Status.FORWARDED and report.version == 2
    assert [e.kind for e in report.events].count("forwarded") == 1


async def test_each_reminder_is_queued_once_even_by_two_processes(world: World) -> None:
    from lapor.complaints.notices import ReminderNotice
    from lapor.complaints.reminders import Reminder

    store = world.store
    today = date(2026, 11, 30)

    def reminded(kind: Reminder) -> list[Any]:
        return [
            m
            for m in mail_now
            if isinstance(m.notice, ReminderNotice) and m.notice.reminder is kind
        ]

    for key in ("r1", "r2"):
        await store.submit_report(new_report(world.units["dinas"].id, key))
    rounds = await asyncio.gather(
        *[
            store.queue_reminders(
                today=today,
                soon_until=date(2026, 12, 1),
                limit=100,
                flag_received_before=datetime(2000, 1, 1, tzinfo=UTC),
            )
            for _ in range(3)
        ]
    )
    assert sum(rounds) == 2
    mail_now = await store.list_outbox()
    mail = reminded(Reminder.DUE_SOON)
    assert sorted(m.to_address for m in mail) == ["koor@prov.go.id"] * 2
    # A day after the deadline: the coordinator hears once more, that it was missed.
    missed = await store.queue_reminders(
        today=date(2026, 12, 2),
        soon_until=date(2026, 12, 3),
        limit=100,
        flag_received_before=datetime(2000, 1, 1, tzinfo=UTC),
    )
    assert missed == 2
    mail_now = await store.list_outbox()
    overdue = reminded(Reminder.OVERDUE)
    assert len(overdue) == 2 and {m.notice.due_on for m in overdue} == {date(2026, 12, 1)}


async def test_the_reporters_own_text_outlives_redactions(world: World) -> None:
    from lapor.complaints.workflow import Redaction

    store = world.store
    typed = "Saya Budi NIK 3201234567890001 menunggu empat jam di loket."
    result = await store.submit_report(new_report(world.units["dinas"].id, "k-sent", text=typed))
    assert await store.sent_text(result.report_id) is None  # never redacted
    coordinator = world.users["koor@prov.go.id"]
    scope = world.scope("koor@prov.go.id")
    version = await store.redact_report(
        result.report_id,
        seen_version=1,
        actor=coordinator,
        scope=scope,
        redaction=Redaction("Pelapor menunggu empat jam di loket.", frozenset()),
    )
    await store.redact_report(
        result.report_id,
        seen_version=version,
        actor=coordinator,
        scope=scope,
        redaction=Redaction("Pelapor menunggu lama di loket.", frozenset()),
    )
    # The first redaction kept what the reporter typed; later ones only earlier redactions.
    assert await store.sent_text(result.report_id) == typed
    assert (await stored(store, result)).text == "Pelapor menunggu lama di loket."
