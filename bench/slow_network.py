"""The citizen's form on a slow network (issue 18, point 7): the first view and a phone photo.

Starts the real server on a throw-away data dir (seeded through the CLI, as bench/load.py does)
and measures, each against a baseline taken in the same run:

1. **First view** of `/q/{code}` over HTTP, as a phone asks for it (`Accept-Encoding: gzip`):
   the requests the page makes and the bytes on the wire, split into what blocks the first
   render (the page, stylesheets, scripts without defer/async) and what does not. Baseline:
   the same page with its stylesheet as a file, as it was before the stylesheet was inlined
   (the `<style>` put back as a `<link>` to `/static/citizen.css`, which the server still
   serves). The time to the first render is *modelled* on `--rtt` and `--kbits`: one round
   trip to connect, then one per render-blocking request in turn, plus its bytes at that
   bandwidth (TLS and slow start left out, which only make the baseline worse).
2. **A phone photo** (a 4000×3000 JPEG with sensor noise made with Pillow, several MB) sent
   with the form by Chromium through a relay that counts the bytes going up. Baseline: the
   same form sent with JavaScript off, i.e. the photo as it is; then with JavaScript on, when
   static/citizen.js shrinks it first. Needs playwright and Chromium (the `test` extra and
   /usr/bin/chromium or LAPOR_CHROMIUM), as the browser tests do; `--no-browser` skips it.

    python bench/slow_network.py
    python bench/slow_network.py --rtt 800 --kbits 50 --photo 4000x3000
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from page_weight import Fetched, fetch

STYLE = re.compile(r"<style>.*?</style>", re.S)


class Blocking(HTMLParser):
    """What the page makes a browser fetch, and whether it holds back the first render."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, bool]] = []  # (url, blocks the first render)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.found.append((a["href"] or "", True))
        elif tag == "script" and a.get("src"):
            self.found.append((a["src"] or "", "defer" not in a and "async" not in a))


def first_view(url: str, html: bytes, wire_html: int) -> list[tuple[str, int, bool]]:
    """(path, bytes on the wire, blocks the first render) of the page and what it loads."""
    parser = Blocking()
    parser.feed(html.decode("utf-8", "replace"))
    rows = [("/q/{code}", wire_html, True)]
    for href, blocks in parser.found:
        got = fetch(urllib.parse.urljoin(url, href))
        rows.append((urllib.parse.urlsplit(got.url).path, got.wire, blocks))
    return rows


def modelled_ms(rows: list[tuple[str, int, bool]], rtt: float, kbits: float) -> float:
    blocking = [wire for _, wire, blocks in rows if blocks]
    return rtt * (1 + len(blocking)) + sum(blocking) * 8 / kbits  # bits / (kbit/s) = ms


def print_view(name: str, rows: list[tuple[str, int, bool]], rtt: float, kbits: float) -> None:
    print(f"  {name}")
    for path, wire, blocks in rows:
        print(f"    {path[:40]:<40} {wire:>7} B  {'blocks the first render' if blocks else ''}")
    blocking = [r for r in rows if r[2]]
    print(
        f"    {len(rows)} requests, {sum(r[1] for r in rows)} B; before the first render: "
        f"{len(blocking)} request(s), {sum(r[1] for r in blocking)} B, "
        f"≈ {modelled_ms(rows, rtt, kbits) / 1000:.1f} s at {rtt:.0f} ms / {kbits:g} kbit/s"
    )


class CountingRelay:
    """TCP relay in front of the server counting the bytes the browser sends up."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = 0
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target))
                self.sockets += [client, upstream]
                for src, dst, up in ((client, upstream, True), (upstream, client, False)):
                    threading.Thread(target=self._pump, args=(src, dst, up), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if up:
                    with self.lock:
                        self.sent += len(data)
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


def phone_photo(path: Path, width: int, height: int) -> Path:
    from PIL import Image

    size = (width, height)
    noise = Image.effect_noise(size, 40)
    light = Image.linear_gradient("L").resize(size)
    red = Image.blend(light, noise, 0.5)
    green = Image.blend(light.transpose(Image.Transpose.ROTATE_180), noise, 0.4)
    out = io.BytesIO()
    Image.merge("RGB", (red, green, noise)).save(out, "JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


def send_photo(form_url: str, photo: Path, relay: CountingRelay, javascript: bool) -> int:
    """Bytes the browser sent up from the tap on "send" to the receipt."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("LAPOR_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(
                viewport={"width": 360, "height": 800}, java_script_enabled=javascript
            )
            page = context.new_page()
            page.goto(form_url)
            page.fill("#text", "Antrean perekaman KTP sangat panjang, loket tutup sebelum jam 12.")
            page.check("input[name=identity][value=anonim]")
            page.set_input_files("#photos", str(photo))
            before = relay.sent
            page.click("button.send")
            page.wait_for_url(re.compile(r"/t/.*\?sent=1$"), timeout=120_000)
            time.sleep(0.2)  # the last packets of the receipt's request
            return relay.sent - before
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="First view (requests, bytes) and a phone photo's upload size of the "
        "citizen's form, each against a baseline from the same run."
    )
    parser.add_argument("--rtt", type=float, default=800, help="round trip, ms (default 800)")
    parser.add_argument("--kbits", type=float, default=50, help="bandwidth, kbit/s (default 50)")
    parser.add_argument("--photo", default="4000x3000", help="photo size WxH (default 4000x3000)")
    parser.add_argument("--no-browser", action="store_true", help="skip the photo (no Chromium)")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.photo.lower().split("x"))

    from load import RealServer, stop

    workdir = Path(tempfile.mkdtemp(prefix="lapor-slownet-"))
    server = RealServer(workdir, None, "")
    relay = None
    try:
        _, path = server.seed()
        server.start()
        url = f"http://127.0.0.1:{server.port}{path}"
        page: Fetched = fetch(url)
        if page.status != 200:
            raise SystemExit(f"{url} answered {page.status}")

        print(
            f"# 1. first view of /q/{{code}}, modelled at {args.rtt:.0f} ms, {args.kbits:g} kbit/s"
        )
        now = first_view(url, page.body, page.wire)
        # The baseline: the stylesheet back in its file, the page gzipped at the server's level.
        css = fetch(urllib.parse.urljoin(url, "/static/citizen.css"))
        linked = STYLE.sub('<link rel="stylesheet" href="/static/citizen.css">', page.body.decode())
        if linked == page.body.decode():
            raise SystemExit("the page has no inline <style>: nothing to compare")
        base_html = len(gzip.compress(linked.encode(), compresslevel=9, mtime=0))
        own_html = len(gzip.compress(page.body, compresslevel=9, mtime=0))
        wire = page.wire
        baseline = [("/q/{code}", wire - own_html + base_html, True)]
        baseline.insert(1, ("/static/citizen.css", css.wire, True))
        baseline += now[1:]
        print_view("baseline: stylesheet as a file", baseline, args.rtt, args.kbits)
        print_view("now: stylesheet inline", now, args.rtt, args.kbits)
        ratio = modelled_ms(now, args.rtt, args.kbits) / modelled_ms(baseline, args.rtt, args.kbits)
        block_now = [r for r in now if r[2]]
        block_base = [r for r in baseline if r[2]]
        print(
            f"  render-blocking requests {len(block_now)}/{len(block_base)}, "
            f"bytes {sum(r[1] for r in block_now) / sum(r[1] for r in block_base):.2f}×, "
            f"modelled first render {ratio:.2f}× the baseline"
        )

        if args.no_browser:
            return 0
        print(f"\n# 2. a {width}×{height} phone photo sent with the form (Chromium, 360 px)")
        photo = phone_photo(workdir / "kamera.jpg", width, height)
        relay = CountingRelay(server.port)
        via = url.replace(f":{server.port}", f":{relay.port}", 1)
        size = photo.stat().st_size
        full = send_photo(via, photo, relay, javascript=False)
        small = send_photo(via, photo, relay, javascript=True)
        for name, sent in (("baseline: JavaScript off, as it is", full), ("now: shrunk", small)):
            print(
                f"  {name:<36} {sent:>9} B sent up  ≈ {sent * 8 / args.kbits / 1000:7.1f} s "
                f"at {args.kbits:g} kbit/s"
            )
        print(f"  photo file {size} B; sent up {small / full:.3f}× the baseline")
        return 0
    finally:
        if relay is not None:
            relay.close()
        if server.proc is not None:
            stop(server.proc)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
