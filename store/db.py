"""Engines and the two ways into the database: `read(fn)` and `write(fn)`.

Store functions are plain synchronous functions of a SQLAlchemy `Connection`, so one body of
SQL serves both backends:

SQLite runs them on threads with the standard library's sqlite3 driver. Every write goes to one
writer thread fed by a queue; writes that arrive while a commit is in flight are committed
together in the next transaction (group commit), each inside its own SAVEPOINT so one failing
write does not take its neighbours down. A caller's future is resolved only after the COMMIT
returned, so nothing is acknowledged before it is durable (`synchronous=FULL`). Readers use
their own connections and never wait behind the writer (WAL). A whole batch crosses from the
event loop to the writer thread once, rather than once per statement: measured in bench/, an
async driver's per-statement hand-off cost ten times the statement itself.

PostgreSQL runs them through asyncpg (`AsyncConnection.run_sync`), one ordinary transaction per
write; the server does its own group commit. A pooled connection is pinged before it is lent
only when it sat idle for a while (SQLAlchemy's pre-ping cost three round trips, BEGIN, a
query and a ROLLBACK, on every read and write). One that turns out
closed all the same (the server restarted under load) is found by the first statement; since
nothing the function did was committed, it runs once more on a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

try:
    import fcntl
except ImportError:  # not on Windows; there one process per data directory is the rule anyway
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

T = TypeVar("T")
DbFn = Callable[[Connection], T]

# Enough to amortise one fsync over a burst; small enough that one slow batch does not hold
# back the first caller for long.
MAX_BATCH = 64
READER_THREADS = 4
# A pooled PostgreSQL connection idle longer than this is pinged before use: long enough that
# a busy server never pings, short enough that one idle overnight (or cut by a firewall) is.
PING_AFTER_IDLE_SECONDS = 5.0


def async_url(url: str) -> str:
    """The asyncpg URL SQLAlchemy needs for an operator's `postgresql://` URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.drivername}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise ValueError("SQLite needs a file: the writer and the readers share it")
    return path


@dataclass
class _Job:
    fn: DbFn[Any]
    future: asyncio.Future[Any]


class Database:
    """The process's handle on the database."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._schema = schema
        self._pool_size = pool_size
        self._sqlite_engine: Engine | None = None
        self._sqlite_writer_engine: Engine | None = None
        self._pg_engine: AsyncEngine | None = None
        self._writer_thread: ThreadPoolExecutor | None = None
        self._reader_threads: ThreadPoolExecutor | None = None
        self._writer_conn: Connection | None = None
        self._writer_lock: _WriterLock | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self.batches_committed = 0
        self.writes_committed = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def connect(self) -> None:
        if self._sqlite_engine is not None or self._pg_engine is not None:
            return
        if self.is_sqlite:
            self._sqlite_engine = sqlite_engine(
                self.url, writer=False, pool_size=READER_THREADS, max_overflow=2
            )
            self._sqlite_writer_engine = sqlite_engine(
                self.url, writer=True, pool_size=1, max_overflow=0
            )
            self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
            self._writer_lock = _WriterLock(sqlite_path(self.url))
            self._reader_threads = ThreadPoolExecutor(
                READER_THREADS, thread_name_prefix="sqlite-reader"
            )
            self._queue = asyncio.Queue()
            self._writer_task = asyncio.create_task(self._writer_loop(), name="sqlite-writer")
        else:
            self._pg_engine = create_async_engine(
                async_url(self.url),
                pool_size=self._pool_size,
                max_overflow=self._pool_size * 2,
                connect_args=self._pg_connect_args(),
            )
            _ping_when_idle(self._pg_engine)

    async def close(self) -> None:
        if self._writer_task is not None:
            self._writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer_task
            self._writer_task = None
        if self._writer_thread is not None:
            if self._writer_conn is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self._writer_thread, self._writer_conn.close
                )
                self._writer_conn = None
            self._writer_thread.shutdown(wait=True)
            self._writer_thread = None
        if self._writer_lock is not None:
            self._writer_lock.close()
            self._writer_lock = None
        if self._reader_threads is not None:
            self._reader_threads.shutdown(wait=True)
            self._reader_threads = None
        for engine in (self._sqlite_engine, self._sqlite_writer_engine):
            if engine is not None:
                engine.dispose()
        self._sqlite_engine = self._sqlite_writer_engine = None
        if self._pg_engine is not None:
            await self._pg_engine.dispose()
            self._pg_engine = None

    def _pg_connect_args(self) -> dict[str, Any]:
        # Searches plan for their values per transaction (store.inbox.plan_for_values).
        settings: dict[str, str] = {}
        if self._schema:
            settings["search_path"] = self._schema
        return {"server_settings": settings}

    async def run_standalone(self, fn: DbFn[T]) -> T:
        """Run `fn` on a connection of its own, outside the writer queue, in one transaction.
        For migrations and tools that run before (or beside) a connected Database."""
        if self.is_sqlite:

            def run() -> T:
                engine = sqlite_engine(self.url, writer=True, poolclass=NullPool)
                try:
                    with engine.begin() as conn:
                        return fn(conn)
                finally:
                    engine.dispose()

            return await asyncio.to_thread(run)
        engine = create_async_engine(
            async_url(self.url), poolclass=NullPool, connect_args=self._pg_connect_args()
        )
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(fn)
        finally:
            await engine.dispose()

    # -- reads -----------------------------------------------------------------------------
    async def read(self, fn: DbFn[T]) -> T:
        if self._pg_engine is not None:
            return await self._on_postgres(fn, transaction=False)
        if self._sqlite_engine is None or self._reader_threads is None:
            raise RuntimeError("Database.connect() has not been awaited")
        engine = self._sqlite_engine

        def run() -> T:
            with engine.connect() as conn:
                return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._reader_threads, run)

    # -- writes ----------------------------------------------------------------------------
    async def write(self, fn: DbFn[T]) -> T:
        """Run `fn(conn)` in a transaction and return its result once it is committed."""
        if self._pg_engine is not None:
            result = await self._on_postgres(fn, transaction=True)
            self.batches_committed += 1
            self.writes_committed += 1
            return result
        if self._queue is None or self._writer_task is None or self._writer_task.done():
            raise RuntimeError("the SQLite writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(fn, future))
        return await future

    async def _on_postgres(self, fn: DbFn[T], *, transaction: bool) -> T:
        """`fn` on a pooled connection, once more on a new one if the first was found closed
        before `fn` was done: then nothing of it was committed. A connection lost during the
        COMMIT itself is not retried, since the server may have committed."""
        assert self._pg_engine is not None
        for attempt in (1, 2):
            finished = False

            def run(conn: Connection) -> T:
                nonlocal finished
                result = fn(conn)
                finished = True
                return result

            try:
                if transaction:
                    async with self._pg_engine.begin() as conn:
                        return await conn.run_sync(run)
                async with self._pg_engine.connect() as conn:
                    return await conn.run_sync(run)
            except DBAPIError as exc:
                if finished or attempt == 2 or not exc.connection_invalidated:
                    raise
                log.warning("a pooled PostgreSQL connection was closed; running again on a new one")
        raise AssertionError("unreachable")

    async def _writer_loop(self) -> None:
        assert self._queue is not None and self._writer_thread is not None
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < MAX_BATCH and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            live = [job for job in jobs if not job.future.cancelled()]
            if not live:
                continue
            try:
                outcomes = await loop.run_in_executor(self._writer_thread, self._run_batch, live)
            except Exception as exc:
                # The COMMIT itself failed (disk full, I/O error): nothing in it is durable.
                log.exception("group commit of %d writes failed", len(live))
                for job in live:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            self.batches_committed += 1
            self.writes_committed += sum(1 for ok, _ in outcomes if ok)
            for job, (ok, value) in zip(live, outcomes, strict=True):
                if job.future.done():
                    continue
                if ok:
                    job.future.set_result(value)
                else:
                    job.future.set_exception(value)

    def _run_batch(self, jobs: list[_Job]) -> list[tuple[bool, Any]]:
        """On the writer thread: every job of the batch in one transaction, one commit."""
        assert self._sqlite_writer_engine is not None
        if self._writer_conn is None or self._writer_conn.closed:
            self._writer_conn = self._sqlite_writer_engine.connect()
        conn = self._writer_conn
        assert self._writer_lock is not None
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self._writer_lock, conn.begin():
                # The savepoints go straight to the driver: through SQLAlchemy each one was a
                # statement compiled afresh (its name is new every time), a tenth of a
                # submission's CPU. The jobs' own savepoints, if any, nest inside.
                driver = conn.connection.dbapi_connection
                assert driver is not None
                for job in jobs:
                    driver.execute("SAVEPOINT job")
                    try:
                        result = job.fn(conn)
                    except Exception as exc:  # the job's own failure is its caller's to see
                        driver.execute("ROLLBACK TO job")
                        driver.execute("RELEASE job")
                        outcomes.append((False, exc))
                    else:
                        driver.execute("RELEASE job")
                        outcomes.append((True, result))
        except Exception:
            # A connection that failed mid-commit is not trusted with the next batch.
            with contextlib.suppress(Exception):
                conn.close()
            self._writer_conn = None
            raise
        return outcomes


class _WriterLock:
    """One SQLite writer at a time among the processes of this machine (`lapor serve --workers
    N`), each let in as soon as the one before lets go. Without it they met only at SQLite's
    write lock, whose busy handler sleeps between tries (up to 100 ms at a time): under a burst
    with two workers a report waited up to two seconds for it (bench/load.py --workers 2, p99
    1,964 ms at 64 connections). A blocking flock() on a file beside the database wakes the
    waiter when the holder unlocks. Other writers (the operator's CLI) still meet at SQLite's
    lock, as before."""

    def __init__(self, database_path: str) -> None:
        self.path = database_path + ".writer-lock"
        self._fd: int | None = None

    def __enter__(self) -> None:
        if fcntl is None:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def sqlite_engine(url: str, *, writer: bool, **options: Any) -> Engine:
    path = sqlite_path(url)
    _prepare_sqlite_file(path)
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False}, **options
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so SAVEPOINTs and BEGIN IMMEDIATE behave.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not writer:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    # IMMEDIATE for writers: take the write lock up front, so a transaction never has to upgrade
    # a read lock later (which fails at once, without waiting, when another process writes).
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _prepare_sqlite_file(path: str) -> None:
    """Create the file in WAL mode once, before any pooled connection exists. WAL is a property
    of the file; switching to it takes an exclusive lock that connections racing at start-up
    would otherwise fight over with "database is locked"."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before lending it only if it sat idle a while; a failed ping
    makes the pool take a new connection (SQLAlchemy's documented DisconnectionError)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("the pooled connection did not answer a ping") from exc
