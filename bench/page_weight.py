"""Page weight of the citizen's form: `/q/{code}` and everything it makes a browser fetch.

Starts the real server on a throw-away data dir (seeded through the CLI, as bench/load.py does),
fetches the form with `Accept-Encoding: gzip` like a phone's browser, then every resource the
HTML links (stylesheets, scripts, images, icons, preloads) and every url() inside the CSS, and
prints the bytes on the wire per resource (gzipped when the server compressed it) against the
30 KB budget of issue 4 (HTML, CSS, JS and fonts together). The `/favicon.ico` that browsers ask
for on their own is shown on its own line: it is not linked, but a phone still downloads it.

    python bench/page_weight.py
    python bench/page_weight.py --url http://127.0.0.1:8000/q/CODE   # a server already running
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import re
import shutil
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BUDGET_BYTES = 30_000  # "≤ 30 KB gzipped": counted as 30,000 bytes to be on the safe side
HEADERS = {
    "Accept-Encoding": "gzip",
    "Accept-Language": "id-ID,id;q=0.9,en;q=0.8",
    "User-Agent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/120 Mobile",
}


@dataclass
class Fetched:
    url: str
    status: int
    content_type: str
    encoding: str
    wire: int  # body bytes as sent
    raw: int  # body bytes once decoded
    body: bytes  # decoded


def fetch(url: str) -> Fetched:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
    try:
        conn.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=HEADERS
        )
        response = conn.getresponse()
        data = response.read()
        encoding = response.getheader("content-encoding", "") or ""
        body = gzip.decompress(data) if encoding == "gzip" else data
        return Fetched(
            url,
            response.status,
            response.getheader("content-type", "") or "",
            encoding or "identity",
            len(data),
            len(body),
            body,
        )
    finally:
        conn.close()


class Links(HTMLParser):
    """Everything a browser fetches while loading the page (not <a> links)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower()
            if any(
                r in rel.split()
                for r in (
                    "stylesheet",
                    "icon",
                    "preload",
                    "modulepreload",
                    "manifest",
                    "apple-touch-icon",
                )
            ):
                self.found.append((f"link rel={rel}", a["href"]))
        elif tag in ("script", "img", "source", "iframe", "embed") and a.get("src"):
            self.found.append((tag, a["src"]))
        elif tag == "img" and a.get("srcset"):
            self.found.append(("img srcset", a["srcset"].split()[0]))


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def resources(page: Fetched) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(page.body.decode("utf-8", "replace"))
    return [
        (kind, urllib.parse.urljoin(page.url, href))
        for kind, href in parser.found
        if not href.startswith("data:")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Gzipped bytes of /q/{code} and every resource it loads, against the "
        "30 KB first-load budget."
    )
    parser.add_argument(
        "--url",
        help="form URL on a server already running (default: start "
        "the real server on a temporary data dir)",
    )
    parser.add_argument(
        "--budget", type=int, default=BUDGET_BYTES, help=f"budget in bytes (default {BUDGET_BYTES})"
    )
    args = parser.parse_args(argv)

    workdir = None
    server = None
    try:
        if args.url:
            url = args.url
        else:
            from load import RealServer, stop

            workdir = Path(tempfile.mkdtemp(prefix="lapor-weight-"))
            server = RealServer(workdir, None, "")
            _, path = server.seed()
            server.start()
            url = f"http://127.0.0.1:{server.port}{path}"
        page = fetch(url)
        if page.status != 200:
            raise SystemExit(f"{url} answered {page.status}")
        rows: list[tuple[str, Fetched]] = [("page", page)]
        seen = {url}
        queue = resources(page)
        while queue:
            kind, link = queue.pop(0)
            if (
                link in seen
                or urllib.parse.urlsplit(link).netloc != urllib.parse.urlsplit(url).netloc
            ):
                continue
            seen.add(link)
            got = fetch(link)
            rows.append((kind, got))
            if "css" in got.content_type:
                text = got.body.decode("utf-8", "replace")
                for match in CSS_URL.finditer(text):
                    ref = match.group(1) or match.group(2)
                    if not ref.startswith("data:"):
                        queue.append(("css url()", urllib.parse.urljoin(link, ref)))
        favicon = fetch(urllib.parse.urljoin(url, "/favicon.ico"))

        print("# page weight of the citizen's form, first load, as a phone's browser asks for it")
        print(f"{'resource':<44} {'status':>6} {'encoding':>8} {'wire B':>8} {'raw B':>8}")
        for kind, got in rows:
            name = urllib.parse.urlsplit(got.url).path
            name = "/q/{code}" if kind == "page" else name
            print(
                f"{name[:44]:<44} {got.status:>6} {got.encoding:>8} {got.wire:>8} "
                f"{got.raw:>8}  {kind if kind != 'page' else 'HTML'}"
            )
        total = sum(got.wire for _, got in rows)
        raw = sum(got.raw for _, got in rows)
        print(
            f"{'total (linked resources)':<44} {'':>6} {'':>8} {total:>8} {raw:>8}  "
            f"{total / args.budget:.1%} of the {args.budget:,}-byte budget: "
            f"{'within' if total <= args.budget else 'OVER'}"
        )
        fav_total = total + favicon.wire
        print(
            f"{'/favicon.ico (asked for by browsers)':<44} {favicon.status:>6} "
            f"{favicon.encoding:>8} {favicon.wire:>8} {favicon.raw:>8}  "
            f"with it: {fav_total} B, {fav_total / args.budget:.1%} of the budget"
        )
        uncompressed = [
            urllib.parse.urlsplit(got.url).path
            for _, got in rows
            if got.encoding == "identity" and got.raw >= 512
        ]
        if uncompressed:
            print(f"note: sent without compression (≥ 512 B): {', '.join(uncompressed)}")
        return 0 if total <= args.budget else 1
    finally:
        if server is not None and server.proc is not None:
            stop(server.proc)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
