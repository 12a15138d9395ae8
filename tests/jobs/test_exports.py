"""The export runner keeps what it wrote where the storage says, as its claim's alone: a writer
taken over leaves the new holder's file as it is and its own nowhere, a failed job leaves
nothing, and every runner's expiry clears what it can."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update

from lapor.complaints.records import ExportJob
from lapor.jobs.exports import ExportRunner
from lapor.store import export_pieces
from lapor.store import schema as t
from lapor.store.export_files import FileExportStorage
from lapor.store.export_pieces import DatabaseExportStorage
from lapor.store.export_storage import ExportStorage
from tests.conftest import AppHarness, MakeHarness


async def asked(h: AppHarness, reports: int = 3) -> str:
    for _ in range(reports):
        assert (await h.submit()).status_code == 303
    user = h.world.users["koor@prov.go.id"]
    token: str = await h.app.state.services.store.create_export(user.id, "lang=id", None)
    return token


async def job_of(h: AppHarness, token: str) -> ExportJob:
    job: ExportJob | None = await h.app.state.services.store.export_job(
        token, h.world.users["koor@prov.go.id"].id
    )
    assert job is not None
    return job


async def piece_claims(h: AppHarness) -> set[str]:
    query = select(t.export_pieces.c.claim_token).distinct()
    return set(
        await h.app.state.services.store.db.read(lambda conn: conn.execute(query).scalars().all())
    )


def on_disk(h: AppHarness) -> list[str]:
    root = h.settings.data_dir / "exports"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.fixture
async def in_database(make_harness: MakeHarness) -> Any:
    """SQLite with LAPOR_PHOTO_STORAGE=database: exports in pieces, as PostgreSQL keeps them."""
    async with make_harness(photo_storage="database") as h:
        assert isinstance(h.app.state.services.export_files, DatabaseExportStorage)
        yield h


async def test_a_writer_taken_over_after_keeping_its_file_leaves_the_holders_alone(
    in_database: AppHarness, tmp_path: Path
) -> None:
    h = in_database
    svc = h.app.state.services
    token = await asked(h)
    late: ExportRunner = h.app.state.exports
    # Another machine, a data directory of its own, the same database.
    other = ExportRunner(
        svc.store,
        h.settings,
        DatabaseExportStorage(svc.store.db, FileExportStorage(tmp_path / "b" / "exports")),
    )
    keep = late.files.keep
    claims: dict[str, str | None] = {}

    async def stalled(job: ExportJob, written: Path) -> None:
        # The late writer keeps its file, then stalls past its claim: the other machine takes
        # the job over and finishes it before the late one asks to.
        await keep(job, written)
        claims["late"] = job.claim_token
        await svc.store.db.write(
            lambda conn: conn.execute(
                update(t.export_jobs).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
            )
        )
        assert await other.run_one()

    late.files.keep = stalled  # type: ignore[method-assign]
    assert await late.run_one()
    job = await job_of(h, token)
    assert job.status == "done" and job.rows_done == 3
    assert job.file_token is not None and job.file_token != claims["late"]
    # Only the holder's pieces are left, and its file is the download.
    assert await piece_claims(h) == {job.file_token}
    assert on_disk(h) == [] and not any((tmp_path / "b" / "exports").iterdir())
    await h.login("koor@prov.go.id")
    download = await h.client.get(f"/admin/exports/{token}/file")
    assert download.status_code == 200
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert len(rows) == 4


async def test_a_writer_whose_claim_ran_out_before_keeping_keeps_nothing(
    in_database: AppHarness,
) -> None:
    h = in_database
    svc = h.app.state.services
    token = await asked(h, reports=1)
    runner: ExportRunner = h.app.state.exports
    save = runner._write

    async def stalled(job: ExportJob, *args: Any) -> int:
        written = await save(job, *args)
        await svc.store.db.write(
            lambda conn: conn.execute(update(t.export_jobs).values(claim_token="x" * 32))
        )
        return written

    runner._write = stalled  # type: ignore[method-assign,assignment]
    assert await runner.run_one()
    assert (await job_of(h, token)).status == "running"  # the other claim's, not this one's
    assert await piece_claims(h) == set() and on_disk(h) == []


@pytest.mark.parametrize(
    ("where", "failing"), [("files", "save"), ("database", "save"), ("database", "pieces")]
)
async def test_a_failed_job_leaves_nothing(
    make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch, where: str, failing: str
) -> None:
    async with make_harness(photo_storage=where) as h:
        token = await asked(h)
        if failing == "save":
            save = Workbook.save

            def half_saved(workbook: Any, filename: str) -> None:
                save(workbook, filename)  # openpyxl's own state ends as after any save
                Path(filename).write_bytes(b"half a workbook")
                raise OSError("disk full")

            monkeypatch.setattr(Workbook, "save", half_saved)
        else:
            add = export_pieces.add_piece

            def second_fails(conn: Any, *, seq: int, **kwargs: Any) -> None:
                if seq == 1:
                    raise OSError("database full")
                add(conn, seq=seq, **kwargs)

            monkeypatch.setattr(export_pieces, "add_piece", second_fails)
            files = h.app.state.services.export_files
            assert isinstance(files, DatabaseExportStorage)
            files.piece = 1000  # several pieces, the first kept before the second fails
        assert await h.app.state.exports.run_one()
        job = await job_of(h, token)
        assert job.status == "failed" and job.file_token is None and "full" in str(job.error)
        assert await piece_claims(h) == set() and on_disk(h) == []


@pytest.mark.parametrize("where", ["files", "database"])
async def test_expiry_removes_the_file_and_what_a_killed_writer_left(
    make_harness: MakeHarness, where: str
) -> None:
    async with make_harness(photo_storage=where) as h:
        svc = h.app.state.services
        files: ExportStorage = svc.export_files
        token = await asked(h)
        assert await h.app.state.exports.run_one()
        job = await job_of(h, token)
        assert job.status == "done"
        assert bool(await piece_claims(h)) == (where == "database")
        assert bool(on_disk(h)) == (where == "files")
        # A writer killed while saving left its scratch file a day ago.
        left = files.root / f"{'a' * 32}.{'b' * 32}.part"
        files.root.mkdir(parents=True, exist_ok=True)
        left.write_bytes(b"half")
        day = time.time() - 26 * 3600
        os.utime(left, (day, day))
        await h.app.state.exports._expire()
        assert (await job_of(h, token)).status == "done"  # not a day old yet
        assert on_disk(h) == ([] if where == "database" else [f"{token}.{job.file_token}.xlsx"])
        await svc.store.db.write(
            lambda conn: conn.execute(
                update(t.export_jobs).values(finished_at=datetime.now(UTC) - timedelta(hours=25))
            )
        )
        await h.app.state.exports._expire()
        assert await svc.store.export_job(token, job.user_id) is None
        assert await piece_claims(h) == set() and on_disk(h) == []
