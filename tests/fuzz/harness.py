"""The fuzzer's harness: a real app with callers of every kind, requests sent raw, and the three
properties every answer must keep.

- never a 5xx (an exception the app raises reaches the test through httpx's transport, so it
  fails the example too);
- nothing logged at ERROR or with a traceback;
- a refusal (any 4xx, or what a caller names as one) changes nothing: not a row of the
  database, not a file under the data directory. Photos parked in `pending/` are the one
  exception: a form sent back with a mistake keeps its photos there by design (store/photos.py)
  and the sweeper forgets them.

The app and its world are built once per test (`fuzz` below, used as `async with`) and shared
by the test's examples; each example takes a snapshot before its request and compares after, so
what an earlier example stored is simply part of the world the next one sees. That is why the
tests suppress Hypothesis's function-scoped-fixture check.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, event, settings
from starlette.routing import Mount, Route

from lapor.admin import auth
from lapor.complaints.records import Kiosk, Widget
from tests.conftest import AppHarness, MakeHarness

EXAMPLES = int(os.environ.get("LAPOR_FUZZ_EXAMPLES", "25"))
"""Examples per fuzz test (a test may take a multiple of it): small in CI, large to hunt."""
RANDOM = os.environ.get("LAPOR_FUZZ_RANDOM") == "1"
"""Explore new examples (kept in .hypothesis/) instead of CI's same ones on every run."""

HOST = "https://dinkes.example.go.id"  # the widget's registered site
ORIGIN = "https://lapor.example.go.id"  # our own, as a browser posting our forms sends it
# A hall pairing tablets, a citizen mashing the form: limits are tested elsewhere
# (tests/web/test_ratelimit.py); here they would only stop the deep code from running.
NO_LIMITS = {
    name: "1000000/minute"
    for name in (
        "submit_limit_per_address",
        "submit_limit_per_form",
        "track_limit_per_address",
        "login_limit_per_account",
        "login_limit_per_account_address",
        "login_limit_per_address",
        "kiosk_pair_limit_per_address",
        "kiosk_pair_limit",
        "open311_limit_per_key",
    )
}


def fuzz_settings(scale: float = 1) -> settings:
    """Bounded for CI: `EXAMPLES` × `scale` examples, the same ones on every run unless RANDOM,
    then new ones, with the failures found kept in .hypothesis/ and replayed first."""
    return settings(
        max_examples=max(1, round(EXAMPLES * scale)),
        deadline=None,
        derandomize=not RANDOM,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # the app is shared on purpose (above)
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# Starlette (1.10) leaves the spooled file of a multipart file part cut short (no closing
# boundary) unclosed: the part never ends, so it is in no FormData the app could close, and
# CPython closes it when the parser is dropped, with a ResourceWarning. Nothing of ours can
# reach that file; the fuzz tests of forms let that one warning through.
STARLETTE_CUT_PART = pytest.mark.filterwarnings(
    "ignore:Unclosed file <tempfile.SpooledTemporaryFile:ResourceWarning"
)


def covers(*routes: str) -> Callable[[Any], Any]:
    """Name the routes ("METHOD /path") a fuzz test sends hostile input to; the coverage check
    (test_routes.py) fails for any route of the app that no test names."""

    def mark(test: Any) -> Any:
        test.fuzz_routes = (*getattr(test, "fuzz_routes", ()), *routes)
        return test

    return mark


def app_routes(routes: Iterable[Route | Mount | Any], prefix: str = "") -> set[str]:
    """Every "METHOD /path" the app answers, Mounts walked; a Mount of files is one route."""
    found: set[str] = set()
    for route in routes:
        if isinstance(route, Mount):
            inner = route.routes
            if inner:
                found |= app_routes(inner, prefix + route.path)
            else:
                found.add(f"GET {prefix}{route.path}/{{path}}")
        elif isinstance(route, Route):
            for method in route.methods or ("GET",):
                if method != "HEAD":
                    found.add(f"{method} {prefix}{route.path}")
    return found


# -- requests, raw ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Body:
    content: bytes
    content_type: str | None

    def headers(self) -> dict[str, str]:
        return {} if self.content_type is None else {"content-type": self.content_type}


def segment(raw: bytes | str) -> str:
    """One path segment as sent: every byte that is not plainly safe percent-encoded."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return quote_from_bytes(data, safe="") or "%20"


def query_string(pairs: Sequence[tuple[str | bytes, str | bytes]]) -> str:
    def enc(value: str | bytes) -> str:
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        return quote_from_bytes(data, safe="")

    return "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)


def urlencoded(pairs: Sequence[tuple[str, str | bytes]]) -> Body:
    text = "&".join(
        f"{quote(k)}={quote_from_bytes(v) if isinstance(v, bytes) else quote(v)}" for k, v in pairs
    )
    return Body(text.encode("ascii"), "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class Part:
    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None


def multipart(parts: Sequence[Part], boundary: str = "fuzzBoundary7MA4YWxk") -> Body:
    out = bytearray()
    for part in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        out += f"Content-Disposition: {disposition}\r\n".encode("utf-8", "surrogatepass")
        if part.content_type is not None:
            out += f"Content-Type: {part.content_type}\r\n".encode("utf-8", "surrogatepass")
        out += b"\r\n" + part.value + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return Body(bytes(out), f"multipart/form-data; boundary={boundary}")


# -- the world the callers act in ---------------------------------------------------------------
@dataclass
class Snapshot:
    """Digests of every table's rows and every kept file under the data directory."""

    digests: dict[str, str]

    def changes(self, after: Snapshot) -> list[str]:
        names = sorted(set(self.digests) | set(after.digests))
        return [n for n in names if self.digests.get(n) != after.digests.get(n)]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass(repr=False)  # Hypothesis prints the fixture with every failing example
class Fuzz:
    h: AppHarness
    widget: Widget
    widget_key: str
    kiosk: Kiosk
    credential: str  # the paired kiosk's
    report_id: int  # a poster's report with a photo, forwarded to dinas
    code: str  # its tracking code, as printed
    secret: str  # its reporter's private link
    _log: _Records = field(default_factory=_Records)
    caller: str = ""  # the e-mail of the member of staff a test signs in as

    def __repr__(self) -> str:
        return "Fuzz(...)"

    @property
    def client(self) -> httpx.AsyncClient:
        return self.h.client

    @property
    def svc(self) -> Any:
        return self.h.app.state.services

    def snapshot(self) -> Snapshot:
        digests: dict[str, str] = {}
        data = self.h.settings.data_dir
        with closing(sqlite3.connect(f"file:{data / 'lapor.db'}?mode=ro", uri=True)) as conn:
            tables = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            for (name,) in tables:
                rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{name}"'))
                digests[f"table {name}"] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        pending = self.h.settings.photo_dir / "pending"
        for path in sorted(data.rglob("*")):
            if not path.is_file() or path.name.startswith("lapor.db") or pending in path.parents:
                continue
            digests[f"file {path.relative_to(data)}"] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
        return Snapshot(digests)

    async def sign_in(self, email: str) -> str:
        """A fresh session for `email` in the client's cookie jar, and its CSRF token: made in
        the store, as the login makes it, without argon2 on every example. An account an
        earlier example deactivated is active again."""
        svc = self.svc
        user = await svc.store.user_by_email(email)
        assert user is not None, email
        if not user.active:
            await svc.store.set_user_active(user.id, True)
        token = auth.new_session_token()
        await svc.store.create_session(user.id, auth.token_hash(token), 3600)
        session = await svc.store.session(auth.token_hash(token))
        assert session is not None
        self.client.cookies.clear()
        self.client.cookies.set(auth.SESSION_COOKIE, token)
        return str(session.csrf_token)

    async def send(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: Body | None = None,
        headers: dict[str, str] | None = None,
        refused: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """One request, and the three properties checked on its answer. `refused` says which
        answers are refusals when a 4xx is not the only kind (the widget's frame answers 200)."""
        before = self.snapshot()
        self._log.records.clear()
        url = f"{path}?{query}" if query else path
        # As bytes: a hostile header need not be ASCII, which httpx would refuse to send as str.
        all_headers = [
            (name.encode(), value.encode())
            for name, value in {**(body.headers() if body else {}), **(headers or {})}.items()
        ]
        response = await self.client.request(
            method, url, content=body.content if body else None, headers=all_headers
        )
        # `pytest --hypothesis-show-statistics` shows how often each answer came: whether the
        # examples get past the door.
        event(f"{method} {response.status_code}")
        assert response.status_code < 500, (response.status_code, response.text[:2000])
        loud = [
            r
            for r in self._log.records
            if r.levelno >= logging.ERROR or r.exc_info or "Traceback" in r.getMessage()
        ]
        assert not loud, [f"{r.name} {r.levelname}: {r.getMessage()}" for r in loud]
        is_refusal = refused(response) if refused else 400 <= response.status_code < 500
        if is_refusal:
            changed = before.changes(self.snapshot())
            assert changed == [], f"refused with {response.status_code} yet changed {changed}"
        return response


@asynccontextmanager
async def fuzz(make_harness: MakeHarness, **overrides: Any) -> AsyncIterator[Fuzz]:
    """The standard world and one of each entry point, with a report to act on."""
    from tests.conftest import jpeg_bytes

    async with make_harness(**{**NO_LIMITS, **overrides}) as h:
        svc = h.app.state.services
        world = h.world
        await world.user("petugas@dinas.go.id", "officer", "dinas")
        widget = await svc.store.add_widget(world.units["dinas"].id, [HOST])
        widget_key = svc.signing.widget_key(widget.id, widget.version)
        _, pairing = await svc.store.kiosks.add(
            world.units["prov"].id, "Lantai 1", datetime.now(UTC)
        )
        kiosk = await svc.store.kiosks.pair(pairing, datetime.now(UTC))
        assert kiosk is not None
        credential = svc.signing.kiosk_credential(kiosk.id, kiosk.version)
        sent = await h.submit(files=[("photos", ("foto.jpg", jpeg_bytes(), "image/jpeg"))])
        assert sent.status_code == 303, sent.text
        _, _, code, secret = sent.headers["location"].split("?")[0].split("/")
        report = await svc.store.report_by_tracking_code(code.replace("-", ""))
        assert report is not None
        forwarded = await h.act(
            "koor@prov.go.id",
            report.id,
            "forward",
            title="Antrean",
            category="pelayanan",
            unit=str(world.units["dinas"].id),
        )
        assert forwarded.status_code == 303, forwarded.text
        h.client.cookies.clear()
        records = _Records()
        logging.getLogger().addHandler(records)
        try:
            yield Fuzz(h, widget, widget_key, kiosk, credential, report.id, code, secret, records)
        finally:
            logging.getLogger().removeHandler(records)
