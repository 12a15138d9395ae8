"""Small ASGI layers the composition root stacks: request body limit, static files with long
cache lifetimes (the rest of what every request passes through is web/front.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ONE_YEAR = 31_536_000


class BodySizeLimit:
    """Refuses request bodies above `max_bytes`, counted as they arrive: Content-Length can be
    absent (chunked) or lie. `too_large` renders the answer people see; it may read the store
    (the widget's frame checks its key and host before it answers)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        too_large: Callable[[Scope], Awaitable[Response]] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.too_large = too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response
        if self.too_large is not None:
            response = await self.too_large(scope)
        else:
            response = PlainTextResponse(
                "Request body too large", status_code=413, headers={"connection": "close"}
            )
        await response(scope, receive, send)


class BodyTooLarge(Exception):
    pass


class VersionedStaticFiles(StaticFiles):
    """Assets linked with ?v=<hash> never change under that URL: cache them for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["cache-control"] = (
                f"public, max-age={ONE_YEAR}, immutable" if versioned else "public, max-age=300"
            )
        return response
