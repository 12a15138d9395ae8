"""Serving the files attached to a report's events, to staff and on the public status page."""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response

from lapor.complaints.records import Photo, Report
from lapor.store.photos import PhotoStore


def attachment_response(
    photos: PhotoStore, report: Report, attachment_id: int, *, cache: str
) -> Response:
    """A file attached to one of `report`'s events as given: 404 for any other id. Letters
    are downloads, never shown inline, so nothing in a PDF runs on our origin."""
    found = next((a for e in report.events for a in e.attachments if a.id == attachment_id), None)
    if found is None or not photos.valid_name(found.filename):
        raise HTTPException(404)
    headers = {"cache-control": cache, "x-content-type-options": "nosniff"}
    if found.content_type == "application/pdf":
        headers["content-disposition"] = f'attachment; filename="lampiran-{found.id}.pdf"'
    return FileResponse(photos.path(found.filename), media_type=found.content_type, headers=headers)


async def photo_response(
    photos: PhotoStore, found: Photo | None, *, cache: str, small: bool = False
) -> Response:
    """A photo a reporter sent with the report, as the caller found it among those it may
    show (404 for None); `small`: its small copy, for a page's list of photos."""
    if found is None or not photos.valid_name(found.filename):
        raise HTTPException(404)
    headers = {"cache-control": cache, "x-content-type-options": "nosniff"}
    path = photos.path(found.filename)
    if small and found.content_type == "image/jpeg":
        path = await asyncio.to_thread(photos.thumbnail, found.filename)
    return FileResponse(path, media_type=found.content_type, headers=headers)
