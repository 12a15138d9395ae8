"""An administrator sets up a new part of the organisation in Chromium, JavaScript off (every
step is a plain form): adds a unit, adds its coordinator (who signs in with the password shown
once), creates the unit's poster, downloads it, and revokes it after a confirmation; the
citizen's side answers each step as it should."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from lapor.web.posters import qr_text
from tests.browser.test_citizen import expect, open_form
from tests.browser.test_workflow import open_from_menu, sign_in
from tests.pdf import page_texts, pdf_pages

pytestmark = pytest.mark.browser


def test_admin_adds_a_unit_its_coordinator_and_a_poster_then_revokes_it(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    tag = uuid.uuid4().hex[:6]
    admin_email = f"admin-{tag}@prov.go.id"
    admin_password = "admin-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        "user",
        "add",
        admin_email,
        "--role",
        "admin",
        "--unit",
        "prov",
        "--password-stdin",
        stdin=admin_password + "\n",
    )
    unit_name = f"Puskesmas Kayu Tangi {tag}"
    coordinator_email = f"koor-{tag}@puskesmas.go.id"

    admin = make_page(javascript=False, locale="id-ID")
    sign_in(admin, lapor_server, admin_email, admin_password)
    open_from_menu(admin, "/admin/units")
    admin.fill("#slug", f"pkm-{tag}")
    admin.fill("#name", unit_name)
    admin.select_option("#parent", label="Pemerintah Provinsi")
    admin.click("form[action='/admin/units'][method=post] button[type=submit]")
    expect(admin.get_by_role("status")).to_have_text(f"Unit “{unit_name}” ditambahkan.")
    row = admin.locator("table.units tr", has_text=unit_name)
    expect(row.locator("td.tree")).to_have_class(re.compile(r"\bdepth-1\b"))

    # From the unit's page to the account form, where the unit is already chosen.
    row.locator("td.tree a").click()
    admin.click("a:text('Tambahkan akun ke unit ini')")
    expect(admin.locator("#unit option:checked")).to_have_text(f"· {unit_name}")
    admin.fill("#email", coordinator_email)
    admin.select_option("#role", value="coordinator")
    admin.click("form[action='/admin/users'][method=post] button[type=submit]")
    password = admin.locator("#new-password").inner_text()
    assert len(password) >= 10

    coordinator = make_page(javascript=False, locale="id-ID")
    sign_in(coordinator, lapor_server, coordinator_email, password)
    expect(coordinator.locator("header .who")).to_contain_text(unit_name)

    open_from_menu(admin, "/admin/posters")
    admin.select_option("#unit", label=f"· {unit_name}")
    admin.fill("#label", "Ruang Tunggu Poli Umum")
    admin.click("form[action='/admin/posters'][method=post] button[type=submit]")
    expect(admin.get_by_role("status")).to_contain_text("Ruang Tunggu Poli Umum")
    poster_row = admin.locator("table.posters tbody tr", has_text="Ruang Tunggu Poli Umum")
    poster_url = poster_row.locator(".url").inner_text()
    assert poster_url.startswith(f"{lapor_server.base_url}/q/")

    with admin.expect_download() as download_info:
        poster_row.locator("a:text('Poster A4 (PDF)')").click()
    download = download_info.value
    assert re.fullmatch(rf"poster-\d+-pkm-{tag}-v1\.pdf", download.suggested_filename)
    path = download.path()
    assert path is not None and os.path.getsize(path) > 1000
    with open(path, "rb") as fh:
        assert fh.read(4) == b"%PDF"

    citizen = make_page(javascript=False)
    open_form(citizen, poster_url)

    poster_row.locator("a:text('Cabut cetakan…')").click()
    expect(admin.locator("h1")).to_contain_text("Cabut cetakan “Ruang Tunggu Poli Umum”?")
    open_form(citizen, poster_url)  # the confirmation page changed nothing
    admin.click("form.confirm button[type=submit]")
    expect(admin.get_by_role("status")).to_contain_text("telah berhenti berfungsi")
    late_scan = make_page(javascript=False)
    response = late_scan.goto(poster_url)
    assert response is not None and response.status == 410
    expect(late_scan.locator("body")).to_contain_text("Poster ini sudah tidak berlaku")
    assert [p for p in late_scan.problems if "410 (Gone)" not in p] == []
    reprint = poster_row.locator(".url").inner_text()
    assert reprint != poster_url
    open_form(citizen, reprint)
    for page in (admin, coordinator, citizen):
        assert page.problems == []


def test_admin_prints_every_counter_of_a_unit_and_a_scan_opens_each_form(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    """Issue 18: every counter at once, from the unit's page, one page per poster; and what a
    phone reads from the printed code (the URL uppercased) opens the form, as does the address
    typed in lower case from the poster."""
    tag = uuid.uuid4().hex[:6]
    admin_email = f"admin-{tag}@prov.go.id"
    admin_password = "admin-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        "user",
        "add",
        admin_email,
        "--role",
        "admin",
        "--unit",
        "prov",
        "--password-stdin",
        stdin=admin_password + "\n",
    )
    lapor_server.cli(
        "unit", "add", f"mpp-{tag}", "--name", f"Mal Pelayanan {tag}", "--parent", "prov"
    )
    lapor_server.cli("unit", "add", f"mpp-{tag}-a", "--name", "Gerai A", "--parent", f"mpp-{tag}")
    urls = [
        lapor_server.cli("poster", "add", unit, "--label", label).strip().splitlines()[-1]
        for unit, label in (
            (f"mpp-{tag}", "Informasi"),
            (f"mpp-{tag}-a", "Loket 1"),
            (f"mpp-{tag}-a", "Loket 2"),
        )
    ]

    admin = make_page(javascript=False, locale="id-ID")
    sign_in(admin, lapor_server, admin_email, admin_password)
    open_from_menu(admin, "/admin/posters")
    admin.locator("main h2", has_text=f"Mal Pelayanan {tag}").locator(
        "xpath=following-sibling::p[1]"
    ).locator("a").click()
    expect(admin.locator("h1")).to_have_text(f"Mal Pelayanan {tag}")
    expect(admin.locator("main")).to_contain_text("Cetak 3 poster unit ini dan sub-unitnya")
    with admin.expect_download() as download_info:
        admin.locator(".print-all a:text('Poster A4 (PDF)')").click()
    download = download_info.value
    assert download.suggested_filename == f"posters-mpp-{tag}-a4.pdf"
    path = download.path()
    assert path is not None
    with open(path, "rb") as fh:
        pdf = fh.read()
    assert len(pdf_pages(pdf)) == 3
    for url, text in zip(urls, page_texts(pdf), strict=True):
        assert url in text.splitlines()  # http://: printed with its scheme

    citizen = make_page(javascript=False)
    for url in urls:
        open_form(citizen, qr_text(url))  # what the camera reads
        open_form(citizen, url.lower())  # typed from the poster, in lower case
    for page in (admin, citizen):
        assert page.problems == []
