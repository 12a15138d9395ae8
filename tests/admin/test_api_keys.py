"""The admin's API key page: a key per Open311 client, shown once and stored hashed, revoked
after a confirmation; the client's name on the reports it files; bad input changes nothing."""

from __future__ import annotations

import sqlite3

import pytest

from lapor.complaints import open311 as rules
from tests.admin.test_manage import ADMIN, notice, post
from tests.admin.test_workflow import signed_in, soup
from tests.conftest import AppHarness
from tests.html import tag

TEXT = "Jembatan gantung di desa kami putus talinya, anak sekolah memutar jauh."


@pytest.fixture
async def admin(harness: AppHarness) -> AppHarness:
    await signed_in(harness, ADMIN)
    return harness


def stored(harness: AppHarness) -> list[tuple[object, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(
            "SELECT id, name, key_hash, revoked_at IS NOT NULL FROM api_keys ORDER BY id"
        ).fetchall()


async def test_a_key_is_shown_once_and_kept_only_as_its_hash(admin: AppHarness) -> None:
    response = await post(admin, "/admin/api-keys", name="  FixMyStreet\tBanjarmasin ")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("no-store")
    page = soup(response)
    key = tag(page.find(id="api-key")).get_text()
    assert key.startswith(rules.KEY_PREFIX)
    assert "FixMyStreet Banjarmasin" in page.get_text(" ")
    [(key_id, name, key_hash, revoked)] = stored(admin)
    assert (name, key_hash, revoked) == ("FixMyStreet Banjarmasin", rules.api_key_hash(key), 0)
    assert key not in (admin.settings.data_dir / "lapor.db").read_bytes().decode("latin-1")
    listing = soup(await admin.client.get("/admin/api-keys"))
    row = tag(listing.find(id=f"api-key-{key_id}"))
    assert "FixMyStreet Banjarmasin" in row.get_text() and key not in listing.get_text()
    # The key files a report, which names its client for staff.
    filed = await admin.client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "infrastruktur", "description": TEXT},
    )
    assert filed.status_code == 200
    report_page = soup(await admin.client.get("/admin/reports/1"))
    assert tag(report_page.find(class_="api-client")).get_text() == "FixMyStreet Banjarmasin"


async def test_the_menu_links_to_the_page(admin: AppHarness) -> None:
    page = soup(await admin.client.get("/admin"))
    assert page.find("a", href="/admin/api-keys") is not None


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
async def test_a_bad_name_is_refused_and_nothing_stored(admin: AppHarness, name: str) -> None:
    response = await post(admin, "/admin/api-keys", name=name)
    assert response.status_code == 400
    page = soup(response)
    assert tag(page.find(id="name")).get("aria-invalid") == "true"
    assert stored(admin) == []


async def test_without_the_csrf_token_nothing_is_added(admin: AppHarness) -> None:
    response = await admin.client.post("/admin/api-keys", data={"name": "Sneaky"})
    assert response.status_code == 403
    assert stored(admin) == []


async def test_revoke_asks_first_then_the_key_files_nothing(admin: AppHarness) -> None:
    svc = admin.app.state.services
    key = rules.new_api_key()
    api_key = await svc.store.add_api_key("City app", rules.api_key_hash(key))
    confirm = await admin.client.get(f"/admin/api-keys/{api_key.id}/revoke")
    assert confirm.status_code == 200 and "City app" in confirm.text
    assert stored(admin)[0][3] == 0
    response = await post(admin, f"/admin/api-keys/{api_key.id}/revoke")
    assert response.status_code == 303
    assert stored(admin)[0][3] == 1
    page = soup(await admin.client.get(response.headers["location"]))
    assert "City app" in notice(page)
    assert tag(page.find(id=f"api-key-{api_key.id}")).find("a") is None
    refused = await admin.client.post(
        "/open311/v2/requests.xml",
        data={"api_key": key, "service_code": "infrastruktur", "description": TEXT},
    )
    assert refused.status_code == 403
    assert await svc.store.count_reports() == 0
    again = await post(admin, f"/admin/api-keys/{api_key.id}/revoke")
    assert again.status_code == 303  # revoked meanwhile: the outcome asked for
    assert (await admin.client.get("/admin/api-keys/999/revoke")).status_code == 404
