"""The signature webhooks carry: `sha256=` and the hex HMAC-SHA256 of the raw body under a
shared secret. Meta signs WhatsApp's webhook so (`X-Hub-Signature-256`), and the national
portal its callbacks (`X-Lapor-Signature`, docs/national.md)."""

from __future__ import annotations

import hashlib
import hmac


def body_signature(secret: str, body: bytes) -> str:
    """The header's value for `body` (what a sender computes; tests and the docs' examples)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` signs the raw `body` under `secret`, compared in constant time. No
    secret set signs nothing: a deployment that forgot it refuses every call."""
    if not secret or not header:
        return False
    # Headers reach us decoded as latin-1: what was sent encodes back; nothing raises.
    sent = header.strip().lower().encode("latin-1", "replace")
    return hmac.compare_digest(body_signature(secret, body).encode(), sent)
