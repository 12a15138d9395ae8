"""Headers every response carries (web/front.py puts them on)."""

from __future__ import annotations

import base64
import hashlib

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


def headers_for(https: bool) -> dict[str, str]:
    """What every answer carries unless its view set its own (web/front.py), and error pages
    rendered outside the middleware (server.http_error)."""
    headers = dict(BASE_HEADERS)
    headers["content-security-policy"] = CONTENT_SECURITY_POLICY
    if https:
        headers["strict-transport-security"] = "max-age=31536000"
    return headers
