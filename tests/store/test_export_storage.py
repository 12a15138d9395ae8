"""Where finished exports are kept (store/export_storage.py): as files of the data directory
or as pieces in the database, each on both backends. Either way a file is its claim's: a
writer taken over never replaces or mixes into the holder's, and expiry leaves nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from lapor.complaints.records import ExportJob
from lapor.store import schema as t
from lapor.store.db import Database
from lapor.store.export_files import FileExportStorage
from lapor.store.export_pieces import DatabaseExportStorage
from lapor.store.export_storage import ExportStorage, KeptExport
from lapor.store.photos import BlobStream
from lapor.store.store import Store
from tests.conftest import fast_password_hash

LEASE = timedelta(minutes=5)
PIECE = 1000
# Several pieces, the last one short.
CONTENT = bytes(range(256)) * 14 + b"end"


@pytest.fixture(params=["files", "database"])
def storage(request: pytest.FixtureRequest, database: Database, tmp_path: Path) -> ExportStorage:
    files = FileExportStorage(tmp_path / "exports")
    if request.param == "files":
        return files
    return DatabaseExportStorage(database, files, piece=PIECE)


async def claimed(store: Store) -> ExportJob:
    unit = await store.add_unit("prov", "Provinsi")
    user = await store.add_user("koor@prov.go.id", fast_password_hash(), "coordinator", unit.id)
    await store.create_export(user.id, "lang=id", None)
    found = await store.claim_export(LEASE)
    assert found is not None
    return found[0]


async def taken_over(store: Store, job: ExportJob) -> ExportJob:
    """The job claimed anew by another process, once `job`'s claim ran out unrenewed."""
    await store.db.write(
        lambda conn: conn.execute(
            update(t.export_jobs).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    )
    found = await store.claim_export(LEASE)
    assert found is not None and found[0].id == job.id
    assert found[0].claim_token != job.claim_token
    return found[0]


async def written(storage: ExportStorage, job: ExportJob, data: bytes) -> None:
    """What the runner does: the workbook saved to the claim's scratch file, then kept."""
    scratch = storage.scratch(job)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.write_bytes(data)
    await storage.keep(job, scratch)
    assert not scratch.exists()


async def done(store: Store, job: ExportJob) -> ExportJob:
    found = await store.export_job(job.token, job.user_id)
    assert found is not None
    return found


async def read(kept: KeptExport | None) -> bytes:
    assert kept is not None
    if isinstance(kept, Path):
        return kept.read_bytes()
    body = b"".join([piece async for piece in kept.pieces()])
    assert len(body) == kept.size
    return body


def pieces(database: Database) -> Callable[[], Any]:
    async def claims() -> list[tuple[str, int]]:
        query = (
            select(t.export_pieces.c.claim_token, func.count())
            .group_by(t.export_pieces.c.claim_token)
            .order_by(t.export_pieces.c.claim_token)
        )
        rows = await database.read(lambda conn: conn.execute(query).all())
        return [(row[0], int(row[1])) for row in rows]

    return claims


def on_disk(storage: ExportStorage) -> list[str]:
    return sorted(p.name for p in storage.root.glob("*")) if storage.root.exists() else []


async def test_a_kept_file_is_handed_out_once_its_claim_finished_the_job(
    storage: ExportStorage, store: Store, database: Database
) -> None:
    job = await claimed(store)
    await written(storage, job, CONTENT)
    # Kept, but no outcome names it yet: nothing to download.
    assert await storage.opened(await done(store, job)) is None
    assert await store.finish_export(job, rows_done=3)
    finished = await done(store, job)
    assert finished.status == "done" and finished.file_token == job.claim_token
    kept = await storage.opened(finished)
    assert await read(kept) == CONTENT
    if isinstance(storage, DatabaseExportStorage):
        # In pieces of at most a piece's size, and nothing of it on this machine's disk.
        assert isinstance(kept, BlobStream) and kept.kept_at == finished.finished_at
        assert await pieces(database)() == [(str(job.claim_token), -(-len(CONTENT) // PIECE))]
        assert on_disk(storage) == []
    else:
        assert on_disk(storage) == [f"{job.token}.{job.claim_token}.xlsx"]
        assert await pieces(database)() == []


async def test_a_writer_taken_over_never_replaces_the_holders_file(
    storage: ExportStorage, store: Store, database: Database
) -> None:
    late = await claimed(store)
    holder = await taken_over(store, late)
    await written(storage, holder, b"the holder's file " * 100)
    assert await store.finish_export(holder, rows_done=2)
    # The late writer comes back from its stall, keeps its file and asks to finish: refused,
    # and what it kept goes; the holder's file stands, whole and alone.
    await written(storage, late, CONTENT)
    assert not await store.finish_export(late, rows_done=3)
    await storage.discard(late)
    finished = await done(store, late)
    assert finished.file_token == holder.claim_token
    assert await read(await storage.opened(finished)) == b"the holder's file " * 100
    if isinstance(storage, DatabaseExportStorage):
        assert [claim for claim, _ in await pieces(database)()] == [holder.claim_token]
    else:
        assert on_disk(storage) == [f"{holder.token}.{holder.claim_token}.xlsx"]


async def test_a_failed_job_leaves_nothing(
    storage: ExportStorage, store: Store, database: Database
) -> None:
    job = await claimed(store)
    await written(storage, job, CONTENT)
    storage.scratch(job).write_bytes(b"half a workbook")
    await storage.discard(job)
    assert await store.finish_export(job, rows_done=0, error="disk full")
    finished = await done(store, job)
    assert finished.status == "failed" and finished.file_token is None
    assert await storage.opened(finished) is None
    assert on_disk(storage) == [] and await pieces(database)() == []


async def test_expiry_takes_every_claims_pieces_and_files(
    storage: ExportStorage, store: Store, database: Database
) -> None:
    # A writer killed after keeping its file never discards it; the holder's is the job's.
    killed = await claimed(store)
    await written(storage, killed, b"killed")
    holder = await taken_over(store, killed)
    await written(storage, holder, CONTENT)
    assert await store.finish_export(holder, rows_done=3)
    assert await store.expire_exports(datetime.now(UTC) - timedelta(hours=1)) == []
    tokens = await store.expire_exports(datetime.now(UTC) + timedelta(seconds=1))
    assert tokens == [holder.token]
    await storage.forget(tokens)
    assert await pieces(database)() == [] and on_disk(storage) == []
    assert await store.export_job(holder.token, holder.user_id) is None


async def test_a_jobs_pieces_go_with_its_row_whoever_deletes_it(
    store: Store, database: Database, tmp_path: Path
) -> None:
    storage = DatabaseExportStorage(database, FileExportStorage(tmp_path / "exports"), piece=PIECE)
    job = await claimed(store)
    await written(storage, job, CONTENT)
    await database.write(lambda conn: conn.execute(delete(t.export_jobs)))  # the foreign key
    assert await pieces(database)() == []


async def test_a_job_finished_before_claims_named_files_is_served_from_the_data_directory(
    storage: ExportStorage, store: Store
) -> None:
    job = await claimed(store)
    await store.db.write(
        lambda conn: conn.execute(
            update(t.export_jobs).values(
                status="done", finished_at=datetime.now(UTC), claim_token=None
            )
        )
    )
    old = await done(store, job)
    assert old.file_token is None and await storage.opened(old) is None
    storage.root.mkdir(parents=True)
    (storage.root / f"{job.token}.xlsx").write_bytes(CONTENT)
    kept = await storage.opened(old)
    assert isinstance(kept, Path) and await read(kept) == CONTENT
    await storage.forget([job.token])
    assert on_disk(storage) == []


async def test_the_sweep_takes_only_files_older_than_any_job_is_kept(
    storage: ExportStorage, store: Store
) -> None:
    job = await claimed(store)
    storage.root.mkdir(parents=True)
    stale = storage.root / f"{'a' * 32}.{'b' * 32}.part"  # a writer killed a day ago
    stale.write_bytes(b"half")
    day = time.time() - 25 * 3600
    os.utime(stale, (day, day))
    fresh = storage.scratch(job)
    fresh.write_bytes(b"being written")
    assert await storage.sweep(timedelta(hours=24)) == 1
    assert on_disk(storage) == [fresh.name]
