"""Whether this process answers (liveness) and whether it should be sent requests (readiness).

A load balancer or an orchestrator asks two different questions. `/healthz/live` answers
whether the process is alive at all: restart it if not. `/healthz/ready` answers whether to
send it requests: the database answers, its schema is the one this code was written for, and
the process is not draining for a stop (docs/deploy.md, Stopping). `/healthz`, older than
both, stays what monitoring already polls: it is the readiness check, with the same body.

The process does not listen while it migrates (uvicorn listens once the startup, which
migrates, is done), so "migrating" is a refused connection for the process that migrates;
a database whose schema is behind this code (another machine has not finished) answers 503.
A schema ahead of this code is ready: during an upgrade the old release runs beside the new
one's expanded schema by design (docs/deploy.md, Upgrading).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lapor.web.services import services

log = logging.getLogger("lapor.health")

NO_STORE = {"cache-control": "no-store"}
CHECK_TIMEOUT = 5.0


@dataclass
class Lifecycle:
    """The process's own state as readiness reports it; server.py sets `draining` when a stop
    begins (SIGTERM)."""

    head: str  # the schema revision this code expects (store.migrate.head())
    known: frozenset[str]  # every revision it knows: one not among them is a newer release's
    draining: bool = False


async def live(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


def _refused(reason: str, database: str = "ok") -> Response:
    return JSONResponse(
        {"status": "error", "database": database, "reason": reason},
        status_code=503,
        headers=NO_STORE,
    )


async def ready(request: Request) -> Response:
    svc = services(request)
    lifecycle: Lifecycle = request.app.state.lifecycle
    if lifecycle.draining:
        return _refused("draining")
    try:
        # One query answers both: the database is reachable and at which revision it is.
        revision = await asyncio.wait_for(svc.store.schema_revision(), timeout=CHECK_TIMEOUT)
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("health check failed: %s", exc)
        return _refused("database", database="unreachable")
    if revision != lifecycle.head and (revision is None or revision in lifecycle.known):
        return _refused("schema")
    return JSONResponse({"status": "ok", "database": "ok"}, headers=NO_STORE)
