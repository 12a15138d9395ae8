"""Open311's store functions on both backends: API keys, and the public listing and its updates
under the privacy rules (verified, not confidential), its filters and its order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from lapor.complaints import open311 as rules
from lapor.complaints.records import NewReport
from lapor.complaints.reports import Channel, Identity, Kind, Status, Submission
from lapor.complaints.workflow import Action, Forwarding
from lapor.store.errors import NotFound, StoreError
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, World

RECEIVED = datetime(2026, 11, 20, 3, tzinfo=UTC)


@pytest.fixture
async def world(store: Store) -> World:
    return await World(store, Signing([TEST_KEY])).standard()


async def filed(
    world: World, key: str, *, identity: Identity = Identity.NAMED, category: str = "pajak"
) -> tuple[int, str]:
    submission = Submission(
        Kind.COMPLAINT,
        "Retribusi pasar dipungut dua kali oleh petugas.",
        "Pasar Lama",
        identity,
        None if identity is Identity.ANONYMOUS else "Siti",
        None if identity is Identity.ANONYMOUS else "+6281234567890",
        None,
    )
    result = await world.store.submit_report(
        NewReport(
            submission=submission,
            channel=Channel.API,
            unit_id=world.units["prov"].id,
            poster_id=None,
            idempotency_key=key,
            body_hash=submission.body_hash(),
            language="id",
            received_at=RECEIVED,
            verify_due=date(2026, 11, 25),
            api_key_id=1,
            api_client="FixMyStreet",
            category=category,
            latitude=-3.3194,
            longitude=114.5908,
            media_url="https://fms.example.org/p/1.jpg",
        )
    )
    return result.report_id, result.tracking_code


async def forward(world: World, report_id: int, category: str | None = "pajak") -> None:
    await world.store.forward_report(
        report_id,
        seen_version=1,
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        forwarding=Forwarding("Pungutan ganda", None, world.units["dinas"].id, category),
        follow_up_due=date(2026, 12, 4),
    )


async def test_keys_are_found_by_hash_until_revoked(world: World) -> None:
    store = world.store
    key = await store.add_api_key("FixMyStreet", rules.api_key_hash("k1"))
    assert (await store.active_api_key(rules.api_key_hash("k1"))) == key
    assert await store.active_api_key(rules.api_key_hash("k2")) is None
    await store.api_key_used(key.id)
    revoked = await store.revoke_api_key(key.id)
    assert revoked.revoked_at is not None and revoked.last_used_at is not None
    assert await store.active_api_key(rules.api_key_hash("k1")) is None
    with pytest.raises(StoreError, match="already revoked"):
        await store.revoke_api_key(key.id)
    with pytest.raises(NotFound):
        await store.revoke_api_key(999)
    newer = await store.add_api_key("City app", rules.api_key_hash("k3"))
    assert [k.id for k in await store.list_api_keys()] == [newer.id, key.id]


async def test_the_public_listing_keeps_to_its_rules(world: World) -> None:
    store = world.store
    _, waiting_code = await filed(world, "a")
    public, public_code = await filed(world, "b")
    secret, _ = await filed(world, "c", identity=Identity.CONFIDENTIAL)
    spam, _ = await filed(world, "d")
    unfiled, unfiled_code = await filed(world, "e", category="kesehatan")
    await forward(world, public)
    await forward(world, secret)
    await forward(world, unfiled, category=None)
    await store.decide(
        spam,
        seen_version=1,
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        action=Action.ARCHIVE,
        reason="Iklan.",
        duplicate_of=None,
    )
    listed = await store.public_reports()
    assert [r.tracking_code for r in listed] == [unfiled_code, public_code]
    report = listed[1]
    assert report.status is Status.FORWARDED and report.unit_name == "Dinas Kependudukan"
    assert (report.latitude, report.longitude) == (-3.3194, 114.5908)
    assert report.location == "Pasar Lama" and report.due_on == date(2026, 12, 4)
    assert report.status_note == "Dinas Kependudukan"
    assert not hasattr(report, "reporter_name")
    assert [r.id for r in await store.public_reports(categories=["pajak"])] == [public]
    assert [r.id for r in await store.public_reports(categories=["lainnya"])] == [unfiled]
    assert await store.public_reports(statuses=[Status.CLOSED]) == []
    assert await store.public_reports(start=RECEIVED + timedelta(seconds=1)) == []
    assert len(await store.public_reports(end=RECEIVED)) == 2
    assert [r.id for r in await store.public_reports(offset=1, limit=1)] == [public]
    everything = await store.public_reports(codes=[])
    assert len(everything) == 2
    asked = await store.public_reports(codes=[waiting_code, public_code])
    assert [r.id for r in asked] == [public]
    updates = await store.public_updates(
        start=RECEIVED - timedelta(days=1), end=datetime.now(UTC) + timedelta(days=1)
    )
    assert {u.tracking_code for u in updates} == {public_code, unfiled_code}
    assert {u.kind for u in updates} == {"forwarded"}
    assert all(u.to_status is Status.FORWARDED for u in updates)
