"""What every HTTP request passes through on its way in and every answer on its way out, as one
plain ASGI layer: its id and its log line (web/logs.py), its metrics (web/metrics.py), the
security headers (web/security.py) and the language it is answered in.

These were four middlewares, each wrapping `send` and reading the answer's headers again; the
citizen's form is answered in a few hundred microseconds, and the layers were a fifth of that
(bench/load.py). One pass over the request's headers and one over the answer's do it all.
"""

from __future__ import annotations

import time

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lapor.web import i18n, logs
from lapor.web.metrics import Metrics
from lapor.web.security import headers_for

ONE_YEAR = 31_536_000


class Front:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, https: bool, default_language: str):
        self.app = app
        self.metrics = metrics
        self.default_language = default_language
        self.security = [(k.encode(), v.encode()) for k, v in headers_for(https).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = logs.request_id(scope["headers"])
        language = self._language(scope)
        status = 500
        facts, token = logs.gather_facts()

        async def send_front(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = self._headers(
                    message.get("headers") or [], request_id, language
                )
            await send(message)

        try:
            await self.app(scope, receive, send_front)
        finally:
            # By route template, not by path: /q/{code} must be one series, not one per code.
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            seconds = time.perf_counter() - started
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            logs.request_done(token, facts, scope, route, status, seconds, request_id)

    def _language(self, scope: Scope) -> tuple[str, bytes, bytes | None] | None:
        """The request's language, what its answer varies on, and the cookie that remembers an
        explicit ?lang= choice (so the next page, and a form's POST, keep it); None for the
        files that are one for every language."""
        path: str = scope["path"]
        # The widget's loader is one file for every language (it picks one on the host page):
        # no Vary on cookies or languages, which would keep shared caches from keeping it.
        if path.startswith("/static/") or path == "/widget.js":
            return None
        conn = HTTPConnection(scope)
        software = path.startswith("/open311/")
        language = i18n.negotiate(conn, self.default_language, software=software)
        i18n.set_language(language)
        chosen = conn.query_params.get("lang") if scope["query_string"] else None
        # The widget's frame lives in other sites' pages, where a cookie of ours is blocked or
        # partitioned: its language travels in every URL instead, and none is set.
        cookie = None
        if (
            chosen in i18n.LANGUAGES
            and conn.cookies.get(i18n.LANGUAGE_COOKIE) != chosen
            and not path.startswith("/w/")
            and not software
        ):
            cookie = (
                f"{i18n.LANGUAGE_COOKIE}={language}; Path=/; Max-Age={ONE_YEAR}; SameSite=Lax"
            ).encode()
        # The choice can come from the cookie as well as from the query, or for client
        # software from its Accept-Language.
        vary = b"Accept-Language" if software else b"Cookie"
        return language, vary, cookie

    def _headers(
        self,
        raw: list[tuple[bytes, bytes]],
        request_id: str,
        language: tuple[str, bytes, bytes | None] | None,
    ) -> list[tuple[bytes, bytes]]:
        headers = list(raw)
        present = {name.lower() for name, _ in headers}
        # A view that needs another policy (the widget's frame) sets its own, and its
        # frame-ancestors then decides framing: X-Frame-Options has no way to name one allowed
        # site, and DENY would win in browsers that know no CSP.
        own_policy = b"content-security-policy" in present
        for name, value in self.security:
            if name not in present and not (own_policy and name == b"x-frame-options"):
                headers.append((name, value))
        if language is not None:
            spoken, vary, cookie = language
            if b"content-language" not in present:
                headers.append((b"content-language", spoken.encode()))
            _add_vary(headers, vary)
            if cookie is not None:
                headers.append((b"set-cookie", cookie))
        headers.append((b"x-request-id", request_id.encode()))
        return headers


def _add_vary(headers: list[tuple[bytes, bytes]], vary: bytes) -> None:
    """Vary on `vary` too, as Starlette's MutableHeaders.add_vary_header does: one header, the
    names joined."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            headers[index] = (b"vary", value + b", " + vary)
            return
    headers.append((b"vary", vary))
