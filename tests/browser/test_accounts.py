"""An administrator changes a colleague's account in Chromium, JavaScript off: gives the person
a name and moves them to another role and unit, and the colleague's next page already follows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_citizen import expect
from tests.browser.test_workflow import sign_in

pytestmark = pytest.mark.browser


def test_an_admin_names_a_colleague_and_moves_them(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    tag = uuid.uuid4().hex[:6]
    admin_email, officer_email = f"admin-{tag}@prov.go.id", f"petugas-{tag}@prov.go.id"
    password = "pw-" + uuid.uuid4().hex[:12]
    for email, role in ((admin_email, "admin"), (officer_email, "officer")):
        lapor_server.cli(
            *("user", "add", email, "--role", role, "--unit", "prov", "--password-stdin"),
            stdin=password + "\n",
        )
    officer = make_page(javascript=False, locale="id-ID")
    sign_in(officer, lapor_server, officer_email, password)
    assert officer.goto(f"{lapor_server.base_url}/admin/monitoring").status == 403

    admin = make_page(javascript=False, locale="id-ID")
    sign_in(admin, lapor_server, admin_email, password)
    admin.click("nav a[href='/admin/users']")
    admin.locator("table.users tr", has_text=officer_email).locator("a:text('Ubah…')").click()
    expect(admin.locator("h1")).to_have_text(officer_email)
    admin.fill("#name", "Rina Wulandari")
    admin.select_option("#role", value="coordinator")
    admin.click("form.action button[type=submit]")
    expect(admin.get_by_role("status")).to_have_text("Akun Rina Wulandari telah disimpan.")
    expect(admin.locator("h1")).to_have_text("Rina Wulandari")
    admin.click("nav a[href='/admin/users']")
    row = admin.locator("table.users tr", has_text=officer_email)
    expect(row).to_contain_text("Rina Wulandari")
    expect(row).to_contain_text("admin koordinator")

    # The colleague's session stays; their next page has the new role.
    response = officer.goto(f"{lapor_server.base_url}/admin/monitoring")
    assert response is not None and response.status == 200
    # A bad change is refused with the field marked, and nothing changes.
    admin.locator("table.users tr", has_text=officer_email).locator("a:text('Ubah…')").click()
    admin.fill("#name", "Rina\u0007Wulandari")
    admin.click("form.action button[type=submit]")
    expect(admin.locator("#name")).to_have_attribute("aria-invalid", "true")
    expect(admin.get_by_role("alert")).to_contain_text("paling banyak 120 karakter")
    for page in (admin, officer):
        assert [p for p in page.problems if "403" not in p and "400" not in p] == []
