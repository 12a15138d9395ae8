"""Reporting without a poster (issue 18, point 8): `/` finds an agency by name with a plain GET
form, `/u/{slug}` is the same form as a poster's under the same protections, and the pages of
codes that cannot be used point there and to the other official channels."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
from bs4 import BeautifulSoup

from tests.conftest import AppHarness, MakeHarness
from tests.html import attr, one, tag

TEXT = "Antrean sangat panjang dan loket tutup sebelum jam pelayanan."


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def db(harness: AppHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(sql).fetchall()


async def unit_token(harness: AppHarness, slug: str) -> str:
    response = await harness.client.get(f"/u/{slug}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return attr(one(soup(response), "input[name=token]"), "value")


async def test_home_finds_agencies_by_name_without_javascript(harness: AppHarness) -> None:
    await harness.world.unit("lone", name="Badan Tanpa Koordinator")
    page = soup(await harness.client.get("/"))
    form = one(page, "form.agency-search")
    assert attr(form, "method") == "get" and attr(form, "action") == "/"
    assert attr(one(form, "input"), "name") == "q"
    listed = {a.text: attr(a, "href") for a in page.select("#agencies a")}
    # Every unit a coordinator handles, and none that nobody would read.
    assert listed["Dinas Kependudukan"] == "/u/dinas"
    assert "Kabupaten Lain" in listed and "Badan Tanpa Koordinator" not in listed
    found = soup(await harness.client.get("/", params={"q": "KEPENDUDUKAN"}))
    assert [a.text for a in found.select("#agencies a")] == ["Dinas Kependudukan"]
    assert "Pemerintah Provinsi" in one(found, "#agencies").text  # the parent, to tell apart
    none = soup(await harness.client.get("/", params={"q": "tidak ada"}))
    assert none.select("#agencies a") == [] and none.find(id="no-agency") is not None
    assert none.find("a", href="https://www.lapor.go.id") is not None


async def test_a_report_through_the_units_form(harness: AppHarness) -> None:
    page = soup(await harness.client.get("/u/rsud"))
    assert tag(page.h1).text == "RSUD Ulin"
    assert attr(one(page, "form.report"), "action") == "/u/rsud"
    token = attr(one(page, "input[name=token]"), "value")
    data = {"token": token, "kind": "aspirasi", "identity": "anonim", "text": TEXT}
    response = await harness.client.post("/u/rsud", data=data)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/t/")
    assert db(harness, "SELECT unit_id, channel, poster_id, kind FROM reports") == [
        (harness.world.units["rsud"].id, "web", None, "aspirasi")
    ]
    # The same form again is one report, as for a poster.
    assert (await harness.client.post("/u/rsud", data=data)).headers["location"] == (
        response.headers["location"]
    )
    assert len(db(harness, "SELECT id FROM reports")) == 1
    receipt = soup(await harness.client.get(response.headers["location"]))
    assert "RSUD Ulin" in one(receipt, "#received-what").text


async def test_the_units_form_is_protected_as_the_posters_is(harness: AppHarness) -> None:
    base = {"kind": "pengaduan", "identity": "anonim", "text": TEXT}
    # No token, a poster's token, another unit's token: refused, nothing stored.
    poster = harness.world.posters["loket"]
    wrong = [
        "",
        harness.app.state.services.signing.new_form_token(poster.id, poster.version),
        await unit_token(harness, "dinas"),
    ]
    for token in wrong:
        response = await harness.client.post("/u/rsud", data={**base, "token": token})
        assert response.status_code == 400, token
        assert soup(response).find(id="form-errors") is not None
        # A fresh token to send again with, the text kept.
        assert attr(one(soup(response), "input[name=token]"), "value") != token
        assert TEXT in one(soup(response), "#text").text
    # A unit's token does not pass for a poster's either.
    response = await harness.submit(token=await unit_token(harness, "dinas"))
    assert response.status_code == 400
    # The honeypot.
    token = await unit_token(harness, "rsud")
    response = await harness.client.post(
        "/u/rsud", data={**base, "token": token, "website": "http://spam.example"}
    )
    assert response.status_code == 400
    assert db(harness, "SELECT count(*) FROM reports") == [(0,)]


async def test_the_units_form_has_the_per_address_limit(make_harness: MakeHarness) -> None:
    async with make_harness(submit_limit_per_address="1/day") as harness:
        base = {"kind": "pengaduan", "identity": "anonim", "text": TEXT}
        first = await harness.client.post(
            "/u/rsud", data={**base, "token": await unit_token(harness, "rsud")}
        )
        assert first.status_code == 303
        second = await harness.client.post(
            "/u/dinas", data={**base, "token": await unit_token(harness, "dinas")}
        )
        assert second.status_code == 429
        assert db(harness, "SELECT count(*) FROM reports") == [(1,)]


async def test_an_unknown_or_unhandled_unit_is_a_friendly_404(harness: AppHarness) -> None:
    await harness.world.unit("lone", name="Badan Tanpa Koordinator")
    for slug in ("tidak-ada", "lone", "DINAS", "a" * 300):
        for method in ("GET", "POST"):
            response = await harness.client.request(method, f"/u/{slug}")
            assert response.status_code == 404, (method, slug)
            assert one(soup(response), "#choose-agency")["href"] == "/"


async def test_bad_and_revoked_codes_point_to_the_agency_list_and_other_channels(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(sms_secret="s" * 24, sms_sender="0811222333") as harness:
        bad = await harness.client.get("/q/not-a-code")
        assert bad.status_code == 404
        poster = harness.world.posters["loket"]
        code = harness.world.code("loket")
        await harness.app.state.services.store.revoke_poster(poster.id)
        revoked = await harness.client.get(f"/q/{code}")
        assert revoked.status_code == 410
        for response in (bad, revoked):
            page = soup(response)
            assert one(page, "#choose-agency")["href"] == "/"
            channels = one(page, "ul.channels")
            assert channels.find("a", href="https://www.lapor.go.id") is not None
            assert "1708" in channels.text
            assert "0811222333" in channels.text and "LAPOR" in channels.text


async def test_without_an_sms_number_only_the_national_channels_are_named(
    harness: AppHarness,
) -> None:
    channels = one(soup(await harness.client.get("/q/not-a-code")), "ul.channels")
    assert len(channels.find_all("li")) == 2
