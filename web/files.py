"""Serving the files attached to a report's events, to staff and on the public status page."""

from __future__ import annotations

import hashlib
from email.utils import format_datetime
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response, StreamingResponse

from lapor.complaints.records import Photo, Report
from lapor.store.photos import BlobStream, Kept, PhotoStore


def kept_response(kept: Kept, media_type: str, headers: dict[str, str]) -> Response:
    """A kept file as the answer: from this machine's disk, or the bytes the database gave.
    The same validators either way (ETag, Last-Modified), so a browser's cached copy is
    checked alike whichever machine answers."""
    if isinstance(kept, Path):
        return FileResponse(kept, media_type=media_type, headers=headers)
    size = kept.size if isinstance(kept, BlobStream) else len(kept.data)
    # A kept file never changes: its digest would do, but the bytes' length and the moment
    # it was kept identify it as well, without hashing a letter of several MB per request.
    tag = hashlib.sha256(f"{kept.kept_at.timestamp()}-{size}".encode()).hexdigest()[:32]
    headers = {
        **headers,
        "etag": f'"{tag}"',
        "last-modified": format_datetime(kept.kept_at, usegmt=True),
    }
    if isinstance(kept, BlobStream):
        headers["content-length"] = str(size)
        return StreamingResponse(kept.pieces(), media_type=media_type, headers=headers)
    return Response(kept.data, media_type=media_type, headers=headers)


async def attachment_response(
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
    try:
        kept = await photos.kept(found.filename)
    except FileNotFoundError:
        raise HTTPException(404) from None
    return kept_response(kept, found.content_type, headers)


async def photo_response(
    photos: PhotoStore,
    found: Photo | None,
    *,
    cache: str,
    small: bool = False,
) -> Response:
    """A photo a reporter sent with the report, as the caller found it among those it may
    show (404 for None); `small`: its small copy, for a page's list of photos."""
    if found is None or not photos.valid_name(found.filename):
        raise HTTPException(404)
    headers = {"cache-control": cache, "x-content-type-options": "nosniff"}
    try:
        if small and found.content_type == "image/jpeg":
            kept = await photos.small(found.filename)
        else:
            kept = await photos.kept(found.filename)
    except FileNotFoundError:
        raise HTTPException(404) from None
    return kept_response(kept, found.content_type, headers)
