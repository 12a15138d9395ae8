"""Log lines for operators: one per request and one per background job run, as JSON lines or
plain `key=value` text (LAPOR_LOG_FORMAT), on stderr for journald or a file to rotate.

What a line may say is narrow on purpose: method, the route's template (`/t/{code}/{secret}`,
never the path itself, which carries tracking codes and the secrets of private links), status,
duration, a request id, and the ids of what was touched (a report's id, an outbox row's). Never
what a citizen wrote or who they are: no text, name, phone, e-mail, address or query string.
A test reads the log of a real submission for them.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from starlette.types import Scope

FORMATS = ("plain", "json")
requests_log = logging.getLogger("lapor.requests")
jobs_log = logging.getLogger("lapor.jobs")

# The facts the request being answered has gathered (its report's id, say), for its line.
_facts: ContextVar[dict[str, Any] | None] = ContextVar("lapor_request_facts", default=None)
# A request id from the proxy in front is kept when it looks like one (nginx's $request_id).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ids = random.Random()


def note(**facts: Any) -> None:
    """Add ids to the line of the request being answered (nothing outside a request)."""
    found = _facts.get()
    if found is not None:
        found.update(facts)


def job_run(job: str, started: float, **facts: Any) -> None:
    """One line for one run of a background job; `started` is its time.monotonic()."""
    took = round((time.monotonic() - started) * 1000, 1)
    jobs_log.info("job", extra={"facts": {"job": job, "ms": took, **facts}})


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The id of the request with these headers: the proxy's, when it sent one that looks like
    one, else a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            offered = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(offered):
                return offered
    # Not a secret, only a name to find the line by: the cheap generator, not the system's
    # (a syscall per request, which showed in the submission's profile).
    return f"{_ids.getrandbits(64):016x}"


def gather_facts() -> tuple[dict[str, Any], Token[dict[str, Any] | None]]:
    """Start gathering what `note` adds for the request about to be answered."""
    facts: dict[str, Any] = {}
    return facts, _facts.set(facts)


def request_done(
    token: Token[dict[str, Any] | None],
    facts: dict[str, Any],
    scope: Scope,
    route: str,
    status: int,
    seconds: float,
    request_id: str,
) -> None:
    """The request's one line, when its answer is done (web/front.py)."""
    _facts.reset(token)
    params = scope.get("path_params") or {}
    if "report_id" in params and "report_id" not in facts:
        facts["report_id"] = params["report_id"]
    requests_log.info(
        "request",
        extra={
            "facts": {
                "method": scope["method"],
                "route": route,
                "status": status,
                "ms": round(seconds * 1000, 1),
                "request_id": request_id,
                **facts,
            }
        },
    )


def _when(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: at, level, logger, message and the record's facts."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": _when(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "facts", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _plain_value(value: Any) -> str:
    text = str(value)
    if text and not any(c.isspace() or c in '"=' for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """`at level logger message key=value ...`, for a person reading a terminal or journalctl."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_when(record), record.levelname, record.name, record.getMessage()]
        facts = getattr(record, "facts", None) or {}
        parts += [f"{key}={_plain_value(value)}" for key, value in facts.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def logging_config(log_format: str) -> dict[str, Any]:
    """The logging setup `lapor serve` hands uvicorn (and so each of its workers): ours and
    uvicorn's own lines in one format on stderr."""
    formatter = JsonFormatter if log_format == "json" else PlainFormatter
    handler = {"class": "logging.StreamHandler", "formatter": "lapor", "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["stderr"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"lapor": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": handler},
        "loggers": {"lapor": quiet, "uvicorn": quiet, "uvicorn.access": quiet},
        # Other libraries' warnings in the same format, not Python's bare last resort.
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
