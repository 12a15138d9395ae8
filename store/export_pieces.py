"""Finished exports kept in the database (PostgreSQL's default): rows of `export_pieces`, the
file in pieces of PIECE bytes in order, keyed by the job and the claim that wrote them.

With two machines behind a load balancer, the download reaches either: the file is where both
look. Writing copies the runner's scratch file a piece at a time, each piece its own
transaction; the download reads it back a piece at a time, each its own query; so neither holds
a file of tens of MB whole in memory, nor one transaction open for the whole of it. The pieces
go with their job (expire_exports deletes them with its row; the foreign key cascades too).

A job finished before the files moved into the database names no claim: its file is still the
data directory's of the machine that wrote it, and served from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

from sqlalchemy import Connection, delete, func, insert, select

from lapor.complaints.records import ExportJob
from lapor.store import schema as t
from lapor.store.db import Database
from lapor.store.export_files import FileExportStorage
from lapor.store.export_storage import ExportStorage, KeptExport
from lapor.store.photos import BlobStream

_P = t.export_pieces.c

# A MB a piece: few rows for a file of tens of MB, little memory per download or write.
PIECE = 1_000_000


def add_piece(conn: Connection, *, job_id: int, claim_token: str, seq: int, data: bytes) -> None:
    conn.execute(
        insert(t.export_pieces).values(job_id=job_id, claim_token=claim_token, seq=seq, data=data)
    )


def pieces_size(conn: Connection, *, job_id: int, claim_token: str) -> tuple[int, int]:
    """How many pieces a claim kept for a job, and their bytes together."""
    row = conn.execute(
        select(func.count(), func.coalesce(func.sum(func.length(_P.data)), 0)).where(
            _P.job_id == job_id, _P.claim_token == claim_token
        )
    ).one()
    return int(row[0]), int(row[1])


def piece(conn: Connection, *, job_id: int, claim_token: str, seq: int) -> bytes:
    """One piece (0 first); NoResultFound once the job expired."""
    data: bytes = conn.execute(
        select(_P.data).where(_P.job_id == job_id, _P.claim_token == claim_token, _P.seq == seq)
    ).scalar_one()
    return data


def delete_pieces(conn: Connection, *, job_id: int, claim_token: str) -> int:
    result = conn.execute(
        delete(t.export_pieces).where(_P.job_id == job_id, _P.claim_token == claim_token)
    )
    return int(result.rowcount)


class DatabaseExportStorage(ExportStorage):
    def __init__(self, db: Database, files: FileExportStorage, *, piece: int = PIECE) -> None:
        # Scratch files in this machine's data directory, as the files' storage keeps them.
        super().__init__(files.root)
        self.db = db
        self.piece = piece
        # Where a release before this one kept finished files: still served until they expire.
        self.files = files

    async def keep(self, job: ExportJob, written: Path) -> None:
        claim = job.claim_token
        if claim is None:
            raise ValueError("an export is kept under a claim")
        with await asyncio.to_thread(open, written, "rb") as fh:
            seq = 0
            while data := await asyncio.to_thread(fh.read, self.piece):
                await self.db.write(
                    partial(add_piece, job_id=job.id, claim_token=claim, seq=seq, data=data)
                )
                seq += 1
        await asyncio.to_thread(written.unlink)

    async def opened(self, job: ExportJob) -> KeptExport | None:
        claim = job.file_token
        if claim is None:
            return await self.files.opened(job)
        count, size = await self.db.read(partial(pieces_size, job_id=job.id, claim_token=claim))
        if count == 0 or job.finished_at is None:
            return None
        return BlobStream(size, job.finished_at, partial(self._pieces, job.id, claim, count))

    async def _pieces(self, job_id: int, claim: str, count: int) -> AsyncIterator[bytes]:
        for seq in range(count):
            yield await self.db.read(partial(piece, job_id=job_id, claim_token=claim, seq=seq))

    async def _discard(self, job: ExportJob) -> None:
        if job.claim_token is not None:
            await self.db.write(partial(delete_pieces, job_id=job.id, claim_token=job.claim_token))
