"""A report's life through the workspace in Chromium: a citizen reports, the coordinator
verifies and forwards it, the unit's officer answers, the citizen reads the answer. Staff pages
carry no script, so this is also the JavaScript-free path."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_citizen import expect, fill_report, open_form, receipt_code, story

pytestmark = pytest.mark.browser


def sign_in(page: Any, server: Any, email: str, password: str) -> None:
    page.goto(f"{server.base_url}/admin/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/admin/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/?$"))


def test_forward_then_answer_then_the_citizen_reads_it(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    officer = f"petugas-{uuid.uuid4().hex[:6]}@dinas.go.id"
    officer_password = "officer-" + uuid.uuid4().hex[:12]
    lapor_server.cli("user", "add", officer, "--role", "officer", "--unit", "dinas",
                     "--password-stdin", stdin=officer_password + "\n")

    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    text = story()
    fill_report(citizen, text)
    citizen.click("button.send")
    code = receipt_code(citizen)

    coordinator = make_page(javascript=False, locale="id-ID")
    sign_in(coordinator, lapor_server, lapor_server.coordinator,
            lapor_server.coordinator_password)
    coordinator.click(f"table.inbox a:text('{code}')")
    coordinator.fill("#title", "Antrean KTP terlalu lama")
    [(dinas_id,)] = lapor_server.query("SELECT id FROM units WHERE slug = ?", "dinas")
    coordinator.select_option("#unit", value=str(dinas_id))
    coordinator.fill("#note", "Mohon cek jadwal petugas loket.")
    coordinator.click("form.action button[type=submit]")
    expect(coordinator.locator("h1")).to_contain_text("Antrean KTP terlalu lama")
    expect(coordinator.locator("#forward")).to_have_count(0)  # done: no second forward

    unit_page = make_page(javascript=False)
    sign_in(unit_page, lapor_server, officer, officer_password)
    unit_page.click(f"table.inbox a:text('{code}')")
    expect(unit_page.locator("body")).to_contain_text("Mohon cek jadwal petugas loket.")
    answer = "Loket 3 kini dibuka sampai pukul 15.00 dengan dua petugas."
    unit_page.fill("#answer", answer)
    unit_page.click("form.action button[type=submit]")
    expect(unit_page.locator("#follow-up")).to_have_count(0)

    citizen.goto(f"{lapor_server.base_url}/t/{code}")
    expect(citizen.locator(".timeline")).to_contain_text(answer)
    expect(citizen.locator("body")).not_to_contain_text("Mohon cek jadwal")
    for page in (citizen, coordinator, unit_page):
        assert page.problems == []
