"""The language follows the product, not the browser: Bahasa Indonesia unless the person (or the
agency's own page, for its widget) chooses English; the widget's button and its frame agree."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import HostSite, LaporServer
from tests.browser.test_citizen import expect, open_form
from tests.browser.test_widget import (
    add_widget,
    frame_of,
    host_html,
    strict_csp,
    tag,
    widget_button,
)

pytestmark = pytest.mark.browser


def test_an_english_phone_gets_indonesian_until_english_is_chosen(
    lapor_server: LaporServer, make_page: Callable[..., Any]
) -> None:
    page = make_page(javascript=False, locale="en-US")
    open_form(page, lapor_server.poster_url)
    assert page.get_attribute("html", "lang") == "id"
    expect(page.locator("button.send")).to_have_text("Kirim laporan")
    # The status look-up page too, and its switch keeps the page it is on.
    page.goto(f"{lapor_server.base_url}/t")
    assert page.get_attribute("html", "lang") == "id"
    page.locator("nav.lang a[lang=en]").click()
    page.wait_for_url(re.compile(r"/t\?lang=en$"))
    assert page.get_attribute("html", "lang") == "en"
    # Remembered: the form now opens in English, as chosen.
    open_form(page, lapor_server.poster_url)
    assert page.get_attribute("html", "lang") == "en"
    assert page.problems == []


@pytest.mark.parametrize(
    ("page_lang", "phone", "button", "send"),
    [
        ("en", "id-ID", "Report a problem", "Send report"),  # the agency's English page
        ("id", "en-US", "Sampaikan pengaduan", "Kirim laporan"),  # an English phone
    ],
)
def test_the_widget_button_and_its_frame_speak_the_host_page_language(
    lapor_server: LaporServer,
    host_site: HostSite,
    make_page: Callable[..., Any],
    page_lang: str,
    phone: str,
    button: str,
    send: str,
) -> None:
    key = add_widget(lapor_server, host_site.origin)[1]
    html = host_html(tag(lapor_server, key)).replace(
        '<html lang="id">', f'<html lang="{page_lang}">'
    )
    url = host_site.page(f"/lang-{page_lang}", html, csp=strict_csp(lapor_server))
    page = make_page(locale=phone)
    page.goto(url)
    expect(widget_button(page)).to_have_text(button)
    widget_button(page).click()
    frame = frame_of(page)
    expect(frame.locator("button.send")).to_have_text(send)
    expect(frame.locator("html")).to_have_attribute("lang", page_lang)
    assert page.problems == []
