"""The baseline for bench/load.py: a bare Starlette endpoint, no middleware, no template, no
database. Served by uvicorn exactly like the real server (uvloop, httptools, one worker), so the
ratio real/bare measures what the application adds on top of the framework and the server.

    uvicorn hello_app:app --app-dir bench --loop uvloop --http httptools --log-level warning
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, world!")


app = Starlette(routes=[Route("/", hello)])
