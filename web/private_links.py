"""The secret of a reporter's private link, as handed out: on the receipt after a submission or
its resend, and on the slip staff print. The same link every time while the key that made it
is configured; after that key is gone (the report still opens with it: its digest is stored),
the newest key's secret, whose digest the report then keeps too, so the page given out always
works."""

from __future__ import annotations

from lapor.store.store import Store
from lapor.web.services import Services
from lapor.web.signing import Signing, secret_digest


async def private_secret(
    svc: Services, report_id: int, idempotency_key: str, stored: str | None
) -> str:
    """`stored` is what the report keeps (Report/SubmitResult.reporter_secret_hash)."""
    return await secret_for(svc.signing, svc.store, report_id, idempotency_key, stored)


async def secret_for(
    signing: Signing, store: Store, report_id: int, idempotency_key: str, stored: str | None
) -> str:
    """private_secret for who holds the keys and the store but no request (the mail sender)."""
    secret = signing.reporter_secret_for(idempotency_key, stored)
    if secret is None:
        secret = signing.reporter_secret(idempotency_key)
        await store.add_reporter_secret(report_id, secret_digest(secret))
    return secret
