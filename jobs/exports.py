"""XLSX exports of the inbox's filtered list, written in the background (openpyxl's write-only
mode) for lists too long for a proxy's time limit; the admin's pages start them, show their
progress and hand out the file (admin/exports.py). The list is walked page by page with the
inbox's keyset cursor, so a million rows never sit in memory; the CSV export streams the same
rows and cells. Exports never carry the reporter's identity."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from lapor.complaints import tracking
from lapor.complaints.access import Scope, scope_of
from lapor.complaints.inbox import InboxQuery, next_cursor, query_bounds, read_inbox_query
from lapor.complaints.records import ExportJob, StaffSession
from lapor.complaints.reports import Channel, Kind, Status
from lapor.jobs.leases import renewing
from lapor.settings import Settings
from lapor.store.export_storage import ExportStorage
from lapor.store.store import Store
from lapor.web import labels, logs
from lapor.web.i18n import N_, gettext, using
from lapor.web.spreadsheets import xlsx_row

log = logging.getLogger("lapor.exports")

PAGE = 1000
KEEP_FILES = timedelta(hours=24)
# A file on a machine's disk older than KEEP_FILES by this is nobody's: swept.
SWEEP_AFTER = timedelta(hours=1)
HEADERS = [
    N_("Tracking code"),
    N_("Received"),
    N_("Unit"),
    N_("Entry point"),
    N_("Kind"),
    N_("Status"),
    N_("Title"),
    N_("Category"),
    N_("Tags"),
    N_("Report"),
    N_("Location"),
    N_("Forwarded to"),
    N_("Deadline"),
    N_("Verified"),
    N_("Answered"),
    N_("Closed"),
    N_("Rating"),
]


def _local(moment: datetime | None, settings: Settings) -> datetime | None:
    # The office's wall-clock time, as the pages show; each file's writer says it its own way
    # (an XLSX cell has no zone, a CSV names the offset).
    return moment.astimezone(settings.timezone) if moment else None


def cells(row: Any, settings: Settings) -> list[Any]:
    """A report's row, its text as people wrote it: each file's writer keeps a spreadsheet
    from running any of it as a formula (web/spreadsheets.py)."""
    return [
        tracking.group(row.tracking_code),
        _local(row.received_at, settings),
        row.unit_name,
        labels.channel_label(Channel(row.channel)),
        labels.kind_label(Kind(row.kind)),
        labels.status_label(Status(row.status)),
        row.title or "",
        labels.category_label(row.category),
        (row.tags or "").replace(",", ", "),
        row.text,
        row.location or "",
        row.forwarded_name or "",
        row.due_on,
        _local(row.verified_at, settings),
        _local(row.followed_up_at, settings),
        _local(row.closed_at, settings),
        row.rating,
    ]


async def export_rows(
    store: Store, scope: Scope, query: InboxQuery, bounds: dict[str, Any]
) -> AsyncIterator[list[Any]]:
    """The whole filtered list, a page at a time (a search goes on through every stretch of
    reports the store searches per request). `bounds` are the dates the query is read with
    (today, the end of "due soon", the received window), fixed for the whole export."""
    query = query.first_page()
    while True:
        rows, rest = await store.export_page(scope, query, **bounds, limit=PAGE)
        if rows:
            yield rows
        if len(rows) == PAGE:
            query = replace(query, after=next_cursor(rows[-1], query))
        elif rest is not None:
            query = replace(query, after=rest)
        else:
            return


class ExportRunner:
    """Runs XLSX export jobs one at a time, in the background of the server process, and keeps
    their files where `files` says (store/export_storage.py) until they expire."""

    def __init__(self, store: Store, settings: Settings, files: ExportStorage) -> None:
        self.store = store
        self.settings = settings
        self.files = files
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, interval: float = 10.0) -> None:
        while True:
            try:
                while await self.run_one():
                    pass
                await self._expire()
            except Exception:  # a failing database must not end the loop for good
                log.exception("export runner")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)

    async def run_one(self) -> bool:
        claimed = await self.store.claim_export(self.settings.job_lease)
        if claimed is None:
            return False
        job, owner = claimed
        async with renewing(
            partial(self.store.renew_export, job, self.settings.job_lease),
            self.settings.job_lease,
            f"export {job.id}",
        ):
            await self._run(job, owner)
        return True

    async def _run(self, job: ExportJob, owner: StaffSession) -> None:
        started = time.monotonic()
        asked = parse_qs(job.query)
        query, errors = read_inbox_query(asked)
        if errors:
            # Asked before its query was checked (the page refuses these now): the filters
            # left out would export more than was asked, so the job fails instead.
            await self.store.finish_export(
                job, rows_done=0, error=f"unreadable filters: {', '.join(errors)}"
            )
            return
        language = (asked.get("lang") or [self.settings.default_language])[0]
        scratch = self.files.scratch(job)
        await asyncio.to_thread(scratch.parent.mkdir, parents=True, exist_ok=True)
        written = 0
        kept = False
        try:
            with using(language):
                written = await self._write(
                    job, scratch, owner, query, lambda n: self.store.export_progress(job, n)
                )
            kept = await self._keep(job, scratch)
        except Exception as exc:
            log.exception("export %s failed", job.id)
            await self.files.discard(job)  # a failed job leaves nothing behind
            await self.store.finish_export(job, rows_done=written, error=str(exc)[:500])
            logs.job_run("export", started, export_id=job.id, rows=written, outcome="failed")
            return
        outcome = "done"
        if not kept or not await self.store.finish_export(job, rows_done=written):
            # The new holder's outcome and file stand; this claim's own file goes.
            await self.files.discard(job)
            log.warning("export %s was taken over by another process while written", job.id)
            outcome = "taken_over"
        logs.job_run("export", started, export_id=job.id, rows=written, outcome=outcome)

    async def _write(
        self,
        job: ExportJob,
        scratch: Path,
        owner: StaffSession,
        query: InboxQuery,
        progress: Callable[[int], Any],
    ) -> int:
        from openpyxl import Workbook  # imported here: only export jobs need it

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Laporan")
        written = 0
        sheet.append([gettext(h) for h in HEADERS])
        scope = scope_of(owner.user.role, owner.unit.id, owner.unit.path, owner.user.id)
        # The same bounds as the owner's inbox page, so the file holds what that page listed.
        bounds = query_bounds(query, self.settings.calendar, self.settings.timezone)
        async for rows in export_rows(self.store, scope, query, bounds):
            for row in rows:
                sheet.append(xlsx_row(sheet, cells(row, self.settings)))
            written += len(rows)
            if written % (PAGE * 5) == 0:
                await progress(written)
        # Saving compresses the whole sheet: seconds of CPU that must not stall requests. To
        # this claim's own scratch file: a holder whose claim ran out (another process took
        # the job over) never writes into the file the new holder is making.
        await asyncio.to_thread(workbook.save, scratch)
        return written

    async def _keep(self, job: ExportJob, scratch: Path) -> bool:
        """Keep the saved workbook as this claim's file, unless the claim ran out already
        (no copy the new holder's outcome would refuse anyway); False then."""
        if not await self.store.renew_export(job, self.settings.job_lease):
            await asyncio.to_thread(scratch.unlink, missing_ok=True)
            return False
        await self.files.keep(job, scratch)
        return True

    async def _expire(self) -> None:
        """Every process's runner: the jobs past their keeping go with their files' pieces
        (whoever deletes the rows), then this machine's own files of them and whatever its
        disk still holds that no job can want (a killed writer's scratch file)."""
        tokens = await self.store.expire_exports(datetime.now(UTC) - KEEP_FILES)
        await self.files.forget(tokens)
        await self.files.sweep(KEEP_FILES + SWEEP_AFTER)
