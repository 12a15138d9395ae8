"""What reports keep of their reporters' private links (the digests, web/signing.py), beyond
the one stored with a new report: reports stored before migration 0012 are filled in with the
digests under every key configured now, so that later removing one of those keys strands
nobody (the migration itself cannot: it has no keys; the server can), and a link handed out
again under the newest key is added."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, bindparam, select, update

from lapor.store import schema as t

_R = t.reports
_MISSING = select(_R.c.id, _R.c.idempotency_key).where(_R.c.reporter_secret_hash.is_(None))
_FILL = (
    update(_R)
    .where(_R.c.id == bindparam("b_id"), _R.c.reporter_secret_hash.is_(None))
    .values(reporter_secret_hash=bindparam("b_digests"))
)


def fill_in(conn: Connection, *, digests: Callable[[str], str], limit: int) -> int:
    """Fill in up to `limit` reports without a stored digest; how many there were. `digests`
    is Signing.reporter_secret_hashes. Only NULLs are written: two workers starting together
    write the same values, and a report stored meanwhile keeps its own."""
    missing = conn.execute(_MISSING.order_by(_R.c.id).limit(limit)).all()
    if missing:
        conn.execute(
            _FILL, [{"b_id": r.id, "b_digests": digests(r.idempotency_key)} for r in missing]
        )
    return len(missing)


def add(conn: Connection, *, report_id: int, digest: str) -> None:
    """Let the report's link open with one more secret too (its digest), once."""
    stored = conn.execute(select(_R.c.reporter_secret_hash).where(_R.c.id == report_id)).scalar()
    # None: not filled in yet, and every configured key opens it until then.
    if stored is not None and digest not in stored.split():
        conn.execute(
            update(_R).where(_R.c.id == report_id).values(reporter_secret_hash=f"{stored} {digest}")
        )
