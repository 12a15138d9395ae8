"""The workspace at 1366×768 as staff read it: the inbox's filters used most in one row and the
rest folded, the actions on selected reports right above the list, radios beside their words,
and the admins' organisation pages in one menu, so the header is one line."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_citizen import expect, fill_report, open_form, receipt_code
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
