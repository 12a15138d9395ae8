"""Hostile input for the citizen's pages (citizen/routes.py): the poster's form and the unit's
(no poster) with a valid form token and anything for its fields and photos, the status pages
and photos with any code, secret and query, and the reporter's reply, accept and message
through the private link."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import MakeHarness
from tests.fuzz.harness import (
    ORIGIN,
    STARLETTE_CUT_PART,
    Fuzz,
    Part,
    covers,
    fuzz,
    fuzz_settings,
    multipart,
    segment,
)
from tests.fuzz.strategies import form_bodies, images, queries, texts, values

pytestmark = STARLETTE_CUT_PART

REPORT_FIELDS = [
    "kind",
    "text",
    "location",
    "identity",
    "name",
    "phone",
    "email",
    "website",
    "switch_language",
    "photo_ref",
    "page",
    "token",
]
GOOD = {
    "kind": "pengaduan",
    "identity": "anonim",
    "text": "Antrean sangat panjang dan loket tutup sebelum jam pelayanan.",
}


@pytest.fixture
async def fz(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(make_harness) as f:
        yield f


@covers("POST /q/{code}", "POST /Q/{code}")
@fuzz_settings(scale=2)
@given(data=st.data())
async def test_the_posters_form_takes_anything(fz: Fuzz, data: st.DataObject) -> None:
    svc = fz.svc
    poster = fz.h.world.posters["loket"]
    token = svc.signing.new_form_token(poster.id, poster.version)
    body = data.draw(form_bodies({"token": token, **GOOD}, REPORT_FIELDS, files=images()))
    code = data.draw(st.sampled_from([fz.h.world.code("loket"), fz.h.world.code("igd")]))
    prefix = data.draw(st.sampled_from(["/q/", "/Q/"]))
    await fz.send("POST", prefix + code, body=body, query=data.draw(queries(["lang"])))


@covers("POST /u/{slug}")
@fuzz_settings(scale=2)
@given(data=st.data())
async def test_the_units_form_takes_anything(fz: Fuzz, data: st.DataObject) -> None:
    units = fz.h.world.units
    token = fz.svc.signing.new_unit_form_token(units["dinas"].id)
    body = data.draw(form_bodies({"token": token, **GOOD}, REPORT_FIELDS, files=images()))
    slug = data.draw(st.sampled_from(["dinas", "rsud", "DINAS"]) | values)
    await fz.send("POST", f"/u/{segment(slug)}", body=body, query=data.draw(queries(["lang"])))


@covers("POST /q/{code}")
@fuzz_settings()
@given(photos=st.lists(images(), min_size=1, max_size=3))
async def test_the_posters_form_takes_any_photo(
    fz: Fuzz, photos: list[tuple[str, bytes, str]]
) -> None:
    """The rest of the form is right: only the photos decide, so the decoding runs."""
    poster = fz.h.world.posters["loket"]
    token = fz.svc.signing.new_form_token(poster.id, poster.version)
    parts = [Part(k, v.encode()) for k, v in {"token": token, **GOOD}.items()]
    parts += [Part("photos", data, name, ctype) for name, data, ctype in photos]
    await fz.send("POST", f"/q/{fz.h.world.code('loket')}", body=multipart(parts))


@covers(
    "GET /",
    "GET /q/{code}",
    "GET /Q/{code}",
    "GET /t",
    "GET /t/{code}",
    "GET /t/{code}/attachments/{attachment_id:int}",
    "GET /t/{code}/{secret}",
    "GET /u/{slug}",
    "GET /t/{code}/photos/{position:int}",
    "GET /t/{code}/{secret}/photos/{position:int}",
)
@fuzz_settings(scale=2)
@given(data=st.data())
async def test_the_citizens_pages_take_any_address(fz: Fuzz, data: st.DataObject) -> None:
    code = data.draw(st.sampled_from([fz.code, fz.code.replace("-", "").lower()]) | values)
    secret = data.draw(st.just(fz.secret) | values)
    printed = fz.h.world.code("loket")
    # As printed, as typed on a phone (lower case, look-alike letters), and anything at all.
    typed = printed.lower().replace("0", "o").replace("1", "l")
    poster = data.draw(st.sampled_from([printed, typed]) | values)
    number = data.draw(st.integers(0, 2**64) | st.just(1))
    path = data.draw(
        st.sampled_from(
            [
                "/",
                f"/q/{segment(poster)}",
                f"/Q/{segment(poster)}",
                "/t",
                f"/t/{segment(code)}",
                f"/t/{segment(code)}/attachments/{number}",
                f"/t/{segment(code)}/{segment(secret)}",
                f"/u/{segment(data.draw(st.sampled_from(['dinas', 'prov']) | values))}",
                f"/t/{segment(code)}/photos/{number}",
                f"/t/{segment(code)}/{segment(secret)}/photos/{number}",
            ]
        )
    )
    query = data.draw(
        queries(
            ["code", "sent", "lang", "q", "size"],
            {"code": fz.code, "sent": "1", "q": "dinas", "size": "small"},
        )
    )
    headers = {
        "accept-language": data.draw(texts).encode("ascii", "ignore").decode(),
        "cookie": f"lapor_lang={segment(data.draw(values))}",
    }
    await fz.send("GET", path, query=query, headers=headers)


@covers(
    "POST /t/{code}/{secret}/reply",
    "POST /t/{code}/{secret}/accept",
    "POST /t/{code}/{secret}/message",
)
@fuzz_settings(scale=2)
@given(data=st.data())
async def test_the_reporters_acts_take_anything(fz: Fuzz, data: st.DataObject) -> None:
    act = data.draw(st.sampled_from(["reply", "accept", "message"]))
    secret = data.draw(st.just(fz.secret) | values)
    report = await fz.svc.store.report_by_tracking_code(fz.code.replace("-", ""))
    assert report is not None
    body = data.draw(
        form_bodies(
            {"version": str(report.version), "text": "Belum ada perbaikan sampai hari ini."},
            ["version", "text", "rating"],
            files=images(),
        )
    )
    await fz.send(
        "POST",
        f"/t/{fz.code}/{segment(secret)}/{act}",
        body=body,
        headers={
            "origin": data.draw(st.sampled_from([ORIGIN] * 4 + ["null", "https://evil.example"]))
        },
    )
