"""What the reporter and the public see of a report on the status pages (issue 18, points 1
and 2): the content sent, its photos, the unit's answer first with the choice, and the
deadline after which the report closes by itself."""

from __future__ import annotations

import io
import sqlite3
from typing import Any

import httpx
from bs4 import BeautifulSoup
from PIL import Image

from tests.conftest import AppHarness, MakeHarness, jpeg_bytes
from tests.html import attr, field_values, one, tag

STORY = "Antrean perekaman KTP sangat panjang dan loket tutup sebelum jam 12."
PLACE = "Loket 3, lantai 2"


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def db(harness: AppHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(sql).fetchall()


def two_photos() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("photos", ("a.jpg", jpeg_bytes(color=(200, 30, 30)), "image/jpeg")),
        ("photos", ("b.jpg", jpeg_bytes(color=(30, 30, 200)), "image/jpeg")),
    ]


async def send(harness: AppHarness, **fields: str) -> tuple[str, str, int]:
    """The receipt's URL, the public page's, and the report's id."""
    response = await harness.submit(text=STORY, location=PLACE, files=two_photos(), **fields)
    assert response.status_code == 303, response.text
    receipt = response.headers["location"]
    [(report_id,)] = db(harness, "SELECT id FROM reports ORDER BY id DESC LIMIT 1")
    return receipt, receipt[:14], report_id


async def staff(harness: AppHarness, email: str, report_id: int, path: str, **data: str) -> None:
    response = await harness.act(email, report_id, path, **data)
    assert response.status_code == 303, response.text
    harness.client.cookies.clear()


async def forward(harness: AppHarness, report_id: int) -> None:
    await staff(
        harness,
        "koor@prov.go.id",
        report_id,
        "forward",
        title="Antrean",
        category="pelayanan",
        unit=str(harness.world.units["dinas"].id),
    )


async def answer(harness: AppHarness, report_id: int, text: str) -> None:
    await harness.world.user("petugas@dinas.go.id", "officer", "dinas")
    await staff(harness, "petugas@dinas.go.id", report_id, "follow-up", answer=text)


async def test_the_receipt_and_the_private_page_show_what_was_sent(harness: AppHarness) -> None:
    receipt, _, _ = await send(harness)
    page = soup(await harness.client.get(receipt))
    assert "2 foto" in one(page, "#received-what").text
    sent = one(page, "#sent")
    assert one(sent, ".sent-text").text == STORY
    assert PLACE in sent.text
    photos = sent.select("ul.photos img")
    assert len(photos) == 2
    private = receipt.removesuffix("?sent=1")
    for img in photos:
        src = attr(img, "src")
        assert src.startswith(f"{private}/photos/")
        shown = await harness.client.get(src)
        assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
        assert shown.headers["cache-control"].startswith("private")
    # The private page without ?sent=1 shows the same.
    again = soup(await harness.client.get(private))
    assert one(again, ".sent-text").text == STORY and len(again.select("ul.photos img")) == 2


async def test_the_public_page_waits_for_verification_and_respects_redaction(
    harness: AppHarness,
) -> None:
    receipt, public, report_id = await send(harness)
    page = soup(await harness.client.get(public))
    assert STORY not in page.text and not page.select("ul.photos img")
    assert (await harness.client.get(f"{public}/photos/0")).status_code == 404
    redacted = "Antrean perekaman KTP sangat panjang, loket tutup sebelum waktunya."
    await staff(harness, "koor@prov.go.id", report_id, "redact", text=redacted, withhold="0")
    await forward(harness, report_id)
    page = soup(await harness.client.get(public))
    assert one(page, ".sent-text").text == redacted and STORY not in page.text
    [img] = page.select("ul.photos img")
    assert attr(img, "src") == f"{public}/photos/1?size=small"
    assert (await harness.client.get(f"{public}/photos/1")).status_code == 200
    assert (await harness.client.get(f"{public}/photos/0")).status_code == 404
    # The reporter still sees what they typed and both photos they sent, and is told what
    # others read instead.
    private = soup(await harness.client.get(receipt.removesuffix("?sent=1")))
    assert one(private, ".sent-text").text == STORY
    assert "menghapus data pribadi" in one(private, "#redacted").text
    assert len(private.select("ul.photos img")) == 2
    assert "menahan 1 foto" in one(private, "#sent").text
    assert (await harness.client.get(f"{receipt[:-7]}/photos/0")).status_code == 200


async def test_a_confidential_report_is_never_public(harness: AppHarness) -> None:
    receipt, public, report_id = await send(
        harness, identity="rahasia", name="Sari", phone="081234567890"
    )
    await forward(harness, report_id)
    page = soup(await harness.client.get(public))
    assert STORY not in page.text and PLACE not in page.text and "Sari" not in page.text
    assert "rahasia" in one(page, "#sent").text
    assert (await harness.client.get(f"{public}/photos/0")).status_code == 404
    private = soup(await harness.client.get(receipt))
    assert one(private, ".sent-text").text == STORY
    assert private.find(id="redacted") is None  # nothing was redacted


async def test_a_wrong_secret_shows_no_photo(harness: AppHarness) -> None:
    _, public, _ = await send(harness)
    assert (await harness.client.get(f"{public}/{'A' * 20}/photos/0")).status_code == 404


async def test_the_answer_comes_first_with_the_choice_and_the_deadline(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(close_after_days=7) as harness:
        receipt, public, report_id = await send(harness)
        await forward(harness, report_id)
        reply = "Loket tambahan dibuka mulai Senin."
        await answer(harness, report_id, reply)
        page = soup(await harness.client.get(receipt.removesuffix("?sent=1")))
        main = one(page, "main")
        sections = [s.get("id") for s in main.find_all("section")]
        assert sections[0] == "answer", sections
        box = one(page, "#answer")
        assert reply in one(box, ".note").text
        deadline = one(box, "#closes").text
        assert "7 hari kerja" in deadline
        # Accepting is the primary button, replying the secondary link, in that order.
        decide = one(box, "form#accept .decide")
        buttons = decide.find_all(["button", "a"])
        assert [b.text for b in buttons] == ["Terima jawaban", "Belum puas? Balas"]
        assert buttons[0].name == "button" and "secondary" not in (buttons[0].get("class") or [])
        assert "secondary" in buttons[1]["class"] and attr(buttons[1], "href") == "#reply"
        # The answer is not repeated in the timeline, which points up to it.
        assert reply not in one(page, ".timeline").text
        # Accepting from that form works.
        form = one(page, "form#accept")
        fields = field_values(i for i in form.find_all("input") if i.get("type") != "radio")
        accepted = await harness.client.post(attr(form, "action"), data={**fields, "rating": "4"})
        assert accepted.status_code == 303
        # The public page shows the answer first too, with no choice to make.
        shown = soup(await harness.client.get(public))
        assert reply in one(shown, "#answer").text
        assert shown.find("form", class_="reporter") is None


async def test_a_reply_puts_the_answer_back_in_the_timeline(harness: AppHarness) -> None:
    receipt, _, report_id = await send(harness)
    await forward(harness, report_id)
    reply = "Loket tambahan dibuka mulai Senin."
    await answer(harness, report_id, reply)
    private = receipt.removesuffix("?sent=1")
    page = soup(await harness.client.get(private))
    form = one(page, "form[action$='/reply']")
    fields = field_values(form.find_all("input"))
    text = "Senin sudah lewat dan loket tambahan belum ada."
    assert (
        await harness.client.post(f"{private}/reply", data={**fields, "text": text})
    ).status_code == 303
    page = soup(await harness.client.get(private))
    assert page.find(id="answer") is None
    assert reply in one(page, ".timeline").text


async def test_the_coordinators_question_is_shown_above_the_reply(harness: AppHarness) -> None:
    receipt, _, report_id = await send(harness)
    question = "Loket nomor berapa yang Anda maksud?"
    await staff(harness, "koor@prov.go.id", report_id, "postpone", reason=question)
    page = soup(await harness.client.get(receipt.removesuffix("?sent=1")))
    assert one(page, "#question").text == question


async def test_the_pages_list_small_copies_of_the_photos(harness: AppHarness) -> None:
    big = jpeg_bytes(1200, 900)
    response = await harness.submit(files=[("photos", ("big.jpg", big, "image/jpeg"))])
    page = soup(await harness.client.get(response.headers["location"]))
    img = one(page, "ul.photos img")
    link = tag(img.parent)
    small = await harness.client.get(attr(img, "src"))
    whole = await harness.client.get(attr(link, "href"))
    assert small.status_code == whole.status_code == 200
    assert Image.open(io.BytesIO(small.content)).size == (320, 240)
    assert Image.open(io.BytesIO(whole.content)).size == (1200, 900)
    assert len(small.content) < len(whole.content)
    # Made once, then served from the cache.
    again = await harness.client.get(attr(img, "src"))
    assert again.content == small.content
    assert (attr(img, "width"), attr(img, "height")) == ("1200", "900")  # the ratio, for layout
