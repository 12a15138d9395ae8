"""The QR poster path as a citizen lives it: a cheap phone (360×800), Chromium, a real server.

Each test is one flow from scanning the poster to the receipt, with JavaScript on and off,
and checks what only a browser can show: layout width, the file picker, double taps, the
language switch, CSP and console errors.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import CountingProxy, LaporServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

ALPHABET = "0-9A-HJKMNP-TV-Z"  # Crockford base32, as complaints/tracking.py
CODE = re.compile(rf"^[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}$")
# The receipt is the reporter's private page: tracking code, then the private link's secret.
RECEIPT_URL = re.compile(rf"/t/[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}/[\w-]{{20}}\?sent=1$")
PHONE_WIDTH = 360


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


STORY = "Antrean perekaman KTP sangat panjang dan loket tutup sebelum jam 12."


def story(words: str = STORY) -> str:
    # A tag per test, so rows in the shared database can be told apart.
    return f"{words} [{uuid.uuid4().hex[:8]}]"


def assert_fits_phone(page: Any) -> None:
    # After the page's stylesheets: measured before them (a page reached by a click, on a busy
    # machine) an unstyled table is wider than any phone.
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways on a phone: {width}px wide"


def open_form(page: Any, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    expect(page.locator("form.report")).to_be_visible()


def fill_report(
    page: Any,
    text: str,
    *,
    identity: str = "anonim",
    photo: Path | None = None,
    name: str | None = None,
    phone: str | None = None,
) -> None:
    page.fill("#text", text)
    page.check(f"input[name=identity][value={identity}]")
    if name is not None:
        page.fill("#name", name)
    if phone is not None:
        page.fill("#phone", phone)
    if photo is not None:
        page.set_input_files("#photos", str(photo))


def receipt_code(page: Page) -> str:
    # Polls the URL: unlike wait_for_url it does not trip over a navigation the browser
    # aborted because a second tap replaced it.
    expect(page).to_have_url(RECEIPT_URL)
    code_box = page.locator(".receipt .code")
    expect(code_box).to_be_visible()
    code = code_box.inner_text().strip()
    assert CODE.match(code), code
    assert f"/t/{code}/" in page.url and page.url.endswith("?sent=1")
    return code


def stored(server: LaporServer, code: str) -> tuple[int, str, str | None, str | None, int]:
    """(id, identity, reporter_name, reporter_phone, photo count) of the report with `code`."""
    rows = server.query(
        "SELECT r.id, r.identity, r.reporter_name, r.reporter_phone, "
        "(SELECT count(*) FROM report_photos p WHERE p.report_id = r.id) "
        "FROM reports r WHERE replace(r.tracking_code, '-', '') = ?",
        code.replace("-", ""),
    )
    assert len(rows) == 1, f"{len(rows)} reports stored with tracking code {code}"
    return rows[0]


def reports_with(server: LaporServer, text: str) -> int:
    return int(server.query("SELECT count(*) FROM reports WHERE text = ?", text)[0][0])


def sign_in_coordinator(page: Any, server: Any) -> None:
    page.goto(f"{server.base_url}/admin/login")
    page.fill("#email", server.coordinator)
    page.fill("#password", server.coordinator_password)
    page.click("form[action='/admin/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/?$"))


def settle(server: LaporServer, expected: int, seconds: float = 1.0) -> int:
    """The report count once in-flight requests (a cancelled first POST) had time to land."""
    deadline = time.monotonic() + seconds
    count = server.report_count()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        count = server.report_count()
        if count != expected:
            break
    return count


def posts_logged(server: LaporServer) -> int:
    """POSTs of the citizen's form the server has answered (from its access log)."""
    return server.log(tail=None).count('"POST /q/')


def wait_for_posts(server: Any, count: int, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while posts_logged(server) < count:
        assert time.monotonic() < deadline, (
            f"expected {count} form POSTs in the server log, saw {posts_logged(server)}"
        )
        time.sleep(0.02)


def slow_network(page: Any, latency_ms: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )


# -- a. the whole path, JavaScript on ---------------------------------------------------------
def test_scan_report_with_photo_then_status_and_inbox(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    page = make_page()
    open_form(page, lapor_server.poster_url)
    expect(page.locator("p.unit")).to_have_text(lapor_server.unit_name)
    expect(page.locator("h1")).to_have_text(lapor_server.poster_label)
    assert_fits_phone(page)

    text = story()
    fill_report(page, text, identity="anonim", photo=make_jpeg())
    # Anonymous: the contact fields are hidden by citizen.js.
    expect(page.locator("#identity-fields")).to_be_hidden()
    page.click("button.send")
    code = receipt_code(page)
    expect(page.locator(".receipt")).to_contain_text(f"/t/{code}")

    status = page.goto(f"{lapor_server.base_url}/t/{code}")
    assert status is not None and status.status == 200
    expect(page.locator(".receipt")).to_have_count(0)
    expect(page.locator("h1")).to_contain_text(code)
    expect(page.locator("dd.status")).to_be_visible()
    assert page.locator("dd.status").inner_text().strip()
    assert page.problems == []

    report_id, identity, name, phone, photos = stored(lapor_server, code)
    assert (identity, name, phone, photos) == ("anonim", None, None, 1)

    staff = make_page()
    sign_in_coordinator(staff, lapor_server)
    row = staff.locator("table.inbox a.code", has_text=code)
    expect(row).to_have_count(1)
    row.click()
    staff.wait_for_url(re.compile(rf"/admin/reports/{report_id}$"))
    expect(staff.locator(".text")).to_have_text(text)
    image = staff.locator("ul.photos img")
    expect(image).to_have_count(1)
    image.scroll_into_view_if_needed()  # loading=lazy: only loads once it is on screen
    staff.wait_for_function(
        "() => { const i = document.querySelector('ul.photos img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert image.evaluate("i => i.naturalWidth") > 0
    assert staff.problems == []


# -- b. JavaScript off, named ----------------------------------------------------------------
def test_named_report_without_javascript(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    page = make_page(javascript=False)
    open_form(page, lapor_server.poster_url)
    expect(page.locator("h1")).to_have_text(lapor_server.poster_label)
    assert_fits_phone(page)
    expect(page.locator("#identity-fields")).to_be_visible()

    text = story("Petugas meminta biaya tambahan untuk mempercepat pencetakan KTP.")
    fill_report(
        page,
        text,
        identity="named",
        name="Siti Rahmawati",
        phone="0812 3456 7890",
        photo=make_jpeg(),
    )
    page.click("button.send")
    code = receipt_code(page)

    _, identity, name, phone, photos = stored(lapor_server, code)
    assert (identity, name, photos) == ("named", "Siti Rahmawati", 1)
    assert phone and phone.replace(" ", "").endswith("81234567890")

    for url in (page.url, f"{lapor_server.base_url}/t/{code}"):
        page.goto(url)
        body = page.locator("body").inner_text()
        assert code in body
        assert "Siti" not in body and "Rahmawati" not in body, f"{url} shows the name"
        assert "3456" not in body, f"{url} shows the phone number"
    assert page.problems == []


def test_receipt_and_status_fit_a_phone(lapor_server: Any, make_page: Callable[..., Any]) -> None:
    page = make_page()  # an Indonesian phone: the longest labels
    open_form(page, lapor_server.poster_url)
    fill_report(page, story())
    page.click("button.send")
    code = receipt_code(page)
    assert_fits_phone(page)
    # The code and the links wrap only between their parts, never inside the code.
    for link in page.locator(".receipt .url a").all():
        expect(link.locator("span.nowrap", has_text=code)).to_have_count(1)
        box = link.locator("span.nowrap", has_text=code).bounding_box()
        assert box is not None and box["height"] < 40, box  # one line
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=lapor_server.base_url
    )
    copy = page.locator("button[data-copy]")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Tersalin")
    assert page.evaluate("navigator.clipboard.readText()") == code
    page.goto(f"{lapor_server.base_url}/t/{code}")
    assert_fits_phone(page)


# -- c. double tap on "send" -------------------------------------------------------------------
def test_double_click_with_javascript_stores_one_report(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    page = make_page()
    open_form(page, lapor_server.poster_url)
    text = story("Loket pengambilan KTP tidak buka padahal jadwal tertulis buka pukul 08.00.")
    fill_report(page, text, photo=make_jpeg())
    slow_network(page, latency_ms=800)
    before, posts_before = lapor_server.report_count(), posts_logged(lapor_server)
    page.dblclick("button.send")
    code = receipt_code(page)
    assert settle(lapor_server, before + 1) == before + 1
    # citizen.js disables the button once the form is on its way: one request left the phone.
    assert posts_logged(lapor_server) - posts_before == 1
    assert reports_with(lapor_server, text) == 1
    assert stored(lapor_server, code)[4] == 1
    assert page.problems == []


def test_double_click_without_javascript_stores_one_report(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    page = make_page(javascript=False)
    open_form(page, lapor_server.poster_url)
    text = story("Ruang tunggu panas, kipas angin mati dan tidak ada air minum sama sekali.")
    fill_report(page, text, photo=make_jpeg())
    # A slow mobile connection: the answer to the first tap takes a while to come back, so the
    # citizen taps again while the form is still on screen.
    slow_network(page, latency_ms=1500)
    before, posts_before = lapor_server.report_count(), posts_logged(lapor_server)
    # Raw mouse clicks: locator.click() would wait for the pending navigation to finish first.
    # They land where the button is on screen, so it is scrolled to first, as a thumb would.
    page.locator("button.send").scroll_into_view_if_needed()
    box = page.locator("button.send").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    wait_for_posts(lapor_server, posts_before + 1)  # the first tap has reached the server
    assert "/q/" in page.url, "the form should still be on screen"
    page.mouse.click(x, y)
    code = receipt_code(page)
    wait_for_posts(lapor_server, posts_before + 2)  # ... and so has the second
    assert settle(lapor_server, before + 1) == before + 1
    assert reports_with(lapor_server, text) == 1
    assert stored(lapor_server, code)[4] == 1


# -- d. an error keeps the text and the photo ----------------------------------------------------
def test_form_error_keeps_text_and_photo(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    page = make_page()
    open_form(page, lapor_server.poster_url)
    short = "Loket tutup."
    assert len(short) < 15
    fill_report(page, short, photo=make_jpeg())
    page.click("button.send")
    alert = page.locator("#form-errors")
    expect(alert).to_be_visible()
    expect(alert).to_be_focused()
    assert "/q/" in page.url
    expect(page.locator("#text")).to_have_value(short)
    expect(page.locator("#text")).to_have_attribute("aria-invalid", "true")
    # The summary names what to fix and takes the reader there.
    link = alert.locator("li a")
    expect(link).to_have_count(1)
    expect(link).to_have_text(page.locator("#text-error").inner_text())
    link.click()
    expect(page.locator("#text")).to_be_focused()
    held = page.locator("input[name=photo_ref]")
    expect(held).to_have_count(1)
    expect(held).to_be_checked()
    expect(page.locator("input[name=identity][value=anonim]")).to_be_checked()
    assert_fits_phone(page)

    text = story("Loket tutup sejak pukul 11 padahal antrean masih panjang.")
    page.fill("#text", text)
    page.click("button.send")  # no new file: the held photo travels as photo_ref
    code = receipt_code(page)
    assert stored(lapor_server, code)[4] == 1
    assert reports_with(lapor_server, text) == 1
    # The only console error allowed is Chromium's note about the 400 of the error page.
    assert [p for p in page.problems if not ("status of 400" in p and "/q/" in p)] == []


def test_a_refresh_after_a_form_error_keeps_what_was_typed(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    page = make_page()
    open_form(page, lapor_server.poster_url)
    short = "Loket tutup."
    fill_report(page, short, identity="named", name="Sari Wulandari", phone="081234567890")
    page.fill("#location", "Loket 3, lantai 2")
    page.click("button.send")
    expect(page.locator("#form-errors")).to_be_visible()  # came back by XMLHttpRequest
    page.fill("#text", "Loket tutup sejak pukul 11 padahal")  # typed on, then a refresh
    page.reload()
    expect(page.locator("#text")).to_have_value("Loket tutup sejak pukul 11 padahal")
    expect(page.locator("#location")).to_have_value("Loket 3, lantai 2")
    expect(page.locator("input[name=identity][value=named]")).to_be_checked()
    expect(page.locator("#name")).to_have_value("Sari Wulandari")
    expect(page.locator("#name")).to_be_visible()  # the contact fields follow the identity
    expect(page.locator("#phone")).to_have_value("081234567890")

    text = story("Loket tutup sejak pukul 11 padahal antrean masih panjang.")
    page.fill("#text", text)
    page.click("button.send")
    receipt_code(page)
    # Sent: nothing typed stays in the tab, and the next form starts empty.
    kept = page.evaluate(
        "Object.keys(sessionStorage).filter(k => k.startsWith('lapor-form:')).length"
    )
    assert kept == 0
    open_form(page, lapor_server.poster_url)
    page.reload()
    expect(page.locator("#text")).to_have_value("")
    assert [p for p in page.problems if not ("status of 400" in p and "/q/" in p)] == []


# -- e. language switch --------------------------------------------------------------------------
def test_language_switch(lapor_server: Any, make_page: Callable[..., Any]) -> None:
    # A phone set to English (many are, out of the box) gets the Indonesian service until the
    # person chooses English: the language follows the product, not the browser.
    page = make_page(locale="en-US")
    open_form(page, lapor_server.poster_url)
    assert page.get_attribute("html", "lang") == "id"
    indonesian = page.locator("button.send").inner_text().strip()

    # The switch re-posts the form: what was typed survives the change of language.
    page.fill("#text", "Setengah jalan menulis laporan ini.")
    page.locator("nav.lang button", has_text="English").click()
    page.wait_for_url(re.compile(r"[?&]lang=en$"))
    assert page.get_attribute("html", "lang") == "en"
    expect(page.locator("button.send")).to_have_text("Send report")
    expect(page.locator("#text")).to_have_value("Setengah jalan menulis laporan ini.")
    assert indonesian != "Send report", (
        "the submit button reads the same in Indonesian and English: locale/id has no "
        "translation for 'Send report'"
    )

    # The choice is remembered for the next page (and the POST of the form).
    open_form(page, lapor_server.poster_url)
    assert page.get_attribute("html", "lang") == "en"
    page.locator("nav.lang button[lang=id]").click()
    page.wait_for_url(re.compile(r"[?&]lang=id$"))
    assert page.get_attribute("html", "lang") == "id"
    expect(page.locator("button.send")).to_have_text(indonesian)
    assert page.problems == []


# -- f. no console errors, no CSP violations -----------------------------------------------------
def test_form_page_has_no_console_errors_or_csp_violations(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    page = make_page()
    open_form(page, lapor_server.poster_url)
    # citizen.js and citizen.css were allowed to load under the page's CSP.
    assert page.evaluate("[...document.styleSheets].some(s => s.cssRules.length > 0)")
    expect(page.locator("#identity-fields")).to_be_visible()
    page.check("input[name=identity][value=anonim]")
    expect(page.locator("#identity-fields")).to_be_hidden()
    page.check("input[name=identity][value=rahasia]")
    expect(page.locator("#identity-fields")).to_be_visible()
    page.fill("#text", "Sekadar mencoba formulir ini.")
    assert page.problems == []

    # The watcher itself works: a blocked image is reported.
    page.evaluate(
        "() => { const i = new Image(); i.src = 'http://198.51.100.1/x.png';"
        " document.body.append(i); }"
    )
    page.wait_for_timeout(200)
    assert any("CSP violation: img-src" in p for p in page.problems), page.problems


# -- g. a slow network ---------------------------------------------------------------------------
def photo_dimensions(server: LaporServer, code: str) -> list[tuple[int, int]]:
    rows = server.query(
        "SELECT p.width, p.height FROM report_photos p JOIN reports r ON r.id = p.report_id "
        "WHERE replace(r.tracking_code, '-', '') = ? ORDER BY p.position",
        code.replace("-", ""),
    )
    return [(int(w), int(h)) for w, h in rows]


def test_a_phone_photo_is_shrunk_before_it_is_sent(
    lapor_server: Any,
    counting_proxy: CountingProxy,
    make_page: Callable[..., Any],
    make_phone_photo: Callable[..., Path],
    make_jpeg: Callable[..., Path],
) -> None:
    # A 4000×3000 camera photo is megabytes: minutes on 2G. The server keeps 1600 px at most
    # anyway, so the phone sends it at that size.
    big = make_phone_photo()
    assert big.stat().st_size > 2_000_000
    page = make_page()
    open_form(page, counting_proxy.url(lapor_server.poster_url))
    fill_report(page, story(), photo=big)
    before = counting_proxy.sent
    page.click("button.send")
    code = receipt_code(page)
    # Everything the phone sent for the report and the receipt: a fifth of the photo at most.
    sent = counting_proxy.sent - before
    assert sent < big.stat().st_size / 5, (sent, big.stat().st_size)
    assert photo_dimensions(lapor_server, code) == [(1600, 1200)]
    assert page.problems == []


@pytest.fixture(scope="module")
def photo_limits_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaporServer]:
    """A deployment that keeps larger photos, and fewer of them, than the defaults."""
    server = LaporServer(
        tmp_path_factory.mktemp("lapor-photo-limits") / "data",
        overrides={"LAPOR_PHOTO_MAX_SIDE": "2400", "LAPOR_MAX_PHOTOS": "1"},
    )
    server.seed()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_phone_follows_the_servers_photo_settings(
    photo_limits_server: LaporServer,
    make_page: Callable[..., Any],
    make_phone_photo: Callable[..., Path],
    make_jpeg: Callable[..., Path],
) -> None:
    server = photo_limits_server
    page = make_page()
    open_form(page, server.poster_url)
    # Two photos where the server takes one: said beside the field at once, nothing sent.
    fill_report(page, story())
    page.set_input_files("#photos", [str(make_jpeg()), str(make_jpeg(name="dua.jpg"))])
    expect(page.locator("#photos-too-many")).to_have_text("Anda dapat melampirkan maksimal 1 foto.")
    before = server.report_count()
    page.click("button.send")
    expect(page.locator("#photos")).to_be_focused()
    expect(page.locator("#photos")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("button.send")).to_be_enabled()
    assert server.report_count() == before
    # One photo: the error goes, and the phone shrinks it to the side this server keeps.
    page.set_input_files("#photos", str(make_phone_photo()))
    expect(page.locator("#photos-too-many")).to_be_hidden()
    page.click("button.send")
    code = receipt_code(page)
    assert photo_dimensions(server, code) == [(2400, 1800)]
    assert page.problems == []


def test_a_small_photo_or_one_the_browser_cannot_read_is_sent_as_it_is(
    lapor_server: Any,
    counting_proxy: CountingProxy,
    make_page: Callable[..., Any],
    make_jpeg: Callable[..., Path],
) -> None:
    # Shrinking is a favour, never a filter: a photo already small, or one the phone cannot
    # decode, goes to the server whole, and the server decides (here: it takes both).
    small = make_jpeg()
    odd = make_jpeg(name="odd.jpg", color=(200, 40, 40))
    page = make_page()
    open_form(page, counting_proxy.url(lapor_server.poster_url))
    fill_report(page, story())
    page.set_input_files(
        "#photos",
        [
            {"name": small.name, "mimeType": "image/jpeg", "buffer": small.read_bytes()},
            # A type the browser is not asked to decode, such as an iPhone's HEIC.
            {"name": odd.name, "mimeType": "image/heic", "buffer": odd.read_bytes()},
        ],
    )
    before = counting_proxy.sent
    page.click("button.send")
    code = receipt_code(page)
    assert counting_proxy.sent - before > small.stat().st_size + odd.stat().st_size
    assert photo_dimensions(lapor_server, code) == [(320, 240), (320, 240)]
    assert page.problems == []


def test_the_button_says_sending_and_how_much_while_the_upload_runs(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    page = make_page()
    open_form(page, lapor_server.poster_url)
    fill_report(page, story(), photo=make_jpeg(size=(1200, 900)))
    # 2G's upload: the request's body leaves the phone a few KB a second.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 200, "downloadThroughput": -1, "uploadThroughput": 4000},
    )
    button = page.locator("button.send")
    before, posts_before = lapor_server.report_count(), posts_logged(lapor_server)
    button.click()
    expect(button).to_have_text(re.compile(r"^Mengirim… \d{1,3}%$"))
    expect(button).to_be_disabled()
    # A second tap while it runs sends nothing more.
    button.dispatch_event("click")
    page.locator("#report-form").evaluate("f => f.requestSubmit()")
    expect(page).to_have_url(RECEIPT_URL, timeout=60_000)
    code = receipt_code(page)
    assert settle(lapor_server, before + 1) == before + 1
    assert posts_logged(lapor_server) - posts_before == 1
    assert stored(lapor_server, code)[4] == 1
    assert page.problems == []


def test_the_button_says_sending_while_the_answer_is_held_back(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    page = make_page()
    held: list[Any] = []
    page.route(
        re.compile(r"/q/"),
        lambda route: held.append(route) if route.request.method == "POST" else route.fallback(),
    )
    open_form(page, lapor_server.poster_url)
    fill_report(page, story())
    button = page.locator("button.send")
    button.click()
    expect(button).to_have_text(re.compile(r"^Mengirim…"))
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()
    receipt_code(page)
    assert page.problems == []


def test_a_lost_connection_keeps_the_form_and_lets_the_citizen_send_again(
    lapor_server: Any, make_page: Callable[..., Any], make_jpeg: Callable[..., Path]
) -> None:
    page = make_page()
    cut = {"once": True}

    def route(r: Any) -> None:
        if r.request.method == "POST" and cut["once"]:
            cut["once"] = False
            r.abort("internetdisconnected")
        else:
            r.fallback()

    page.route(re.compile(r"/q/"), route)
    open_form(page, lapor_server.poster_url)
    text = story("Antrean loket 2 tidak bergerak selama satu jam penuh hari ini.")
    fill_report(page, text, photo=make_jpeg())
    page.click("button.send")
    failed = page.locator("#send-failed")
    expect(failed).to_be_visible()
    expect(failed).to_have_attribute("role", "alert")
    expect(failed).to_contain_text("Belum terkirim")
    expect(page.locator("button.send")).to_be_enabled()
    expect(page.locator("button.send")).to_have_text("Kirim laporan")
    expect(page.locator("#text")).to_have_value(text)
    page.click("button.send")
    code = receipt_code(page)
    assert stored(lapor_server, code)[4] == 1
    # Only the refused request's own line, from Chromium.
    assert [p for p in page.problems if "ERR_INTERNET_DISCONNECTED" not in p] == []


@pytest.mark.parametrize("javascript", [True, False])
def test_the_form_is_styled_from_its_html_alone(
    lapor_server: Any, make_page: Callable[..., Any], javascript: bool
) -> None:
    # Every request is a round trip of up to a second on 2G: the first view needs only the page.
    page = make_page(javascript=javascript)
    asked: list[str] = []

    def block(route: Any) -> None:
        asked.append(route.request.url)
        route.abort()

    page.route(re.compile(r"\.css(\?|$)"), block)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.resource_type))
    open_form(page, lapor_server.poster_url)
    assert asked == []
    assert "stylesheet" not in requests
    assert page.evaluate("getComputedStyle(document.querySelector('.top')).backgroundColor") == (
        "rgb(139, 0, 0)"
    )
    send = page.locator("button.send")
    assert send.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(139, 0, 0)"
    # Full width, as the stylesheet makes it, not the browser's small grey button.
    width = send.evaluate("b => b.getBoundingClientRect().width")
    main = page.evaluate("document.querySelector('main').clientWidth")
    assert width > main * 0.8
    assert page.locator(".trap").bounding_box() is None or (
        page.locator(".trap").bounding_box()["x"] < 0
    )
    assert_fits_phone(page)
    if javascript:
        assert page.problems == []
