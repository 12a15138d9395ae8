"""Shared fixtures and factories.

`make_settings` gives a Settings object on a temporary data dir; `app_client` runs the real app
(lifespan included: migrations, writer task) against a real SQLite file; `world` seeds a small
organisation through the store so tests read like the domain.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from bs4 import BeautifulSoup

from lapor.admin.passwords import hash_password
from lapor.complaints.access import Reach, Scope, scope_of
from lapor.complaints.records import Poster, Unit, User
from lapor.server import create_app
from lapor.settings import Settings
from lapor.store.db import Database
from lapor.store.migrate import migrate
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.html import field_values

TEST_KEY = "test-signing-key-" + "x" * 16
EVERYTHING = Scope(Reach.ALL, 0, "")  # an admin's reach
PASSWORD = "correct horse battery"
_FAST_HASH: dict[str, str] = {}


def fast_password_hash(password: str = PASSWORD) -> str:
    # argon2 is slow on purpose; hash each test password once per session.
    if password not in _FAST_HASH:
        _FAST_HASH[password] = hash_password(password)
    return _FAST_HASH[password]


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values = {
            "data_dir": str(tmp_path / "data"),
            "secret_keys": TEST_KEY,
            "base_url": "https://lapor.example.go.id",
            # The harness's client address (below) scrapes /metrics as a Prometheus would.
            "metrics_allow": "127.0.0.1,198.51.100.7",
        }
        values.update({k: str(v) for k, v in overrides.items()})
        return Settings.load(environ={}, env_file=None, **values)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_service(reason: str) -> NoReturn:
    """Skip on a developer's machine without the service; fail where CI promised it."""
    if os.environ.get("LAPOR_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def postgres_url() -> str | None:
    return os.environ.get("LAPOR_TEST_DATABASE_URL") or None


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend. PostgreSQL gets a schema of its own per
    test, dropped afterwards, so tests never see each other's rows."""
    if request.param == "sqlite":
        db = Database(settings.database_url)
        await db.connect()
        await migrate(db)
        yield db
        await db.close()
        return
    async with postgres_schema() as (url, schema):
        db = Database(url, schema=schema)
        await db.connect()
        try:
            await migrate(db)
            yield db
        finally:
            await db.close()


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[tuple[str, str]]:
    """An empty schema of its own on the test PostgreSQL (its URL and name), dropped
    afterwards; skipped (or failed, in CI) without one."""
    url = postgres_url()
    if url is None:
        require_service("LAPOR_TEST_DATABASE_URL is not set (.ci/run sets it)")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = Database(url)
    await admin.connect()
    await _pg_exec(admin, f'CREATE SCHEMA "{schema}"')
    try:
        yield url, schema
    finally:
        await _pg_exec(admin, f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


async def _pg_exec(db: Database, sql: str) -> None:
    from sqlalchemy import text

    def run(conn: Any) -> None:
        conn.execute(text(sql))

    await db.write(run)


@pytest.fixture
async def store(database: Database) -> Store:
    return Store(database)


@dataclass
class World:
    """A province with two agencies: a coordinator at the province, posters at the agencies."""

    store: Store
    signing: Signing
    units: dict[str, Unit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    posters: dict[str, Poster] = field(default_factory=dict)

    async def unit(self, slug: str, parent: str | None = None, name: str | None = None) -> Unit:
        unit = await self.store.add_unit(slug, name or f"Unit {slug}", parent)
        self.units[slug] = unit
        return unit

    async def user(self, email: str, role: str, unit: str, password: str = PASSWORD) -> User:
        user = await self.store.add_user(
            email, fast_password_hash(password), role, self.units[unit].id
        )
        self.users[email] = user
        return user

    async def poster(self, name: str, unit: str, label: str | None = None) -> Poster:
        poster = await self.store.add_poster(self.units[unit].id, label or f"Loket {name}")
        self.posters[name] = poster
        return poster

    def scope(self, email: str) -> Scope:
        """What this member of staff may see, as the workspace computes it."""
        user = self.users[email]
        unit = next(u for u in self.units.values() if u.id == user.unit_id)
        return scope_of(user.role, unit.id, unit.path)

    def subtree(self, unit: str) -> Scope:
        return Scope(Reach.SUBTREE, self.units[unit].id, self.units[unit].path)

    def code(self, name: str) -> str:
        poster = self.posters[name]
        return self.signing.poster_code(poster.id, poster.version)

    async def standard(self) -> World:
        await self.unit("prov", name="Pemerintah Provinsi")
        await self.unit("dinas", "prov", "Dinas Kependudukan")
        await self.unit("rsud", "prov", "RSUD Ulin")
        await self.unit("other", name="Kabupaten Lain")
        await self.user("koor@prov.go.id", "coordinator", "prov")
        await self.user("admin@prov.go.id", "admin", "prov")
        await self.user("insp@prov.go.id", "inspector", "prov")
        await self.user("koor@other.go.id", "coordinator", "other")
        await self.poster("loket", "dinas", "Loket 3 – Perekaman KTP")
        await self.poster("igd", "rsud", "IGD")
        await self.poster("lain", "other", "Loket Lain")
        return self


@dataclass
class AppHarness:
    app: Any
    client: httpx.AsyncClient
    settings: Settings
    world: World

    async def form(self, poster: str = "loket", **headers: str) -> tuple[str, BeautifulSoup]:
        code = self.world.code(poster)
        response = await self.client.get(f"/q/{code}", headers=headers)
        assert response.status_code == 200, response.text
        page = BeautifulSoup(response.text, "html.parser")
        token = page.find("input", attrs={"name": "token"})
        assert token is not None
        return str(token["value"]), page

    async def submit(
        self,
        poster: str = "loket",
        *,
        token: str | None = None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
        **fields: str,
    ) -> httpx.Response:
        if token is None:
            token, _ = await self.form(poster)
        data = {
            "token": token,
            "kind": "pengaduan",
            "identity": "anonim",
            "text": "Antrean sangat panjang dan loket tutup sebelum jam pelayanan.",
        }
        data.update(fields)
        return await self.client.post(
            f"/q/{self.world.code(poster)}", data=data, files=files or None
        )

    async def outbox(self) -> list[Any]:
        """The queued mail with the words it is sent in: the rows keep the facts, the sender
        composes them (jobs/mail.py)."""
        svc = self.app.state.services
        return [svc.mail.written(m) for m in await svc.store.list_outbox()]

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post("/admin/login", data={"email": email, "password": password})

    async def act(self, email: str, report_id: int, path: str, **data: str) -> httpx.Response:
        """Sign in as `email`, open the report's page and post its `path` form with `data`
        over the form's own fields (CSRF token, version): what a member of staff does."""
        self.client.cookies.clear()
        assert (await self.login(email)).status_code == 303
        page = BeautifulSoup(
            (await self.client.get(f"/admin/reports/{report_id}")).text, "html.parser"
        )
        form = page.find("form", action=f"/admin/reports/{report_id}/{path}")
        assert form is not None, f"{email} is offered {path}"
        fields = field_values(i for i in form.find_all("input") if i.get("type") != "checkbox")
        return await self.client.post(f"/admin/reports/{report_id}/{path}", data={**fields, **data})

    async def csrf(self, path: str = "/admin") -> str:
        page = BeautifulSoup((await self.client.get(path)).text, "html.parser")
        field_ = page.find("input", attrs={"name": "csrf"})
        assert field_ is not None
        return str(field_["value"])


MakeHarness = Callable[..., AbstractAsyncContextManager[AppHarness]]
"""The `make_harness` fixture: settings overrides in, the harness as `async with`."""


@pytest.fixture
def make_harness(make_settings: Callable[..., Settings]) -> MakeHarness:
    """Build the real app on SQLite with the standard world; use as `async with`."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[AppHarness]:
        settings = make_settings(**overrides)
        app = create_app(settings, run_background_tasks=False)
        async with app.router.lifespan_context(app):
            svc = app.state.services
            world = await World(svc.store, svc.signing).standard()
            transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 4711))
            async with httpx.AsyncClient(
                transport=transport, base_url="https://lapor.example.go.id", follow_redirects=False
            ) as client:
                yield AppHarness(app, client, settings, world)

    return factory


@asynccontextmanager
async def restarted(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over `settings` again, seeding nothing: a harness's deployment started
    anew on the same data, e.g. with other signing keys (make_settings(secret_keys=...))."""
    app = create_app(settings, run_background_tasks=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 4711))
        async with httpx.AsyncClient(
            transport=transport, base_url="https://lapor.example.go.id", follow_redirects=False
        ) as client:
            yield client


@pytest.fixture
async def harness(make_harness: MakeHarness) -> AsyncIterator[AppHarness]:
    async with make_harness() as h:
        yield h


def jpeg_bytes(
    width: int = 64,
    height: int = 48,
    color: tuple[int, int, int] = (200, 30, 30),
    exif: bytes | None = None,
) -> bytes:
    import io

    from PIL import Image

    image = Image.new("RGB", (width, height), color)
    out = io.BytesIO()
    if exif is not None:
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return out.getvalue()
