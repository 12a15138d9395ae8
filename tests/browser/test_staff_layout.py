"""The workspace at 1366×768 as staff read it: the inbox's filters used most in one row and the
rest folded, the actions on selected reports right above the list, radios beside their words,
and the admins' organisation pages in one menu, so the header is one line."""

from __future__ import annotations

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
)
from tests.browser.test_workflow import open_from_menu, sign_in

pytestmark = pytest.mark.browser


def test_the_inbox_shows_its_list_above_the_fold_and_actions_beside_it(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    admin_email = f"admin-{uuid.uuid4().hex[:6]}@prov.go.id"
    password = "pw-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        *("user", "add", admin_email, "--role", "admin", "--unit", "prov", "--password-stdin"),
        stdin=password + "\n",
    )
    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    fill_report(citizen, "Loket pengambilan KTP tutup lebih awal dari jadwal yang tertulis.")
    citizen.click("button.send")
    receipt_code(citizen)
    page = make_page(javascript=False, locale="id-ID")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    # The folded filters take no room until opened.
    expect(page.locator("details.more-filters select[name=kind]")).to_be_hidden()
    filters = page.locator("form.filters").bounding_box()
    assert filters is not None and filters["height"] < 160, filters
    # The bulk actions come before the list they act on, and their radios sit by their words.
    bulk = page.locator("details.bulk").bounding_box()
    table = page.locator("table.inbox").bounding_box()
    assert bulk is not None and table is not None and bulk["y"] < table["y"]
    assert table["y"] < 768 / 2, "the list starts in the upper half of the screen"
    page.click("details.bulk > summary")
    for choice in page.locator("details.bulk label.choice").all():
        radio = choice.locator("input[type=radio]").bounding_box()
        box = choice.bounding_box()
        assert radio is not None and box is not None
        assert radio["x"] - box["x"] < 8, "the radio starts its label, not floating away"

    admin = make_page(javascript=False, locale="id-ID")
    admin.set_viewport_size({"width": 1366, "height": 768})
    sign_in(admin, lapor_server, admin_email, password)
    links = admin.locator(
        "header.top nav:not(.lang) > a, header.top nav details.menu > summary"
    ).all()
    tops = {round(link.bounding_box()["y"]) for link in links}
    assert len(tops) == 1, "the menu is one line"
    expect(admin.locator("nav details.menu a[href='/admin/kiosks']")).to_be_hidden()
    open_from_menu(admin, "/admin/kiosks")
    expect(admin).to_have_url(f"{lapor_server.base_url}/admin/kiosks")
    assert page.problems == [] and admin.problems == []


def in_view(page: Any, selector: str) -> dict[str, float]:
    """The element's box, which must lie inside the 1366×768 window as the page opened."""
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768, (selector, box)
    assert box["x"] + box["width"] <= 1366, (selector, box)
    return dict(box)


def test_a_reports_next_step_is_beside_it_at_1366_and_below_it_on_a_phone(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    officer = f"petugas-{uuid.uuid4().hex[:6]}@dinas.go.id"
    officer_password = "officer-" + uuid.uuid4().hex[:12]
    lapor_server.cli(
        *("user", "add", officer, "--role", "officer", "--unit", "dinas", "--password-stdin"),
        stdin=officer_password + "\n",
    )
    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    fill_report(
        citizen,
        "Atap ruang tunggu puskesmas bocor setiap hujan, air menggenangi kursi pasien. "
        "Sudah dua minggu belum diperbaiki dan pasien harus berdiri di luar.",
    )
    citizen.click("button.send")
    code = receipt_code(citizen)

    page = make_page(javascript=False, locale="id-ID")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    page.click(f"table.inbox a:text('{code}')")
    # The header is one line, the language switch and signing out included.
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] < 60, header
    # The report on the left, the step it waits for (verify and forward) open beside it, its
    # button reachable without scrolling; the other decisions folded under it.
    text = in_view(page, "div.text")
    forward = in_view(page, "form[action$='/forward']")
    in_view(page, "form[action$='/forward'] button[type=submit]")
    assert forward["x"] > text["x"] + text["width"], "the actions sit beside the report"
    assert forward["y"] < text["y"] + text["height"], "side by side, not one under the other"
    for folded in ("#postpone", "#archive", "#not-authority", "#staff-note"):
        expect(page.locator(f"{folded}:not([open])")).to_have_count(1)
    in_view(page, "#postpone > summary")
    [(dinas_id,)] = lapor_server.query("SELECT id FROM units WHERE slug = ?", "dinas")
    page.fill("#title", "Atap ruang tunggu bocor")
    page.select_option("#category", index=1)
    page.select_option("#unit", value=str(dinas_id))
    page.fill("#note", "Mohon dicek sebelum musim hujan puncak.")
    page.click("form[action$='/forward'] button[type=submit]")
    expect(page.locator("#done")).to_be_visible()

    unit_page = make_page(javascript=False, locale="id-ID")
    unit_page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(unit_page, lapor_server, officer, officer_password)
    unit_page.click(f"table.inbox a:text('{code}')")
    # The officer's first things: the coordinator's note and the answer box, beside the report.
    note = in_view(unit_page, "#unit-note")
    answer = in_view(unit_page, "form[action$='/follow-up'] textarea")
    in_view(unit_page, "form[action$='/follow-up'] button[type=submit]")
    text = in_view(unit_page, "div.text")
    assert note["x"] > text["x"] + text["width"] and answer["y"] > note["y"]
    # Handing it back is folded in the same column, under the answer.
    reroute = unit_page.locator("#reroute:not([open]) > summary").bounding_box()
    assert reroute and abs(reroute["x"] - note["x"]) < 4 and reroute["y"] > answer["y"]
    # The assignment is one box holding its fields, with no empty box under its heading.
    assign = unit_page.locator("form[action$='/assign']").bounding_box()
    heading = unit_page.locator("h2#assign").bounding_box()
    assert assign and heading and 0 <= assign["y"] - (heading["y"] + heading["height"]) < 16
    assert assign["height"] < 160, assign

    # On a phone one column: the report first, then what may be done.
    phone = make_page(javascript=False, locale="id-ID")
    sign_in(phone, lapor_server, officer, officer_password)
    phone.click(f"table.inbox a:text('{code}')")
    text_box = phone.locator("div.text").bounding_box()
    answer_box = phone.locator("form[action$='/follow-up']").bounding_box()
    assert text_box and answer_box and answer_box["y"] > text_box["y"] + text_box["height"]
    assert_fits_phone(phone)
    for p in (page, unit_page, phone):
        assert p.problems == []
