"""Headers every response carries, as a plain ASGI middleware."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
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
