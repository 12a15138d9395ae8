"""The form teaches a good report (issue 18, point 9): guidance beside the text, what not to
send, a hint for each kind (the kiosk's, from one source) and what is stored and who sees it;
on the poster's, the unit's and the widget's form alike, without making the form heavy."""

from __future__ import annotations

import gzip

import httpx
from bs4 import BeautifulSoup

from lapor.complaints.reports import Kind
from lapor.kiosk.strings import strings_for
from lapor.web import i18n
from lapor.web.labels import kind_hint
from tests.conftest import AppHarness
from tests.html import attr, one


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def forms(harness: AppHarness) -> list[BeautifulSoup]:
    svc = harness.app.state.services
    widget = await svc.store.add_widget(harness.world.units["dinas"].id, ["https://dinas.example"])
    key = svc.signing.widget_key(widget.id, widget.version)
    pages = []
    for path, origin in (
        (f"/q/{harness.world.code('loket')}", {}),
        ("/u/dinas", {}),
        (f"/w/{key}", {"o": "https://dinas.example"}),  # the widget's frame on its site
    ):
        response = await harness.client.get(
            path, params=origin, headers={"sec-fetch-dest": "iframe"} if origin else {}
        )
        assert response.status_code == 200, (path, response.text)
        pages.append(soup(response))
    return pages


async def test_every_form_guides_the_text_and_says_what_not_to_send(harness: AppHarness) -> None:
    for page in await forms(harness):
        hint = one(page, "#text-hint").text
        for word in ("apa yang terjadi", "di mana", "kapan", "siapa", "harapan"):
            assert word in hint.lower(), (word, hint)
        guide = one(page, "details#text-guide")
        assert "data pribadi orang lain" in guide.text and "makian" in guide.text
        # Beside the text: between its label and the field itself.
        text = one(page, "textarea#text")
        assert guide.find_next("textarea") is text


async def test_each_kind_has_the_kiosks_hint(harness: AppHarness) -> None:
    kiosk = strings_for("id")
    for page in await forms(harness):
        for kind in Kind:
            radio = one(page, f"input[name=kind][value={kind.value}]")
            hint = one(page, f"#{attr(radio, 'aria-describedby')}").text
            assert hint == kiosk[f"kind_{kind.value}_help"]
            with i18n.using("id"):
                assert hint == kind_hint(kind)


async def test_the_privacy_notice_says_what_is_stored_and_who_sees_it(harness: AppHarness) -> None:
    for page in await forms(harness):
        notice = one(page, "details#privacy").text
        assert "menyimpan" in notice and "koordinator" in notice and "anonim" in notice
        assert "rahasia" in notice and "kode lacak" in notice
        # Before the send button, where the choice is made.
        assert one(page, "details#privacy").find_next("button", class_="send") is not None


async def test_the_guidance_keeps_the_form_light(harness: AppHarness) -> None:
    response = await harness.client.get(f"/q/{harness.world.code('loket')}")
    # The whole page, guidance included, in a few kilobytes on the wire.
    assert len(gzip.compress(response.content)) < 4_500
