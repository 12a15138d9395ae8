"""An administrator gives an Open311 client its key in Chromium, JavaScript off: adds it, copies
it from the one page that shows it, sees the client's report named on the report's page, and
revokes the key after a confirmation; the client's next POST is refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.browser.test_citizen import expect
from tests.browser.test_workflow import open_from_menu, sign_in

pytestmark = pytest.mark.browser

TEXT = "Saluran air di Jl. Kelayan tersumbat sampah, banjir setiap hujan deras."


def test_admin_issues_a_key_the_client_files_then_the_key_is_revoked(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    tag = uuid.uuid4().hex[:6]
    email, password = f"admin-{tag}@prov.go.id", "admin-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        "user",
        "add",
        email,
        "--role",
        "admin",
        "--unit",
        "prov",
        "--password-stdin",
        stdin=password + "\n",
    )
    client_name = f"FixMyStreet {tag}"
    admin = make_page(javascript=False, locale="id-ID")
    sign_in(admin, lapor_server, email, password)
    open_from_menu(admin, "/admin/api-keys")
    admin.fill("#name", client_name)
    admin.click("form[action='/admin/api-keys'][method=post] button[type=submit]")
    expect(admin.locator("h1")).to_have_text("Kunci API ditambahkan")
    key = admin.locator("#api-key").inner_text()
    assert key.startswith("lapor311_")

    endpoint = f"{lapor_server.base_url}/open311/v2/requests.json"
    body = {"api_key": key, "service_code": "lingkungan", "description": TEXT}
    filed = httpx.post(endpoint, data=body, timeout=10)
    assert filed.status_code == 200, filed.text
    code = filed.json()[0]["service_request_id"]
    [(report_id,)] = lapor_server.query(
        "SELECT id FROM reports WHERE tracking_code = ?", code.replace("-", "")
    )
    admin.goto(f"{lapor_server.base_url}/admin/reports/{report_id}")
    expect(admin.locator(".api-client")).to_have_text(client_name)

    open_from_menu(admin, "/admin/api-keys")
    row = admin.locator("table.records tr", has_text=client_name)
    expect(row).not_to_contain_text("belum pernah")  # it filed a report
    assert key not in admin.content()  # shown once, never again
    row.locator("a:text('Cabut…')").click()
    expect(admin.locator("h1")).to_contain_text(f"Cabut kunci API {client_name}?")
    assert httpx.post(endpoint, data=body, timeout=10).status_code == 200  # asking changed nothing
    admin.click("form.confirm button[type=submit]")
    expect(admin.get_by_role("status")).to_contain_text("telah dicabut")
    refused = httpx.post(endpoint, data=body, timeout=10)
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
    assert admin.problems == []
