"""What the widget costs an agency's page: widget.js gzipped, and the bytes and requests a
host page pays before the first click (only the loader) and at the first open (the frame,
its stylesheet and scripts), against the same host page without the snippet, measured in the
same run with the same Chromium.

Starts the real server on a throw-away data dir (seeded through the CLI), a host site on
`localhost` (another site than the server's 127.0.0.1, as in tests/browser/test_widget.py),
and Chromium from /usr/bin/chromium (LAPOR_CHROMIUM to change it). Bytes are what the browser
received for each response, headers and (compressed) body, as Chromium reports them.

    .venv/bin/python bench/widget.py
    .venv/bin/python bench/widget.py --runs 5
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, HostSite, LaporServer  # noqa: E402

LIMIT = 3 * 1024


@dataclass
class Traffic:
    requests: int = 0
    bytes: int = 0

    def add(self, request: Any) -> None:
        try:
            sizes = request.sizes()
        except Exception:  # a request the browser cancelled has no sizes
            return
        self.requests += 1
        self.bytes += sizes["responseHeadersSize"] + max(sizes["responseBodySize"], 0)


def page_html(body: str = "") -> str:
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Dinas</title>'
        "</head><body><h1>Dinas Kesehatan</h1><p>Selamat datang di situs kami.</p>"
        f"{body}</body></html>"
    )


def measure(context: Any, url: str, *, open_widget: bool) -> tuple[Traffic, Traffic]:
    """Traffic until the page is idle, then (if asked) from the click until the form is ready."""
    page = context.new_page()
    before, opened = Traffic(), Traffic()
    current = [before]
    page.on("requestfinished", lambda request: current[0].add(request))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if open_widget:
        page.locator("lapor-widget > button").wait_for()
        current[0] = opened
        page.locator("lapor-widget > button").click()
        page.frame_locator("lapor-widget iframe").locator("#report-form").wait_for()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
    page.close()
    return before, opened


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="page loads per case (median kept)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="lapor-bench-widget-") as tmp:
        server = LaporServer(Path(tmp) / "data")
        site = HostSite()
        try:
            server.seed()
            out = server.cli("widget", "add", "dinas", "--origin", site.origin)
            snippet = out.strip().splitlines()[-1]
            server.start()
            request = urllib.request.Request(
                f"{server.base_url}/widget.js", headers={"Accept-Encoding": "gzip"}
            )
            with urllib.request.urlopen(request) as response:
                wire = response.read()
                encoding = response.headers.get("content-encoding", "")
            raw = gzip.decompress(wire) if encoding == "gzip" else wire
            empty = site.page("/empty", page_html())
            with_widget = site.page("/widget", page_html(snippet))
            results: dict[str, list[Traffic]] = {"empty": [], "before": [], "open": []}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for _ in range(args.runs):
                    # A fresh context each time: a first visit, nothing cached.
                    context = browser.new_context(viewport={"width": 360, "height": 800})
                    results["empty"].append(measure(context, empty, open_widget=False)[0])
                    context.close()
                    context = browser.new_context(viewport={"width": 360, "height": 800})
                    before, opened = measure(context, with_widget, open_widget=True)
                    results["before"].append(before)
                    results["open"].append(opened)
                    context.close()
                browser.close()
        finally:
            server.stop()
            site.stop()

    def median(key: str, attr: str) -> float:
        return statistics.median(getattr(t, attr) for t in results[key])

    base_bytes, base_requests = median("empty", "bytes"), median("empty", "requests")
    print(
        f"widget.js: {len(raw)} bytes, {len(wire)} bytes as sent ({encoding or 'identity'}); "
        f"gzip -9: {len(gzip.compress(raw, 9))} bytes = "
        f"{len(gzip.compress(raw, 9)) / LIMIT:.2f} of the 3 KB limit"
    )
    print(f"{'':36}{'requests':>10}{'bytes':>10}{'× empty page (bytes)':>24}")
    print(f"{'empty host page (baseline)':36}{base_requests:>10.0f}{base_bytes:>10.0f}{1:>24.2f}")
    for key, label in (
        ("before", "with the snippet, before a click"),
        ("open", "added by the first open"),
    ):
        req, size = median(key, "requests"), median(key, "bytes")
        print(f"{label:36}{req:>10.0f}{size:>10.0f}{size / base_bytes:>24.2f}")
    extra = median("before", "bytes") - base_bytes
    print(
        f"the snippet adds {median('before', 'requests') - base_requests:.0f} request(s) and "
        f"{extra:.0f} bytes before the first click ({extra / base_bytes:.2f}× the empty page)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
