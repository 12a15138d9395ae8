"""The store's half of the national portal, on both backends: one delivery per report, the
national tracking ID kept once, callbacks recorded once per event id, the unit that sends
every verified report, and the ID finding its report within the caller's scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lapor.complaints.national import NationalError, PortalEvent, Refusal
from lapor.complaints.workflow import Forwarding
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, World
from tests.store.test_store import new_report


async def forwarded(store: Store, world: World, key: str) -> int:
    result = await store.submit_report(new_report(world.units["dinas"].id, key))
    await store.forward_report(
        result.report_id,
        seen_version=1,
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        forwarding=Forwarding("Antrean", None, world.units["dinas"].id),
        follow_up_due=date(2026, 12, 4),
    )
    return result.report_id


async def deliveries(store: Store) -> list[int | None]:
    return [m.report_id for m in await store.list_outbox() if m.to_address.startswith("national:")]


async def test_one_delivery_per_report_and_its_id_kept_once(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    koor, scope = world.users["koor@prov.go.id"], world.subtree("prov")
    unverified = (await store.submit_report(new_report(world.units["dinas"].id, "n0"))).report_id
    with pytest.raises(NationalError) as refused:
        await store.send_to_national(unverified, actor=koor, scope=scope)
    assert refused.value.refusal is Refusal.NOT_VERIFIED

    report_id = await forwarded(store, world, "n1")
    await store.send_to_national(report_id, actor=koor, scope=scope)
    with pytest.raises(NationalError) as refused:
        await store.send_to_national(report_id, actor=koor, scope=scope)
    assert refused.value.refusal is Refusal.ALREADY_QUEUED
    assert await deliveries(store) == [report_id]
    [claimed] = [
        m
        for m in await store.claim_outbox(10, timedelta(minutes=1))
        if m.to_address.startswith("national:")
    ]
    assert claimed.report_id == report_id and claimed.notice is None

    await store.national_sent(report_id, "LPR-1")
    await store.national_sent(report_id, "LPR-other")  # a late second answer changes nothing
    report = await store.report_for_staff(report_id, scope)
    assert report is not None and report.national_id == "LPR-1"
    assert [e.note for e in report.events if e.kind == "national_sent"] == ["LPR-1"]
    await store.finish_outbox(claimed, status="sent", provider_id="LPR-1")
    with pytest.raises(NationalError) as refused:
        await store.send_to_national(report_id, actor=koor, scope=scope)
    assert refused.value.refusal is Refusal.ALREADY_SENT

    assert await store.report_id_for_national_id("LPR-1", scope) == report_id
    assert await store.report_id_for_national_id("LPR-1", world.subtree("other")) is None
    assert await store.national_id_taken("LPR-1")
    assert not await store.national_id_taken("LPR-2")


async def test_a_callback_lands_once_per_event_id(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    report_id = await forwarded(store, world, "n2")
    await store.national_sent(report_id, "LPR-9")
    event = PortalEvent("evt-1", "LPR-9", "closed", "Selesai di pusat")
    assert await store.national_event(event) is True
    assert await store.national_event(event) is False
    assert await store.national_event(PortalEvent("evt-2", "LPR-404", "closed", None)) is None
    odd = PortalEvent("evt-3", "LPR-9", "dialihkan", None)
    assert await store.national_event(odd) is True
    report = await store.report_by_tracking_code(
        (await store.report_for_staff(report_id, world.subtree("prov"))).tracking_code  # type: ignore[union-attr]
    )
    assert report is not None
    # The citizen's page: the closing once, the unknown status (internal) not at all.
    assert [e.kind for e in report.events if e.kind.startswith("national_")] == [
        "national_sent",
        "national_closed",
    ]


async def test_a_unit_that_sends_every_verified_report(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    unit = await store.set_unit_sends_national(world.units["prov"].id, True)
    assert unit.sends_national
    assert (await store.unit(world.units["prov"].id)).sends_national  # type: ignore[union-attr]
    report_id = await forwarded(store, world, "n3")  # its unit, dinas, is under the province
    assert await deliveries(store) == [report_id]
    await store.set_unit_sends_national(world.units["prov"].id, False)
    await forwarded(store, world, "n4")
    assert await deliveries(store) == [report_id]
