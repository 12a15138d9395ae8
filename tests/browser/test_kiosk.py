"""The kiosk in real Chromium on a tablet-sized touch screen, against a real server that these
tests stop and start again: pairing, a whole report, the idle wipe, offline queueing that
survives a reload, a captive portal, two tabs on one queue, and a revoked device."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, CSP_WATCH, LaporServer

pytestmark = pytest.mark.browser

TABLET = {"width": 1280, "height": 800}
IDLE_SECONDS = 15
TEXT = "Antrean di loket perekaman KTP tidak bergerak selama dua jam."
DELIVERY_TIMEOUT = 90.0
HEALTH_OFFICE = "Dinas Kesehatan dan Pengendalian Penduduk Kota Banjarmasin Bidang Pelayanan"
RED = "rgb(139, 0, 0)"  # #8b0000, the citizen's pages' red (static/citizen.css)


class KioskServer(LaporServer):
    """A hall (a unit with two agencies) and a kiosk in it; a short idle time so the wipe can
    be watched."""

    kiosk_id: int = 0
    receipt_seconds: int = 40  # changing it makes a new release of the app

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(
            LAPOR_KIOSK_IDLE_SECONDS=str(IDLE_SECONDS),
            LAPOR_KIOSK_RECEIPT_SECONDS=str(self.receipt_seconds),
        )
        return env

    def seed(self) -> None:
        self.cli("unit", "add", "mpp", "--name", "Mal Pelayanan Publik")
        self.cli("unit", "add", "dukcapil", "--name", "Disdukcapil", "--parent", "mpp")
        self.cli("unit", "add", "samsat", "--name", "Samsat", "--parent", "mpp")
        # A long name, and a unit below it (offered under it), which has no staff of its own.
        self.cli("unit", "add", "dinkes", "--name", HEALTH_OFFICE, "--parent", "mpp")
        self.cli("unit", "add", "pkm", "--name", "Puskesmas Teluk Dalam", "--parent", "dinkes")
        self.cli(
            "user",
            "add",
            "koor@mpp.go.id",
            "--role",
            "coordinator",
            "--unit",
            "mpp",
            "--password-stdin",
            stdin="kiosk-browser-" + "x" * 12 + "\n",
        )
        out = self.cli("kiosk", "add", "mpp", "--name", "Lantai 1")
        self.kiosk_id = int(out.split()[1])

    def pairing_code(self) -> str:
        """A fresh code; the last line of `kiosk pair` is the code, as for `kiosk add`."""
        return self.cli("kiosk", "pair", str(self.kiosk_id)).strip().splitlines()[-1]

    def kiosk_reports(self) -> list[str]:
        return [
            row[0]
            for row in self.query(
                "SELECT tracking_code FROM reports WHERE channel = 'kiosk' ORDER BY id"
            )
        ]

    def wait_for_reports(self, codes: list[str], why: str) -> None:
        """Until a report is stored under each of `codes` (as receipts show them)."""
        wanted = {code.replace("-", "") for code in codes}
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while not wanted <= set(self.kiosk_reports()):
            assert time.monotonic() < deadline, why
            time.sleep(0.5)


@pytest.fixture(scope="module")
def kiosk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskServer]:
    server = KioskServer(tmp_path_factory.mktemp("kiosk") / "data")
    server.seed()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tablet(browser: Any) -> Iterator[Callable[[], Any]]:
    """A fresh tablet: its own storage, so each test pairs like a new device."""
    contexts: list[Any] = []

    def factory() -> Any:
        context = browser.new_context(viewport=TABLET, has_touch=True, locale="id-ID")
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_WATCH)
        return context

    yield factory
    for context in contexts:
        context.close()


def watch(page: Any, *, offline_expected: bool = False) -> list[str]:
    problems: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        # Requests to a server that is down on purpose fail loudly in the console.
        if offline_expected and (
            "Failed to load resource" in msg.text or "ERR_CONNECTION_REFUSED" in msg.text
        ):
            return
        problems.append(f"console: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


def until(page: Any, expression: str, timeout: float = 20.0) -> None:
    """Poll `expression` from here: playwright's wait_for_function evaluates a string in the
    page when it polls, which the kiosk's CSP (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.2)


def screen(page: Any, name: str, timeout: float = 20_000) -> None:
    page.wait_for_selector(f"main[data-screen={name}]", timeout=timeout)


def pair(page: Any, server: KioskServer) -> None:
    page.goto(f"{server.base_url}/kiosk")
    screen(page, "pair")
    page.fill("#pairing", server.pairing_code())
    page.tap("button[data-tap=pair]")
    # Preparing: worker installed, files stored, codes reserved; only then the start screen.
    screen(page, "start", timeout=30_000)
    assert page.evaluate("navigator.serviceWorker.controller !== null")


def write_report(page: Any, text: str = TEXT, agency: str = "Disdukcapil") -> str:
    """From the start screen to the receipt; the tracking code shown."""
    page.tap("button[data-tap=start]")
    screen(page, "agency")
    page.get_by_role("button", name=agency).tap()
    screen(page, "choose")
    page.tap("button[data-tap=kind-pengaduan]")
    screen(page, "write")
    page.fill("#text", text)
    page.tap("button[data-tap=next]")
    screen(page, "identity")
    page.tap("button[data-tap=identity-anonim]")
    page.tap("button[data-tap=send]")
    screen(page, "receipt")
    code = page.text_content("#tracking-code") or ""
    assert len(code) == 11, code
    return code


def finish_receipt(page: Any) -> None:
    page.wait_for_selector("#done:not([disabled])", timeout=10_000)
    page.tap("#done")
    screen(page, "start")


def storage_snapshot(page: Any) -> dict[str, Any]:
    """Everything the page could have kept: web storage, cookies, IndexedDB's stores."""
    # evaluate hands back the JSON of what the script returns, typed Any: an object here.
    snapshot: dict[str, Any] = page.evaluate("""async () => {
      const db = await new Promise((ok, bad) => {
        const r = indexedDB.open("lapor-kiosk"); r.onsuccess = () => ok(r.result);
        r.onerror = () => bad(r.error); });
      const dump = async (name) => new Promise((ok) => {
        const t = db.transaction([name]); const s = t.objectStore(name);
        const keys = s.getAllKeys(); const values = s.getAll();
        t.oncomplete = () => ok({keys: keys.result, values: values.result}); });
      const dbs = (await indexedDB.databases()).map((d) => d.name);
      return {local: localStorage.length, session: sessionStorage.length,
              cookies: document.cookie, databases: dbs, stores: Array.from(db.objectStoreNames),
              device: await dump("device"), queue: await dump("queue"),
              codes: (await dump("codes")).keys.length, history: history.length};
    }""")
    return snapshot


def test_pairing_and_a_whole_report(kiosk_server: KioskServer, tablet: Callable[[], Any]) -> None:
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    assert page.text_content("#hall") == "Mal Pelayanan Publik"
    # Touch-first: every control on the way is at least 48 px high.
    page.tap("button[data-tap=start]")
    screen(page, "agency")
    heights = page.eval_on_selector_all(
        "button", "bs => bs.filter(b => b.offsetParent).map(b => b.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 48, heights
    page.tap("button[data-tap=cancel]")
    screen(page, "start")
    code = write_report(page)
    assert page.locator("svg.qr path").count() == 1
    assert page.locator("#queued-notice").count() == 0  # delivered at once
    assert code.replace("-", "") in kiosk_server.kiosk_reports()
    row = kiosk_server.query(
        "SELECT text, identity, reported_at IS NOT NULL FROM reports WHERE tracking_code = ?",
        code.replace("-", ""),
    )
    assert row == [(TEXT, "anonim", 1)]
    # Done can be tapped at once, and clears everything.
    assert not page.is_disabled("#done")
    finish_receipt(page)
    assert TEXT not in page.content()
    assert problems == []


def test_the_language_switch_and_a_repeated_tap(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    assert page.text_content("button[data-tap=start]") == "Mulai"
    page.tap("button[data-tap=lang-en]")
    assert page.text_content("button[data-tap=start]") == "Start"
    assert page.get_attribute("html", "lang") == "en"
    before = len(kiosk_server.kiosk_reports())
    page.tap("button[data-tap=start]")
    page.get_by_role("button", name="Samsat").tap()
    page.tap("button[data-tap=kind-aspirasi]")
    page.fill("#text", "Mohon tambahkan kursi tunggu di depan loket Samsat.")
    page.tap("button[data-tap=next]")
    page.tap("button[data-tap=identity-anonim]")
    # An impatient double tap on Send stores one report.
    page.dispatch_event("button[data-tap=send]", "click")
    page.dispatch_event("button[data-tap=send]", "click")
    screen(page, "receipt")
    time.sleep(1.0)
    assert len(kiosk_server.kiosk_reports()) == before + 1
    assert kiosk_server.query("SELECT language FROM reports ORDER BY id DESC LIMIT 1") == [("en",)]
    finish_receipt(page)
    # The next person starts in the default language.
    assert page.text_content("button[data-tap=start]") == "Mulai"
    assert problems == []


def test_a_quick_rating_and_the_ikm_survey(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    page.tap("button[data-tap=start]")
    page.get_by_role("button", name="Samsat").tap()
    page.tap("button[data-tap=rating]")
    screen(page, "rating")
    assert page.locator("button[data-rating]").count() == 5
    page.tap("button[data-rating='4']")
    screen(page, "thanks")
    page.tap("button[data-tap=done]")
    screen(page, "start")
    page.tap("button[data-tap=start]")
    page.get_by_role("button", name="Disdukcapil").tap()
    page.tap("button[data-tap=ikm]")
    screen(page, "ikm")
    assert page.locator("section.question").count() == 9
    page.tap("button[data-tap=send]")
    assert page.locator("main .error").first.text_content()  # every question first
    for item in range(1, 10):
        page.tap(f"button[data-tap=ikm-{item}-{1 + item % 4}]")
    page.tap("button[data-tap=send]")
    screen(page, "thanks")
    deadline = time.monotonic() + 20
    while len(kiosk_server.query("SELECT 1 FROM feedback")) < 2:
        assert time.monotonic() < deadline, "the feedback never arrived"
        time.sleep(0.3)
    rows = kiosk_server.query("SELECT kind, rating, answers FROM feedback ORDER BY id")
    assert rows == [("rating", 4, None), ("ikm", None, "234123412")]
    assert problems == []


def test_idle_wipe_leaves_no_trace(kiosk_server: KioskServer, tablet: Callable[[], Any]) -> None:
    page = tablet().new_page()
    # The page's clock is ours, so the walk-away is jumped to rather than waited out.
    page.clock.install()
    problems = watch(page)
    pair(page, kiosk_server)
    before = storage_snapshot(page)
    secret = "Nama saya Budi Santoso, NIK 6371010101010001, rumah di Jalan Melati 7."
    page.tap("button[data-tap=start]")
    page.get_by_role("button", name="Disdukcapil").tap()
    page.tap("button[data-tap=kind-pengaduan]")
    page.fill("#text", secret)
    page.fill("#location", "Loket 4")
    page.tap("button[data-tap=next]")
    page.tap("button[data-tap=identity-named]")
    page.fill("#name", "Budi Santoso")
    page.fill("#phone", "081234567890")
    # Walks away while typing (three idle periods). Before the last ten seconds, no warning.
    page.clock.fast_forward((IDLE_SECONDS * 3 - 12) * 1000)
    page.wait_for_timeout(1500)
    assert page.locator("#idle").is_hidden()
    assert page.get_attribute("main", "data-screen") == "identity"
    # A countdown shows first, then the screen is cleared.
    page.clock.fast_forward(3000)
    page.locator("#idle").wait_for(state="visible", timeout=5000)
    assert "detik" in (page.text_content("#idle-help") or "")
    page.clock.fast_forward(11_000)
    screen(page, "start", timeout=5000)
    html = page.content()
    for trace in ("Budi", "6371010101010001", "Melati", "Loket 4", "081234567890"):
        assert trace not in html
        assert all(
            trace not in (page.input_value(sel) if page.locator(sel).count() else "")
            for sel in ("input", "textarea")
        )
    after = storage_snapshot(page)
    assert after["local"] == 0 and after["session"] == 0 and after["cookies"] == ""
    assert after["databases"] == ["lapor-kiosk"]
    assert after["stores"] == ["codes", "device", "queue"]
    assert sorted(after["device"]["keys"]) == ["config", "credential", "kiosk", "prepared"]
    assert after["queue"]["keys"] == []
    assert "Budi" not in json.dumps(after)
    assert after["history"] == before["history"]
    # Starting again shows empty fields, not the last person's.
    page.tap("button[data-tap=start]")
    page.get_by_role("button", name="Disdukcapil").tap()
    page.tap("button[data-tap=kind-pengaduan]")
    assert page.input_value("#text") == ""
    for selector in ("#text", "#location"):
        assert page.get_attribute(selector, "autocomplete") == "off"
    assert problems == []


def test_offline_reports_survive_a_reload_and_arrive_once(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    problems = watch(page, offline_expected=True)
    pair(page, kiosk_server)
    kiosk_server.stop()  # really unreachable: the worker's own requests fail too
    try:
        codes = []
        for n in range(3):
            codes.append(write_report(page, f"{TEXT} Laporan nomor {n + 1} saat jaringan putus."))
            assert page.locator("#queued-notice").count() == 1
            finish_receipt(page)
        page.reload()  # the app comes from the service worker's store
        screen(page, "start")
        assert "3" in (page.text_content("#queue-state") or "")
        # Its codes already say they wait for the kiosk once the server is back.
    finally:
        kiosk_server.start()
    kiosk_server.wait_for_reports(codes, "the queue was not delivered after the outage")
    wanted = sorted(c.replace("-", "") for c in codes)
    stored = kiosk_server.kiosk_reports()
    assert sorted(c for c in stored if c in wanted) == wanted
    texts = kiosk_server.query("SELECT text FROM reports WHERE text LIKE '%saat jaringan putus.'")
    assert len(texts) == 3
    until(page, "!document.getElementById('queue-state').textContent")
    assert problems == []


def test_a_queued_report_survives_a_browser_restart(
    kiosk_server: KioskServer, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    profile = tmp_path_factory.mktemp("tablet-profile")

    def launch() -> Any:
        context = browser.browser_type.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport=TABLET,
            has_touch=True,
            locale="id-ID",
        )
        context.set_default_timeout(15_000)
        return context

    context = launch()
    page = context.pages[0] if context.pages else context.new_page()
    pair(page, kiosk_server)
    kiosk_server.stop()
    try:
        code = write_report(page, f"{TEXT} Tablet dimatikan sebelum terkirim.")
        assert page.locator("#queued-notice").count() == 1
        context.close()  # the browser quits with the report still queued
        context = launch()
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{kiosk_server.base_url}/kiosk")
        screen(page, "start")
        assert "1" in (page.text_content("#queue-state") or "")
    finally:
        kiosk_server.start()
    try:
        kiosk_server.wait_for_reports([code], "the report never arrived after the restart")
    finally:
        context.close()


def test_a_captive_portal_empties_nothing(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    context = tablet()
    page = context.new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    portal = "<html><body><h1>Welcome to MPP Wi-Fi</h1><a href='/login'>Login</a></body></html>"

    def captive(route: Any) -> None:
        route.fulfill(status=200, content_type="text/html", body=portal)

    context.route("**/kiosk/api/**", captive)
    code = write_report(page, f"{TEXT} Dikirim lewat portal tertutup.")
    assert page.locator("#queued-notice").count() == 1
    finish_receipt(page)
    time.sleep(6)  # at least one more sending attempt against the portal
    assert "1" in (page.text_content("#queue-state") or "")
    assert code.replace("-", "") not in kiosk_server.kiosk_reports()
    context.unroute("**/kiosk/api/**", captive)
    kiosk_server.wait_for_reports([code], "the report never arrived after the portal")
    assert problems == []


def test_a_kiosk_over_its_limit_keeps_the_rating_and_sends_it_when_told(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    """A 429 (the kiosk's sending limit, as a backlog after an outage meets it) keeps the
    item and holds its kind back for Retry-After: not lost, not left for the hourly retry."""
    context = tablet()
    page = context.new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    before = len(kiosk_server.query("SELECT 1 FROM feedback"))
    refused_at: list[float] = []

    def limited(route: Any) -> None:
        if refused_at:
            route.continue_()
            return
        refused_at.append(time.monotonic())
        key = json.loads(route.request.post_data or "{}")["key"]
        body = {"key": key, "error": "throttled", "message": "", "retry_after": 4}
        route.fulfill(
            status=429,
            headers={"retry-after": "4", "cache-control": "no-store"},
            content_type="application/json",
            body=json.dumps(body),
        )

    context.route("**/kiosk/api/feedback", limited)
    page.tap("button[data-tap=start]")
    page.get_by_role("button", name="Samsat").tap()
    page.tap("button[data-tap=rating]")
    page.tap("button[data-rating='2']")
    screen(page, "thanks")
    # The same allowance as delivery: on a loaded machine the app's first send can be slow.
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    # page.wait_for_timeout, not time.sleep: the route's handler runs only while playwright is
    # called.
    while not refused_at:
        assert time.monotonic() < deadline, "the rating was never sent"
        page.wait_for_timeout(200)
    # Kept while it waits: read before the Retry-After is up, or it may have gone already.
    page.wait_for_timeout(200)
    if time.monotonic() - refused_at[0] < 3.5:
        assert "1" in (page.text_content("#queue-state") or "")
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while len(kiosk_server.query("SELECT 1 FROM feedback")) == before:
        assert time.monotonic() < deadline, "the rating never arrived after its Retry-After"
        page.wait_for_timeout(300)
    assert time.monotonic() - refused_at[0] >= 4  # not sooner than the server asked
    assert kiosk_server.query("SELECT rating FROM feedback ORDER BY id DESC LIMIT 1") == [(2,)]
    # The browser reports the 429 in the console, as it reports any refused request.
    assert [p for p in problems if "429" not in p] == []


def test_two_tabs_send_one_queue_once(kiosk_server: KioskServer, tablet: Callable[[], Any]) -> None:
    context = tablet()
    first = context.new_page()
    problems = watch(first, offline_expected=True)
    pair(first, kiosk_server)
    kiosk_server.stop()
    try:
        codes = []
        for n in range(2):
            codes.append(write_report(first, f"{TEXT} Dua tab, laporan {n}."))
            finish_receipt(first)
        second = context.new_page()
        problems += watch(second, offline_expected=True)
        second.goto(f"{kiosk_server.base_url}/kiosk")
        screen(second, "start")
    finally:
        kiosk_server.start()
    kiosk_server.wait_for_reports(codes, "the queue was not delivered")
    time.sleep(6)  # both tabs have had their turn
    rows = kiosk_server.query("SELECT count(*) FROM reports WHERE text LIKE '%Dua tab, laporan%'")
    assert rows == [(2,)]
    assert problems == []


# -- issue 20: a backlog delivered soon after the server's return, as the server allows ------
BACKLOG = 24
# Longer than the page's longest wait between two looks at the health check (PROBE_MAX), so
# only a page that obeys the Retry-After keeps quiet that long.
PROXY_WAIT = 5


def queue_reports(page: Any, unit_id: int, count: int, text: str, prefix: str) -> list[str]:
    """`count` reports put in the tablet's queue as the app queues them (oldest first), with
    keys `prefix` + their number; the keys, in the queue's order."""
    keys = [f"{prefix}{n:012d}" for n in range(count)]
    page.evaluate(
        """async ([unit, keys, text]) => {
      const db = await new Promise((ok, bad) => { const r = indexedDB.open("lapor-kiosk");
        r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
      const t = db.transaction(["queue"], "readwrite", {durability: "strict"});
      keys.forEach((key, n) => {
        const now = new Date().toISOString();
        t.objectStore("queue").add({key, type: "report", seq: n, attempts: 0, next_at: 0,
          queued_at: now,
          body: {key, unit, kind: "pengaduan", identity: "anonim",
                 text: text.replace("{n}", String(n)), location: "", name: "", phone: "",
                 email: "", language: "id", code: "", reported_at: now}});
      });
      await new Promise((ok) => { t.oncomplete = ok; });
    }""",
        [unit_id, keys, text],
    )
    return keys


# Whether the tablet keeps a hold on sending reports that is not over yet.
HELD_REPORTS = """(async () => {
  const db = await new Promise((ok) => {
    const r = indexedDB.open("lapor-kiosk"); r.onsuccess = () => ok(r.result); });
  const held = await new Promise((ok) => {
    const r = db.transaction(["device"]).objectStore("device").get("held");
    r.onsuccess = () => ok(r.result); });
  return !!held && held.report > Date.now();
})()"""


def unit_id(server: KioskServer, slug: str) -> int:
    return int(server.query("SELECT id FROM units WHERE slug = ?", slug)[0][0])


def refuse(route: Any, status: int, seconds: int, key: str | None = None) -> None:
    """Answer as a busy server does: with our JSON naming the item (429 from the kiosk's
    limit), or as a proxy in front of it does (503, its own page)."""
    headers = {"retry-after": str(seconds), "cache-control": "no-store"}
    if key is None:
        route.fulfill(
            status=status,
            headers=headers,
            content_type="text/html",
            body="<h1>503 Service Temporarily Unavailable</h1>",
        )
        return
    body = {"key": key, "error": "throttled", "message": "", "retry_after": seconds}
    route.fulfill(
        status=status, headers=headers, content_type="application/json", body=json.dumps(body)
    )


def stored_once(server: KioskServer, marker: str) -> list[tuple[int, int]]:
    return [
        (int(a), int(b))
        for a, b in server.query(
            "SELECT count(*), count(DISTINCT text) FROM reports WHERE text LIKE ?", f"%{marker}%"
        )
    ]


def test_a_backlog_goes_once_the_server_is_back_and_waits_as_told(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    """Reports queued during an outage go as soon as the server is back, oldest first, each
    stored once: a proxy's 503 and the kiosk limit's 429 hold the page back as long as their
    Retry-After says, and an answer lost on the way costs a resend, never a second report."""
    context = tablet()
    page = context.new_page()
    problems = watch(page, offline_expected=True)
    pair(page, kiosk_server)
    marker = "antrean tertunda nomor"
    kiosk_server.stop()
    # Every request of the page to the server after its return: (when, what, key).
    seen: list[tuple[float, str, str]] = []
    events: dict[str, float] = {}
    lost: list[str] = []
    back = False

    def reports(route: Any) -> None:
        key = json.loads(route.request.post_data or "{}").get("key", "")
        if not back:
            route.continue_()  # refused: the server is down
            return
        now = time.monotonic()
        seen.append((now, "report", key))
        sent = [k for _, what, k in seen if what == "report"]
        if len(sent) == 1:
            events["503"] = now  # the first after the return: the proxy is not ready yet
            refuse(route, 503, PROXY_WAIT)
        elif len(sent) == 5:
            # Stored, but the answer never reaches the tablet.
            lost.append(key)
            route.fetch()
            route.abort()
        elif len(sent) == 10 or ("429" in events and now - events["429"] < 2):
            events.setdefault("429", now)
            refuse(route, 429, 2, key)
        else:
            route.continue_()

    def health(route: Any) -> None:
        if back:
            seen.append((time.monotonic(), "health", ""))
        route.continue_()

    context.route("**/kiosk/api/reports", reports)
    context.route("**/healthz/ready", health)
    try:
        keys = queue_reports(
            page, unit_id(kiosk_server, "dukcapil"), BACKLOG, f"{TEXT} {marker} {{n}}.", "backlog"
        )
        # The page finds the server gone (its next send fails) before it returns.
        page.wait_for_timeout(7_000)
    finally:
        kiosk_server.start()
        back = True
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while stored_once(kiosk_server, marker) != [(BACKLOG, BACKLOG)] or "429" not in events:
        assert time.monotonic() < deadline, f"the backlog was not delivered: {seen}"
        page.wait_for_timeout(300)
    until(page, "!document.getElementById('queue-state').textContent")
    page.wait_for_timeout(1_000)  # nothing more is sent once the queue is empty
    assert stored_once(kiosk_server, marker) == [(BACKLOG, BACKLOG)]
    sent = [(at, key) for at, what, key in seen if what == "report"]
    # Oldest first: each item was first sent in the queue's order.
    first_sends = list(dict.fromkeys(key for _, key in sent))
    assert first_sends == keys
    # The 503's Retry-After: nothing at all, not even the health check, for as long.
    quiet = [what for at, what, _ in seen if events["503"] < at < events["503"] + PROXY_WAIT]
    assert quiet == [], seen
    # The 429's: at most the one send already on its way when it came (refused too), then
    # nothing until its Retry-After is up; every refused item went again (the count above).
    early = [key for at, key in sent if events["429"] < at < events["429"] + 2]
    assert len(early) <= 1, sent
    # The lost answer: sent again, stored once (the count above).
    assert len(lost) == 1 and [k for _, k in sent].count(lost[0]) >= 2
    assert [p for p in problems if "503" not in p and "429" not in p] == []


def test_a_reload_in_the_middle_of_a_backlog_loses_nothing_and_still_waits(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    """The tablet reloads while its backlog is being sent and the server has asked it to wait:
    the page that comes back still waits as told, then sends the rest, each stored once."""
    context = tablet()
    page = context.new_page()
    problems = watch(page, offline_expected=True)
    pair(page, kiosk_server)
    marker = "dimuat ulang di tengah antrean"
    kiosk_server.stop()
    sent: list[tuple[float, str]] = []
    refused_at: list[float] = []
    back = False

    def reports(route: Any) -> None:
        key = json.loads(route.request.post_data or "{}").get("key", "")
        if not back:
            route.continue_()
            return
        now = time.monotonic()
        sent.append((now, key))
        if len(sent) > 8 and (not refused_at or now - refused_at[0] < 3):
            refused_at.append(now)
            refuse(route, 429, 3, key)
        else:
            route.continue_()

    context.route("**/kiosk/api/reports", reports)
    try:
        queue_reports(
            page, unit_id(kiosk_server, "samsat"), BACKLOG, f"{TEXT} {marker} {{n}}.", "reload"
        )
        page.wait_for_timeout(7_000)
    finally:
        kiosk_server.start()
        back = True
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while not refused_at:
        assert time.monotonic() < deadline, "the backlog was never sent"
        page.wait_for_timeout(100)
    # Once the page has kept what it was told (its own doing, not the test's), it reloads.
    until(page, HELD_REPORTS)
    page.reload()
    reloaded = time.monotonic()
    screen(page, "start")
    assert 0 < stored_once(kiosk_server, marker)[0][0] < BACKLOG  # in the middle of it
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while stored_once(kiosk_server, marker) != [(BACKLOG, BACKLOG)]:
        assert time.monotonic() < deadline, f"the backlog was not delivered: {sent}"
        page.wait_for_timeout(300)
    until(page, "!document.getElementById('queue-state').textContent")
    # The reloaded page sent nothing before the Retry-After was up.
    after_reload = [at for at, _ in sent if at > reloaded]
    assert after_reload and min(after_reload) >= refused_at[0] + 3, (refused_at, sent)
    assert [p for p in problems if "429" not in p] == []


def test_a_new_release_waits_for_the_start_screen(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    problems = watch(page, offline_expected=True)
    pair(page, kiosk_server)
    version = "JSON.parse(document.getElementById('kiosk-boot').textContent).version"
    old = page.evaluate(version)
    kiosk_server.stop()
    kiosk_server.receipt_seconds = 41
    kiosk_server.start()
    try:
        page.tap("button[data-tap=start]")
        screen(page, "agency")
        # What the page's own timer does every few minutes: ask for the worker again.
        page.evaluate("navigator.serviceWorker.getRegistration('/kiosk').then(r => r.update())")
        until(page, "navigator.serviceWorker.getRegistration('/kiosk').then(r => !!r.waiting)")
        time.sleep(1)
        assert page.evaluate(version) == old  # someone is using the kiosk: no swap
        # Back on the start screen, the release applies: the page reloads itself.
        with page.expect_event("load", timeout=20_000):
            page.tap("button[data-tap=cancel]")
        screen(page, "start")
        assert page.evaluate(version) != old
    finally:
        kiosk_server.stop()
        kiosk_server.receipt_seconds = 40
        kiosk_server.start()
    assert [p for p in problems if "Failed to load" not in p] == []


def test_a_ten_digit_code_is_typed_as_the_admin_reads_it(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    """The code an admin is given while six-digit codes are paused, typed with its spaces."""
    page = tablet().new_page()
    problems = watch(page)
    code = kiosk_server.cli("kiosk", "pair", str(kiosk_server.kiosk_id), "--long")
    digits = code.strip().splitlines()[-1]
    assert len(digits) == 10
    page.goto(f"{kiosk_server.base_url}/kiosk")
    screen(page, "pair")
    assert "sepuluh angka" in (page.text_content("main") or "")
    page.locator("#pairing").press_sequentially(f"{digits[:3]} {digits[3:6]} {digits[6:]}")
    page.tap("button[data-tap=pair]")
    screen(page, "start", timeout=30_000)
    assert problems == []


def test_a_revoked_kiosk_says_it_is_not_active(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    listing = kiosk_server.cli("kiosk", "list")
    assert "Lantai 1" in listing and "paired" in listing
    kiosk_server.cli("kiosk", "revoke", str(kiosk_server.kiosk_id))
    page.reload()
    screen(page, "inactive")
    assert "tidak aktif" in (page.text_content("h1") or "")
    assert storage_snapshot(page)["codes"] == 0  # the released codes are gone from the device
    # The one expected console line: Chromium logs the server's 410 "revoked" answer.
    assert [p for p in problems if "status of 410" not in p] == []
    # Put back a kiosk for any later test of this module.
    out = kiosk_server.cli("kiosk", "add", "mpp", "--name", "Lantai 1")
    kiosk_server.kiosk_id = int(out.split()[1])


# -- issue 18: the receipt's private link, and a kiosk a person can use -----------------------
def pool_secrets(page: Any) -> dict[str, str]:
    """The device's pool: each code as the receipt shows it, and its private link's secret."""
    codes: list[dict[str, str]] = page.evaluate("""async () => {
      const db = await new Promise((ok) => {
        const r = indexedDB.open("lapor-kiosk"); r.onsuccess = () => ok(r.result); });
      return new Promise((ok) => {
        const r = db.transaction(["codes"]).objectStore("codes").getAll();
        r.onsuccess = () => ok(r.result); });
    }""")
    return {code["display"]: code.get("secret", "") for code in codes}


def qr_path(link: str) -> str:
    """The path the app draws for `link`'s QR code (static/kiosk.js, qrSvg)."""
    from lapor.web.posters import qr_matrix

    return "".join(
        f"M{x + 4} {y + 4}h1v1h-1z"
        for y, row in enumerate(qr_matrix(link))
        for x, dark in enumerate(row)
        if dark
    )


def opens_private_page(browser: Any, link: str) -> bool:
    """What the reporter's phone shows when it opens the link."""
    phone = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = phone.new_page()
        response = page.goto(link)
        return bool(response and response.ok) and page.locator("p.private").count() == 1
    finally:
        phone.close()


def test_the_receipt_opens_the_private_page_online_and_offline(
    kiosk_server: KioskServer, tablet: Callable[[], Any], browser: Any
) -> None:
    """The QR code on the receipt is the reporter's private link (answer, reply, accept, rate),
    also for a report that waited in the queue; Done is a primary button from the start."""
    page = tablet().new_page()
    problems = watch(page, offline_expected=True)
    pair(page, kiosk_server)
    base = kiosk_server.base_url
    secrets = pool_secrets(page)
    code = write_report(page, f"{TEXT} Struk dengan tautan pribadi.")
    link = f"{base}/t/{code}/{secrets[code]}"
    assert page.get_attribute("svg.qr path", "d") == qr_path(link)
    assert page.get_attribute("svg.qr", "data-link") == "private"
    assert "halaman pribadi" in (page.text_content("#receipt-scan") or "")
    done = page.locator("#done")
    assert done.is_enabled()
    assert done.evaluate("b => getComputedStyle(b).backgroundColor") == RED
    assert opens_private_page(browser, link)
    finish_receipt(page)
    # Queued while the server is down: the receipt already carries the private link.
    secrets = pool_secrets(page)
    kiosk_server.stop()
    try:
        code = write_report(page, f"{TEXT} Struk antrean dengan tautan pribadi.")
        assert page.locator("#queued-notice").count() == 1
        link = f"{base}/t/{code}/{secrets[code]}"
        assert page.get_attribute("svg.qr path", "d") == qr_path(link)
    finally:
        kiosk_server.start()
    page.tap("h1")  # the person is still reading: the receipt stays
    kiosk_server.wait_for_reports([code], "the queued report never arrived")
    # The receipt still on screen says that it has arrived, and keeps its link.
    page.wait_for_selector("#queued-notice", state="detached", timeout=30_000)
    assert "diterima" in (page.text_content("h1") or "")
    assert page.get_attribute("svg.qr path", "d") == qr_path(link)
    finish_receipt(page)
    assert opens_private_page(browser, link)
    assert [p for p in problems if "Failed to load" not in p] == []


def test_pool_codes_from_before_private_links_are_swapped(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    """A tablet paired before this release holds codes without a secret: at its next contact
    it takes new ones and drops those, so its receipts open the private page."""
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    page.evaluate("""async () => {
      const db = await new Promise((ok) => {
        const r = indexedDB.open("lapor-kiosk"); r.onsuccess = () => ok(r.result); });
      await new Promise((ok) => {
        const t = db.transaction(["codes"], "readwrite"); const s = t.objectStore("codes");
        const all = s.getAll();
        all.onsuccess = () => { s.clear(); all.result.slice(0, 3).forEach((c) => {
          delete c.secret; s.put(c); }); };
        t.oncomplete = ok; });
    }""")
    assert list(pool_secrets(page).values()) == ["", "", ""]
    page.reload()
    screen(page, "start")
    until(
        page,
        """(async () => {
      const db = await new Promise((ok) => {
        const r = indexedDB.open("lapor-kiosk"); r.onsuccess = () => ok(r.result); });
      const codes = await new Promise((ok) => {
        const r = db.transaction(["codes"]).objectStore("codes").getAll();
        r.onsuccess = () => ok(r.result); });
      return codes.length > 0 && codes.every((c) => c.secret);
    })()""",
    )
    secrets = pool_secrets(page)
    code = write_report(page, f"{TEXT} Kode baru setelah pembaruan.")
    assert page.get_attribute("svg.qr", "data-link") == "private"
    link = f"{kiosk_server.base_url}/t/{code}/{secrets[code]}"
    assert page.get_attribute("svg.qr path", "d") == qr_path(link)
    assert problems == []


def test_a_receipt_without_a_pool_code_shows_the_servers_private_link(
    kiosk_server: KioskServer, tablet: Callable[[], Any], browser: Any
) -> None:
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    # After the first hello and the refill that follows it, or that refill would put codes back
    # into the emptied pool (a slow machine saw it happen after the clearing).
    deadline = time.monotonic() + 30
    while kiosk_server.query("SELECT last_seen_at FROM kiosks")[0][0] is None:
        assert time.monotonic() < deadline, "the kiosk never said hello"
        time.sleep(0.2)
    page.wait_for_timeout(1000)
    page.evaluate("""async () => {
      const db = await new Promise((ok) => {
        const r = indexedDB.open("lapor-kiosk"); r.onsuccess = () => ok(r.result); });
      await new Promise((ok) => {
        const t = db.transaction(["codes"], "readwrite"); t.objectStore("codes").clear();
        t.oncomplete = ok; });
    }""")
    code = write_report(page, f"{TEXT} Kode dari server.")
    assert page.locator("#queued-notice").count() == 0
    assert page.get_attribute("svg.qr", "data-link") == "private"
    (row,) = kiosk_server.query(
        "SELECT idempotency_key FROM reports WHERE tracking_code = ?", code.replace("-", "")
    )
    from lapor.web.signing import Signing

    # The link made on the server from the report's key, as for a poster's report.
    secret = Signing([kiosk_server.secret]).reporter_secret(row[0])
    link = f"{kiosk_server.base_url}/t/{code}/{secret}"
    assert page.get_attribute("svg.qr path", "d") == qr_path(link)
    assert opens_private_page(browser, link)
    assert problems == []


def test_the_receipt_stays_until_done_or_a_walk_away_countdown(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    # The page's clock is ours: the receipt's periods are jumped through, not waited out.
    page.clock.install()
    problems = watch(page)
    pair(page, kiosk_server)
    write_report(page, f"{TEXT} Struk yang ditinggal.")
    receipt = KioskServer.receipt_seconds
    # Longer than the idle time of the other screens: the receipt is still there, unwarned.
    page.clock.fast_forward((IDLE_SECONDS + 3) * 1000)
    page.wait_for_timeout(1500)
    assert page.get_attribute("main", "data-screen") == "receipt"
    assert page.locator("#idle").is_hidden()
    # A countdown warns first (20 s before), in words about the receipt, with the seconds large.
    page.clock.fast_forward((receipt - 20 - IDLE_SECONDS - 3 + 2) * 1000)
    page.locator("#idle").wait_for(state="visible", timeout=5000)
    assert "selesai" in (page.text_content("#idle-title") or "").lower()
    assert (page.text_content("#idle-seconds") or "").isdigit()
    # "Not finished" keeps it for another full period: still there just before its end.
    page.tap("#idle-continue")
    assert page.locator("#idle").is_hidden()
    page.clock.fast_forward((receipt - 3) * 1000)
    page.wait_for_timeout(1500)
    assert page.get_attribute("main", "data-screen") == "receipt"
    page.clock.fast_forward(5000)
    screen(page, "start", timeout=5000)
    assert "Struk yang ditinggal" not in page.content()
    assert problems == []


def test_the_start_screen_is_one_large_welcoming_target(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    welcome = page.locator(".welcome")
    box = welcome.bounding_box()
    assert box and box["width"] >= 1200 and box["height"] >= 600, box
    text = welcome.text_content() or ""
    assert "LAPOR!" in text and "Layanan Aspirasi dan Pengaduan Online Rakyat" in text
    assert "Gratis" in text
    start = page.locator("button[data-tap=start]").bounding_box()
    assert start and start["height"] >= 100 and start["width"] >= 400, start
    # A tap anywhere on the screen starts, not only on the button.
    page.touchscreen.tap(box["x"] + 60, box["y"] + box["height"] - 40)
    screen(page, "agency")
    assert problems == []


def test_every_unit_is_reachable_on_roomy_tiles(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    page.tap("button[data-tap=start]")
    screen(page, "agency")
    # Roomy: no name over three lines, none within 12 px of its tile's border.
    tiles = page.eval_on_selector_all(
        "#agencies button",
        """bs => bs.map(b => { const r = b.getBoundingClientRect();
                            const s = b.querySelector('span').getBoundingClientRect();
                            const line = parseFloat(getComputedStyle(b).lineHeight);
                            return {lines: Math.round(s.height / line),
                                    gap: Math.min(s.left - r.left, r.right - s.right,
                                                  s.top - r.top, r.bottom - s.bottom)}; })""",
    )
    assert len(tiles) == 3, tiles  # the puskesmas waits under its office
    assert all(t["lines"] <= 3 and t["gap"] >= 12 for t in tiles), tiles
    assert page.get_by_role("button", name="Puskesmas Teluk Dalam", exact=True).count() == 0
    page.get_by_role("button", name="Dinas Kesehatan").tap()
    screen(page, "agency")
    assert "Dinas Kesehatan" in (page.text_content("h1") or "")
    page.get_by_role("button", name="Puskesmas Teluk Dalam", exact=True).tap()
    screen(page, "choose")
    page.tap("button[data-tap=kind-pengaduan]")
    page.fill("#text", f"{TEXT} Di puskesmas.")
    page.tap("button[data-tap=next]")
    page.tap("button[data-tap=identity-anonim]")
    page.tap("button[data-tap=send]")
    screen(page, "receipt")
    code = (page.text_content("#tracking-code") or "").replace("-", "")
    rows = kiosk_server.query(
        "SELECT u.name FROM reports r JOIN units u ON u.id = r.unit_id WHERE r.tracking_code = ?",
        code,
    )
    assert rows == [("Puskesmas Teluk Dalam",)]
    assert problems == []


def test_the_length_message_goes_as_soon_as_enough_is_written(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    page.tap("button[data-tap=start]")
    page.get_by_role("button", name="Disdukcapil").tap()
    page.tap("button[data-tap=kind-pengaduan]")
    page.locator("#text").press_sequentially("Antrean")
    assert "7" in (page.text_content("#write-count") or "")
    page.tap("button[data-tap=next]")
    screen(page, "write")
    assert "15" in (page.text_content("#write-error") or "")
    page.locator("#text").press_sequentially(" panjang sekali di loket 2.")
    assert page.text_content("#write-error") == ""
    assert page.text_content("#write-count") == "34 / 4000"
    assert problems == []


def test_the_faces_are_drawn_and_the_colours_are_the_services(
    kiosk_server: KioskServer, tablet: Callable[[], Any]
) -> None:
    """No emoji (empty boxes without an emoji font), no technical text for the citizen, and
    the red of the citizen's pages."""
    page = tablet().new_page()
    problems = watch(page)
    pair(page, kiosk_server)
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.bar.top')).backgroundColor") == RED
    )
    assert "Kontak" not in (page.text_content("body") or "")
    # Staff find it on the dot in the top bar: a tap shows it for a few seconds.
    assert "Kontak terakhir" in (page.get_attribute("#link-state", "title") or "")
    page.tap("#link-wrap")
    assert "Kontak terakhir" in (page.text_content("#link-time") or "")
    assert page.locator("#link-time").is_visible()
    page.tap("button[data-tap=start]")
    page.get_by_role("button", name="Samsat").tap()
    page.tap("button[data-tap=rating]")
    screen(page, "rating")
    faces = page.locator("button[data-rating]")
    assert faces.count() == 5
    for n in range(5):
        face = faces.nth(n)
        assert face.locator("svg.face").count() == 1
        label = face.text_content() or ""
        assert all(ord(c) < 0x2000 for c in label), label  # words only, no emoji
        box = face.locator("svg.face").bounding_box()
        assert box and box["width"] >= 64
    assert problems == []
