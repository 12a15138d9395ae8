"""The admin's kiosk page: add (the pairing code shown once, and it pairs), a new code, the
heartbeat figures in the list, revoke after a confirmation that warns about unsent reports;
bad input changes nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from lapor.complaints.kiosk import Heartbeat
from tests.admin.test_manage import ADMIN, alert, notice, post
from tests.admin.test_workflow import signed_in, soup
from tests.conftest import AppHarness, MakeHarness
from tests.html import tag


@pytest.fixture
async def admin(harness: AppHarness) -> AppHarness:
    await signed_in(harness, ADMIN)
    return harness


def kiosks(harness: AppHarness) -> list[tuple[object, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(
            "SELECT id, unit_id, name, revoked_at IS NOT NULL FROM kiosks ORDER BY id"
        ).fetchall()


async def test_add_a_kiosk_and_pair_it_with_the_code_shown(admin: AppHarness) -> None:
    prov = admin.world.units["prov"]
    response = await post(admin, "/admin/kiosks", unit=str(prov.id), name="  Lantai  1 ")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert kiosks(admin) == [(1, prov.id, "Lantai 1", 0)]
    code = soup(response).find(id="pairing-code")
    assert code is not None
    digits = code.get_text().replace(" ", "")
    assert len(digits) == 6
    assert "/kiosk" in response.text
    paired = await admin.client.post("/kiosk/api/pair", json={"code": digits})
    assert paired.status_code == 200
    # A new code for the same kiosk (a replaced tablet).
    again = await post(admin, "/admin/kiosks/1/pair")
    assert again.status_code == 200
    fresh = soup(again).find(id="pairing-code")
    assert fresh is not None and fresh.get_text().replace(" ", "") != ""


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "Lantai 1"}, "unit"),
        ({"unit": "999", "name": "Lantai 1"}, "unit"),
        ({"unit": "1", "name": "   "}, "name"),
        ({"unit": "1", "name": "x" * 121}, "name"),
    ],
)
async def test_bad_kiosks_are_refused(
    admin: AppHarness, fields: dict[str, str], problem: str
) -> None:
    response = await post(admin, "/admin/kiosks", **fields)
    assert response.status_code == 400
    assert alert(soup(response))
    assert tag(soup(response).find(id=problem)).get("aria-invalid") == "true"
    assert kiosks(admin) == []


async def test_the_list_shows_heartbeats_and_revoking_warns_of_the_queue(admin: AppHarness) -> None:
    store = admin.app.state.services.store.kiosks
    kiosk, _ = await store.add(admin.world.units["prov"].id, "Lantai 2", datetime.now(UTC))
    await store.heartbeat(
        kiosk.id,
        Heartbeat(
            online=True,
            queue_length=3,
            oldest_queued_at=datetime.now(UTC) - timedelta(hours=1),
            app_version="abc123def456",
            storage_persistent=True,
            clock_offset_ms=-2500,
        ),
        datetime.now(UTC),
    )
    page = soup(await admin.client.get("/admin/kiosks"))
    row = page.find(id=f"kiosk-{kiosk.id}")
    assert row is not None
    text = " ".join(row.get_text().split())
    for expected in ("Lantai 2", "abc123def456", "2,5 detik lebih lambat", "3"):
        assert expected in text
    confirm = await admin.client.get(f"/admin/kiosks/{kiosk.id}/revoke")
    assert "3" in " ".join(soup(confirm).get_text().split())
    response = await post(admin, f"/admin/kiosks/{kiosk.id}/revoke")
    assert response.status_code == 303
    assert "Lantai 2" in notice(soup(await admin.client.get(response.headers["location"])))
    assert kiosks(admin) == [(kiosk.id, admin.world.units["prov"].id, "Lantai 2", 1)]
    # A revoked kiosk gets no new code.
    assert (await post(admin, f"/admin/kiosks/{kiosk.id}/pair")).status_code == 409


async def test_strangers_guessing_codes_cannot_stop_the_admin_pairing_a_kiosk(
    make_harness: MakeHarness,
) -> None:
    """The attack that worked: guesses from many addresses filled the one global bucket, and a
    freshly issued code was refused for an hour. Now the admin is handed a ten-digit code."""
    async with make_harness(kiosk_pair_limit="3/hour") as harness:
        await signed_in(harness, ADMIN)
        first = await post(
            harness, "/admin/kiosks", unit=str(harness.world.units["prov"].id), name="A"
        )
        short = tag(soup(first).find(id="pairing-code")).get_text().replace(" ", "")
        assert len(short) == 6
        for n in range(3):
            transport = httpx.ASGITransport(app=harness.app, client=(f"203.0.113.{n + 1}", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="https://x.example") as c:
                wrong = "000000" if short != "000000" else "111111"
                await c.post("/kiosk/api/pair", json={"code": wrong})
        assert (
            await harness.client.post("/kiosk/api/pair", json={"code": short})
        ).status_code == 429
        again = await post(harness, "/admin/kiosks/1/pair")
        shown = tag(soup(again).find(id="pairing-code")).get_text()
        assert len(shown.replace(" ", "")) == 10 and shown.count(" ") == 2
        assert "sepuluh angka" in again.text
        paired = await harness.client.post("/kiosk/api/pair", json={"code": shown})
        assert paired.status_code == 200


async def test_a_kiosk_over_its_sending_limit_is_marked_in_the_list(admin: AppHarness) -> None:
    store = admin.app.state.services.store.kiosks
    hall = admin.world.units["prov"].id
    kiosk, _ = await store.add(hall, "Lantai 2", datetime.now(UTC))
    calm, _ = await store.add(hall, "Lantai 3", datetime.now(UTC))
    for minute in (5, 12):  # 10:05 and 10:12 in Makassar
        await store.note_limited(kiosk.id, datetime(2026, 12, 2, 2, minute, tzinfo=UTC))
    page = soup(await admin.client.get("/admin/kiosks"))
    warning = tag(page.find(id=f"kiosk-{kiosk.id}-limited"), "the limit's warning")
    assert tag(warning.find_parent("tr")).get("id") == f"kiosk-{kiosk.id}"
    text = " ".join(warning.get_text().split())
    assert "Melewati batas kirim dalam 2 menit" in text, text
    assert "2 Des" in text and "10.12" in text, text
    assert "kode pemasangan baru" in text, text
    assert page.find(id=f"kiosk-{calm.id}-limited") is None
    english = soup(await admin.client.get("/admin/kiosks", params={"lang": "en"}))
    text = " ".join(tag(english.find(id=f"kiosk-{kiosk.id}-limited")).get_text().split())
    assert "Over its sending limit in 2 minute(s)" in text, text
