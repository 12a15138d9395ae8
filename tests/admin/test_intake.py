"""Reports staff take for a citizen at the counter, on the phone or by WhatsApp."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
from bs4 import BeautifulSoup

from tests.admin.test_workflow import signed_in
from tests.conftest import AppHarness
from tests.html import attr, one, tag

TEXT = "Warga menelepon: lampu penerangan di lorong IGD mati sejak tiga hari lalu."


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def rows(harness: AppHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(sql).fetchall()


async def blank_form(harness: AppHarness) -> dict[str, str]:
    page = soup(await harness.client.get("/admin/reports/new"))
    form = page.select_one("form#new-report")
    assert form is not None
    return {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}


async def take(harness: AppHarness, fields: dict[str, str], **data: str) -> Any:
    values = {
        "taken_via": "phone",
        "unit": str(harness.world.units["rsud"].id),
        "kind": "pengaduan",
        "text": TEXT,
        "identity": "named",
        "name": "Ibu Sari",
        "phone": "0812 3456 7890",
        "language": "id",
        **fields,
        **data,
    }
    return await harness.client.post("/admin/reports/new", data=values)


async def test_a_phoned_report_gets_the_citizens_receipt(harness: AppHarness) -> None:
    await signed_in(harness, "koor@prov.go.id")
    fields = await blank_form(harness)
    response = await take(harness, fields)
    assert response.status_code == 303
    receipt = await harness.client.get(response.headers["location"])
    page = soup(receipt)
    code = one(page, "#tracking-code").get_text()
    assert one(page, "#spoken").get_text() == " – ".join(" ".join(part) for part in code.split("-"))
    private = one(page, "#private-url").get_text()
    assert rows(
        harness, "SELECT channel, taken_via, reporter_name, reporter_phone, status FROM reports"
    ) == [("staff", "phone", "Ibu Sari", "+6281234567890", "masuk")]
    taker = harness.world.users["koor@prov.go.id"].id
    assert rows(harness, "SELECT actor_user_id FROM report_events WHERE kind = 'taken'") == [
        (taker,)
    ]
    detail = soup(await harness.client.get(response.headers["location"].rsplit("/", 1)[0]))
    assert "Dicatat oleh petugas" in one(detail, "ol.timeline").get_text()
    assert "Melalui telepon" in one(detail, "dl.facts").get_text()
    # The private link works for the citizen like one from their own receipt.
    harness.client.cookies.clear()
    assert (
        await harness.client.get(private.removeprefix(harness.settings.base_url))
    ).status_code == 200
    mail = await harness.outbox()
    assert [m.to_address for m in mail] == ["koor@prov.go.id"]


async def test_sending_the_form_twice_stores_one_report(harness: AppHarness) -> None:
    await signed_in(harness, "koor@prov.go.id")
    fields = await blank_form(harness)
    first = await take(harness, fields)
    again = await take(harness, fields)
    assert first.headers["location"] == again.headers["location"]
    assert rows(harness, "SELECT COUNT(*) FROM reports") == [(1,)]
    changed = await take(harness, fields, text=TEXT + " Sudah dua kali menelepon.")
    assert changed.status_code == 409
    assert "teks berbeda" in one(soup(changed), "#form-errors").get_text()
    # The refused text is kept, under a fresh key, so sending it again makes a new report.
    assert one(soup(changed), "#text").get_text().endswith("dua kali menelepon.")
    assert one(soup(changed), "input[name=key]")["value"] != fields["key"]
    assert rows(harness, "SELECT COUNT(*) FROM reports") == [(1,)]


async def test_bad_input_is_explained_and_stores_nothing(harness: AppHarness) -> None:
    await signed_in(harness, "koor@prov.go.id")
    fields = await blank_form(harness)
    for data, words in [
        ({"text": "pendek"}, "15"),
        ({"taken_via": "pigeon"}, "cara warga"),
        ({"unit": str(harness.world.units["other"].id)}, "Pilih unit"),
        ({"identity": "named", "name": "", "phone": ""}, "nama"),
        ({"key": "../../etc"}, "kirim lagi"),
    ]:
        response = await take(harness, fields, **data)
        assert response.status_code == 400, data
        page = soup(response)
        assert words in page.get_text(), data
        assert page.select_one("#location") is not None
        # Each error in the summary links to a field of the page, marked as in error.
        links = page.select("#form-errors li a")
        assert links or data.get("key"), data  # a stale key is the form's, not a field's
        for link in links:
            target = attr(link, "href")
            field = tag(page.find(id=target.removeprefix("#")), target)
            marked = field.get("aria-invalid") == "true" or field.find_parent(class_="invalid")
            assert marked, (data, target)
    assert rows(harness, "SELECT COUNT(*) FROM reports") == [(0,)]


async def test_only_the_taker_sees_the_receipt_and_in_the_citizens_language(
    harness: AppHarness,
) -> None:
    await signed_in(harness, "koor@prov.go.id")
    response = await take(harness, await blank_form(harness), language="en", identity="anonim")
    receipt_path = response.headers["location"]
    page = soup(await harness.client.get(receipt_path))
    assert "Your tracking code" in one(page, "section.slip").get_text()
    assert page.select_one("#private-url") is None  # nobody to hand a private link to
    await signed_in(harness, "admin@prov.go.id")
    assert (await harness.client.get(receipt_path)).status_code == 404
    await signed_in(harness, "insp@prov.go.id")
    assert (await harness.client.get("/admin/reports/new")).status_code == 403
