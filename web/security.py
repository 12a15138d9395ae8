"""Headers every response carries, as a plain ASGI middleware."""

from __future__ import annotations

import base64
import hashlib

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lapor import resources


def _read_inline_style(name: str) -> str:
    text = resources.path("static", name).read_text(encoding="utf-8")
    if "</" in text:
        raise RuntimeError(f"static/{name} cannot be inlined: it contains '</'")
    return text


# The citizen's pages carry their whole stylesheet in a <style> element: on 2G every request
# is a round trip of up to a second before anything shows, and the file is a few KB. The
# policy allows that one element by the hash of the very text the templates inline (both read
# here, at startup, from the same file), so the hash cannot drift from the stylesheet and no
# other inline style is allowed.
CITIZEN_STYLE = _read_inline_style("citizen.css")


def style_hash(text: str) -> str:
    """A CSP source expression for a <style> element whose content is exactly `text`."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# No inline script anywhere, and no inline style but the citizen's stylesheet (above): every
# other script and stylesheet is a file under /static.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'self'; style-src 'self' {style_hash(CITIZEN_STYLE)}; "
    "img-src 'self' data: blob:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; connect-src 'self'; "
    "manifest-src 'self'"
)


def frame_policy(origin: str | None) -> str:
    """The policy of a page the widget shows inside an agency's site: framed by that one
    origin (already normalised by complaints.origins, so it cannot smuggle in a directive), or by
    nobody."""
    allowed = origin or "'none'"
    return CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {allowed}")


BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "x-frame-options": "DENY",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = self.headers_for(https)

    @staticmethod
    def headers_for(https: bool) -> dict[str, str]:
        headers = dict(BASE_HEADERS)
        headers["content-security-policy"] = CONTENT_SECURITY_POLICY
        if https:
            headers["strict-transport-security"] = "max-age=31536000"
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A view that needs another policy (the widget's frame) sets its own, and its
                # frame-ancestors then decides framing: X-Frame-Options has no way to name one
                # allowed site, and DENY would win in browsers that know no CSP.
                own_policy = "content-security-policy" in headers
                for name, value in self.headers.items():
                    if name in headers or (own_policy and name == "x-frame-options"):
                        continue
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
