"""Photos as rows of the database (`photo_blobs`): PostgreSQL's default.

Two machines with data directories of their own behind a load balancer then see the same
photos, a backup of the database is a backup of the photos, and there is no second storage
service to run, secure and back up beside PostgreSQL. A photo is a few hundred KB once
re-encoded, a letter at most LAPOR_MAX_PHOTO_BYTES: well within what PostgreSQL keeps out of
line (TOAST) without slowing the rows of the tables around it, which never hold the bytes.

A parked file is a row with `kept` false, committed before the form's error page names it;
keeping sets `kept` in a transaction committed before the report's, so a stored report never
names a photo that is not there. The small copy is made on first use by whichever machine
serves it first, and kept in the same row.

Photos kept before a deployment moved to the database stay files in the data directory of the
machine that took them: they are read from there when the table has no row by their name, and
`lapor photos import` copies them in (on each machine that has some).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.store import schema as t
from lapor.store.cache import BytesLru
from lapor.store.clock import now
from lapor.store.db import Database
from lapor.store.photo_files import FilePhotoStore
from lapor.store.photos import Blob, BlobStream, Kept, PhotoStore

_B = t.photo_blobs

# Kept photos and small copies never change, so each process may keep the ones it served last
# without asking the database again, and no other machine can make them stale. 32 MB is some
# fifty photos and a thousand small copies, the pages people are opening now.
SERVED_CACHE_BYTES = 32_000_000
SERVED_CACHE_LARGEST = 1_000_000
# A file larger than this is served in pieces of STREAM_PIECE, each read on its own (the
# column is stored uncompressed, so PostgreSQL reads only that piece's part): a letter of 8 MB
# downloaded by many at once does not sit in memory once per download.
STREAM_ABOVE = 1_000_000
STREAM_PIECE = 256_000


def park(conn: Connection, *, name: str, data: bytes, at: datetime) -> None:
    conn.execute(insert(_B).values(name=name, data=data, kept=False, created_at=at))


def parked_or_kept(conn: Connection, *, name: str) -> bytes | None:
    data: bytes | None = conn.execute(select(_B.c.data).where(_B.c.name == name)).scalar()
    return data


def keep(conn: Connection, *, names: Sequence[str]) -> set[str]:
    """Mark parked files kept; the names the table does not hold."""
    wanted = set(names)
    conn.execute(update(_B).where(_B.c.name.in_(wanted)).values(kept=True))
    found = set(conn.execute(select(_B.c.name).where(_B.c.name.in_(wanted))).scalars())
    return wanted - found


def add_kept(conn: Connection, *, name: str, data: bytes, at: datetime) -> bool:
    """A kept file that was not a row yet (a file from the data directory); False when there
    is a row by that name already."""
    dialect = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    statement = (
        dialect(_B)
        .values(name=name, data=data, kept=True, created_at=at)
        .on_conflict_do_nothing()
        .returning(_B.c.name)
    )
    return conn.execute(statement).first() is not None


def kept(conn: Connection, *, name: str) -> Blob | None:
    row = conn.execute(
        select(_B.c.data, _B.c.created_at).where(_B.c.name == name, _B.c.kept.is_(True))
    ).first()
    return None if row is None else Blob(row.data, row.created_at)


def kept_unless_larger(
    conn: Connection, *, name: str, limit: int
) -> tuple[bytes | None, int, datetime] | None:
    """A kept file's bytes if it has at most `limit` of them (else None), its size and when it
    was kept."""
    size = func.length(_B.c.data)
    row = conn.execute(
        select(case((size <= limit, _B.c.data), else_=None), size, _B.c.created_at).where(
            _B.c.name == name, _B.c.kept.is_(True)
        )
    ).first()
    return None if row is None else (row[0], int(row[1]), row[2])


def piece(conn: Connection, *, name: str, start: int, length: int) -> bytes:
    """`length` bytes of a kept file from `start` (0 first)."""
    found: bytes = conn.execute(
        select(func.substr(_B.c.data, start + 1, length)).where(_B.c.name == name)
    ).scalar_one()
    return found


def small(conn: Connection, *, name: str) -> tuple[bytes | None, datetime] | None:
    """A kept photo's small copy (None when not made yet) and when it was kept."""
    row = conn.execute(
        select(_B.c.small, _B.c.created_at).where(_B.c.name == name, _B.c.kept.is_(True))
    ).first()
    return None if row is None else (row.small, row.created_at)


def put_small(conn: Connection, *, name: str, data: bytes) -> bytes:
    """Keep a photo's small copy unless one is kept already; the one kept."""
    conn.execute(update(_B).where(_B.c.name == name, _B.c.small.is_(None)).values(small=data))
    stored: bytes = conn.execute(select(_B.c.small).where(_B.c.name == name)).scalar_one()
    return stored


def sweep(conn: Connection, *, before: datetime) -> int:
    result = conn.execute(delete(_B).where(_B.c.kept.is_(False), _B.c.created_at < before))
    return int(result.rowcount)


def count(conn: Connection) -> tuple[int, int]:
    """Kept and parked rows."""
    rows = conn.execute(select(_B.c.kept, func.count()).group_by(_B.c.kept)).all()
    found = {bool(row[0]): int(row[1]) for row in rows}
    return found.get(True, 0), found.get(False, 0)


class DatabasePhotoStore(PhotoStore):
    def __init__(
        self,
        db: Database,
        files: FilePhotoStore,
        *,
        max_bytes: int,
        max_pixels: int,
        max_side: int,
        stream_above: int = STREAM_ABOVE,
        stream_piece: int = STREAM_PIECE,
    ) -> None:
        super().__init__(max_bytes=max_bytes, max_pixels=max_pixels, max_side=max_side)
        self.db = db
        self.stream_above = stream_above
        self.stream_piece = stream_piece
        # Where this machine kept photos before they moved into the database.
        self.files = files
        self.served: BytesLru[tuple[str, bool], Blob] = BytesLru(
            SERVED_CACHE_BYTES, SERVED_CACHE_LARGEST
        )

    async def prepare(self) -> None:
        """Nothing: the table is the migrations'."""

    async def _park(self, name: str, data: bytes) -> None:
        await self.db.write(partial(park, name=name, data=data, at=now()))

    async def _parked_or_kept(self, name: str) -> bytes | None:
        found = await self.db.read(partial(parked_or_kept, name=name))
        if found is None:
            return await asyncio.to_thread(self.files.read_parked_or_kept, name)
        return found

    async def commit(self, names: list[str]) -> None:
        missing = await self.db.write(partial(keep, names=names)) if names else set()
        for name in sorted(missing):
            # Parked in the data directory by this machine before the move (a form open
            # across the upgrade): kept in the table now, so every machine sees it.
            data = await asyncio.to_thread(self.files.read_parked_or_kept, name)
            if data is None:
                raise FileNotFoundError(name)
            await self.db.write(partial(add_kept, name=name, data=data, at=now()))

    async def kept(self, name: str) -> Kept:
        if not self.valid_name(name):
            raise ValueError("not a photo name")
        cached = self.served.get((name, False))
        if cached is not None:
            return cached
        found = await self.db.read(partial(kept_unless_larger, name=name, limit=self.stream_above))
        if found is None:
            return await self.files.kept(name)
        data, size, kept_at = found
        if data is None:
            return BlobStream(size, kept_at, partial(self._pieces, name, size))
        blob = Blob(data, kept_at)
        self.served.put((name, False), blob, size)
        return blob

    async def _pieces(self, name: str, size: int) -> AsyncIterator[bytes]:
        for start in range(0, size, self.stream_piece):
            yield await self.db.read(
                partial(piece, name=name, start=start, length=self.stream_piece)
            )

    async def small(self, name: str) -> Kept:
        if not name.endswith(".jpg") or not self.valid_name(name):
            raise ValueError("only photos have a small copy")
        cached = self.served.get((name, True))
        if cached is not None:
            return cached
        found = await self.db.read(partial(small, name=name))
        if found is None:
            return await self.files.small(name)
        data, kept_at = found
        if data is None:
            photo = await self.db.read(partial(kept, name=name))
            if photo is None:
                raise FileNotFoundError(name)
            data = await asyncio.to_thread(self.shrink, photo.data)
            # Two machines making it at once: the first one's stays, and both serve it.
            data = await self.db.write(partial(put_small, name=name, data=data))
        made = Blob(data, kept_at)
        self.served.put((name, True), made, len(data))
        return made

    async def sweep_pending(self, older_than_seconds: int) -> int:
        before = now() - timedelta(seconds=older_than_seconds)
        swept = await self.db.write(partial(sweep, before=before))
        return swept + await self.files.sweep_pending(older_than_seconds)

    async def import_files(self) -> tuple[int, int]:
        """Copy the photos and letters kept in this machine's data directory into the table
        (`lapor photos import`); how many were copied, and how many were there already."""
        copied = present = 0
        for path in sorted(await asyncio.to_thread(_kept_files, self.files.root)):
            data = await asyncio.to_thread(path.read_bytes)
            if await self.db.write(partial(add_kept, name=path.name, data=data, at=now())):
                copied += 1
            else:
                present += 1
        return copied, present


def _kept_files(root: Path) -> list[Path]:
    return [
        path
        for shard in root.glob("??")
        if shard.is_dir()
        for path in shard.iterdir()
        if PhotoStore.valid_name(path.name) and path.name.startswith(shard.name)
    ]
