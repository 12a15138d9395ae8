"""What the kiosk app weighs and how soon a tablet's queue arrives once the server is back.

1. The app shell, gzipped: /kiosk, its script, its stylesheet and its service worker (what a
   tablet stores for offline use), against the citizen's status-lookup page (its stylesheet
   inline) measured the same way in the same run.
2. Drain: a paired Chromium tablet holds 100 queued reports while the server is down (long
   enough for the page to have failed and be probing); the server starts again and the clock
   runs from its first healthy answer until all 100 are stored, with the time until the first
   one was. The page asks /healthz/ready with backoff and jitter (every 1.5-3 s at most) while
   the server cannot be reached, and at the first "ready" sends the queue oldest first, one
   request in flight until the server has taken one, two after (static/kiosk.js: PROBE_MAX,
   SENDERS). Baseline: the same 100 reports posted one after another straight to
   /kiosk/api/reports by this script. The server runs with the per-kiosk report limit's
   default unless --report-limit says otherwise (the limit before issue 20, 6 a minute,
   refuses this baseline at its seventh post).

    .venv/bin/python bench/kiosk.py
    .venv/bin/python bench/kiosk.py --reports 200
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lapor.settings import SETTINGS  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.test_kiosk import TABLET, KioskServer, pair, queue_reports  # noqa: E402

DEFAULT_LIMIT = next(s.default for s in SETTINGS if s.name == "LAPOR_KIOSK_REPORT_LIMIT")
TEXT = "Antrean di loket tidak bergerak selama dua jam, laporan nomor {n}."


def gzipped(url: str) -> int:
    request = urllib.request.Request(url, headers={"accept-encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        if response.headers.get("content-encoding") != "gzip":
            body = gzip.compress(body)
    return len(body)


def shell_sizes(server: KioskServer) -> tuple[dict[str, int], dict[str, int]]:
    with urllib.request.urlopen(f"{server.base_url}/kiosk", timeout=10) as response:
        html = response.read().decode()
    marker = '<script type="application/json" id="kiosk-boot">'
    boot = json.loads(html.split(marker, 1)[1].split("</script>", 1)[0])
    app = {path: gzipped(server.base_url + path) for path in (*boot["files"], boot["sw"])}
    # The citizen's pages carry their stylesheet inline (templates/_base.html).
    lookup = {"/t": gzipped(f"{server.base_url}/t")}
    return app, lookup


def direct(server: KioskServer, unit_id: int, count: int) -> float:
    """The baseline: the same reports straight to the API, one after another."""
    code = server.pairing_code()
    request = urllib.request.Request(
        f"{server.base_url}/kiosk/api/pair",
        data=json.dumps({"code": code}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        credential = json.loads(response.read())["credential"]
    started = time.perf_counter()
    for n in range(count):
        key = f"direct{n:012d}xyz"
        body = {
            "key": key,
            "unit": unit_id,
            "kind": "pengaduan",
            "identity": "anonim",
            "text": TEXT.format(n=n),
            "language": "id",
        }
        req = urllib.request.Request(
            f"{server.base_url}/kiosk/api/reports",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {credential}"},
        )
        with urllib.request.urlopen(req, timeout=10) as response:
            assert json.loads(response.read())["key"] == key
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument(
        "--report-limit",
        default=DEFAULT_LIMIT,
        help=f"the server's LAPOR_KIOSK_REPORT_LIMIT (default: its default, {DEFAULT_LIMIT})",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = KioskServer(
            Path(tmp) / "data", overrides={"LAPOR_KIOSK_REPORT_LIMIT": args.report_limit}
        )
        server.seed()
        server.start()
        try:
            app, lookup = shell_sizes(server)
            unit_id = int(server.query("SELECT id FROM units WHERE slug = 'dukcapil'")[0][0])
            baseline = direct(server, unit_id, args.reports)
            with sync_playwright() as manager:
                browser = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport=TABLET, has_touch=True)
                page = context.new_page()
                pair(page, server)
                before = len(server.kiosk_reports())
                server.stop()
                queue_reports(page, unit_id, args.reports, TEXT, "bench")
                time.sleep(6)  # at least one failed attempt, as on a real outage
                server.start()
                started = time.perf_counter()
                first = None
                while (stored := len(server.kiosk_reports())) < before + args.reports:
                    if first is None and stored > before:
                        first = time.perf_counter() - started
                    if time.perf_counter() - started > 600:
                        raise SystemExit("the queue did not drain within 10 minutes")
                    time.sleep(0.1)
                drained = time.perf_counter() - started
                browser.close()
        finally:
            server.stop()
    app_total, lookup_total = sum(app.values()), sum(lookup.values())
    print("kiosk app shell, gzipped bytes")
    for path, size in app.items():
        print(f"  {path:48} {size:7,d}")
    print(
        f"  {'total':48} {app_total:7,d}   = {app_total / lookup_total:.1f}x the status-lookup "
        f"page, its stylesheet inline ({lookup_total:,d} B)"
    )
    print(f"\nqueue drain, {args.reports} reports, report limit {args.report_limit}")
    print(f"  direct to the API, one after another   {baseline:7.2f} s")
    print(
        f"  tablet, from the server's return        {drained:7.2f} s   = "
        f"{drained / baseline:.1f}x the direct posts"
    )
    print(f"    of which until the first was stored  {first or drained:7.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
