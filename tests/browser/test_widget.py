"""The widget on an agency's page, in Chromium: the host page is another site (localhost)
than the LAPOR! server (127.0.0.1), sends a strict Content-Security-Policy, and the browser
blocks third-party cookies. Each test is what a citizen or a webmaster would see."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CSP_WATCH,
    PHONE,
    HostSite,
    LaporServer,
    _browser_unavailable,
    _chromium_missing,
)

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

pytestmark = pytest.mark.browser

ALPHABET = "0-9A-HJKMNP-TV-Z"
CODE = re.compile(rf"^[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}$")
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PLAIN_HOST = "dinkes.test"
STORY = "Obat di puskesmas kosong sejak dua minggu dan pasien disuruh membeli sendiri."
# Rules an old theme or a careless plugin ships; the transform on the wrappers around the tag
# would make a fixed button inside them scroll and shrink with them.
HOSTILE_CSS = """
* { font-size: 40px !important; color: lime !important; background: black !important;
    line-height: 3 !important; box-sizing: content-box; letter-spacing: 4px !important; }
div, lapor-widget, button, iframe { display: inline !important; position: static !important;
    margin: 50px !important; opacity: .5 !important; transform: rotate(3deg) !important; }
.moved { transform: translateX(200px) scale(.5) !important; }
"""


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def strict_csp(server: LaporServer, extra: str = "") -> str:
    """What the admin page tells the webmaster to allow, and nothing else: no inline script
    or style, no eval."""
    return (
        f"default-src 'none'; script-src {server.base_url}; frame-src {server.base_url}; "
        f"connect-src {server.base_url}; style-src 'self'{extra}; img-src 'self'"
    )


def host_html(*body: str, title: str = "Dinas Kesehatan", head: str = "") -> str:
    return (
        f'<!doctype html><html lang="id"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>{head}</head><body>"
        f'<a href="#top" id="first-link">Beranda</a><p>Selamat datang.</p>'
        f'{"".join(body)}<a href="#end" id="last-link">Kontak</a></body></html>'
    )


def tag(server: LaporServer, key: str, **attrs: str) -> str:
    extra = "".join(f' data-{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<script async src="{server.base_url}/widget.js" data-key="{key}"{extra} '
        f'data-cfasync="false"></script>'
    )


def add_widget(server: LaporServer, *origins: str, unit: str = "dinas") -> tuple[int, str]:
    args = [a for origin in origins for a in ("--origin", origin)]
    out = server.cli("widget", "add", unit, *args).strip().splitlines()
    snippet = out[-1]
    key = snippet.split('data-key="')[1].split('"')[0]
    return int(out[0].split()[1]), key


@pytest.fixture(scope="module")
def widget_key(lapor_server: LaporServer, host_site: HostSite) -> str:
    return add_widget(lapor_server, host_site.origin)[1]


@pytest.fixture(scope="module")
def cookieless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Chromium with third-party cookies blocked in its settings, as browsers now ship."""
    reason = _chromium_missing()
    if reason:
        _browser_unavailable(reason)
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    (profile / "Default").mkdir()
    (profile / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"block_third_party_cookies": True, "cookie_controls_mode": 1}})
    )
    manager = sync_playwright().start()
    try:
        context = manager.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            # dinkes.test: a host name that is no secure context (localhost is one).
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {PLAIN_HOST} 127.0.0.1"],
            viewport=PHONE,
            locale="id-ID",
        )
        context.set_default_timeout(10_000)
        context.add_init_script(CSP_WATCH)
        yield context
        context.close()
    finally:
        manager.stop()


@pytest.fixture
def open_page(cookieless: Any) -> Iterator[Callable[..., Any]]:
    pages: list[Any] = []

    def factory(url: str, viewport: ViewportSize = PHONE, init: str = "") -> Any:
        page = cookieless.new_page()
        pages.append(page)
        page.set_viewport_size(viewport)
        if init:
            page.add_init_script(init)
        problems: list[str] = []
        warnings: list[str] = []

        def on_console(msg: Any) -> None:
            if msg.type == "error":
                problems.append(f"console error: {msg.text} ({msg.location.get('url', '')})")
            elif msg.type == "warning":
                warnings.append(msg.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

        # The widget never shows a dialog, whatever goes wrong.
        def on_dialog(dialog: Any) -> None:
            problems.append(f"dialog: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.problems = problems
        page.warnings = warnings
        response = page.goto(url)
        assert response is not None and response.status == 200
        return page

    yield factory
    for page in pages:
        page.close()


def frame_of(page: Any, nth: int = 0) -> Any:
    return page.frame_locator("lapor-widget iframe").nth(nth)


def widget_button(page: Any) -> Any:
    return page.locator("lapor-widget > button").first


def shadow_focus(page: Any) -> str:
    """What has focus: 'button' or 'close' in our shadow root, 'frame', or the host element."""
    return str(
        page.evaluate("""() => {
        const a = document.activeElement;
        if (a && a.tagName === 'LAPOR-WIDGET') {
            const inner = a.shadowRoot.activeElement;
            if (!inner) return 'widget';
            if (inner.tagName === 'IFRAME') return 'frame';
            return inner.className === 'x' ? 'close' : 'button';
        }
        return a ? (a.id || a.tagName) : 'none';
    }""")
    )


def story(words: str = STORY) -> str:
    return f"{words} [{uuid.uuid4().hex[:8]}]"


# -- the whole path ----------------------------------------------------------------------------
def test_open_fill_send_and_read_the_tracking_code_on_another_site(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/layanan/pengaduan", host_html(tag(lapor_server, widget_key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url + "?nik=6371010101010001#x")
    # Before the first click only the loader was fetched: no frame yet.
    button = widget_button(page)
    expect(button).to_have_text("Sampaikan pengaduan")
    assert page.locator("lapor-widget iframe").count() == 0
    button.click()
    frame = frame_of(page)
    expect(frame.locator("h1")).to_have_text("Lapor ke Dinas Kependudukan")
    iframe = page.locator("lapor-widget iframe")
    expect(iframe).to_have_attribute("title", "Formulir pengaduan LAPOR!")
    text = story()
    frame.locator("#text").fill(text)
    frame.locator("input[name=identity][value=anonim]").check()
    frame.locator("button.send").click()
    code_box = frame.locator(".receipt .code")
    expect(code_box).to_be_visible()
    code = code_box.inner_text().strip()
    assert CODE.match(code), code
    rows = lapor_server.query(
        "SELECT channel, widget_id IS NOT NULL, page_url FROM reports WHERE text = ?", text
    )
    assert rows == [("widget", 1, f"{host_site.origin}/layanan/pengaduan")]
    # Inside the frame the browser gives us no cookies (blocked third-party), and the form
    # never needed one.
    inner = next(f for f in page.frames if f.url.startswith(lapor_server.base_url))
    assert inner.evaluate("document.cookie = 'probe=1'; document.cookie") == ""
    # The panel fits a 360 px phone.
    box = page.locator("lapor-widget .p").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.problems == []


def test_keyboard_only_tab_enter_escape_and_focus_returns(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/keyboard", host_html(tag(lapor_server, widget_key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url, DESKTOP)
    page.keyboard.press("Tab")
    assert shadow_focus(page) == "first-link"
    # The button is at the end of the body: Tab through the host's links to it.
    for _ in range(5):
        page.keyboard.press("Tab")
        if shadow_focus(page) == "button":
            break
    assert shadow_focus(page) == "button"
    page.keyboard.press("Enter")
    frame = frame_of(page)
    expect(frame.locator("#report-form")).to_be_visible()
    # Once the form is ready, focus moves into it, to its first field.
    first = frame.locator("#report-form input[name=kind]").first
    expect(first).to_be_focused()
    # Tab out of the form's last control comes back to the panel's close button, never to
    # the host page behind it.
    frame.locator("button.send").focus()
    page.keyboard.press("Tab")
    page.wait_for_function(
        "document.activeElement.shadowRoot && "
        "document.activeElement.shadowRoot.activeElement.className === 'x'"
    )
    # Focus sent to the host page while the panel is open is brought back.
    page.evaluate("document.getElementById('first-link').focus()")
    assert shadow_focus(page) == "close"
    page.keyboard.press("Escape")
    expect(page.locator("lapor-widget .p")).to_be_hidden()
    assert shadow_focus(page) == "button"
    expect(widget_button(page)).to_have_attribute("aria-expanded", "false")
    # Escape pressed inside the frame closes too (the frame tells the loader).
    page.keyboard.press("Enter")
    expect(first).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("lapor-widget .p")).to_be_hidden()
    assert shadow_focus(page) == "button"
    assert page.problems == []


def test_inline_mode_and_two_widgets_resize_independently(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    _, second_key = add_widget(lapor_server, host_site.origin, unit="prov")
    url = host_site.page(
        "/inline",
        host_html(
            '<div data-lapor-widget id="one"></div>',
            f'<div data-lapor-widget data-key="{second_key}" id="two"></div>',
            tag(lapor_server, widget_key, mode="inline"),
        ),
        csp=strict_csp(lapor_server),
    )
    page = open_page(url, DESKTOP)
    one, two = frame_of(page, 0), frame_of(page, 1)
    expect(one.locator("h1")).to_have_text("Lapor ke Dinas Kependudukan")
    expect(two.locator("h1")).to_have_text("Lapor ke Pemerintah Provinsi")
    assert page.locator("lapor-widget > button").count() == 0  # no floating button

    def heights() -> tuple[float, float]:
        boxes = [page.locator("lapor-widget iframe").nth(i).bounding_box() for i in (0, 1)]
        assert all(boxes)
        return boxes[0]["height"], boxes[1]["height"]

    def fitted() -> bool:
        # Each iframe as tall as the form inside it (no inner scroll bar), both of them.
        inner = [frame.locator("#frame").bounding_box() for frame in (one, two)]
        return all(
            box is not None and abs(outer - box["height"]) <= 2
            for outer, box in zip(heights(), inner, strict=True)
        )

    def settled() -> tuple[float, float]:
        # Until both frames have posted their height (a loaded machine can take seconds)
        # and two looks in a row agree.
        last = heights()
        for _ in range(100):
            time.sleep(0.1)
            now = heights()
            if now == last and fitted():
                return now
            last = now
        return last

    before = settled()
    assert fitted(), (heights(), [f.locator("#frame").bounding_box() for f in (one, two)])
    # Sending the first one empty adds error messages: only it grows.
    one.locator("button.send").click()
    expect(one.locator(".alert")).to_be_visible()
    after = settled()
    assert after[0] > before[0] + 20
    assert after[1] == before[1]
    assert page.problems == []


def test_under_a_transformed_ancestor_with_hostile_css(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    host_site.page("/hostile.css", HOSTILE_CSS, content_type="text/css")
    url = host_site.page(
        "/hostile",
        host_html(
            f'<div class="moved"><div class="moved">{tag(lapor_server, widget_key)}</div></div>',
            head='<link rel="stylesheet" href="/hostile.css">',
        ),
        csp=strict_csp(lapor_server),
    )
    page = open_page(url)
    button = widget_button(page)
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None
    # Fixed at the bottom right of the viewport, whatever the page does to its elements.
    assert abs((box["x"] + box["width"]) - (PHONE["width"] - 16)) <= 1
    assert abs((box["y"] + box["height"]) - (PHONE["height"] - 16)) <= 1
    style = button.evaluate("b => [getComputedStyle(b).fontSize, getComputedStyle(b).color]")
    assert style == ["16px", "rgb(255, 255, 255)"]
    button.click()
    expect(frame_of(page).locator("#report-form")).to_be_visible()
    assert page.problems == []


def test_the_loader_run_twice_makes_one_button(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    # Pasted twice (a plugin and a theme), the second time with the key in the URL as
    # WordPress leaves it; then run again as a single-page host does after a navigation.
    url_tag = (
        f'<script async src="{lapor_server.base_url}/widget.js?key={widget_key}" '
        'data-cfasync="false"></script>'
    )
    url = host_site.page(
        "/twice", host_html(tag(lapor_server, widget_key), url_tag), csp=strict_csp(lapor_server)
    )
    page = open_page(url)
    expect(widget_button(page)).to_be_visible()
    page.wait_for_function(
        "performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/widget.js')).length >= 2"
    )
    page.evaluate(f"""() => new Promise(done => {{
        const s = document.createElement('script');
        s.src = '{lapor_server.base_url}/widget.js?key={widget_key}&run=3';
        s.onload = done;
        document.head.appendChild(s);
    }})""")
    page.wait_for_timeout(300)
    assert page.locator("lapor-widget").count() == 1
    # A Turbo-like navigation replaces the body (and our button with it): one comes back.
    page.evaluate("document.body.innerHTML = '<p>Halaman baru</p>'")
    expect(page.locator("lapor-widget")).to_have_count(1)
    page.wait_for_timeout(300)
    assert page.locator("lapor-widget").count() == 1
    widget_button(page).click()
    expect(frame_of(page).locator("#report-form")).to_be_visible()
    assert page.problems == []


def lapor_warnings(page: Any, expected: str) -> list[str]:
    """The widget's console lines, once the one saying `expected` has arrived."""
    deadline = time.monotonic() + 5
    while not any(expected in w for w in page.warnings):
        assert time.monotonic() < deadline, page.warnings
        page.wait_for_timeout(50)  # lets Playwright deliver the console events
    return [w for w in page.warnings if "LAPOR!" in w]


def test_an_unregistered_site_shows_no_button_and_its_webmaster_reads_why(
    lapor_server: LaporServer,
    host_site: HostSite,
    copycat_site: HostSite,
    widget_key: str,
    open_page: Callable[..., Any],
) -> None:
    # The button, and an inline form in a container: neither is drawn where the form would
    # be refused, so no citizen meets a dead end.
    url = copycat_site.page(
        "/copy",
        host_html(
            '<div data-lapor-widget id="box"></div>',
            tag(lapor_server, widget_key),
            tag(lapor_server, widget_key, mode="inline"),
        ),
        csp=strict_csp(lapor_server),
    )
    page = open_page(url)
    lines = lapor_warnings(page, "not registered")
    # One line per thing not drawn, naming this site's origin (never the registered ones).
    assert lines and all(f"{copycat_site.origin} is not registered" in w for w in lines)
    assert not any(host_site.origin in w for w in lines)
    page.wait_for_timeout(300)
    expect(widget_button(page)).to_be_hidden()
    assert page.locator("lapor-widget iframe").count() == 0
    assert page.locator("#box lapor-widget").count() == 0
    assert page.problems == []


def test_a_site_whose_csp_forbids_the_check_still_gets_the_button_and_a_way_out(
    lapor_server: LaporServer,
    copycat_site: HostSite,
    widget_key: str,
    open_page: Callable[..., Any],
) -> None:
    # A policy written before the check existed (no connect-src for us): the loader cannot
    # ask, so it draws the button as it always did; the frame refuses, and its notice leads
    # to the other ways of reporting.
    csp = strict_csp(lapor_server).replace(f"connect-src {lapor_server.base_url}; ", "")
    url = copycat_site.page("/old-csp", host_html(tag(lapor_server, widget_key)), csp=csp)
    page = open_page(url)
    widget_button(page).click()
    frame = frame_of(page)
    expect(frame.locator("h1")).to_have_text("Formulir ini tidak dapat ditampilkan di sini")
    assert frame.locator("form").count() == 0
    links = frame.locator("ul.channels a")
    expect(links).to_have_count(2)
    assert links.nth(0).get_attribute("href") == f"{lapor_server.base_url}/"
    assert links.nth(1).get_attribute("href") == "https://www.lapor.go.id/"
    expect(frame.locator("ul.channels")).to_contain_text("Kirim SMS ke 1708")
    # The frame tells the webmaster why, in the same console.
    assert len(lapor_warnings(page, "not registered")) == 1
    # What the link opens is this deployment's own start page.
    with page.context.expect_page() as opened:
        links.nth(0).click()
    start = opened.value
    start.wait_for_load_state()
    assert start.url == f"{lapor_server.base_url}/"
    start.close()
    # The one problem is the host's own policy refusing the check.
    assert page.problems and all(
        "/check" in p and ("Content Security Policy" in p or "CSP violation: connect-src" in p)
        for p in page.problems
    ), page.problems


def test_a_copied_frame_claiming_the_agencys_origin_is_refused_by_the_browser(
    lapor_server: LaporServer,
    host_site: HostSite,
    copycat_site: HostSite,
    widget_key: str,
    open_page: Callable[..., Any],
) -> None:
    # The copycat lies about where it runs: the form names the agency's origin in
    # frame-ancestors, so the browser refuses to show it inside the copycat's page.
    src = f"{lapor_server.base_url}/w/{widget_key}?o={host_site.origin}&lang=id"
    url = copycat_site.page(
        "/lie",
        host_html(f'<iframe id="stolen" src="{src}"></iframe>'),
        csp=strict_csp(lapor_server),
    )
    page = open_page(url)
    page.wait_for_timeout(1000)
    for frame in page.frames[1:]:
        assert frame.evaluate("document.querySelectorAll('form').length") == 0


def test_a_revoked_key_shows_no_button(
    lapor_server: LaporServer, host_site: HostSite, open_page: Callable[..., Any]
) -> None:
    widget_id, key = add_widget(lapor_server, host_site.origin)
    lapor_server.cli("widget", "revoke", str(widget_id))
    url = host_site.page(
        "/revoked", host_html(tag(lapor_server, key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url)
    # One console line for the webmaster, no error, no dialog, and nothing to click.
    assert len(lapor_warnings(page, "revoked")) == 1
    expect(widget_button(page)).to_be_hidden()
    assert page.problems == []


def test_a_server_that_does_not_answer_gives_a_short_message(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/down", host_html(tag(lapor_server, widget_key, lang="en")), csp=strict_csp(lapor_server)
    )
    page = open_page(url)
    page.route(re.compile(r".*/w/.*"), lambda route: route.abort())
    widget_button(page).click()
    message = page.locator("lapor-widget p")
    expect(message).to_contain_text("Loading the form")
    expect(message).to_contain_text("cannot be loaded", timeout=15_000)
    # The status page stays in reach: a citizen with a tracking code can follow a report.
    expect(message).to_contain_text("or follow a report at")
    link = message.locator("a")
    expect(link).to_have_attribute("href", f"{lapor_server.base_url}/t")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_text(lapor_server.base_url.removeprefix("http://") + "/t")
    expect(page.locator("lapor-widget iframe")).to_be_hidden()
    # What the link opens is the status page's look-up form.
    with page.context.expect_page() as opened:
        link.click()
    status = opened.value
    status.wait_for_load_state()
    assert status.url == f"{lapor_server.base_url}/t"
    expect(status.locator("form input[name=code]")).to_be_visible()
    status.close()


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaporServer]:
    """A server whose request body limit (one photo of 2,000 bytes, plus 1 MB) a photo from
    the gallery exceeds, so its BodySizeLimit answers before any view."""
    server = LaporServer(
        tmp_path_factory.mktemp("lapor-small") / "data",
        overrides={"LAPOR_MAX_PHOTOS": "1", "LAPOR_MAX_PHOTO_BYTES": "2000"},
    )
    server.seed()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_body_over_the_limit_shows_a_notice_in_the_frame_and_the_way_back(
    small_server: LaporServer, host_site: HostSite, open_page: Callable[..., Any]
) -> None:
    _, key = add_widget(small_server, host_site.origin)
    url = host_site.page(
        "/too-large", host_html(tag(small_server, key)), csp=strict_csp(small_server)
    )
    page = open_page(url)
    widget_button(page).click()
    frame = frame_of(page)
    frame.locator("#text").fill(story())
    frame.locator("input[name=identity][value=anonim]").check()
    frame.locator("#photos").set_input_files(
        {"name": "besar.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * 1_200_000}
    )
    frame.locator("button.send").click()
    # Our page inside the frame, not the browser's refused-to-connect box.
    expect(frame.locator("h1")).to_have_text("Formulir terlalu besar untuk diterima")
    back = frame.get_by_role("link", name="Kembali ke formulir")
    expect(back).to_be_visible()
    back.click()
    expect(frame.locator("#report-form")).to_be_visible()
    assert small_server.report_count() == 0
    assert page.problems == []


def luminance(png: bytes) -> float:
    """The mean brightness (0-255) of a screenshot."""
    import io

    from PIL import Image, ImageStat

    return float(ImageStat.Stat(Image.open(io.BytesIO(png)).convert("L")).mean[0])


def test_dark_mode_gives_a_dark_panel_and_a_button_made_for_it(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    # An old site that knows nothing of dark mode (no color-scheme of its own), seen by a
    # citizen whose phone is in dark mode: the panel and form follow the citizen.
    url = host_site.page(
        "/dark", host_html(tag(lapor_server, widget_key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url)
    page.emulate_media(color_scheme="dark")
    button = widget_button(page)
    expect(button).to_be_visible()
    looks = button.evaluate("""b => {
        const s = getComputedStyle(b);
        return [s.backgroundColor, s.color, s.colorScheme, s.fontFamily];
    }""")
    # A lighter red than the light theme's #8b0000, which would sink into a dark page; our
    # own font, not the browser's serif that `all: initial` leaves on the host.
    assert looks[:3] == ["rgb(211, 47, 47)", "rgb(255, 255, 255)", "light dark"]
    assert "system-ui" in looks[3]
    button.click()
    frame = frame_of(page)
    expect(frame.locator("#report-form")).to_be_visible()
    iframe = page.locator("lapor-widget iframe")
    # The iframe's scheme is the form page's own, so Chromium paints no opaque backdrop.
    assert iframe.evaluate("f => getComputedStyle(f).colorScheme") == "light dark"
    assert frame.locator("html").evaluate(
        "h => [getComputedStyle(h).colorScheme, matchMedia('(prefers-color-scheme: dark)').matches]"
    ) == ["light dark", True]
    assert (
        page.locator("lapor-widget .p").evaluate("p => getComputedStyle(p).backgroundColor")
        == "rgb(18, 18, 18)"
    )
    # What the citizen sees: a dark panel, not a white box, around and behind the form.
    panel = page.locator("lapor-widget .p").bounding_box()
    assert panel is not None
    assert luminance(page.screenshot(clip=panel)) < 80
    # Back in light mode the same widget is light again, with the usual red.
    page.emulate_media(color_scheme="light")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(139, 0, 0)"
    assert luminance(page.screenshot(clip=panel)) > 170
    assert page.problems == []


# Counts the listeners the page's scripts hold on window and document, by event type: what a
# widget left behind would show up as.
LISTENERS = """
window.__held = {};
(function () {
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  function key(target, type) {
    if (target === window) return "window:" + type;
    if (target === document) return "document:" + type;
    return null;
  }
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    const k = key(this, type);
    if (k) (window.__held[k] = window.__held[k] || new Set()).add(fn);
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    const k = key(this, type);
    if (k && window.__held[k]) window.__held[k].delete(fn);
    return remove.call(this, type, fn, options);
  };
})();
"""


def held(page: Any) -> dict[str, int]:
    """The listeners the loader could add (playwright adds its own of other kinds)."""
    return {
        k: int(page.evaluate(f"(window.__held['{k}'] || new Set()).size"))
        for k in ("window:message", "document:focusin", "document:DOMContentLoaded")
    }


def kept_frames(page: Any) -> int:
    return int(page.evaluate("window.__laporWidget.list.length"))


def until_kept(page: Any, count: int) -> None:
    """Polled from here: wait_for_function evaluates a string, which the host's strict CSP
    (no 'unsafe-eval') refuses once it has to poll."""
    for _ in range(100):
        if kept_frames(page) == count:
            return
        time.sleep(0.05)
    assert kept_frames(page) == count


def test_a_removed_container_leaves_nothing_behind_and_a_new_one_gets_a_working_form(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/spa",
        host_html(
            '<main id="app"><div data-lapor-widget id="one"></div></main>',
            tag(lapor_server, widget_key, mode="inline"),
        ),
        csp=strict_csp(lapor_server),
    )
    page = open_page(url, DESKTOP, init=LISTENERS)
    expect(frame_of(page).locator("#report-form")).to_be_visible()
    assert kept_frames(page) == 1
    listening = held(page)
    assert listening == {"window:message": 1, "document:focusin": 0, "document:DOMContentLoaded": 0}
    # A single-page host swaps its content: the container goes, the loader lets go of it.
    page.evaluate("window.oldBox = document.getElementById('one'); window.oldBox.remove()")
    until_kept(page, 0)
    # A new container arrives, and then the old element comes back (a cached page restored).
    page.evaluate("""() => {
        const box = document.createElement('div');
        box.setAttribute('data-lapor-widget', '');
        box.id = 'two';
        document.getElementById('app').appendChild(box);
    }""")
    two = page.frame_locator("#two lapor-widget iframe")
    expect(two.locator("#report-form")).to_be_visible()
    page.evaluate("document.getElementById('app').appendChild(window.oldBox)")
    expect(page.frame_locator("#one lapor-widget iframe").locator("#report-form")).to_be_visible()
    # One widget per container, one kept frame each, and no listener added by the churn.
    assert page.locator("#one lapor-widget").count() == 1
    assert page.locator("#two lapor-widget").count() == 1
    assert kept_frames(page) == 2
    assert held(page) == listening
    text = story()
    two.locator("#text").fill(text)
    two.locator("input[name=identity][value=anonim]").check()
    two.locator("button.send").click()
    code = two.locator(".receipt .code")
    expect(code).to_be_visible()
    assert CODE.match(code.inner_text().strip())
    assert lapor_server.query("SELECT page_url FROM reports WHERE text = ?", text) == [
        (f"{host_site.origin}/spa",)
    ]
    assert page.problems == []


def test_a_replaced_body_drops_the_open_panel_and_its_focus_guard(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    # In the head, as Turbo keeps it across visits (the body is what changes).
    url = host_site.page(
        "/spa-button", host_html(head=tag(lapor_server, widget_key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url, DESKTOP, init=LISTENERS)
    widget_button(page).click()
    expect(frame_of(page).locator("#report-form")).to_be_visible()
    # Open, the panel guards focus on the document; closed, it does not.
    assert held(page)["document:focusin"] == 1
    page.keyboard.press("Escape")
    assert held(page)["document:focusin"] == 0
    widget_button(page).click()
    assert held(page)["document:focusin"] == 1
    # A Turbo-like visit replaces the body while the panel is open: the old panel's guard
    # and frame are let go, and the new page gets one button whose panel works.
    page.evaluate(
        "history.pushState({}, '', '/spa-button/next'); "
        "document.body.innerHTML = '<p>Halaman baru</p><a href=\"#x\" id=x>x</a>'"
    )
    until_kept(page, 0)
    expect(page.locator("lapor-widget")).to_have_count(1)
    assert held(page)["document:focusin"] == 0
    assert held(page)["window:message"] == 1
    # Focus on the host page now stays there: no guard of a panel that is gone.
    page.evaluate("document.getElementById('x').focus()")
    assert shadow_focus(page) == "x"
    widget_button(page).click()
    frame = frame_of(page)
    expect(frame.locator("#report-form")).to_be_visible()
    assert kept_frames(page) == 1
    # The page the report is sent from is the one the panel opened on, not the first one.
    text = story()
    frame.locator("#text").fill(text)
    frame.locator("input[name=identity][value=anonim]").check()
    frame.locator("button.send").click()
    expect(frame.locator(".receipt .code")).to_be_visible()
    assert lapor_server.query("SELECT page_url FROM reports WHERE text = ?", text) == [
        (f"{host_site.origin}/spa-button/next",)
    ]
    assert page.problems == []


def test_position_label_and_colour_from_the_tag_under_a_strict_csp(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/options",
        host_html(
            tag(
                lapor_server,
                widget_key,
                position="bottom-left",
                label="Lapor Dinkes",
                color="#0b5394",
                lang="en",
            )
        ),
        csp=strict_csp(lapor_server),
    )
    page = open_page(url)
    button = widget_button(page)
    expect(button).to_have_text("Lapor Dinkes")
    box = button.bounding_box()
    assert box is not None and abs(box["x"] - 16) <= 1
    # The colour goes through CSSOM (a custom property), which a strict style-src allows.
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 83, 148)"
    button.click()
    frame = frame_of(page)
    expect(frame.locator("#report-form")).to_be_visible()
    expect(page.locator("lapor-widget iframe")).to_have_attribute("title", "LAPOR! complaint form")
    # On a 360 px phone the panel takes the whole width on the left side too, and never
    # more than the viewport's height (the form scrolls inside its frame).
    panel = page.locator("lapor-widget .p").bounding_box()
    assert panel is not None
    assert panel["x"] == 0 and panel["width"] == PHONE["width"]
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= PHONE["height"]
    assert page.problems == []


# Storage as a browser that blocks it in third-party frames has it: every use throws, and is
# recorded, in the widget's frame; the host page keeps its own.
NO_STORAGE = """
if (window !== window.top) {
  window.__touched = [];
  for (const name of ["localStorage", "sessionStorage", "indexedDB"]) {
    Object.defineProperty(window, name, { get() {
      window.__touched.push(name);
      throw new DOMException("blocked", "SecurityError");
    } });
  }
  Object.defineProperty(Document.prototype, "cookie", {
    get() { window.__touched.push("cookie"); return ""; },
    set(v) { window.__touched.push("cookie"); },
  });
}
"""


def test_a_plain_http_host_and_a_frame_without_storage(
    lapor_server: LaporServer, host_site: HostSite, open_page: Callable[..., Any]
) -> None:
    origin = f"http://{PLAIN_HOST}:{host_site.port}"
    _, key = add_widget(lapor_server, origin)
    host_site.page("/http", host_html(tag(lapor_server, key)), csp=strict_csp(lapor_server))
    page = open_page(f"{origin}/http", init=NO_STORAGE)
    # Not a secure context, as many agency sites still are not.
    assert page.evaluate("isSecureContext") is False
    widget_button(page).click()
    frame = frame_of(page)
    expect(frame.locator("#report-form")).to_be_visible()
    inner = next(f for f in page.frames if f.url.startswith(lapor_server.base_url))
    assert inner.evaluate("isSecureContext") is False
    text = story()
    frame.locator("#text").fill(text)
    frame.locator("input[name=identity][value=anonim]").check()
    frame.locator("button.send").click()
    expect(frame.locator(".receipt .code")).to_be_visible()
    inner = next(f for f in page.frames if f.url.startswith(lapor_server.base_url))
    # Neither the form nor the receipt touched storage or cookies.
    assert inner.evaluate("window.__touched") == []
    assert lapor_server.query("SELECT page_url FROM reports WHERE text = ?", text) == [
        (f"{origin}/http",)
    ]
    assert page.problems == []


def test_a_host_with_strict_dynamic_and_a_nonce(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    # The admin page's nonce form of the tag, under a CSP that trusts nonces only.
    nonce = uuid.uuid4().hex
    script = tag(lapor_server, widget_key).replace("<script ", f'<script nonce="{nonce}" ')
    csp = (
        f"default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic'; "
        f"frame-src {lapor_server.base_url}; connect-src {lapor_server.base_url}; "
        "style-src 'self'; img-src 'self'"
    )
    url = host_site.page("/nonce", host_html(script), csp=csp)
    page = open_page(url)
    widget_button(page).click()
    expect(frame_of(page).locator("#report-form")).to_be_visible()
    assert page.problems == []


def test_messages_from_anyone_but_the_widgets_own_frame_are_ignored(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/forged", host_html(tag(lapor_server, widget_key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url, DESKTOP)
    widget_button(page).click()
    expect(frame_of(page).locator("#report-form")).to_be_visible()
    iframe = page.locator("lapor-widget iframe")
    height = iframe.evaluate("f => f.style.height")
    # Our shape, but from the host page itself (a script of the page, or a hostile ad
    # frame): neither closes the panel nor resizes the frame.
    page.evaluate("""() => {
        postMessage({lapor: 'w', type: 'close'}, '*');
        postMessage({lapor: 'w', type: 'height', h: 5}, '*');
        postMessage({lapor: 'w', type: 'ready', refused: 'forged'}, '*');
    }""")
    page.wait_for_timeout(300)
    expect(page.locator("lapor-widget .p")).to_be_visible()
    assert iframe.evaluate("f => f.style.height") == height
    assert not any("forged" in w for w in page.warnings)
    assert page.problems == []


def test_the_page_url_is_read_each_time_the_panel_opens(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/berita", host_html(tag(lapor_server, widget_key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url, DESKTOP)
    widget_button(page).click()
    frame = frame_of(page)
    expect(frame.locator("#report-form")).to_be_visible()
    page.keyboard.press("Escape")
    # A single-page site moves on without reloading; the panel opens again on that page.
    page.evaluate("history.pushState({}, '', '/berita/42?utm_source=x')")
    widget_button(page).click()
    text = story()
    frame.locator("#text").fill(text)
    frame.locator("input[name=identity][value=anonim]").check()
    frame.locator("button.send").click()
    expect(frame.locator(".receipt .code")).to_be_visible()
    assert lapor_server.query("SELECT page_url FROM reports WHERE text = ?", text) == [
        (f"{host_site.origin}/berita/42",)
    ]
    assert page.problems == []


# -- issue 18, point 14 ------------------------------------------------------------------------
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_one_red_header_whose_corner_holds_the_close_button(
    lapor_server: LaporServer,
    host_site: HostSite,
    widget_key: str,
    open_page: Callable[..., Any],
    viewport: ViewportSize,
) -> None:
    url = host_site.page(
        "/one-header", host_html(tag(lapor_server, widget_key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url, viewport)
    widget_button(page).click()
    close = page.locator("lapor-widget .x")
    # Readable from the first moment, while the form still loads: white on the header's red.
    expect(close).to_be_visible()
    colours = close.evaluate(
        "x => [getComputedStyle(x).backgroundColor, getComputedStyle(x).color]"
    )
    assert colours == ["rgb(139, 0, 0)", "rgb(255, 255, 255)"]
    frame = frame_of(page)
    expect(frame.locator("#report-form")).to_be_visible()
    panel = page.locator("lapor-widget .p").bounding_box()
    iframe = page.locator("lapor-widget iframe").bounding_box()
    header = frame.locator(".frame-top").bounding_box()
    x = close.bounding_box()
    language = frame.locator(".frame-top .lang").bounding_box()
    assert panel and iframe and header and x and language
    # No strip above the form: the frame starts at the panel's top, its header first.
    assert abs(iframe["y"] - panel["y"]) < 1
    assert abs(header["y"] - panel["y"]) < 1
    # The × sits inside the header's top right corner, as tall as the header...
    assert abs(x["y"] - header["y"]) < 1 and abs(x["height"] - header["height"]) < 1
    assert abs((x["x"] + x["width"]) - (header["x"] + header["width"])) < 1
    # ...and covers nothing of it: the language switch ends before it.
    assert language["x"] + language["width"] <= x["x"]
    # It still closes the panel.
    close.click()
    expect(page.locator("lapor-widget .p")).to_be_hidden()
    assert page.problems == []


def test_the_inline_form_has_no_close_button_and_no_empty_corner(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/inline-header",
        host_html(
            '<div data-lapor-widget id="box"></div>', tag(lapor_server, widget_key, mode="inline")
        ),
        csp=strict_csp(lapor_server),
    )
    page = open_page(url, DESKTOP)
    frame = frame_of(page)
    expect(frame.locator("#report-form")).to_be_visible()
    assert page.locator("lapor-widget .x").count() == 0
    # Told by "open" that no × overlays it, the header keeps no room for one.
    expect(frame.locator("body")).not_to_have_class(re.compile(r"\bpanel\b"))
    padding = frame.locator(".frame-top").evaluate("h => getComputedStyle(h).paddingRight")
    assert padding == "16px"
    assert page.problems == []


def test_the_receipt_in_the_frame_says_how_to_keep_the_code_and_what_happens_next(
    lapor_server: LaporServer, host_site: HostSite, widget_key: str, open_page: Callable[..., Any]
) -> None:
    url = host_site.page(
        "/receipt", host_html(tag(lapor_server, widget_key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url)
    widget_button(page).click()
    frame = frame_of(page)
    frame.locator("#text").fill(story())
    frame.locator("input[name=identity][value=anonim]").check()
    frame.locator("button.send").click()
    receipt = frame.locator(".receipt")
    expect(receipt.locator(".code")).to_be_visible()
    code = receipt.locator(".code").inner_text().strip()
    # No bookmark advice a frame cannot follow: a screenshot, a note, or the status page in
    # a new tab (where it can be bookmarked).
    expect(receipt).not_to_contain_text("tandai halaman ini")
    expect(receipt).to_contain_text("ambil tangkapan layar atau catat")
    facts = frame.locator("dl.facts")
    expect(facts).to_contain_text("Diterima, menunggu verifikasi")
    expect(facts).to_contain_text("Instansi")
    expect(facts).to_contain_text("Dinas Kependudukan")
    expect(facts).to_contain_text("Diverifikasi paling lambat")
    expect(frame.locator("main")).to_contain_text("Selanjutnya, petugas pengelola pengaduan")
    with page.context.expect_page() as opened:
        receipt.get_by_role("link", name="Buka halaman status di tab baru").click()
    status = opened.value
    status.wait_for_load_state()
    assert status.url == f"{lapor_server.base_url}/t/{code}"
    status.close()
    assert page.problems == []


def new_admin(server: LaporServer) -> tuple[str, str]:
    email = f"admin-{uuid.uuid4().hex[:6]}@prov.go.id"
    password = "admin-" + uuid.uuid4().hex[:12]
    server.cli(
        "user",
        "add",
        email,
        "--role",
        "admin",
        "--unit",
        "prov",
        "--password-stdin",
        stdin=password + "\n",
    )
    return email, password


def signed_in_admin(server: LaporServer, open_page: Callable[..., Any]) -> Any:
    """A new admin's page, signed in: in the same browser as the host pages (one Playwright
    per thread), where the workspace is a first-party site and its cookie is kept."""
    from tests.browser.test_workflow import sign_in

    admin = open_page(f"{server.base_url}/admin/login")
    admin.context.clear_cookies()  # another test's admin may be signed in
    sign_in(admin, server, *new_admin(server))
    return admin


def test_an_admin_adds_a_site_to_a_widget_and_that_site_gets_the_button(
    lapor_server: LaporServer,
    host_site: HostSite,
    copycat_site: HostSite,
    open_page: Callable[..., Any],
) -> None:
    widget_id, key = add_widget(lapor_server, host_site.origin)
    admin = signed_in_admin(lapor_server, open_page)
    admin.goto(f"{lapor_server.base_url}/admin/widgets")
    admin.locator(f"#widget-{widget_id} a", has_text="Ubah situsnya").click()
    hint = admin.locator("#origins-hint")
    expect(hint).to_contain_text("5 detik")
    admin.fill("#origins", "https://*.example")
    admin.click("form.action button[type=submit]")
    expect(admin.get_by_role("alert")).to_contain_text("wildcard")
    admin.fill("#origins", f"{host_site.origin}\n{copycat_site.origin}")
    admin.click("form.action button[type=submit]")
    expect(admin.get_by_role("status")).to_have_text(
        "Situs widget Dinas Kependudukan sudah disimpan."
    )
    assert admin.url.endswith(f"/admin/widgets/{widget_id}?done=widget_saved&id={widget_id}")
    expect(admin.locator("dl.facts")).to_contain_text(copycat_site.origin)
    # The site just added shows the button, and its form opens.
    url = copycat_site.page(
        f"/added-{widget_id}", host_html(tag(lapor_server, key)), csp=strict_csp(lapor_server)
    )
    page = open_page(url)
    widget_button(page).click()
    expect(frame_of(page).locator("#report-form")).to_be_visible()
    # The refused form answered 400, as it should; nothing else went wrong.
    assert page.problems == []
    assert [p for p in admin.problems if "status of 400" not in p] == []


def test_the_admin_previews_the_button_and_the_form_which_send_nothing(
    lapor_server: LaporServer, host_site: HostSite, open_page: Callable[..., Any]
) -> None:
    widget_id, _ = add_widget(lapor_server, host_site.origin)
    admin = signed_in_admin(lapor_server, open_page)
    admin.goto(f"{lapor_server.base_url}/admin/widgets/{widget_id}")
    admin.get_by_text("Pratinjau tombol dan formulirnya").click()
    # The inline form, as data-mode="inline" shows it, clearly a preview.
    inline = admin.frame_locator("[data-lapor-widget] lapor-widget iframe")
    expect(inline.locator(".preview")).to_contain_text("Pratinjau")
    expect(inline.locator("button.send")).to_be_disabled()
    # And the floating button, whose panel holds the same preview.
    button = admin.locator("body > lapor-widget > button")
    expect(button).to_have_text("Sampaikan pengaduan")
    button.click()
    panel = admin.frame_locator("body > lapor-widget iframe")
    expect(panel.locator(".preview")).to_be_visible()
    expect(panel.locator("button.send")).to_be_disabled()
    admin.locator("body > lapor-widget .x").click()
    before = lapor_server.query("SELECT count(*) FROM reports")
    # Sent anyway (the button enabled by hand): refused, nothing stored.
    inline.locator("#text").fill(story())
    inline.locator("button.send").evaluate("b => { b.disabled = false; }")
    inline.locator("button.send").click()
    expect(inline.locator("h1")).to_have_text("Ini pratinjau")
    assert lapor_server.query("SELECT count(*) FROM reports") == before
    assert admin.problems == []
