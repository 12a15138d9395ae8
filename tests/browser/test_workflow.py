"""A report's whole life in Chromium: a citizen reports, the coordinator verifies and forwards
it, the unit's officer answers, the citizen reads the answer, replies, reads the second answer,
accepts and rates it, and the inspector sees it counted. Run with JavaScript off (every step
must work as plain forms); the inbox's live filtering is then checked with JavaScript on."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_citizen import (
    assert_fits_phone,
    expect,
    fill_report,
    open_form,
    receipt_code,
    story,
)

pytestmark = pytest.mark.browser


def sign_in(page: Any, server: Any, email: str, password: str) -> None:
    page.goto(f"{server.base_url}/admin/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/admin/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/?$"))


def open_from_menu(page: Any, href: str) -> None:
    """An admin's page for the organisation, through the header's Organisation menu."""
    page.click("nav details.menu > summary")
    page.click(f"nav details.menu a[href='{href}']")


def test_forward_then_answer_then_the_citizen_reads_it(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    officer = f"petugas-{uuid.uuid4().hex[:6]}@dinas.go.id"
    officer_password = "officer-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        "user",
        "add",
        officer,
        "--role",
        "officer",
        "--unit",
        "dinas",
        "--password-stdin",
        stdin=officer_password + "\n",
    )
    inspector_email = f"inspektorat-{uuid.uuid4().hex[:6]}@prov.go.id"
    inspector_password = "inspector-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        "user",
        "add",
        inspector_email,
        "--role",
        "inspector",
        "--unit",
        "prov",
        "--password-stdin",
        stdin=inspector_password + "\n",
    )

    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    text = story("Antrean KTP sangat lama, saya Budi NIK 3201234567890001 menunggu 4 jam.")
    fill_report(citizen, text)
    citizen.click("button.send")
    code = receipt_code(citizen)
    private_link = citizen.url.split("?")[0]  # the receipt is the reporter's private page

    coordinator = make_page(javascript=False, locale="id-ID")
    sign_in(coordinator, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    coordinator.click(f"table.inbox a:text('{code}')")
    assert_fits_phone(coordinator)  # every form of the report's page, on a 360 px phone
    # The reporter typed their ID number: redact it before the unit sees the report.
    coordinator.click("#redact summary")
    coordinator.fill("#redact-text", text.replace("saya Budi NIK 3201234567890001 ", ""))
    coordinator.click("form[action$='/redact'] button[type=submit]")
    expect(coordinator.locator(".timeline")).to_contain_text("3201234567890001")  # original
    expect(coordinator.locator("div.text")).not_to_contain_text("3201234567890001")
    coordinator.fill("#title", "Antrean KTP terlalu lama")
    coordinator.select_option("#category", value="kependudukan")
    coordinator.fill("#tags", "Antrean, KTP")
    [(dinas_id,)] = lapor_server.query("SELECT id FROM units WHERE slug = ?", "dinas")
    coordinator.select_option("#unit", value=str(dinas_id))
    coordinator.fill("#note", "Mohon cek jadwal petugas loket.")
    coordinator.click("form[action$='/forward'] button[type=submit]")
    expect(coordinator.locator("#done")).to_contain_text("Diteruskan")
    expect(coordinator.locator("h1")).to_contain_text("Antrean KTP terlalu lama")
    expect(coordinator.locator("ul.tags")).to_contain_text("antrean")
    expect(coordinator.locator("#forward")).to_have_count(0)  # done: no second forward

    unit_page = make_page(javascript=False)
    sign_in(unit_page, lapor_server, officer, officer_password)
    unit_page.click(f"table.inbox a:text('{code}')")
    # The coordinator's note is the unit's first thing to read, beside the report.
    expect(unit_page.locator("#unit-note")).to_contain_text("Mohon cek jadwal petugas loket.")
    # The assignment form is one box holding its own fields.
    box = unit_page.locator("form[action$='/assign']").bounding_box()
    select = unit_page.locator("#assignee").bounding_box()
    assert box and select and box["y"] <= select["y"] <= box["y"] + box["height"], (box, select)
    expect(unit_page.locator("body")).not_to_contain_text("3201234567890001")
    assert_fits_phone(unit_page)
    unit_page.click("#staff-note > summary")
    unit_page.fill("#internal-note", "Dicek bersama kepala seksi besok pagi.")
    unit_page.click("#note-form button[type=submit]")
    expect(unit_page.locator(".timeline")).to_contain_text("Dicek bersama kepala seksi")
    answer = "Loket 3 kini dibuka sampai pukul 15.00 dengan dua petugas."
    unit_page.fill("#answer", answer)
    unit_page.set_input_files("#attachments", str(make_jpeg("jadwal.jpg")))
    unit_page.click("form[action$='/follow-up'] button[type=submit]")
    expect(unit_page.locator("#follow-up")).to_have_count(0)
    expect(unit_page.locator("#done")).to_contain_text("Jawaban terkirim")

    citizen.goto(f"{lapor_server.base_url}/t/{code}")
    expect(citizen.locator("#answer")).to_contain_text(answer)  # first, not in the timeline
    # The photo sent with the answer shows (decoded: naturalWidth is 0 for a broken image).
    attached = citizen.locator("ul.attachments img")
    expect(attached).to_have_count(1)
    assert attached.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(citizen.locator("body")).not_to_contain_text("Mohon cek jadwal")
    expect(citizen.locator("body")).not_to_contain_text("kepala seksi")
    expect(citizen.locator("form.reporter")).to_have_count(0)  # the public page cannot act

    # Not satisfied: the reporter replies through the private link, the unit answers again.
    citizen.goto(private_link)
    citizen.fill("#reply-text", "Hari ini loket 3 masih tutup pukul 12.00.")
    citizen.click("form[action$='/reply'] button[type=submit]")
    unit_page.reload()
    expect(unit_page.locator(".timeline")).to_contain_text("masih tutup pukul 12.00")
    unit_page.fill("#answer", "Kami sudah menegur petugas; jadwal baru berlaku mulai besok.")
    unit_page.click("form[action$='/follow-up'] button[type=submit]")

    citizen.goto(private_link)
    expect(citizen.locator("#answer")).to_contain_text("jadwal baru berlaku")
    expect(citizen.locator(".timeline")).to_contain_text(answer)  # the first answer, replied to
    citizen.check("form[action$='/accept'] input[name=rating][value='4']")
    citizen.click("form[action$='/accept'] button[type=submit]")
    expect(citizen.locator("body")).to_contain_text("Selesai")

    inspector = make_page(javascript=False, locale="id-ID")
    sign_in(inspector, lapor_server, inspector_email, inspector_password)
    inspector.click("nav a[href='/admin/monitoring']")
    kpis = inspector.locator("dl.kpis")
    expect(kpis).to_contain_text("Kepuasan (1–5)")
    # The server is shared with other tests' ratings: a figure in the Indonesian format.
    expect(kpis.locator("div", has_text="Kepuasan").locator("dd")).to_have_text(
        re.compile(r"^[1-5],\d$")
    )
    row = inspector.locator("table.by-unit tbody tr", has_text=lapor_server.unit_name)
    expect(row.locator("td").first).not_to_have_text("0")
    expect(inspector.locator("form.action")).to_have_count(0)  # read-only
    for page in (citizen, coordinator, unit_page, inspector):
        assert page.problems == []


def test_the_inbox_filters_live_with_javascript(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    citizen = make_page(javascript=True)
    marker = "ubin" + uuid.uuid4().hex[:6]
    open_form(citizen, lapor_server.poster_url)
    fill_report(citizen, f"Lantai ruang tunggu licin karena {marker} pecah di dekat pintu.")
    citizen.click("button.send")
    code = receipt_code(citizen)

    coordinator = make_page(javascript=True, locale="id-ID")
    sign_in(coordinator, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    coordinator.fill("input[name=q]", marker.upper())
    # htmx swaps the results and writes the filter into the address bar, without a reload.
    coordinator.wait_for_url(re.compile(rf"q={marker.upper()}"))
    expect(coordinator.locator("table.inbox a.code")).to_have_text([code])
    # The less used filters are folded away; opening them keeps the search.
    coordinator.click("details.more-filters > summary")
    # Leaving the search box is a change too: its request is queued behind the search's, never
    # aborted (htmx logs an aborted request as an error), so no wait is needed here.
    coordinator.select_option("select[name=kind]", value="informasi")
    expect(coordinator.locator("#results p.empty")).to_be_visible()
    coordinator.go_back()
    expect(coordinator.locator("input[name=q]")).to_have_value(marker.upper())
    assert coordinator.problems == []


@pytest.mark.parametrize("javascript", [True, False])
def test_a_code_read_out_on_the_phone_opens_the_report(
    lapor_server: Any, make_page: Callable[..., Any], javascript: bool
) -> None:
    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    fill_report(citizen, "Antrean loket KTP-el mengular sampai ke parkiran setiap pagi.")
    citizen.click("button.send")
    code = receipt_code(citizen)

    coordinator = make_page(javascript=javascript)
    sign_in(coordinator, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    # As a caller reads it out: lower case, a space for the hyphen.
    coordinator.fill("input[name=q]", code.lower().replace("-", " "))
    if not javascript:
        coordinator.press("input[name=q]", "Enter")
    coordinator.wait_for_url(re.compile(r"/admin/reports/\d+$"))
    expect(coordinator.locator("main")).to_contain_text(code)
    assert coordinator.problems == []


def test_bulk_forward_and_an_answer_template_with_javascript(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    officer = f"petugas-{uuid.uuid4().hex[:6]}@dinas.go.id"
    officer_password = "officer-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        "user",
        "add",
        officer,
        "--role",
        "officer",
        "--unit",
        "dinas",
        "--password-stdin",
        stdin=officer_password + "\n",
    )
    marker = "tangga" + uuid.uuid4().hex[:6]
    citizen = make_page(javascript=True)
    codes = []
    for where in ("depan", "belakang"):
        open_form(citizen, lapor_server.poster_url)
        fill_report(citizen, f"Pegangan {marker} di pintu {where} patah dan berbahaya.")
        citizen.click("button.send")
        codes.append(receipt_code(citizen))

    coordinator = make_page(javascript=True, locale="id-ID")
    sign_in(coordinator, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    coordinator.goto(f"{lapor_server.base_url}/admin/answers")
    coordinator.fill("#template-title", f"Perbaikan {marker}")
    coordinator.fill("#template-body", f"Pegangan {marker} sudah diganti oleh tim sarana.")
    coordinator.click("form[action='/admin/answers'] button[type=submit]")
    expect(coordinator.locator("table.answers")).to_contain_text(f"Perbaikan {marker}")

    coordinator.goto(f"{lapor_server.base_url}/admin?q={marker}")
    expect(coordinator.locator("table.inbox a.code")).to_have_count(2)
    for code in codes:
        coordinator.check(f"input[aria-label='Pilih {code}']")
    coordinator.click("details.bulk summary")
    assert_fits_phone(coordinator)
    coordinator.check("form#bulk input[value=forward]")
    coordinator.click("form#bulk button[type=submit]")
    # The title, category and unit are asked on a page of their own.
    expect(coordinator.locator("#selected a.code")).to_have_count(2)
    coordinator.fill("form#bulk-forward input[name=title]", "Pegangan tangga patah")
    coordinator.select_option("form#bulk-forward select[name=category]", value="infrastruktur")
    [(dinas_id,)] = lapor_server.query("SELECT id FROM units WHERE slug = ?", "dinas")
    coordinator.select_option("form#bulk-forward select[name=unit]", value=str(dinas_id))
    assert_fits_phone(coordinator)
    coordinator.click("form#bulk-forward button[type=submit]")
    expect(coordinator.locator("#done")).to_contain_text("2 laporan")

    unit_page = make_page(javascript=True)
    sign_in(unit_page, lapor_server, officer, officer_password)
    unit_page.click(f"table.inbox a:text('{codes[0]}')")
    url = unit_page.url
    unit_page.select_option("#template", label=f"Perbaikan {marker}")
    # htmx swaps only the answer box: no navigation, the template's text is in it.
    expect(unit_page.locator("#answer")).to_have_value(
        f"Pegangan {marker} sudah diganti oleh tim sarana."
    )
    assert unit_page.url == url
    unit_page.fill("#answer", f"Pegangan {marker} sudah diganti hari ini oleh tim sarana.")
    unit_page.click("form[action$='/follow-up'] button[type=submit]")
    expect(unit_page.locator(".timeline")).to_contain_text("diganti hari ini")
    for page in (citizen, coordinator, unit_page):
        assert page.problems == []


def test_a_report_taken_at_the_counter_without_javascript(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    staff = make_page(javascript=False, locale="id-ID")
    sign_in(staff, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    staff.click("nav a[href='/admin/reports/new']")
    staff.select_option("#taken-via", value="counter")
    staff.fill("#text", story("Warga datang ke loket: formulir KK tidak tersedia sejak pagi."))
    staff.check("input[name=identity][value=anonim]")
    staff.click("form#new-report button[type=submit]")
    code = staff.locator("#tracking-code").inner_text()
    assert_fits_phone(staff)
    expect(staff.locator("#spoken")).to_contain_text(code[0])
    citizen = make_page(javascript=False)
    citizen.goto(f"{lapor_server.base_url}/t/{code}")
    expect(citizen.locator("dd.status")).to_contain_text("Diterima")
    for page in (staff, citizen):
        assert page.problems == []
