"""The public pages in Chromium on a 360 px phone, JavaScript off and on: the figures reached
from the citizen's pages, readable without sideways scrolling, the chart's meaning in words, a
unit's page one tap away, the open data downloadable; and the list of answered reports,
searched and followed to a report, with the coordinator keeping one off it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
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
from tests.browser.test_workflow import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [False, True])
def test_a_citizen_reads_the_figures_on_a_phone(
    lapor_server: Any, make_page: Callable[..., Any], javascript: bool
) -> None:
    page = make_page(javascript=javascript)
    open_form(page, lapor_server.poster_url)
    fill_report(page, "Tidak ada kursi di ruang tunggu, warga lanjut usia berdiri lama sekali.")
    page.click("button.send")
    receipt_code(page)
    # From the receipt's footer to the organisation's figures.
    page.click("footer a[href='/statistik']")
    expect(page.locator("h1")).to_contain_text("Kinerja penanganan pengaduan")
    # The figures are summed as the server starts and kept five minutes (openness/views.py):
    # this report may not be in them yet, so the page is checked for figures, not for it.
    received = page.locator("dl.kpis > div", has_text="Laporan masuk").locator("dd")
    expect(received).to_have_text(re.compile(r"^\d[\d.]*$"))
    expect(page.locator("main")).to_contain_text("Diperbarui")
    expect(page.locator("figure.chart-figure figcaption.legend")).to_contain_text("tepat waktu")
    assert_fits_phone(page)
    # The province's own page, one tap away, also fits.
    page.locator("table.by-unit a").first.click()
    expect(page).to_have_url(f"{lapor_server.base_url}/statistik/prov")
    expect(page.locator("h1")).to_contain_text("Pemerintah Provinsi")
    assert_fits_phone(page)
    with page.expect_download() as download:
        page.click("a:text('Data ini sebagai CSV')")
    assert download.value.suggested_filename.startswith("statistik-prov-")
    assert page.problems == []


def test_the_answered_list_on_a_phone_and_the_coordinator_withholding(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    officer = f"petugas-{uuid.uuid4().hex[:6]}@dinas.go.id"
    password = "officer-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        "user",
        "add",
        officer,
        "--role",
        "officer",
        "--unit",
        "dinas",
        "--password-stdin",
        stdin=password + "\n",
    )
    word = "jembatan" + uuid.uuid4().hex[:6]
    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    fill_report(citizen, story(f"Papan {word} di desa kami patah dan membahayakan anak sekolah."))
    citizen.click("button.send")
    code = receipt_code(citizen)

    coordinator = make_page(javascript=False)
    sign_in(coordinator, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    [(report_id,)] = lapor_server.query(
        "SELECT id FROM reports WHERE tracking_code = ?", code.replace("-", "")
    )
    report_url = f"{lapor_server.base_url}/admin/reports/{report_id}"
    coordinator.goto(report_url)
    coordinator.fill("#title", f"Papan {word} patah")
    coordinator.select_option("#category", value="infrastruktur")
    [(dinas_id,)] = lapor_server.query("SELECT id FROM units WHERE slug = ?", "dinas")
    coordinator.select_option("#unit", value=str(dinas_id))
    coordinator.click("form[action$='/forward'] button[type=submit]")
    expect(coordinator.locator("#forward")).to_have_count(0)
    unit_page = make_page(javascript=False)
    sign_in(unit_page, lapor_server, officer, password)
    unit_page.goto(report_url)
    answer = "Papan sudah diganti dengan kayu ulin baru oleh petugas kecamatan."
    unit_page.fill("#answer", answer)
    unit_page.click("form[action$='/follow-up'] button[type=submit]")
    expect(unit_page.locator("#follow-up")).to_have_count(0)

    for javascript in (False, True):
        phone = make_page(javascript=javascript)
        phone.goto(f"{lapor_server.base_url}/t/{code}")
        phone.click("footer a[href='/jawaban']")
        expect(phone.locator("h1")).to_have_text("Laporan yang sudah dijawab")
        phone.fill("#q", word)
        phone.click("form.search button[type=submit]")
        item = phone.locator("li.answered")
        expect(item).to_have_count(1)
        expect(item).to_contain_text(answer)
        expect(item).to_contain_text("Dinas")
        assert_fits_phone(phone)
        item.locator(f"h2 a[href='/t/{code}']").click()
        expect(phone.locator("body")).to_contain_text(answer)
        assert phone.problems == []

    # The coordinator keeps it off the list, with a reason the report's page then shows.
    coordinator.goto(report_url)
    coordinator.click("#public-list summary")
    coordinator.fill("#withhold-reason", "Menyebut nama kepala desa")
    coordinator.click("#list-withhold")
    expect(coordinator.locator("#list-state")).to_contain_text("Menyebut nama kepala desa")
    expect(coordinator.locator(".timeline")).to_contain_text("Tidak ditampilkan di daftar publik")
    phone = make_page(javascript=False)
    phone.goto(f"{lapor_server.base_url}/jawaban?q={word}")
    expect(phone.locator("li.answered")).to_have_count(0)
