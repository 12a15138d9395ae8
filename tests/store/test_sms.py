"""The store's half of the SMS channel, on both backends: the receipt is queued in the
report's transaction, once, and a help reply stands alone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lapor.complaints.notices import SmsNotice
from lapor.complaints.reports import Channel, Identity
from lapor.store.errors import Duplicate
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, World
from tests.store.test_store import new_report


async def test_receipt_is_queued_with_the_report_once(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    new = replace(
        new_report(world.units["dinas"].id, "sms:k1", identity=Identity.ANONYMOUS),
        channel=Channel.SMS,
        reply_address="sms:+6281234567890",
        text_cut=True,
    )
    first = await store.submit_report(new)
    again = await store.submit_report(new)
    assert first.created and not again.created
    [row] = [m for m in await store.list_outbox() if m.to_address.startswith("sms:")]
    assert row.to_address == "sms:+6281234567890" and row.report_id == first.report_id
    assert row.notice == SmsNotice(
        "receipt", "id", report_id=first.report_id, tracking_code=first.tracking_code, cut=True
    )
    report = await store.report_by_tracking_code(first.tracking_code)
    assert report is not None and report.reporter_phone is None
    assert await store.submitted("sms:k1") and not await store.submitted("sms:k2")


async def test_help_reply_stands_alone_and_unit_words_are_unique(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    await store.queue_to("sms:+6281234567890", SmsNotice("help", "id", keyword="LAPOR"))
    [row] = await store.list_outbox()
    assert row.report_id is None and row.notice == SmsNotice("help", "id", keyword="LAPOR")
    unit = await store.set_unit_sms_word("rsud", "RSUD")
    assert unit.sms_word == "RSUD" and unit.id == world.units["rsud"].id
    assert {u.slug: u.sms_word for u in await store.list_units()}["rsud"] == "RSUD"
    with pytest.raises(Duplicate, match="already names"):
        await store.set_unit_sms_word("dinas", "RSUD")
