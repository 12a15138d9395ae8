"""What a webmaster pastes, and what their Content-Security-Policy must allow. The command
line and the admin page print the same text from here."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# How long a browser keeps the loader's check (/w/{key}/check) for one site (Vary: Origin): a
# site added to a widget shows its button within this, one removed stops showing it within it.
CHECK_MAX_AGE = 60


@dataclass(frozen=True)
class Snippet:
    # The usual form: the key in data-key. data-cfasync="false" keeps Cloudflare's Rocket
    # Loader from deferring the tag and hiding document.currentScript.
    tag: str
    # For hosts that strip data-* attributes (WordPress without unfiltered_html, some tag
    # managers): the key in the script's URL instead.
    url_tag: str
    # The lines a strict CSP on the host needs, and the tag with a nonce for 'strict-dynamic'.
    script_src: str
    frame_src: str
    # The loader asks the server whether this site may show the widget before drawing it.
    connect_src: str
    nonce_tag: str


def snippet(base_url: str, key: str) -> Snippet:
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    return Snippet(
        tag=f'<script async src="{base}/widget.js" data-key="{key}" data-cfasync="false"></script>',
        url_tag=f'<script async src="{base}/widget.js?key={key}" data-cfasync="false"></script>',
        script_src=f"script-src {origin}",
        frame_src=f"frame-src {origin}",
        connect_src=f"connect-src {origin}",
        nonce_tag=f'<script async nonce="NONCE" src="{base}/widget.js?key={key}" '
        'data-cfasync="false"></script>',
    )
