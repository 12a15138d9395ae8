"""The citizen's path over HTTP, in-process, against a real SQLite file."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from lapor import resources
from tests.conftest import AppHarness, MakeHarness, jpeg_bytes
from tests.html import attr, one, tag


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def rows(harness: AppHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(sql).fetchall()


async def test_form_shows_unit_and_counter_and_is_not_cached(harness: AppHarness) -> None:
    response = await harness.client.get(f"/q/{harness.world.code('loket')}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = soup(response)
    assert one(page, ".unit").text == "Dinas Kependudukan"
    assert tag(page.h1).text == "Loket 3 – Perekaman KTP"
    form = tag(page.find("form", class_="report"))
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data"
    kinds = {i["value"] for i in page.find_all("input", attrs={"name": "kind"})}
    assert kinds == {"pengaduan", "aspirasi", "informasi"}
    identities = {i["value"] for i in page.find_all("input", attrs={"name": "identity"})}
    assert identities == {"named", "anonim", "rahasia"}
    assert page.find("textarea", attrs={"name": "text", "maxlength": "4000"}) is not None


async def test_the_form_gzipped_once_reads_as_the_page_itself(harness: AppHarness) -> None:
    """The blank form is compressed once per poster (web/slotted.py): what a phone receives
    must inflate to the very page a client without gzip gets, each with its own token."""
    import gzip
    import re

    url = f"/q/{harness.world.code('loket')}"
    pages = []
    for encoding in ("gzip", "identity", "gzip"):
        async with harness.client.stream("GET", url, headers={"accept-encoding": encoding}) as r:
            raw = b"".join([chunk async for chunk in r.aiter_raw()])
        assert r.headers.get("content-encoding") == (None if encoding == "identity" else "gzip")
        assert int(r.headers["content-length"]) == len(raw)
        assert {v.strip() for v in r.headers["vary"].split(",")} == {"Accept-Encoding", "Cookie"}
        pages.append(gzip.decompress(raw) if encoding == "gzip" else raw)
    tokens = [re.findall(rb'name="token" value="([^"]+)"', page) for page in pages]
    assert all(len(found) == 1 for found in tokens)
    assert len({found[0] for found in tokens}) == 3
    assert (
        len({page.replace(found[0], b"T") for page, found in zip(pages, tokens, strict=True)}) == 1
    )
    # Each token still opens a submission.
    response = await harness.submit(token=tokens[0][0].decode())
    assert response.status_code == 303


async def test_scan_report_receipt_status(harness: AppHarness) -> None:
    response = await harness.submit(identity="named", name="Budi Santoso", phone="0812-3456-7890")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/t/") and location.endswith("?sent=1")
    receipt = soup(await harness.client.get(location))
    code = receipt.select_one(".receipt .code")
    assert code is not None and code.text.strip() == location[3:14]
    status = await harness.client.get(location[:14])
    assert status.status_code == 200
    assert "Budi" not in status.text and "3456" not in status.text
    stored = rows(harness, "SELECT channel, poster_id, reporter_phone, identity FROM reports")
    assert stored == [("poster", harness.world.posters["loket"].id, "+6281234567890", "named")]


async def test_double_submit_stores_one_report_with_one_receipt(harness: AppHarness) -> None:
    token, _ = await harness.form()
    first, second = await asyncio.gather(harness.submit(token=token), harness.submit(token=token))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    third = await harness.submit(token=token)
    assert third.headers["location"] == first.headers["location"]
    assert rows(harness, "SELECT count(*) FROM reports") == [(1,)]


async def test_same_form_with_other_content_is_refused_with_a_pointer(harness: AppHarness) -> None:
    token, _ = await harness.form()
    first = await harness.submit(token=token)
    other = await harness.submit(token=token, text="Isi yang sama sekali berbeda dari sebelumnya.")
    assert other.status_code == 409
    assert first.headers["location"][3:14] in other.text
    assert rows(harness, "SELECT count(*) FROM reports") == [(1,)]


@pytest.mark.parametrize(
    "fields, field_name",
    [
        ({"text": "pendek"}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"kind": "bogus"}, "kind"),
        ({"identity": "named", "name": "", "phone": "08123456789"}, "name"),
        ({"identity": "named", "name": "Ani", "phone": "abc"}, "phone"),
        ({"identity": "rahasia", "name": "Ani"}, "contact"),
        ({"identity": "named", "name": "Ani", "email": "not-an-address"}, "email"),
    ],
)
async def test_bad_input_is_explained_and_nothing_is_stored(
    harness: AppHarness, fields: dict[str, str], field_name: str
) -> None:
    text = fields.get("text", "Antrean sangat panjang dan loket tutup sebelum jam pelayanan.")
    response = await harness.submit(files=None, **fields)
    assert response.status_code == 400
    page = soup(response)
    # bs4's overloads of find() leave out attrs= without a name, which it takes at run time.
    assert page.find(attrs={"role": "alert"}) is not None  # type: ignore[call-overload]
    assert page.select(".error"), "the field's own message is shown"
    # Everything typed comes back, so nothing has to be typed twice.
    if field_name != "text":
        assert tag(page.find("textarea", attrs={"name": "text"})).text == text
    assert rows(harness, "SELECT count(*) FROM reports") == [(0,)]


async def test_photo_is_reencoded_without_exif_and_stored(harness: AppHarness) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "S", 2: (6.0, 10.0, 0.0)}  # GPS
    photo = jpeg_bytes(3000, 2000, exif=exif.tobytes())
    response = await harness.submit(files=[("photos", ("a.jpg", photo, "image/jpeg"))])
    assert response.status_code == 303
    [(name, width, height)] = rows(harness, "SELECT filename, width, height FROM report_photos")
    assert max(width, height) == harness.settings.photo_max_side
    stored = (harness.settings.photo_dir / name[:2] / name).read_bytes()
    assert b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()


async def test_photo_is_stored_without_its_jpeg_comment(harness: AppHarness) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, "JPEG", comment=b"secret-of-the-sender")
    response = await harness.submit(files=[("photos", ("c.jpg", out.getvalue(), "image/jpeg"))])
    assert response.status_code == 303
    [(name,)] = rows(harness, "SELECT filename FROM report_photos")
    stored = (harness.settings.photo_dir / name[:2] / name).read_bytes()
    assert b"secret-of-the-sender" not in stored
    assert b"\xff\xfe" not in stored.split(b"\xff\xda", 1)[0]  # no COM segment before the scan
    with Image.open(io.BytesIO(stored)) as image:
        assert "comment" not in image.info


async def test_corrupt_photo_keeps_text_and_good_photo_for_the_resend(harness: AppHarness) -> None:
    token, _ = await harness.form()
    text = "Petugas meminta biaya tambahan yang tidak resmi."
    response = await harness.submit(
        token=token,
        text=text,
        files=[
            ("photos", ("good.jpg", jpeg_bytes(), "image/jpeg")),
            ("photos", ("bad.jpg", b"this is not a jpeg", "image/jpeg")),
        ],
    )
    assert response.status_code == 400
    page = soup(response)
    assert tag(page.find("textarea")).text == text
    refs = [i["value"] for i in page.find_all("input", attrs={"name": "photo_ref"})]
    assert len(refs) == 1
    # The resend carries only the reference: the photo is not uploaded again.
    response = await harness.client.post(
        f"/q/{harness.world.code('loket')}",
        data={
            "token": token,
            "kind": "pengaduan",
            "identity": "anonim",
            "text": text,
            "photo_ref": refs[0],
        },
    )
    assert response.status_code == 303
    assert rows(harness, "SELECT count(*) FROM report_photos") == [(1,)]


async def test_a_photo_ref_from_another_form_is_ignored(harness: AppHarness) -> None:
    token_a, _ = await harness.form()
    response = await harness.submit(
        token=token_a, text="pendek", files=[("photos", ("a.jpg", jpeg_bytes(), "image/jpeg"))]
    )
    ref = tag(soup(response).find("input", attrs={"name": "photo_ref"}))["value"]
    token_b, _ = await harness.form()
    response = await harness.client.post(
        f"/q/{harness.world.code('loket')}",
        data={
            "token": token_b,
            "kind": "pengaduan",
            "identity": "anonim",
            "text": "Laporan lain yang mencoba memakai foto orang lain.",
            "photo_ref": ref,
        },
    )
    assert response.status_code == 303
    assert rows(harness, "SELECT count(*) FROM report_photos") == [(0,)]


async def test_too_many_photos_is_an_error(harness: AppHarness) -> None:
    files = [("photos", (f"{i}.jpg", jpeg_bytes(), "image/jpeg")) for i in range(4)]
    response = await harness.submit(files=files)
    assert response.status_code == 400
    assert rows(harness, "SELECT count(*) FROM reports") == [(0,)]


async def test_oversized_photo_is_refused_before_decoding(make_harness: MakeHarness) -> None:
    async with make_harness(max_photo_bytes=20_000) as harness:
        big = jpeg_bytes(2000, 2000, color=(1, 2, 3)) + b"\0" * 30_000
        response = await harness.submit(files=[("photos", ("big.jpg", big, "image/jpeg"))])
        assert response.status_code == 400
        assert tag(soup(response).find("textarea")).text  # the text survives


@pytest.mark.parametrize(
    "mangle, status, reason",
    [
        (lambda code: code[:-1] + ("A" if code[-1] != "A" else "B"), 404, "bad_signature"),
        (lambda code: "9" + code, 404, "bad_signature"),
        (lambda code: "nonsense", 404, "bad_signature"),
        # Other spellings of the same signature: one poster, one URL.
        (lambda code: code + "=", 404, "bad_signature"),
        (lambda code: code[:-2] + "!" + code[-2:], 404, "bad_signature"),
        (lambda code: "x" * 100, 404, "malformed"),
    ],
)
async def test_tampered_codes_get_a_friendly_page_and_are_counted(
    harness: AppHarness, mangle: Callable[[str], str], status: int, reason: str
) -> None:
    code = mangle(harness.world.code("loket"))
    response = await harness.client.get(f"/q/{code}")
    assert response.status_code == status
    assert soup(response).h1 is not None
    metrics = (await harness.client.get("/metrics")).text
    assert f'lapor_poster_codes_rejected_total{{reason="{reason}"}} 1.0' in metrics


async def test_a_poster_printed_before_todays_codes_still_opens_its_form(
    harness: AppHarness,
) -> None:
    """Posters hang for years: one printed with the first code format (base 36, a dot,
    base64url) opens the same form, and the report it sends belongs to the same poster."""
    svc = harness.app.state.services
    poster = harness.world.posters["loket"]
    printed = svc.signing.first_format_poster_code(poster.id, poster.version)
    assert "." in printed
    response = await harness.client.get(f"/q/{printed}")
    assert response.status_code == 200
    page = soup(response)
    assert tag(page.h1).text == "Loket 3 – Perekaman KTP"
    form = tag(page.find("form", class_="report"))
    assert form["action"] == f"/q/{printed}"
    sent = await harness.client.post(
        str(form["action"]),
        data={
            "token": str(attr(one(page, "input[name=token]"), "value")),
            "kind": "pengaduan",
            "identity": "anonim",
            "text": "Poster lama di loket masih bisa dipindai.",
        },
    )
    assert sent.status_code == 303
    assert rows(harness, "SELECT poster_id FROM reports") == [(poster.id,)]


@pytest.mark.parametrize("prefix", ["/q/", "/Q/"])
async def test_the_code_opens_however_it_is_typed(harness: AppHarness, prefix: str) -> None:
    """The QR code carries the URL uppercased (`/Q/...`); a person copying the printed address
    types it in any case, with O for 0 and l for 1. Every spelling opens the one form, which
    posts back to the code as printed, so it is cached and counted once."""
    printed = harness.world.code("loket")
    for typed in (printed, printed.lower(), printed.replace("0", "o").replace("1", "l")):
        response = await harness.client.get(prefix + typed)
        assert response.status_code == 200, typed
        form = tag(soup(response).find("form", class_="report"))
        assert form["action"] == f"/q/{printed}"
    assert len(harness.app.state.services.page_cache["blank_forms"]) == 1


async def test_unknown_poster_and_revoked_poster(harness: AppHarness) -> None:
    svc = harness.app.state.services
    unknown = svc.signing.poster_code(424242, 1)
    assert (await harness.client.get(f"/q/{unknown}")).status_code == 404
    old_code = harness.world.code("loket")
    token, _ = await harness.form()
    await svc.store.revoke_poster(harness.world.posters["loket"].id)
    revoked = await harness.client.get(f"/q/{old_code}")
    assert revoked.status_code == 410
    # A citizen who opened the form before the revocation still gets the report through.
    response = await harness.client.post(
        f"/q/{old_code}",
        data={
            "token": token,
            "kind": "pengaduan",
            "identity": "anonim",
            "text": "Formulir dibuka sebelum poster dicabut.",
        },
    )
    assert response.status_code == 303
    # Other posters are untouched.
    assert (await harness.client.get(f"/q/{harness.world.code('igd')}")).status_code == 200
    metrics = (await harness.client.get("/metrics")).text
    assert 'lapor_poster_codes_rejected_total{reason="revoked"} 1.0' in metrics
    assert 'lapor_poster_codes_rejected_total{reason="unknown_poster"} 1.0' in metrics


async def test_token_for_another_poster_is_refused(harness: AppHarness) -> None:
    token, _ = await harness.form("igd")
    response = await harness.submit("loket", token=token)
    assert response.status_code == 400
    assert rows(harness, "SELECT count(*) FROM reports") == [(0,)]


@pytest.mark.parametrize("age, reason", [(7200, "expired"), (0, "invalid")])
async def test_unusable_form_token_keeps_the_text_and_offers_a_fresh_one(
    make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch, age: int, reason: str
) -> None:
    import time

    async with make_harness(form_token_max_age=3600) as harness:
        svc = harness.app.state.services
        if reason == "expired":
            with monkeypatch.context() as patched:
                patched.setattr(time, "time", lambda: time.monotonic() * 0 + 1_700_000_000.0)
                token = svc.signing.new_form_token(harness.world.posters["loket"].id, 1)
        else:
            token = "garbage.token.value"
        text = "Saya menunggu lebih dari tiga jam tanpa kepastian."
        response = await harness.submit(token=token, text=text)
        assert response.status_code == 400
        page = soup(response)
        assert tag(page.find("textarea")).text == text
        fresh = str(tag(page.find("input", attrs={"name": "token"}))["value"])
        assert fresh != token
        assert (await harness.submit(token=fresh, text=text)).status_code == 303


async def test_honeypot_is_refused(harness: AppHarness) -> None:
    response = await harness.submit(website="http://spam.example")
    assert response.status_code == 400
    assert rows(harness, "SELECT count(*) FROM reports") == [(0,)]


async def test_rate_limit_per_address_keeps_the_text(make_harness: MakeHarness) -> None:
    async with make_harness(submit_limit_per_address="2/day") as harness:
        assert (await harness.submit()).status_code == 303
        assert (await harness.submit()).status_code == 303
        limited = await harness.submit(text="Laporan ketiga dari alamat yang sama.")
        assert limited.status_code == 429
        assert "ketiga" in tag(soup(limited).find("textarea")).text


async def test_retries_of_one_form_are_limited_without_blocking_others(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(submit_limit_per_form="2/day") as harness:
        token, _ = await harness.form()
        for _ in range(2):
            assert (await harness.submit(token=token)).status_code == 303
        assert (await harness.submit(token=token)).status_code == 429
        # Someone else at the same counter is not affected.
        assert (await harness.submit()).status_code == 303


async def test_user_text_is_escaped_everywhere(harness: AppHarness) -> None:
    evil = '<script>alert("x")</script> antrean <img src=x onerror=alert(1)>'
    response = await harness.submit(text=evil, location="<b>lobi</b>")
    status = await harness.client.get(response.headers["location"])
    assert "<script>alert" not in status.text
    await harness.login("koor@prov.go.id")
    report_id = rows(harness, "SELECT id FROM reports")[0][0]
    detail = await harness.client.get(f"/admin/reports/{report_id}")
    assert "<script>alert" not in detail.text and "&lt;script&gt;" in detail.text
    assert "<b>lobi</b>" not in detail.text


async def test_security_headers_and_csp_without_inline_script(harness: AppHarness) -> None:
    response = await harness.client.get(f"/q/{harness.world.code('loket')}")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["strict-transport-security"].startswith("max-age=")
    page = soup(response)
    assert all(script.get("src") for script in page.find_all("script"))
    # No style attribute, and one <style> element: the stylesheet, allowed by its hash.
    assert not page.find_all(style=True) and len(page.find_all("style")) == 1


def style_src(csp: str) -> list[str]:
    directive = next(d.strip() for d in csp.split(";") if d.strip().startswith("style-src "))
    return directive.split()[1:]


def sha256_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@pytest.mark.parametrize("path", ["/q/{code}", "/", "/t"])
async def test_the_inline_stylesheet_is_allowed_by_its_hash(harness: AppHarness, path: str) -> None:
    # On 2G each request costs a round trip before anything shows: the citizen's pages carry
    # their stylesheet in the HTML, and the policy allows exactly that text and nothing else.
    response = await harness.client.get(path.format(code=harness.world.code("loket")))
    assert response.status_code == 200
    page = soup(response)
    (style,) = page.find_all("style")
    assert not page.find_all("link", rel="stylesheet")
    text = style.string or ""
    assert text == (resources.path("static") / "citizen.css").read_text(encoding="utf-8")
    sources = style_src(response.headers["content-security-policy"])
    assert sources == ["'self'", sha256_source(text)]


async def test_form_page_weight_budget(harness: AppHarness) -> None:
    """The budget is 30 KB gzipped for everything the first load needs."""
    import gzip

    headers = {"accept-encoding": "gzip"}
    response = await harness.client.get(f"/q/{harness.world.code('loket')}", headers=headers)
    total = len(gzip.compress(response.content))
    page = soup(response)
    assets = [link["href"] for link in page.find_all("link", rel="stylesheet")]
    assets += [script["src"] for script in page.find_all("script")]
    for asset in assets:
        asset_response = await harness.client.get(str(asset), headers=headers)
        assert asset_response.status_code == 200
        assert "immutable" in asset_response.headers["cache-control"]
        total += len(gzip.compress(asset_response.content))
    assert total <= 30 * 1024, total


async def test_switching_language_on_the_form_keeps_text_and_photos(harness: AppHarness) -> None:
    token, page = await harness.form()
    switch = page.find("button", attrs={"name": "switch_language"})
    assert switch is not None and switch["form"] == "report-form"
    text = "Masih menulis, lalu ganti bahasa."
    response = await harness.client.post(
        str(switch["formaction"]),
        data={
            "token": token,
            "kind": "aspirasi",
            "identity": "anonim",
            "text": text,
            "switch_language": "en",
        },
        files=[("photos", ("a.jpg", jpeg_bytes(), "image/jpeg"))],
    )
    assert response.status_code == 200
    page = soup(response)
    assert tag(page.html)["lang"] == "en"
    assert tag(page.find("textarea")).text == text
    assert tag(page.find("input", attrs={"name": "kind", "value": "aspirasi"})).has_attr("checked")
    assert len(page.find_all("input", attrs={"name": "photo_ref"})) == 1
    # bs4's overloads of find() leave out attrs= without a name, which it takes at run time.
    assert page.find(attrs={"role": "alert"}) is None  # type: ignore[call-overload]
    assert rows(harness, "SELECT count(*) FROM reports") == [(0,)]


async def test_picking_too_many_photos_keeps_the_text(harness: AppHarness) -> None:
    files = [("photos", (f"{i}.jpg", jpeg_bytes(), "image/jpeg")) for i in range(8)]
    text = "Terlalu banyak foto dipilih sekaligus dari galeri."
    response = await harness.submit(text=text, files=files)
    assert response.status_code == 400
    assert tag(soup(response).find("textarea")).text == text


async def test_body_over_the_limit_gets_a_page_in_the_citizens_language(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(max_photos=1, max_photo_bytes=2000) as harness:
        big = [("photos", ("a.jpg", b"\xff" * 1_100_000, "image/jpeg"))]
        response = await harness.submit(files=big)
        assert response.status_code == 413
        assert tag(soup(response).html)["lang"] == "id"


async def test_each_citizen_gets_a_fresh_token_in_an_otherwise_identical_form(
    harness: AppHarness,
) -> None:
    (token_a, page_a), (token_b, page_b) = await harness.form(), await harness.form()
    assert token_a != token_b
    assert str(page_a).replace(token_a, "") == str(page_b).replace(token_b, "")
    english = (await harness.client.get(f"/q/{harness.world.code('loket')}?lang=en")).text
    assert "Send report" in english  # the cache is per language


async def test_the_error_summary_lists_each_error_with_a_link_to_its_field(
    harness: AppHarness,
) -> None:
    """What stopped people: "3 things to fix" and no list; name and e-mail not marked."""
    answer = await harness.submit(kind="", text="pendek", identity="named", name="", email="")
    assert answer.status_code == 400
    page = BeautifulSoup(answer.text, "html.parser")
    summary = one(page, "#form-errors")
    links = summary.select("li a")
    assert len(links) == 4 and "4" in one(summary, "strong").get_text()
    targets = [attr(a, "href") for a in links]
    assert targets == ["#kind", "#text", "#name", "#phone"]
    for target in targets:  # every link lands on a field of this page
        assert page.find(id=target[1:]) is not None, target
    assert [str(link.get_text()) for link in links][1] == page.select("p.error")[1].get_text()
    for field in ("text", "name", "phone", "email"):
        assert attr(one(page, f"#{field}"), "aria-invalid") == "true", field
    assert "invalid" in (one(page, "fieldset:has(#kind)").get("class") or [])
