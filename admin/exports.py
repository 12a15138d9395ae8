"""Exports of the inbox's filtered list: CSV streamed straight to the browser, XLSX asked for
here, written in the background (jobs/exports.py) with its progress shown here. Both walk the
list page by page with the inbox's keyset cursor, so a million rows never sit in memory.
Exports never carry the reporter's identity."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin.access import staff_only, staff_scope
from lapor.admin.queries import filter_errors, query_bounds, request_query
from lapor.admin.responses import HTMX_VARY, NO_STORE, csv_download, wants_partial
from lapor.complaints.inbox import InboxQuery, read_inbox_query
from lapor.complaints.records import StaffSession
from lapor.jobs.exports import HEADERS, cells, export_rows
from lapor.settings import Settings
from lapor.web.files import kept_response
from lapor.web.i18n import current_language, gettext
from lapor.web.services import services
from lapor.web.spreadsheets import XLSX_MEDIA_TYPE, csv_cell


def _refuse(errors: list[str]) -> HTTPException:
    return HTTPException(400, " ".join(filter_errors(errors)))


def _query(request: Request) -> InboxQuery:
    query, errors = request_query(request)
    if errors:
        raise _refuse(errors)
    return query


def _file_name(extension: str, settings: Settings) -> str:
    return f"laporan-{datetime.now(settings.timezone):%Y%m%d-%H%M}.{extension}"


@staff_only()
async def export_csv(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    query = _query(request)
    settings = svc.settings
    # Everything the query can fail on is settled before the response starts: once the first
    # byte is sent, an error can only reset the connection, and a cut file looks whole.
    bounds = query_bounds(query, settings)

    async def body() -> AsyncIterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([gettext(h) for h in HEADERS])
        yield out.getvalue()
        async for rows in export_rows(svc.store, staff_scope(session), query, bounds):
            out.seek(0)
            out.truncate()
            for row in rows:
                writer.writerow([csv_cell(c) for c in cells(row, settings)])
            yield out.getvalue()

    return csv_download(body(), _file_name("csv", settings))


@staff_only()
async def export_xlsx_start(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form()
    raw = str(form.get("query", ""))[:2000]
    query, errors = read_inbox_query(parse_qs(raw))
    if errors:
        raise _refuse(errors)
    total = None
    if not query.filtered:
        total = sum((await svc.store.status_counts(staff_scope(session))).values())
    # The file is written later, in the language the page was read in.
    asked = urlencode([*query.params(), ("lang", current_language())])
    token = await svc.store.create_export(session.user.id, asked, total)
    request.app.state.exports.wake()
    return RedirectResponse(f"/admin/exports/{token}", status_code=303)


async def _own_job(request: Request, session: StaffSession) -> Any:
    token = request.path_params["token"]
    job = (
        await services(request).store.export_job(token, session.user.id)
        if len(token) == 32
        else None
    )
    if job is None:
        raise HTTPException(404)
    return job


@staff_only()
async def export_status(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    job = await _own_job(request, session)
    context = {"session": session, "job": job}
    headers = {**NO_STORE, "vary": HTMX_VARY}
    if wants_partial(request):
        return svc.templates.response(
            request, "admin/export.html", context, block="progress", headers=headers
        )
    return svc.templates.response(request, "admin/export.html", context, headers=headers)


@staff_only()
async def export_download(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    job = await _own_job(request, session)
    kept = await svc.export_files.opened(job) if job.status == "done" else None
    if kept is None:
        raise HTTPException(404)
    disposition = f'attachment; filename="{_file_name("xlsx", svc.settings)}"'
    return kept_response(
        kept,
        XLSX_MEDIA_TYPE,
        {**NO_STORE, "content-disposition": disposition},
    )
