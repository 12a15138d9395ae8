"""What a citizen on a 360 px phone sees of their own report, and how they reach the form and
learn to fill it (issue 18, points 1, 2, 8 and 9): the report sent, shown back with its
photos; the unit's answer first with a clear choice and the deadline; the agency chosen by
name without a poster; the form's guidance, hints and privacy notice."""

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
from tests.browser.test_workflow import sign_in

pytestmark = pytest.mark.browser

PLACE = "Loket 3, lantai 2"


def decoded(image: Any) -> bool:
    return bool(image.evaluate("img => img.complete && img.naturalWidth > 0"))


def test_the_receipt_and_the_private_page_show_what_was_sent(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    page = make_page()
    open_form(page, lapor_server.poster_url)
    text = story()
    fill_report(page, text)
    page.fill("#location", PLACE)
    page.set_input_files(
        "#photos",
        [str(make_jpeg("a.jpg")), str(make_jpeg("b.jpg", color=(200, 60, 30)))],
    )
    page.click("button.send")
    code = receipt_code(page)
    expect(page.locator("#received-what")).to_contain_text("dengan 2 foto")
    for url in (page.url, page.url.split("?")[0]):  # the receipt, then the private page
        page.goto(url)
        sent = page.locator("#sent")
        expect(sent.locator(".sent-text")).to_have_text(text)
        expect(sent).to_contain_text(PLACE)
        thumbs = sent.locator("ul.photos img")
        expect(thumbs).to_have_count(2)
        for i in range(2):
            thumbs.nth(i).scroll_into_view_if_needed()
            expect(thumbs.nth(i)).to_be_visible()
            assert decoded(thumbs.nth(i)), f"photo {i + 1} did not load"
            assert thumbs.nth(i).bounding_box()["width"] <= 160
        assert_fits_phone(page)
    # Anyone with the code only: nothing of the content before the coordinator verified it.
    page.goto(f"{lapor_server.base_url}/t/{code}")
    expect(page.locator("#sent")).not_to_contain_text(text)
    expect(page.locator("#sent ul.photos img")).to_have_count(0)
    assert page.problems == []


def test_the_answer_comes_first_with_a_clear_choice_and_the_deadline(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    officer = f"petugas-{uuid.uuid4().hex[:6]}@dinas.go.id"
    password = "officer-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        "user", "add", officer, "--role", "officer", "--unit", "dinas", "--password-stdin",
        stdin=password + "\n",
    )  # fmt: skip
    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    fill_report(citizen, story())
    citizen.click("button.send")
    code = receipt_code(citizen)
    private = citizen.url.split("?")[0]

    coordinator = make_page(javascript=False)
    sign_in(coordinator, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    coordinator.click(f"table.inbox a:text('{code}')")
    coordinator.fill("#title", "Antrean KTP")
    coordinator.select_option("#category", value="kependudukan")
    [(dinas_id,)] = lapor_server.query("SELECT id FROM units WHERE slug = ?", "dinas")
    coordinator.select_option("#unit", value=str(dinas_id))
    coordinator.click("form[action$='/forward'] button[type=submit]")
    expect(coordinator.locator("#forward")).to_have_count(0)
    unit = make_page(javascript=False)
    sign_in(unit, lapor_server, officer, password)
    unit.click(f"table.inbox a:text('{code}')")
    answer = "Loket 3 kini dibuka sampai pukul 15.00 dengan dua petugas."
    unit.fill("#answer", answer)
    unit.click("form[action$='/follow-up'] button[type=submit]")
    expect(unit.locator("#follow-up")).to_have_count(0)

    citizen.goto(private)
    box = citizen.locator("#answer")
    expect(box).to_contain_text(answer)
    # First on the page: above the status, the report and the timeline.
    top = box.bounding_box()["y"]
    for later in (".facts", "#sent", ".timeline"):
        assert citizen.locator(later).bounding_box()["y"] > top, later
    expect(citizen.locator(".timeline")).not_to_contain_text(answer)
    # The deadline in words, with the working days of the deadline rules (10 by default).
    expect(box.locator("#closes")).to_contain_text("10 hari kerja")
    # Accepting is the filled button, replying the outlined one beside it.
    accept = box.get_by_role("button", name="Terima jawaban")
    reply = box.get_by_role("link", name="Belum puas? Balas")
    expect(accept).to_be_visible()
    expect(reply).to_be_visible()
    filled = accept.evaluate("b => getComputedStyle(b).backgroundColor")
    outlined = reply.evaluate("a => getComputedStyle(a).backgroundColor")
    assert filled != outlined and outlined in ("rgba(0, 0, 0, 0)", "transparent")
    assert accept.bounding_box()["x"] < reply.bounding_box()["x"] or (
        accept.bounding_box()["y"] < reply.bounding_box()["y"]
    )
    assert_fits_phone(citizen)
    reply.click()
    expect(citizen).to_have_url(re.compile(r"#reply$"))
    expect(citizen.locator("#reply-text")).to_be_in_viewport()
    citizen.check("form#accept input[name=rating][value='5']")
    accept.click()
    expect(citizen.locator(".facts")).to_contain_text("Selesai")
    for page in (citizen, coordinator, unit):
        assert page.problems == []


def test_a_citizen_without_a_poster_finds_the_agency_and_reports(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    page = make_page(javascript=False)
    # A damaged poster code leads to the agency list and the other channels.
    assert page.goto(f"{lapor_server.base_url}/q/rusak").status == 404
    expect(page.locator("ul.channels a[href='https://www.lapor.go.id']")).to_be_visible()
    expect(page.locator("ul.channels")).to_contain_text("1708")
    page.click("#choose-agency")
    expect(page).to_have_url(f"{lapor_server.base_url}/")
    page.fill("#q", "kependudukan")
    page.click("form.agency-search button[type=submit]")
    expect(page).to_have_url(re.compile(r"/\?q=kependudukan$"))
    agencies = page.locator("#agencies a")
    expect(agencies).to_have_count(1)
    assert_fits_phone(page)
    agencies.first.click()
    expect(page).to_have_url(f"{lapor_server.base_url}/u/dinas")
    expect(page.locator("h1")).to_have_text(lapor_server.unit_name)
    text = story()
    fill_report(page, text)
    page.click("button.send")
    code = receipt_code(page)
    expect(page.locator("#received-what")).to_contain_text(lapor_server.unit_name)
    rows = lapor_server.query(
        "SELECT channel, poster_id FROM reports WHERE replace(tracking_code, '-', '') = ?",
        code.replace("-", ""),
    )
    assert rows == [("web", None)]
    # The only complaint is the browser's own about the damaged code's 404.
    assert [p for p in page.problems if "404" not in p or "/q/rusak" not in p] == []


def test_the_form_teaches_a_good_report(lapor_server: Any, make_page: Callable[..., Any]) -> None:
    page = make_page()
    open_form(page, lapor_server.poster_url)
    hint = page.locator("#text-hint")
    expect(hint).to_contain_text("apa yang terjadi")
    # The guidance sits between the label and the field, folded until asked for.
    guide = page.locator("#text-guide")
    expect(guide.locator("li").first).to_be_hidden()
    guide.locator("summary").click()
    expect(guide).to_contain_text("data pribadi orang lain")
    expect(guide.locator("li")).to_have_count(4)
    assert guide.bounding_box()["y"] < page.locator("#text").bounding_box()["y"]
    # Each kind says what it is for.
    for kind, words in (
        ("pengaduan", "perlu diperbaiki"),
        ("aspirasi", "saran"),
        ("informasi", "Pertanyaan"),
    ):
        expect(page.locator(f"#kind-{kind}-hint")).to_be_visible()
        expect(page.locator(f"#kind-{kind}-hint")).to_contain_text(words)
    privacy = page.locator("#privacy")
    privacy.locator("summary").click()
    expect(privacy).to_contain_text("Kami menyimpan")
    expect(privacy).to_contain_text("kode lacak")
    assert_fits_phone(page)
    assert page.problems == []
