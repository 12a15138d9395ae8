"""Finished exports as files of the data directory (SQLite's default: one machine), named by
the claim that wrote them (`exports/{token}.{claim}.xlsx`). A job finished by a release before
claims names no claim: its file is `exports/{token}.xlsx`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lapor.complaints.records import ExportJob
from lapor.store.export_storage import ExportStorage, KeptExport


class FileExportStorage(ExportStorage):
    def kept_path(self, job: ExportJob, claim: str | None) -> Path:
        return self.root / (f"{job.token}.{claim}.xlsx" if claim else f"{job.token}.xlsx")

    async def keep(self, job: ExportJob, written: Path) -> None:
        await asyncio.to_thread(os.replace, written, self.kept_path(job, job.claim_token))

    async def opened(self, job: ExportJob) -> KeptExport | None:
        path = self.kept_path(job, job.file_token)
        return path if await asyncio.to_thread(path.is_file) else None

    async def _discard(self, job: ExportJob) -> None:
        if job.claim_token is not None:
            await asyncio.to_thread(self.kept_path(job, job.claim_token).unlink, missing_ok=True)
