"""A local stand-in for the national portal SP4N-LAPOR!'s integration API, a real HTTP server
on a 127.0.0.1 port, speaking the shape docs/national.md defines: `POST /api/reports` with the
report as JSON, `Authorization: Bearer <token>` and `Idempotency-Key`, answers 201 with
`{"tracking_id": "..."}`; the same key again answers 200 with the same ID and stores nothing
new; errors are `{"error": "..."}` (401 wrong token, 400 not JSON or no external_id, 503 when
told to be down). It signs status callbacks as the portal would (`callback`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lapor.complaints.signatures import body_signature as sign

PATH = "/api/reports"


@dataclass
class Portal:
    token: str
    url: str = ""  # as LAPOR_NATIONAL_URL
    # By idempotency key: the report and the tracking ID it got.
    reports: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    # Every request as it came: (headers, body).
    requests: list[tuple[dict[str, str], dict[str, Any] | None]] = field(default_factory=list)
    # Answer 503 to this many requests before taking them.
    fail_next: int = 0
    # Take the report, then answer 503 anyway (a lost answer: our retry must not make two).
    lose_answer_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stored(self) -> list[dict[str, Any]]:
        return [body for body, _ in self.reports.values()]


def _handler(portal: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            with portal.lock:
                portal.requests.append((headers, body))
                if portal.fail_next:
                    portal.fail_next -= 1
                    self._send(503, {"error": "service temporarily unavailable"})
                    return
            if self.path != PATH:
                self._send(404, {"error": "no such endpoint"})
                return
            if headers.get("authorization") != f"Bearer {portal.token}":
                self._send(401, {"error": "invalid token"})
                return
            key = headers.get("idempotency-key", "")
            if not isinstance(body, dict) or not key:
                self._send(400, {"error": "a JSON object and an Idempotency-Key are required"})
                return
            with portal.lock:
                if key in portal.reports:
                    self._send(200, {"tracking_id": portal.reports[key][1]})
                    return
                tracking_id = f"LPR-{2026000 + len(portal.reports) + 1}"
                portal.reports[key] = (body, tracking_id)
                if portal.lose_answer_next:
                    portal.lose_answer_next -= 1
                    self._send(503, {"error": "gateway timeout"})
                    return
            self._send(201, {"tracking_id": tracking_id})

    return Handler


def callback(secret: str, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A status callback's body and headers, signed as the portal signs them."""
    body = json.dumps(event).encode()
    return body, {"content-type": "application/json", "x-lapor-signature": sign(secret, body)}


@contextmanager
def national_portal(token: str) -> Iterator[Portal]:
    portal = Portal(token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(portal))
    portal.url = f"http://127.0.0.1:{server.server_address[1]}{PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield portal
    finally:
        server.shutdown()
        server.server_close()
