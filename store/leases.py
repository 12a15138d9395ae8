"""Leases on work that must run on one process at a time across every machine sharing the
database (the workflow timer): taken, renewed and released by a holder's token, with an
expiry, so a holder that dies loses its lease once it runs out and another takes it over.

A row in a table rather than a PostgreSQL advisory lock: a lock held by a session is freed
only when PostgreSQL notices the session is gone, which for a machine that lost power or its
network is the TCP keepalive's verdict (two hours by default), not a bound we choose; and one
body of SQL serves SQLite too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.store import schema as t

_L = t.leases.c
_INSERT = {
    "sqlite": sqlite_insert(t.leases).on_conflict_do_nothing(),
    "postgresql": pg_insert(t.leases).on_conflict_do_nothing(),
}


@dataclass(frozen=True)
class Held:
    """A lease this holder has until `until`; `ran_at` is when the last round began, by
    whichever holder ran it (None: never)."""

    name: str
    until: datetime
    ran_at: datetime | None


def take(conn: Connection, *, name: str, holder: str, at: datetime, until: datetime) -> Held | None:
    """Take the lease or keep it: held by `holder` until `until` when it was free, had run
    out, or was already this holder's; None while another holder's is still running. Two
    processes asking at once: the row's lock makes the second see the first's lease."""
    conn.execute(_INSERT[conn.dialect.name].values(name=name))
    row = conn.execute(
        update(t.leases)
        .where(
            _L.name == name,
            or_(_L.holder == holder, _L.held_until.is_(None), _L.held_until < at),
        )
        .values(holder=holder, held_until=until)
        .returning(_L.ran_at)
    ).first()
    return Held(name, until, row.ran_at) if row is not None else None


def renew(conn: Connection, *, name: str, holder: str, until: datetime) -> bool:
    """Extend the lease while the holder works; False when it is no longer this holder's (it
    ran out and another took it over)."""
    result = conn.execute(
        update(t.leases).where(_L.name == name, _L.holder == holder).values(held_until=until)
    )
    return bool(result.rowcount)


def ran(conn: Connection, *, name: str, holder: str, at: datetime) -> bool:
    """Record that a round began at `at`, if the lease is still this holder's."""
    result = conn.execute(
        update(t.leases).where(_L.name == name, _L.holder == holder).values(ran_at=at)
    )
    return bool(result.rowcount)


def release(conn: Connection, *, name: str, holder: str) -> None:
    """Give the lease up (a process stopping), so the next holder need not wait it out."""
    conn.execute(
        update(t.leases)
        .where(_L.name == name, _L.holder == holder)
        .values(holder=None, held_until=None)
    )
