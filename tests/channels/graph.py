"""A local stand-in for Meta's Graph API (WhatsApp Cloud API), a real HTTP server on a
127.0.0.1 port, for the parts we cannot run: it speaks the documented shapes. `POST
/{version}/{phone-number-id}/messages` takes text and template messages and answers
`{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid..."}]}`;
`GET /{version}/{media-id}` answers the media's URL, which serves the file; every call needs
the bearer token; errors are `{"error": {"message", "type", "code", "fbtrace_id"}}` with
Meta's codes (190 bad token, 100 bad parameter or unknown object, 131047 outside the 24-hour
window, 131026 undeliverable)."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION = "v21.0"


@dataclass
class Graph:
    token: str
    phone_number_id: str
    url: str = ""  # the base URL with its version, as LAPOR_WHATSAPP_GRAPH_URL
    sent: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    media_fetches: list[str] = field(default_factory=list)
    # Numbers (digits, as `to`) Meta refuses free text to: their window closed on its side.
    window_closed: set[str] = field(default_factory=set)
    # Numbers that cannot receive WhatsApp messages at all.
    undeliverable: set[str] = field(default_factory=set)
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self) -> list[str]:
        return [m["text"]["body"] for m in self.sent if m.get("type") == "text"]


def _error(code: int, message: str, kind: str = "OAuthException") -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": kind,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(12),
        }
    }


def _valid_message(body: Any) -> str | None:
    """What is wrong with a message request, as Graph would say; None when nothing."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "(#100) The parameter messaging_product is required."
    to = body.get("to")
    if not isinstance(to, str) or not to.isdigit():
        return "(#100) Invalid parameter: to"
    kind = body.get("type")
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
            return "(#100) The parameter text['body'] is required."
        if len(text["body"]) > 4096:
            return "(#100) Param text['body'] must be at most 4096 characters long."
        return None
    if kind == "template":
        template = body.get("template")
        if not isinstance(template, dict) or not isinstance(template.get("name"), str):
            return "(#100) The parameter template['name'] is required."
        language = template.get("language")
        if not isinstance(language, dict) or not isinstance(language.get("code"), str):
            return "(#100) The parameter template['language']['code'] is required."
        for component in template.get("components", []):
            for parameter in component.get("parameters", []):
                if parameter.get("type") != "text" or not parameter.get("text"):
                    return "(#132012) Parameter format does not match format in the template"
        return None
    return "(#100) Invalid parameter: type"


def _handler(graph: Graph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any] | bytes, kind: str = "") -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", kind or "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if self.headers.get("authorization") == f"Bearer {graph.token}":
                return True
            self._send(401, _error(190, "Invalid OAuth access token - Cannot parse access token"))
            return False

        def do_GET(self) -> None:
            if graph.down:
                self._send(503, _error(2, "Service temporarily unavailable", "OAuthException"))
                return
            if not self._authorized():
                return
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "download" and parts[1] in graph.media:
                with graph.lock:
                    graph.media_fetches.append(parts[1])
                self._send(200, graph.media[parts[1]], "image/jpeg")
                return
            if len(parts) == 2 and parts[0] == VERSION and parts[1] in graph.media:
                data = graph.media[parts[1]]
                self._send(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "url": f"{graph.url.rsplit('/', 1)[0]}/download/{parts[1]}",
                        "mime_type": "image/jpeg",
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "file_size": len(data),
                        "id": parts[1],
                    },
                )
                return
            self._send(
                400,
                _error(
                    100,
                    "Unsupported get request. Object with ID does not exist",
                    "GraphMethodException",
                ),
            )

        def do_POST(self) -> None:
            parts = self.path.strip("/").split("/")
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            if graph.down:
                self._send(503, _error(2, "Service temporarily unavailable"))
                return
            if not self._authorized():
                return
            if parts != [VERSION, graph.phone_number_id, "messages"]:
                self._send(400, _error(100, "Unsupported post request", "GraphMethodException"))
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._send(400, _error(100, "(#100) Invalid JSON"))
                return
            wrong = _valid_message(body)
            if wrong is not None:
                self._send(400, _error(100, wrong))
                return
            to = body["to"]
            if to in graph.undeliverable:
                self._send(400, _error(131026, "(#131026) Message undeliverable"))
                return
            if body["type"] == "text" and to in graph.window_closed:
                self._send(
                    400,
                    _error(
                        131047,
                        "(#131047) Re-engagement message: more than 24 hours have passed "
                        "since the recipient last replied to the sender number.",
                    ),
                )
                return
            wamid = "wamid." + secrets.token_urlsafe(30)
            with graph.lock:
                graph.sent.append({**body, "_wamid": wamid})
            self._send(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": wamid}],
                },
            )

    return Handler


@contextmanager
def graph_api(token: str, phone_number_id: str) -> Iterator[Graph]:
    graph = Graph(token, phone_number_id)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(graph))
    graph.url = f"http://127.0.0.1:{server.server_address[1]}/{VERSION}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield graph
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
