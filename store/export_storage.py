"""Where a finished XLSX export is kept until it expires, for its owner to download.

The runner (jobs/exports.py) saves the workbook to a scratch file of this machine's data
directory, named by its claim (`exports/{token}.{claim}.part`), and hands it here to be kept;
the download view asks here for the file a done job names. Where the kept file lives is the one
thing that differs, so ExportStorage is an interface with two implementations, chosen by the
composition root as photos are (LAPOR_PHOTO_STORAGE):

- `store/export_files.py`: the data directory (SQLite's default: one machine);
- `store/export_pieces.py`: the database in pieces of about a MB (PostgreSQL's default: every
  machine behind a load balancer hands out the file any machine wrote).

Either way the kept file is keyed by the claim that wrote it, and the job names the claim whose
file is the finished one (`export_jobs.file_token`, set with the outcome only while the claim
is held): a writer whose claim ran out while another process took the job over keeps its file
apart, never replaces or mixes into the new holder's, and deletes it once its outcome is
refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from lapor.complaints.records import ExportJob
from lapor.store.photos import BlobStream

# What a done job's download is served from: a file on this machine's disk, or the pieces.
KeptExport = Path | BlobStream


class ExportStorage(ABC):
    def __init__(self, root: Path) -> None:
        # This machine's `exports` directory: the scratch files, and the kept files too when
        # they are kept as files.
        self.root = root

    def scratch(self, job: ExportJob) -> Path:
        """Where this claim saves its workbook before it is kept: its own, so a writer taken
        over never writes into the new holder's."""
        if job.claim_token is None:
            raise ValueError("an export is written under a claim")
        return self.root / f"{job.token}.{job.claim_token}.part"

    @abstractmethod
    async def keep(self, job: ExportJob, written: Path) -> None:
        """Keep the file `written` (this claim's scratch file) as this claim's, and remove
        `written`. The job's download hands it out once its outcome names the claim."""

    @abstractmethod
    async def opened(self, job: ExportJob) -> KeptExport | None:
        """The file a done job hands out; None when it is not there (expired, or kept on
        another machine's disk)."""

    @abstractmethod
    async def _discard(self, job: ExportJob) -> None:
        """Delete what `job`'s claim kept, and nothing of any other claim's."""

    async def discard(self, job: ExportJob) -> None:
        """A failed job, or a writer whose outcome was refused: nothing of its claim stays."""
        await self._discard(job)
        await asyncio.to_thread(self.scratch(job).unlink, missing_ok=True)

    async def forget(self, tokens: Iterable[str]) -> None:
        """The expired jobs' files on this machine's disk (kept ones, scratch files, a file of
        a release before claims); the database's pieces go with the jobs' rows."""
        await asyncio.to_thread(self._forget, list(tokens))

    def _forget(self, tokens: list[str]) -> None:
        for token in tokens:
            for path in self.root.glob(f"{token}.*"):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    async def sweep(self, older_than: timedelta) -> int:
        """Files of this machine's disk no job can want any more: a scratch file of a process
        killed while it wrote, the files of jobs another machine's runner expired. Older than
        any job is kept, so nothing a download may still ask for goes."""
        return await asyncio.to_thread(self._sweep, older_than.total_seconds())

    def _sweep(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.glob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
