"""Real Chromium against a real server process.

`lapor_server` seeds a fresh data directory through the operator CLI (the way a deployment is
set up) and runs `lapor serve` on a free 127.0.0.1 port. `browser` is the system
Chromium driven by playwright's sync API (no browser download: DESIGN.md, Tests). When Chromium
is not there the browser tests skip, unless LAPOR_REQUIRE_BROWSER=1 (CI), where they fail.

Every page made by `make_page` records console errors, uncaught exceptions and CSP violations in
`page.problems`; tests assert it is empty at the end of their flow.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from tests.conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LAPOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 360, "height": 800}
COORDINATOR = "koor@prov.go.id"
COORDINATOR_PASSWORD = "browser-test-" + secrets.token_hex(8)
UNIT_NAME = "Dinas Kependudukan"
POSTER_LABEL = "Loket 3 – Perekaman KTP"
START_TIMEOUT = 20.0

# Chromium reports CSP violations to the page as events; surface them as console errors.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def _browser_unavailable(reason: str) -> NoReturn:
    if os.environ.get("LAPOR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (LAPOR_REQUIRE_BROWSER=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


@dataclass
class LaporServer:
    """One server process on its own data directory."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24)[:32])
    process: subprocess.Popen[bytes] | None = None
    poster_url: str = ""
    unit_name: str = UNIT_NAME
    poster_label: str = POSTER_LABEL
    coordinator: str = COORDINATOR
    coordinator_password: str = COORDINATOR_PASSWORD
    # Settings that differ from the defaults, such as a body limit small enough to exceed.
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "lapor.db"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / "server.log"

    def env(self) -> dict[str, str]:
        from lapor.settings import SETTINGS

        env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
        # Every setting pinned (the environment beats a developer's ./.env file): SQLite in
        # the data dir, mail to files, rate limits in memory, Indonesian by default.
        env.update({setting.name: setting.default for setting in SETTINGS})
        env.update(
            LAPOR_DATA_DIR=str(self.data_dir),
            LAPOR_BASE_URL=self.base_url,
            LAPOR_SECRET_KEYS=self.secret,
            PYTHONUNBUFFERED="1",
        )
        env.update(self.overrides)
        return env

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run an operator command; its stdout, or a failure that shows stderr."""
        result = subprocess.run(
            [sys.executable, "-m", "lapor", *args],
            cwd=ROOT,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`lapor {' '.join(args)}` exited {result.returncode}:\n"
                f"{result.stderr}{result.stdout}",
                pytrace=False,
            )
        return result.stdout

    def seed(self) -> None:
        self.cli("unit", "add", "prov", "--name", "Pemerintah Provinsi")
        self.cli("unit", "add", "dinas", "--name", UNIT_NAME, "--parent", "prov")
        self.cli(
            "user",
            "add",
            COORDINATOR,
            "--role",
            "coordinator",
            "--unit",
            "prov",
            "--password-stdin",
            stdin=COORDINATOR_PASSWORD + "\n",
        )
        out = self.cli("poster", "add", "dinas", "--label", POSTER_LABEL)
        # The last line of `poster add` is the poster's URL: a contract with operators' scripts.
        self.poster_url = out.strip().splitlines()[-1]
        assert self.poster_url.startswith(f"{self.base_url}/q/"), out

    def log(self, tail: int | None = 6000) -> str:
        """The server's output (the end of it, unless `tail` is None)."""
        try:
            text = self.log_path.read_text(errors="replace")
            return text if tail is None else text[-tail:]
        except OSError:
            return "(no log)"

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            # stdout/stderr to a file, not a pipe: nobody reads a pipe, so it would fill up.
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "lapor",
                    "serve",
                    "--access-log",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(
                    f"the server exited with {self.process.returncode} before it "
                    f"answered /healthz; its output:\n{self.log()}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                exc.close()
            except OSError as exc:
                last = str(exc)
            time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"the server did not answer /healthz with 200 within {START_TIMEOUT:.0f} s "
            f"(last: {last}); its output:\n{self.log()}",
            pytrace=False,
        )

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    # -- reading the database the server writes (read-only, from outside) --------------------
    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        uri = f"file:{self.db_path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
            return list(conn.execute(sql, params).fetchall())

    def report_count(self) -> int:
        return int(self.query("SELECT count(*) FROM reports")[0][0])


@pytest.fixture(scope="session")
def lapor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaporServer]:
    server = LaporServer(tmp_path_factory.mktemp("lapor") / "data")
    server.seed()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _chromium_missing() -> str | None:
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return None
    if shutil.which(CHROMIUM):
        return None
    return f"Chromium not found at {CHROMIUM} (set LAPOR_CHROMIUM to its path)"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture: no point seeding and starting a server for a browser that is not there.
    if item.get_closest_marker("browser") is not None:
        reason = _chromium_missing()
        if reason:
            _browser_unavailable(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not longer: while playwright's sync API is started, its
    event loop counts as *running* in this thread, so pytest-asyncio cannot run the async
    tests of other modules. Keep browser test modules free of async tests for the same
    reason."""
    reason = _chromium_missing()
    if reason:
        _browser_unavailable(reason)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_unavailable("the playwright package is not installed")
    manager = sync_playwright().start()
    try:
        try:
            chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            _browser_unavailable(f"Chromium at {CHROMIUM} did not start: {exc.message}")
        yield chromium
        chromium.close()
    finally:
        manager.stop()


@pytest.fixture
def make_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """A fresh phone-sized context (own cookies) and a page that records its problems."""
    contexts: list[Any] = []

    def factory(*, javascript: bool = True, locale: str = "id-ID") -> Any:
        context = browser.new_context(
            viewport=PHONE,
            java_script_enabled=javascript,
            locale=locale,
            is_mobile=True,
            has_touch=True,
        )
        contexts.append(context)
        context.set_default_timeout(10_000)
        if javascript:
            context.add_init_script(CSP_WATCH)
        page = context.new_page()
        problems: list[str] = []

        def on_console(msg: Any) -> None:
            url = msg.location.get("url", "")
            if msg.type == "error":
                problems.append(f"console {msg.type}: {msg.text} ({url})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.problems = problems
        return page

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def make_jpeg(tmp_path: Path) -> Callable[..., Path]:
    """A small real JPEG on disk, as a phone's gallery would hand it to the file picker."""
    from PIL import Image, ImageDraw

    def factory(
        name: str = "photo.jpg",
        color: tuple[int, int, int] = (30, 120, 200),
        size: tuple[int, int] = (320, 240),
    ) -> Path:
        image = Image.new("RGB", size, color)
        ImageDraw.Draw(image).rectangle((20, 20, size[0] // 2, size[1] // 2), fill=(250, 250, 250))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        path = tmp_path / name
        path.write_bytes(out.getvalue())
        return path

    return factory


class CountingProxy:
    """A TCP relay in front of the server that counts the bytes the browser sends: what a
    phone pays for on the way up. Chromium shows a test no request body holding a file."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sent = 0
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def sent(self) -> int:
        with self._lock:
            return self._sent

    def url(self, server_url: str) -> str:
        """`server_url` (on the server's port) through the relay."""
        return server_url.replace(f":{self.target_port}", f":{self.port}", 1)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
                with self._lock:
                    self._sockets += [client, upstream]
                thread = threading.Thread(target=self._relay, args=(client, upstream))
                thread.start()
                self._threads.append(thread)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        down = threading.Thread(target=self._pump, args=(upstream, client, False))
        down.start()
        self._pump(client, upstream, True)
        down.join()
        client.close()
        upstream.close()

    def _pump(self, source: socket.socket, sink: socket.socket, upward: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if upward:
                    with self._lock:
                        self._sent += len(data)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def counting_proxy(lapor_server: LaporServer) -> Iterator[CountingProxy]:
    proxy = CountingProxy(lapor_server.port)
    yield proxy
    proxy.close()


@pytest.fixture
def make_phone_photo(tmp_path: Path) -> Callable[..., Path]:
    """A photo as a phone camera takes it: 4000×3000 with sensor noise, several MB as JPEG
    (a flat test image would compress to almost nothing and shrink to nothing either)."""
    from PIL import Image

    def factory(name: str = "kamera.jpg", size: tuple[int, int] = (4000, 3000)) -> Path:
        noise = Image.effect_noise(size, 40)
        light = Image.linear_gradient("L").resize(size)
        red = Image.blend(light, noise, 0.5)
        green = Image.blend(light.transpose(Image.Transpose.ROTATE_180), noise, 0.4)
        out = io.BytesIO()
        Image.merge("RGB", (red, green, noise)).save(out, "JPEG", quality=85)
        path = tmp_path / name
        path.write_bytes(out.getvalue())
        return path

    return factory


# -- another site, for the widget ------------------------------------------------------------
class HostSite:
    """An agency's website on `localhost:PORT`: another *site* than the LAPOR! server on
    127.0.0.1 (a different host name, not just a different port), serving the pages a test
    registers, each with the Content-Security-Policy it gives."""

    def __init__(self) -> None:
        import http.server
        import threading

        pages: dict[str, tuple[bytes, str, dict[str, str]]] = {}
        self.pages = pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/favicon.ico":
                    self.send_response(204)
                    self.end_headers()
                    return
                if path not in pages:
                    self.send_error(404)
                    return
                body, content_type, headers = pages[path]
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.send_header("cache-control", "no-store")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def page(
        self,
        path: str,
        html: str,
        *,
        csp: str | None = None,
        content_type: str = "text/html; charset=utf-8",
    ) -> str:
        headers = {"content-security-policy": csp} if csp else {}
        self.pages[path] = (html.encode(), content_type, headers)
        return f"{self.origin}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def copycat_site() -> Iterator[HostSite]:
    """A site that copied an agency's snippet: never registered for any widget."""
    site = HostSite()
    yield site
    site.stop()
