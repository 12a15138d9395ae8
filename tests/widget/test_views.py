"""The widget's frame and loader over HTTP: headers, key and origin checks, the page URL, and
a report sent through it stored as channel `widget`."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from lapor.complaints.records import Widget
from lapor.widget.loader import MAX_GZIPPED_BYTES
from tests.conftest import AppHarness, MakeHarness
from tests.html import attr, field_values, one, tag

HOST = "https://dinkes.example.go.id"
FRAMED = {"sec-fetch-dest": "iframe"}
TEXT = "Antrean sangat panjang dan loket tutup sebelum jam pelayanan."


@dataclass
class WidgetHarness:
    h: AppHarness
    widget: Widget
    key: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.h.client

    async def open(
        self,
        *,
        origin: str = HOST,
        key: str | None = None,
        lang: str = "id",
        page: str = f"{HOST}/layanan?nik=6371010101010001#form",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.get(
            f"/w/{key or self.key}",
            params={"o": origin, "lang": lang, "p": page},
            headers=FRAMED if headers is None else headers,
        )

    async def send(self, page: BeautifulSoup, **fields: str) -> httpx.Response:
        form = page.find("form", id="report-form")
        assert form is not None
        data = field_values(form.find_all("input", attrs={"type": "hidden"}))
        data.update({"kind": "pengaduan", "identity": "anonim", "text": TEXT})
        data.update(fields)
        return await self.client.post(str(form["action"]), data=data, headers=FRAMED)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.h.settings.data_dir / "lapor.db") as conn:
            return conn.execute(sql).fetchall()


async def _widget_harness(h: AppHarness) -> WidgetHarness:
    svc = h.app.state.services
    widget = await svc.store.add_widget(h.world.units["dinas"].id, [HOST, "http://localhost:8080"])
    return WidgetHarness(h, widget, svc.signing.widget_key(widget.id, widget.version))


@pytest.fixture
async def wh(make_harness: MakeHarness) -> AsyncIterator[WidgetHarness]:
    async with make_harness() as h:
        yield await _widget_harness(h)


@pytest.fixture
async def small_wh(make_harness: MakeHarness) -> AsyncIterator[WidgetHarness]:
    """A server whose body limit (one photo of 2,000 bytes, plus 1 MB) a test can exceed."""
    async with make_harness(max_photos=1, max_photo_bytes=2000) as h:
        yield await _widget_harness(h)


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def test_the_form_may_be_framed_by_the_registered_origin_only(wh: WidgetHarness) -> None:
    response = await wh.open(origin="HTTPS://Dinkes.Example.go.id:443")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    # The one origin that asked, never the list (http://localhost:8080 is registered too).
    assert f"frame-ancestors {HOST};" in policy
    assert "localhost" not in policy and "localhost" not in response.text
    assert "x-frame-options" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    # No cookie: in a third-party frame it would be blocked, and nothing may depend on one.
    assert "set-cookie" not in response.headers
    page = soup(response)
    assert tag(page.body)["data-host"] == HOST
    assert page.find("input", attrs={"name": "token"}) is not None
    assert tag(page.h1).text == "Lapor ke Dinas Kependudukan"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://dinkes.example.go.id",
        "https://dinkes.example.go.id.evil.example",
        "",
        "javascript:alert(1)",
        f"{HOST} 'unsafe-inline'",
    ],
)
async def test_an_unregistered_origin_gets_no_form(wh: WidgetHarness, origin: str) -> None:
    response = await wh.open(origin=origin)
    # 200 inside a frame (an error status would add a browser error to the host's console);
    # a claim that is no origin at all may frame nothing, so nothing is shown and 403 says so.
    framed = origin.startswith("http") and " " not in origin
    assert response.status_code == (200 if framed else 403)
    page = soup(response)
    assert page.find("form") is None
    policy = response.headers["content-security-policy"]
    ancestors = policy.split("frame-ancestors ")[1].split(";")[0]
    assert ancestors != HOST
    assert ancestors in ("'none'", origin.strip().lower())
    assert "not registered" in tag(page.body)["data-refused"]


async def test_a_top_level_visit_or_a_fetch_is_refused(wh: WidgetHarness) -> None:
    for dest in ("document", "empty", "script"):
        response = await wh.open(headers={"sec-fetch-dest": dest})
        assert response.status_code == 403
        assert soup(response).find("form") is None
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # A fetch from another site, or one whose browser does not say where it comes from.
    for site in ("cross-site", "same-site", None):
        headers = {"sec-fetch-dest": "empty"} | ({"sec-fetch-site": site} if site else {})
        assert (await wh.open(headers=headers)).status_code == 403


async def test_the_frame_sends_its_form_by_script(wh: WidgetHarness) -> None:
    # citizen.js posts the frame's form with XMLHttpRequest, to show the upload's progress:
    # the browser marks it "empty", from our own origin, and it is taken like the form's post.
    page = soup(await wh.open())
    form = page.find("form", id="report-form")
    assert form is not None
    data = field_values(form.find_all("input", attrs={"type": "hidden"}))
    data.update({"kind": "pengaduan", "identity": "anonim", "text": TEXT})
    ours = {"sec-fetch-dest": "empty", "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"}
    response = await wh.client.post(str(form["action"]), data=data, headers=ours)
    assert response.status_code == 303
    assert "/sent/" in response.headers["location"]
    assert wh.rows("SELECT count(*) FROM reports") == [(1,)]


async def test_forged_and_revoked_keys_show_a_notice_not_a_form(wh: WidgetHarness) -> None:
    svc = wh.h.app.state.services
    for key, refusal in [
        ("1-1.forged", "unknown"),
        ("garbage", "unknown"),
        (svc.signing.widget_key(999, 1), "unknown"),
        (svc.signing.widget_key(wh.widget.id, 2), "revoked"),
    ]:
        response = await wh.open(key=key)
        assert response.status_code == 200, key
        page = soup(response)
        assert page.find("form") is None
        assert refusal in tag(page.body)["data-refused"]
    # Without a claimed origin nobody may frame even the notice, and its status says why.
    assert (await wh.open(key="garbage", origin="")).status_code == 404
    await svc.store.revoke_widget(wh.widget.id)
    response = await wh.open()
    assert response.status_code == 200
    page = soup(response)
    assert page.find("form") is None
    assert "revoked" in tag(page.body)["data-refused"]
    # The notice itself may show in the frame that asked (it gives nothing away).
    assert f"frame-ancestors {HOST};" in response.headers["content-security-policy"]
    metrics = (await wh.client.get("/metrics")).text
    assert 'reason="widget_revoked"' in metrics and 'reason="widget_unknown"' in metrics


async def test_a_report_sent_through_the_widget_is_tagged_and_gets_a_receipt(
    wh: WidgetHarness,
) -> None:
    form = soup(await wh.open())
    response = await wh.send(form)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"/w/{wh.key}/sent/")
    # The language and the host's origin travel in the URL, not in a cookie.
    assert "lang=id" in location and "o=https%3A%2F%2Fdinkes.example.go.id" in location
    receipt = await wh.client.get(location, headers=FRAMED)
    assert receipt.status_code == 200
    assert f"frame-ancestors {HOST};" in receipt.headers["content-security-policy"]
    code = one(soup(receipt), ".receipt .code").text.strip()
    links = [attr(a, "href") for a in soup(receipt).select(".receipt a")]
    assert links[0] == f"https://lapor.example.go.id/t/{code}"
    assert links[1].startswith(f"https://lapor.example.go.id/t/{code}/")
    assert (
        await wh.client.get(links[1].removeprefix("https://lapor.example.go.id"))
    ).status_code == 200
    stored = wh.rows(
        "SELECT channel, widget_id, page_url, poster_id, unit_id, routed_unit_id FROM reports"
    )
    world = wh.h.world
    # The page without its query and fragment (a NIK in the query stays on the citizen's side).
    assert stored == [
        (
            "widget",
            wh.widget.id,
            f"{HOST}/layanan",
            None,
            world.units["dinas"].id,
            world.units["prov"].id,
        )
    ]
    # Sent twice (a double tap, a retry): one report, the same receipt.
    again = await wh.send(form)
    assert again.headers["location"] == location
    assert wh.rows("SELECT count(*) FROM reports") == [(1,)]
    # Another widget's frame cannot show this receipt.
    other = location.replace(
        wh.key,
        wh.h.app.state.services.signing.widget_key(
            (await wh.h.app.state.services.store.add_widget(world.units["rsud"].id, [HOST])).id, 1
        ),
    )
    refused = await wh.client.get(other, headers=FRAMED)
    assert soup(refused).select_one(".receipt") is None and soup(refused).find("form") is None


async def test_the_receipt_says_how_to_keep_the_code_the_status_unit_and_next_step(
    wh: WidgetHarness,
) -> None:
    response = await wh.send(soup(await wh.open()))
    receipt = soup(await wh.client.get(response.headers["location"], headers=FRAMED))
    text = receipt.get_text(" ")
    # A page in another site's frame cannot be bookmarked: what can be done instead.
    assert "tandai halaman ini" not in text
    assert "tangkapan layar" in text and "tab baru" in text
    status = one(receipt, ".receipt a[target=_blank]")
    assert status.get_text(strip=True) == "Buka halaman status di tab baru"
    facts = {
        tag(dt).get_text(strip=True): tag(dt.find_next_sibling("dd")).get_text(strip=True)
        for dt in receipt.select("dl.facts dt")
    }
    assert facts["Status"] == "Diterima, menunggu verifikasi"
    assert facts["Instansi"] == "Dinas Kependudukan"
    due = facts["Diverifikasi paling lambat"]
    assert due and f"paling lambat {due}" in text


async def test_a_refusal_in_the_frame_leads_to_the_other_channels(wh: WidgetHarness) -> None:
    svc = wh.h.app.state.services
    for key, origin in [
        (wh.key, "https://evil.example"),
        (svc.signing.widget_key(wh.widget.id, 2), HOST),
    ]:
        page = soup(await wh.open(key=key, origin=origin))
        links = [attr(a, "href") for a in page.select("ul.channels a")]
        assert links == ["https://lapor.example.go.id/", "https://www.lapor.go.id/"]
        assert "Kirim SMS ke 1708" in one(page, "ul.channels").get_text(" ")
        assert all(attr(a, "target") == "_blank" for a in page.select("main a"))


async def test_the_check_answers_for_the_asking_origin_alone(wh: WidgetHarness) -> None:
    async def check(key: str = wh.key, **headers: str) -> httpx.Response:
        return await wh.client.get(f"/w/{key}/check", headers=headers)

    yes = await check(origin="HTTPS://Dinkes.Example.go.id")
    assert (yes.status_code, yes.text) == (200, "")
    assert yes.headers["access-control-allow-origin"] == "*"
    # Per asking origin (the language middleware adds its own, constant for one browser).
    assert "Origin" in [v.strip() for v in yes.headers["vary"].split(",")]
    assert yes.headers["cache-control"] == "public, max-age=60"
    assert "set-cookie" not in yes.headers
    no = await check(origin="https://evil.example")
    assert no.status_code == 200
    assert no.text.startswith("https://evil.example is not registered for this widget key")
    # The registered sites are never listed, whoever asks.
    assert "dinkes" not in no.text and "localhost" not in no.text
    assert "not registered" in (await check()).text  # no Origin: a page of no site
    assert "not registered" in (await check(origin="null")).text
    # The deployment's own pages (a same-origin fetch sends no Origin): its preview.
    assert (await check(**{"sec-fetch-site": "same-origin"})).text == ""
    assert (await check(origin="https://lapor.example.go.id")).text == ""
    assert "unknown" in (await check("1-1.forged", origin=HOST)).text
    await wh.h.app.state.services.store.revoke_widget(wh.widget.id)
    assert "revoked" in (await check(origin=HOST)).text
    assert "revoked" in (await check(origin="https://lapor.example.go.id")).text


async def test_the_deployments_own_origin_gets_a_preview_that_sends_nothing(
    wh: WidgetHarness,
) -> None:
    own = "https://lapor.example.go.id"
    response = await wh.open(origin=own)
    assert response.status_code == 200
    assert f"frame-ancestors {own};" in response.headers["content-security-policy"]
    page = soup(response)
    assert "Pratinjau" in one(page, ".preview").get_text()
    assert one(page, "button.send").has_attr("disabled")
    # Posted anyway: refused before anything is read, nothing stored.
    refused = await wh.send(page)
    assert refused.status_code == 200
    notice = soup(refused)
    assert tag(notice.h1).get_text(strip=True) == "Ini pratinjau"
    assert notice.find("form") is None
    assert wh.rows("SELECT count(*) FROM reports") == [(0,)]
    # A registered site's form is no preview.
    real = soup(await wh.open())
    assert real.select_one(".preview") is None
    assert not one(real, "button.send").has_attr("disabled")


@pytest.mark.parametrize(
    "page, kept",
    [
        ("http://localhost:8080/berita/1?utm_source=x", "http://localhost:8080/berita/1"),
        ("https://evil.example/phish", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
async def test_the_page_url_is_a_claim_kept_only_on_a_registered_origin(
    wh: WidgetHarness, page: str, kept: str | None
) -> None:
    form = soup(await wh.open(page=page))
    assert (await wh.send(form)).status_code == 303
    assert wh.rows("SELECT page_url FROM reports") == [(kept,)]


async def test_bad_input_comes_back_in_the_frame_with_the_same_token(wh: WidgetHarness) -> None:
    form = soup(await wh.open(lang="en"))
    token = tag(form.find("input", attrs={"name": "token"}))["value"]
    response = await wh.send(form, text="short")
    assert response.status_code == 200
    assert f"frame-ancestors {HOST};" in response.headers["content-security-policy"]
    page = soup(response)
    assert tag(page.find("input", attrs={"name": "token"}))["value"] == token
    assert page.select_one(".error") is not None
    assert tag(page.html)["lang"] == "en"
    assert wh.rows("SELECT count(*) FROM reports") == [(0,)]


async def test_a_poster_token_or_another_widgets_token_is_refused(wh: WidgetHarness) -> None:
    svc = wh.h.app.state.services
    form = soup(await wh.open())
    token_input = tag(form.find("input", attrs={"name": "token"}))
    for token in (
        svc.signing.new_form_token(wh.h.world.posters["loket"].id, 1),
        svc.signing.new_widget_form_token(wh.widget.id + 1, 1),
    ):
        token_input["value"] = token
        response = await wh.send(form)
        assert response.status_code == 200
        assert soup(response).select_one(".alert") is not None
        assert "token" in response.text
    assert wh.rows("SELECT count(*) FROM reports") == [(0,)]


async def test_the_poster_form_keeps_refusing_frames(wh: WidgetHarness) -> None:
    response = await wh.client.get(f"/q/{wh.h.world.code('loket')}")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_the_loader_is_small_cached_briefly_and_revalidated(wh: WidgetHarness) -> None:
    response = await wh.client.get("/widget.js", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=600"
    assert response.headers["content-encoding"] == "gzip"
    assert "cookie" not in response.headers.get("vary", "").lower()
    # What a host page downloads, compressed as we send it: at most 3 KB.
    raw = response.content
    assert len(gzip.compress(raw, compresslevel=9)) <= MAX_GZIPPED_BYTES
    assert b"__LAPOR_STRINGS__" not in raw and raw.isascii()
    assert b"Sampaikan pengaduan" in raw and b"Report a problem" in raw
    etag = response.headers["etag"]
    again = await wh.client.get("/widget.js", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert (
        await wh.client.get("/widget.js", headers={"if-none-match": 'W/"old"'})
    ).status_code == 200


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_the_squeezed_loader_parses(wh: WidgetHarness, tmp_path: Any) -> None:
    path = tmp_path / "widget.js"
    path.write_bytes((await wh.client.get("/widget.js")).content)
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_staff_see_the_widget_and_the_page_a_report_came_from(wh: WidgetHarness) -> None:
    assert (await wh.send(soup(await wh.open()))).status_code == 303
    report_id = wh.rows("SELECT id FROM reports")[0][0]
    assert (await wh.h.login("koor@prov.go.id")).status_code == 303
    page = soup(await wh.client.get(f"/admin/reports/{report_id}"))
    link = page.find("a", class_="page-url")
    assert link is not None and link["href"] == f"{HOST}/layanan"
    assert f"#{wh.widget.id}" in tag(link.parent).get_text()


def _multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = "lapor-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
        f'filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_the_limit_gets_a_notice_the_frame_may_show(
    small_wh: WidgetHarness, chunked: bool
) -> None:
    form = soup(await small_wh.open(lang="en"))
    action = str(tag(form.find("form", id="report-form"))["action"])
    fields = field_values(form.find_all("input", attrs={"type": "hidden"}))
    fields.update(kind="pengaduan", identity="anonim", text=TEXT)
    body, content_type = _multipart(fields, b"\xff" * 1_100_000)

    async def stream() -> AsyncIterator[bytes]:
        # No Content-Length: the limit is counted as the body arrives.
        for start in range(0, len(body), 64_000):
            yield body[start : start + 64_000]

    response = await small_wh.client.post(
        action,
        content=stream() if chunked else body,
        headers={**FRAMED, "content-type": content_type},
    )
    # Shown inside the host's page: 200 like every framed page, framed by that host only.
    assert response.status_code == 200
    assert f"frame-ancestors {HOST};" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
    assert response.headers["connection"] == "close"
    assert "set-cookie" not in response.headers
    page = soup(response)
    assert tag(page.html)["lang"] == "en"
    assert tag(page.body)["data-host"] == HOST
    assert tag(page.h1).text == "The form was too large to receive"
    # A way back to a fresh form in the same frame, language and host.
    back = page.find("a", string="Back to the form")
    assert back is not None and "target" not in back.attrs
    assert str(back["href"]).startswith(f"/w/{small_wh.key}?")
    again = await small_wh.client.get(str(back["href"]), headers=FRAMED)
    assert soup(again).find("form", id="report-form") is not None
    assert tag(soup(again).html)["lang"] == "en"
    assert small_wh.rows("SELECT count(*) FROM reports") == [(0,)]
    assert 'reason="widget_too_large"' in (await small_wh.client.get("/metrics")).text


async def test_a_body_over_the_limit_from_an_unregistered_site_or_key_gets_no_form_link(
    small_wh: WidgetHarness,
) -> None:
    svc = small_wh.h.app.state.services
    body = b"x" * 1_100_000
    headers = {**FRAMED, "content-type": "multipart/form-data; boundary=xyz"}
    copycat = await small_wh.client.post(
        f"/w/{small_wh.key}?o=https%3A%2F%2Fevil.example&lang=id", content=body, headers=headers
    )
    assert f"frame-ancestors {HOST}" not in copycat.headers["content-security-policy"]
    assert "not registered" in tag(soup(copycat).body)["data-refused"]
    assert soup(copycat).find("a", class_="button") is None
    await svc.store.revoke_widget(small_wh.widget.id)
    revoked = await small_wh.client.post(
        f"/w/{small_wh.key}?o=https%3A%2F%2Fdinkes.example.go.id&lang=id",
        content=body,
        headers=headers,
    )
    assert "revoked" in tag(soup(revoked).body)["data-refused"]
    assert soup(revoked).find("a", class_="button") is None
    # Opened as a page of its own, nobody may frame it.
    top = await small_wh.client.post(
        f"/w/{small_wh.key}?o=https%3A%2F%2Fdinkes.example.go.id",
        content=body,
        headers={"sec-fetch-dest": "document", "content-type": "multipart/form-data"},
    )
    assert top.status_code == 403
    assert "frame-ancestors 'none'" in top.headers["content-security-policy"]


@pytest.mark.parametrize(
    "page, line",
    [
        (f"{HOST}/layanan?nik=6371010101010001#form", f"Dikirim dari halaman: {HOST}/layanan"),
        ("https://evil.example/phish", None),
    ],
)
async def test_the_coordinators_mail_says_widget_and_names_the_page_kept(
    wh: WidgetHarness, page: str, line: str | None
) -> None:
    assert (await wh.send(soup(await wh.open(page=page)))).status_code == 303
    mails = [(m.to_address, m.body) for m in await wh.h.outbox()]
    assert [to for to, _ in mails] == ["koor@prov.go.id"]
    body = mails[0][1].splitlines()
    assert f"Pintu masuk: Widget situs web #{wh.widget.id}" in body
    if line is None:
        assert not any(b.startswith("Dikirim dari halaman") for b in body)
        assert "evil.example" not in mails[0][1]
    else:
        assert line in body
        assert "nik=" not in mails[0][1]
