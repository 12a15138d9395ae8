"""Response pieces every admin page shares: nothing personal is cached, htmx swaps get only
their block, and CSV files stream so that Excel opens them."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import StreamingResponse

NO_STORE = {"cache-control": "no-store"}

# Responses that switch on htmx's headers say so, for caches between us and the browser.
HTMX_VARY = "HX-Request, HX-History-Restore-Request"


def wants_partial(request: Request) -> bool:
    """An htmx swap asks for the named block only. Restoring history after Back is an htmx
    request too, but the browser replaces the whole page with the answer: it needs all of it."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def csv_download(rows: AsyncIterator[str], filename: str) -> StreamingResponse:
    """A CSV file streamed as it is written, opening correctly in Excel."""

    async def body() -> AsyncIterator[str]:
        yield "\ufeff"  # the byte-order mark makes Excel read UTF-8
        async for chunk in rows:
            yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "content-disposition": f'attachment; filename="{filename}"'},
    )
