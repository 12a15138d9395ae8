"""Engines and the write path for both backends.

SQLite: one writer connection per process fed by a queue. Writes that arrive while a commit is
in flight are committed together in the next transaction (group commit), each inside its own
SAVEPOINT so one failing write does not take its neighbours down. A caller's future is resolved
only after the COMMIT returned, so nothing is acknowledged before it is durable
(`synchronous=FULL`). Readers use their own connections and never wait behind the writer (WAL).

PostgreSQL: a pool and one ordinary transaction per write; the server does its own group commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[AsyncConnection], Awaitable[T]]

# Enough to amortise one fsync over a burst; small enough that one slow batch does not hold
# back the first caller for long.
MAX_BATCH = 64


def async_url(url: str) -> str:
    """Map the operator-facing URL onto the async driver SQLAlchemy should use."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


@dataclass
class _Job:
    fn: WriteFn[Any]
    future: asyncio.Future[Any]


class Database:
    """The process's handle on the database: `read()` for queries, `write(fn)` for changes."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._schema = schema
        self._pool_size = pool_size
        self._writer_engine: AsyncEngine | None = None
        self._reader_engine: AsyncEngine | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self.batches_committed = 0
        self.writes_committed = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def connect(self) -> None:
        if self._reader_engine is not None:
            return
        url = async_url(self.url)
        if self.is_sqlite:
            _prepare_sqlite_file(url)
            self._writer_engine = create_async_engine(url, pool_size=1, max_overflow=0)
            self._reader_engine = create_async_engine(
                url, pool_size=self._pool_size, max_overflow=self._pool_size
            )
            _sqlite_pragmas(self._writer_engine, begin="BEGIN IMMEDIATE", query_only=False)
            _sqlite_pragmas(self._reader_engine, begin="BEGIN", query_only=True)
            self._queue = asyncio.Queue()
            self._writer_task = asyncio.create_task(self._writer_loop(), name="sqlite-writer")
        else:
            engine = create_async_engine(
                url,
                pool_size=self._pool_size,
                max_overflow=self._pool_size * 2,
                pool_pre_ping=True,
                connect_args=self._pg_connect_args(),
            )
            self._writer_engine = self._reader_engine = engine

    async def close(self) -> None:
        if self._writer_task is not None:
            self._writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer_task
            self._writer_task = None
        engines = {id(e): e for e in (self._writer_engine, self._reader_engine) if e is not None}
        for engine in engines.values():
            await engine.dispose()
        self._writer_engine = self._reader_engine = None

    @property
    def writer_engine(self) -> AsyncEngine:
        if self._writer_engine is None:
            raise RuntimeError("Database.connect() has not been awaited")
        return self._writer_engine

    def standalone_engine(self) -> AsyncEngine:
        """A throwaway engine with the same settings, for migrations and operator commands
        that run beside (or before) the writer task, which owns the writer connection."""
        url = async_url(self.url)
        if self.is_sqlite:
            _prepare_sqlite_file(url)
            engine = create_async_engine(url, poolclass=NullPool)
            _sqlite_pragmas(engine, begin="BEGIN IMMEDIATE", query_only=False)
            return engine
        return create_async_engine(url, poolclass=NullPool, connect_args=self._pg_connect_args())

    def _pg_connect_args(self) -> dict[str, Any]:
        if self._schema:
            return {"server_settings": {"search_path": self._schema}}
        return {}

    # -- reads -----------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        if self._reader_engine is None:
            raise RuntimeError("Database.connect() has not been awaited")
        async with self._reader_engine.connect() as conn:
            yield conn

    # -- writes ----------------------------------------------------------------------------
    async def write(self, fn: WriteFn[T]) -> T:
        """Run `fn(conn)` in a transaction and return its result once it is committed."""
        if not self.is_sqlite:
            async with self.writer_engine.begin() as conn:
                result = await fn(conn)
            self.batches_committed += 1
            self.writes_committed += 1
            return result
        if self._queue is None or self._writer_task is None or self._writer_task.done():
            raise RuntimeError("the SQLite writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(fn, future))
        return await future

    async def _writer_loop(self) -> None:
        assert self._queue is not None
        async with self.writer_engine.connect() as conn:
            while True:
                jobs = [await self._queue.get()]
                while len(jobs) < MAX_BATCH and not self._queue.empty():
                    jobs.append(self._queue.get_nowait())
                await self._run_batch(conn, jobs)

    async def _run_batch(self, conn: AsyncConnection, jobs: list[_Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            async with conn.begin():
                for job in jobs:
                    if job.future.cancelled():
                        outcomes.append((False, asyncio.CancelledError()))
                        continue
                    savepoint = await conn.begin_nested()
                    try:
                        result = await job.fn(conn)
                    except BaseException as exc:  # the job's own failure is the caller's to see
                        await savepoint.rollback()
                        outcomes.append((False, exc))
                        if not isinstance(exc, Exception):
                            raise
                    else:
                        await savepoint.commit()
                        outcomes.append((True, result))
        except Exception as exc:
            # The COMMIT itself failed (disk full, I/O error): nothing in the batch is durable.
            log.exception("group commit of %d writes failed", len(jobs))
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        self.batches_committed += 1
        self.writes_committed += sum(1 for ok, _ in outcomes if ok)
        for job, (ok, value) in zip(jobs, outcomes, strict=True):
            if job.future.done():
                continue
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)


def _prepare_sqlite_file(url: str) -> None:
    """Create the file in WAL mode once, before any pooled connection exists. WAL is a property
    of the file; switching to it takes an exclusive lock that connections racing at start-up
    would otherwise fight over with "database is locked"."""
    path = make_url(url).database
    if not path or path == ":memory:":
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def _sqlite_pragmas(engine: AsyncEngine, *, begin: str, query_only: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so SAVEPOINTs and BEGIN IMMEDIATE behave.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if query_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
