"""The store's half of the conversation, on both backends: messages in and out on the report,
their delivery from the outbox and the gateway, the answer finding its report, STOP and the
block list."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from lapor.complaints.conversation import Delivery
from lapor.complaints.notices import ChangeNotice
from lapor.complaints.reports import Channel, Identity, Status
from lapor.complaints.workflow import Action
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, World
from tests.store.test_store import new_report

ADDRESS = "sms:+6281234567890"


async def sms_report(store: Store, world: World, key: str) -> tuple[int, str]:
    new = replace(
        new_report(world.units["prov"].id, key, identity=Identity.ANONYMOUS),
        channel=Channel.SMS,
        reply_address=ADDRESS,
    )
    result = await store.submit_report(new)
    return result.report_id, result.tracking_code


async def postpone(store: Store, world: World, report_id: int) -> None:
    report = await store.report_for_staff(report_id, world.scope("koor@prov.go.id"))
    assert report is not None
    await store.decide(
        report_id,
        seen_version=report.version,
        actor=world.users["koor@prov.go.id"],
        scope=world.scope("koor@prov.go.id"),
        action=Action.POSTPONE,
        reason="Di mana tepatnya kejadiannya?",
        duplicate_of=None,
    )


async def test_messages_follow_the_outbox_and_the_gateway(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    report_id, _ = await sms_report(store, world, "sms:c1")
    scope = world.scope("koor@prov.go.id")
    report = await store.report_for_staff(report_id, scope)
    assert report is not None and report.reply_channel == "sms"
    first, receipt = report.messages
    assert (first.direction, first.delivery, first.text) == ("in", None, report.text)
    assert (receipt.direction, receipt.delivery, receipt.text) == ("out", Delivery.QUEUED, None)
    # The citizen's own page has no conversation.
    public = await store.report_by_tracking_code(report.tracking_code)
    assert public is not None and public.messages == ()

    claimed_all = await store.claim_outbox(5, timedelta(minutes=1))
    [claimed] = [m for m in claimed_all if m.to_address == ADDRESS]
    await store.finish_outbox(replace(claimed, subject="SMS", body="Kode lacak"), status="sent")
    assert await store.delivery_report(claimed.id, delivered=False)
    assert not await store.delivery_report(claimed.id + 999, delivered=True)
    after = await store.report_for_staff(report_id, scope)
    assert after is not None
    assert (after.messages[1].text, after.messages[1].delivery) == (
        "Kode lacak",
        Delivery.UNDELIVERED,
    )


async def test_an_answer_finds_its_report(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    older, older_code = await sms_report(store, world, "sms:a1")
    newer, _ = await sms_report(store, world, "sms:a2")
    assert await store.answered_report(ADDRESS, []) is None  # nothing waits yet
    await postpone(store, world, older)
    await postpone(store, world, newer)
    assert await store.answered_report(ADDRESS, []) == newer
    assert await store.answered_report(ADDRESS, ["0000000000", older_code]) == older
    assert await store.answered_report("sms:+6289999999999", [older_code]) is None

    assert await store.reporter_message(
        older, channel="sms", text="Di loket 3", key="sms:answer-1"
    ) == (True, True)
    assert await store.reporter_message(
        older, channel="sms", text="Di loket 3", key="sms:answer-1"
    ) == (False, False)
    assert await store.message_seen("sms:answer-1")
    report = await store.report_by_tracking_code(older_code)
    assert report is not None and report.status is Status.RECEIVED
    assert [e.note for e in report.events if e.kind == "reporter_reply"] == ["Di loket 3"]
    # A message about a report that waits for nobody is kept, changes nothing, and the
    # coordinators are told there is something to read.
    before = report.version
    assert await store.reporter_message(
        older, channel="sms", text="Terima kasih", key="sms:answer-2"
    ) == (True, False)
    again = await store.report_by_tracking_code(older_code)
    assert again is not None and again.version == before
    told = [m.notice for m in await store.list_outbox() if m.to_address == "koor@prov.go.id"]
    assert isinstance(told[0], ChangeNotice)
    assert (told[0].event, told[0].text) == ("reporter_message", "Terima kasih")


async def test_stop_and_the_block_list(store: Store) -> None:
    await store.set_stopped(ADDRESS, True)
    await store.set_blocked(ADDRESS, True, "pesan berantai")
    assert await store.number_rules(ADDRESS) == (True, True)
    [(address, _, note)] = await store.blocked_numbers()
    assert (address, note) == (ADDRESS, "pesan berantai")
    await store.set_stopped(ADDRESS, False)
    assert await store.number_rules(ADDRESS) == (False, True)
    await store.set_blocked(ADDRESS, False)
    assert await store.number_rules(ADDRESS) == (False, False)
    assert await store.blocked_numbers() == []


async def test_a_mail_to_the_reporter_is_on_the_conversation_and_leaves_the_report(
    store: Store,
) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    new = new_report(world.units["prov"].id, "mail:1")
    new = replace(new, submission=replace(new.submission, email="sari@example.id"))
    report_id = (await store.submit_report(new)).report_id
    scope = world.scope("koor@prov.go.id")
    before = await store.report_for_staff(report_id, scope)
    assert before is not None
    words = "Jam berapa Anda datang ke loket?"
    await store.queue_reply(
        report_id, actor=world.users["koor@prov.go.id"], scope=scope, text=words
    )
    after = await store.report_for_staff(report_id, scope)
    assert after is not None
    assert (after.status, after.version, after.verify_due) == (
        before.status,
        before.version,
        before.verify_due,
    )
    [out] = after.messages
    assert (out.channel, out.direction, out.text, out.delivery) == (
        "email",
        "out",
        words,
        Delivery.QUEUED,
    )
    [mail] = [m for m in await store.claim_outbox(5, timedelta(minutes=1)) if m.id == out.outbox_id]
    assert mail.to_address == "sari@example.id"
    # Sent: the conversation keeps staff's words, not the whole mail.
    await store.finish_outbox(replace(mail, subject="S", body="Halo\n\n" + words), status="sent")
    [out] = await store.reporter_conversation(report_id)
    assert (out.text, out.delivery, out.actor_email) == (words, Delivery.SENT, None)
    # The reporter's answer on the private page, on the same conversation.
    await store.reporter_message(report_id, channel="web", text="Pukul 09.30.", key=None)
    assert [m.channel for m in await store.reporter_conversation(report_id)] == ["email", "web"]
    still = await store.report_for_staff(report_id, scope)
    assert still is not None and still.status is before.status
