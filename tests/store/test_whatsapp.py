"""The store's half of the WhatsApp channel, on both backends: a message is one row however
often Meta delivers it, a sender's messages are claimed as one batch once the sender is quiet,
the 24-hour window reads Meta's own times, and delivery statuses land on the outbox row
without ever going back."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lapor.complaints.notices import SmsNotice
from lapor.complaints.reports import Channel
from lapor.complaints.whatsapp import Inbound, Status
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, World
from tests.store.test_store import new_report

NUMBER = "+6281234567890"
OTHER = "+6281399990000"


def inbound(
    wamid: str, phone: str = NUMBER, sent: datetime | None = None, **fields: str
) -> Inbound:
    return Inbound(wamid, phone, fields.pop("kind", "text"), sent or datetime.now(UTC), **fields)


async def test_one_row_per_message_whoever_delivers_it(store: Store) -> None:
    messages = [
        inbound("wamid.a", text="jalan rusak"),
        inbound("wamid.b", kind="image", media_id="9"),
    ]
    # Two deliveries of the same messages at once: the unique id, not a look-up, decides.
    counts = await asyncio.gather(store.record_whatsapp(messages), store.record_whatsapp(messages))
    assert sorted(counts) == [0, 2]
    assert await store.whatsapp_known(["wamid.a", "wamid.b", "wamid.c"]) == {"wamid.a", "wamid.b"}


async def test_a_quiet_senders_messages_are_one_batch(store: Store) -> None:
    earlier = datetime.now(UTC) - timedelta(hours=2)
    await store.record_whatsapp(
        [
            inbound("wamid.2", sent=earlier + timedelta(seconds=5), kind="image", media_id="9"),
            inbound("wamid.1", sent=earlier, text="jalan rusak di depan pasar"),
            inbound("wamid.9", phone=OTHER, text="lampu mati"),
        ]
    )
    # Within the quiet time nobody is due.
    assert await store.claim_whatsapp(timedelta(minutes=5), timedelta(minutes=5)) is None
    first = await store.claim_whatsapp(timedelta(0), timedelta(minutes=5))
    assert first is not None and first.phone == NUMBER
    assert [m.wamid for m in first.messages] == ["wamid.1", "wamid.2"]
    assert first.messages[1].media_id == "9" and first.attempts == 1
    second = await store.claim_whatsapp(timedelta(0), timedelta(minutes=5))
    assert second is not None and second.phone == OTHER
    assert await store.claim_whatsapp(timedelta(0), timedelta(minutes=5)) is None
    await store.finish_whatsapp(first, status="help")
    # A claim that ran out (a worker killed mid-batch) is taken again, by another claimant.
    await store.release_whatsapp(second, error="Graph API unreachable", delay=timedelta(0))
    again = await store.claim_whatsapp(timedelta(0), timedelta(minutes=5))
    assert again is not None and again.phone == OTHER and again.attempts == 2
    # The first claimant's late outcome does not overwrite the second's claim.
    await store.finish_whatsapp(second, status="ignored")
    assert await store.claim_whatsapp(timedelta(0), timedelta(minutes=5)) is None
    await store.finish_whatsapp(again, status="help")
    assert await store.whatsapp_last_inbound(NUMBER) == earlier + timedelta(seconds=5)
    assert await store.whatsapp_last_inbound("+62811") is None


async def test_a_batch_being_made_a_report_keeps_its_claim_while_renewed(store: Store) -> None:
    await store.record_whatsapp([inbound("wamid.r", text="jalan rusak di depan pasar")])
    held = await store.claim_whatsapp(timedelta(0), timedelta(seconds=-1))
    assert held is not None
    # Renewed by its runner's heartbeat: nobody else takes it, though its first lease ran out.
    assert await store.renew_whatsapp(held, timedelta(minutes=5))
    assert await store.claim_whatsapp(timedelta(0), timedelta(minutes=5)) is None
    # Its runner died: the lease runs out unrenewed, another takes the batch over, and the
    # first runner's late heartbeat finds the claim gone.
    await store.renew_whatsapp(held, timedelta(seconds=-1))
    taken = await store.claim_whatsapp(timedelta(0), timedelta(minutes=5))
    assert taken is not None and taken.attempts == 2
    assert not await store.renew_whatsapp(held, timedelta(minutes=5))


async def test_statuses_on_the_outbox_row(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    new = replace(
        new_report(world.units["dinas"].id, "wa:k1"),
        channel=Channel.WHATSAPP,
        reply_address="whatsapp:" + NUMBER,
    )
    first = await store.submit_report(new)
    [row] = [m for m in await store.list_outbox() if m.to_address.startswith("whatsapp:")]
    assert row.to_address == "whatsapp:" + NUMBER and row.notice == SmsNotice(
        "receipt", "id", report_id=first.report_id, tracking_code=first.tracking_code
    )
    [claimed] = [m for m in await store.claim_outbox(10, timedelta(minutes=1)) if m.id == row.id]
    await store.finish_outbox(claimed, status="sent", provider_id="wamid.out")
    at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert await store.record_whatsapp_statuses([Status("wamid.out", "read", at)]) == 1
    assert (
        await store.record_whatsapp_statuses(
            [Status("wamid.out", "delivered", at), Status("wamid.other", "read", at)]
        )
        == 1
    )
    [row] = [m for m in await store.list_outbox() if m.id == row.id]
    assert (row.provider_id, row.delivery, row.delivery_at) == ("wamid.out", "read", at)
    await store.record_whatsapp_statuses([Status("wamid.out", "failed", at, "131026 x")])
    [row] = [m for m in await store.list_outbox() if m.id == row.id]
    assert row.delivery == "failed" and row.last_error == "WhatsApp: 131026 x"


async def test_handled_messages_are_forgotten_after_a_while(store: Store) -> None:
    await store.record_whatsapp([inbound("wamid.old", text="x"), inbound("wamid.wait", OTHER)])
    claimed = await store.claim_whatsapp(timedelta(0), timedelta(minutes=5))
    assert claimed is not None
    await store.finish_whatsapp(claimed, status="help")
    assert await store.forget_whatsapp(timedelta(days=30)) == 0
    # Handled ones go; one still waiting for its batch stays, however old.
    assert await store.forget_whatsapp(timedelta(seconds=-60)) == 1
    assert await store.whatsapp_known(["wamid.old", "wamid.wait"]) == {
        "wamid.wait" if claimed.phone == NUMBER else "wamid.old"
    }


async def test_two_workers_never_claim_one_batch_twice(store: Store) -> None:
    await store.record_whatsapp([inbound(f"wamid.c{i}", text="x") for i in range(3)])
    claims = await asyncio.gather(
        *(store.claim_whatsapp(timedelta(0), timedelta(minutes=5)) for _ in range(4))
    )
    taken = [c for c in claims if c is not None]
    assert len(taken) == 1 and len(taken[0].messages) == 3
