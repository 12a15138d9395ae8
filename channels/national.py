"""Status callbacks of the national portal SP4N-LAPOR! at `POST /channels/national`, the URL
given to the portal with the shared secret (docs/national.md): each is signed (HMAC-SHA256 of
the raw body with LAPOR_NATIONAL_SECRET in `X-Lapor-Signature: sha256=...`), lands on the
timeline of the report with its national tracking ID once per event id, and is answered with
JSON. A wrong or missing signature is refused with 403 before the body is read as anything."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lapor.complaints.national import SIGNATURE_HEADER, CallbackError, read_callback
from lapor.complaints.signatures import body_signature_ok
from lapor.web.services import services

# An event is a few hundred bytes: the portal sends one per callback.
MAX_BODY = 64_000


def _answer(status: int, **body: object) -> Response:
    return JSONResponse(body, status_code=status, headers={"cache-control": "no-store"})


async def _raw_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def callback(request: Request) -> Response:
    svc = services(request)
    settings = svc.settings.national
    if not settings.enabled:
        return _answer(404, error="not found")
    raw = await _raw_body(request)
    if raw is None:
        return _answer(413, error="too large")
    if not body_signature_ok(settings.secret, raw, request.headers.get(SIGNATURE_HEADER)):
        return _answer(403, error="wrong or missing signature")
    try:
        event = read_callback(raw)
    except CallbackError as exc:
        return _answer(400, error=str(exc))
    recorded = await svc.store.national_event(event)
    if recorded is None:
        # The portal may retry it: the report may be entered here, with its ID, meanwhile.
        return _answer(404, error="no report has this tracking_id")
    return _answer(200, event_id=event.event_id, duplicate=not recorded)
