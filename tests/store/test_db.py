"""How statements are planned on PostgreSQL, what a closed connection costs, and how two
processes share one SQLite file."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from datetime import date

import pytest
from sqlalchemy import Connection, text

from lapor.complaints.inbox import InboxQuery
from lapor.settings import Settings
from lapor.store import db as db_module
from lapor.store import inbox
from lapor.store.db import Database, sqlite_path
from lapor.store.migrate import migrate
from tests.conftest import EVERYTHING, postgres_schema


async def test_searches_are_planned_for_their_values_and_nothing_else(database: Database) -> None:
    # A generic plan (PostgreSQL's choice for a prepared statement after five runs) cannot
    # tell a rare search word from a common one (148 ms against 1.6 ms at a million reports),
    # while for the deadline order the generic plan is the good one (1 ms against 25 ms).
    def mode_after(query: InboxQuery) -> Callable[[Connection], str | None]:
        def read(conn: Connection) -> str | None:
            inbox.page_ids(
                conn,
                EVERYTHING,
                query,
                today=date(2026, 11, 23),
                soon_until=date(2026, 11, 23),
                received_window=(None, None),
                limit=50,
            )
            if database.is_sqlite:
                return None  # SQLite plans every statement anew
            return str(conn.execute(text("SHOW plan_cache_mode")).scalar())

        return read

    searched = await database.read(mode_after(InboxQuery(text="buaya", words=("buaya",))))
    plain = await database.read(mode_after(InboxQuery()))
    if database.is_sqlite:
        assert searched is None and plain is None
    else:
        assert (searched, plain) == ("force_custom_plan", "auto")


async def _backend_pid(database: Database, write: bool) -> int:
    def pid(conn: Connection) -> int:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    return await (database.write(pid) if write else database.read(pid))


async def _terminate(database: Database, pid: int) -> None:
    """End a backend from outside `database`'s pool, as a restart or an operator would."""
    other = Database(database.url)
    await other.connect()
    try:

        def kill(conn: Connection) -> bool:
            return bool(
                conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()
            )

        assert await other.write(kill)
    finally:
        await other.close()


@pytest.fixture
async def postgres() -> AsyncIterator[Database]:
    """A PostgreSQL database of its own schema: SQLite has no server to lose."""
    async with postgres_schema() as (url, schema):
        database = Database(url, schema=schema)
        await database.connect()
        try:
            yield database
        finally:
            await database.close()


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
async def test_a_connection_closed_under_it_is_replaced_without_an_error(
    postgres: Database, write: bool
) -> None:
    """The server restarted, or an operator ended a backend, a moment after the connection was
    last used (so no ping would run): the next read or write still succeeds, on a new
    connection, and a write is stored once."""
    database = postgres
    await database.write(lambda conn: conn.execute(text("CREATE TABLE seen (n int)")))
    first = await _backend_pid(database, write)
    # The pool lends the ended one out again next.
    await _terminate(database, first)

    def note(conn: Connection) -> int:
        conn.execute(text("INSERT INTO seen VALUES (1)"))
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    second = await (database.write(note) if write else database.read(note))
    assert second != first
    if write:
        rows = await database.read(lambda conn: conn.execute(text("SELECT n FROM seen")).all())
        assert [tuple(r) for r in rows] == [(1,)]


async def test_a_connection_idle_a_while_is_pinged_first(
    postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection idle longer than the ping interval that the server closed meanwhile is
    replaced at checkout, before any of the caller's work runs on it."""
    database = postgres
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    runs = 0

    def pid(conn: Connection) -> int:
        nonlocal runs
        runs += 1
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    first = await database.read(pid)
    await _terminate(database, first)
    runs = 0
    assert await database.read(pid) != first
    assert runs == 1  # the ping found it, not the caller's statement


def _lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


async def test_workers_on_one_sqlite_file_take_turns_at_a_lock_of_their_own(
    settings: Settings,
) -> None:
    """Two processes' writers on one database file (`lapor serve --workers 2`) meet at a file
    lock beside it, held from BEGIN to COMMIT and free between batches, rather than at SQLite's
    sleeping busy handler; every write of both is committed."""
    first, second = Database(settings.database_url), Database(settings.database_url)
    await first.connect()
    await migrate(first)
    await second.connect()
    lock = sqlite_path(settings.database_url) + ".writer-lock"
    try:
        await first.write(lambda conn: conn.execute(text("CREATE TABLE seen (n int)")))
        during = await second.write(lambda conn: _lock_is_free(lock))
        assert during is False
        assert _lock_is_free(lock)

        def note(n: int) -> Callable[[Connection], None]:
            def run(conn: Connection) -> None:
                conn.execute(text("INSERT INTO seen VALUES (:n)"), {"n": n})

            return run

        await asyncio.gather(*((first, second)[n % 2].write(note(n)) for n in range(200)))
        rows = await first.read(lambda conn: conn.execute(text("SELECT n FROM seen")).all())
        assert sorted(r[0] for r in rows) == list(range(200))
    finally:
        await second.close()
        await first.close()
