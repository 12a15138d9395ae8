"""Two machines, one organisation (issue 19): two apps with data directories of their own on
one PostgreSQL schema (and one Redis), as two servers behind a load balancer would be. What a
person does through one is right through the other: photos and attachments, photos held by a
form between its error and its resend, XLSX exports, revocations within the stated bound, rate
limits.

The photo and export tests also run on SQLite, where "both machines" are the one app (its
photos and exports in the data directory), so the same walk holds for the default deployment.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select, update

from lapor.complaints import open311 as open311_rules
from lapor.complaints import tracking
from lapor.server import create_app
from lapor.settings import Settings
from lapor.store import cache
from lapor.store import schema as t
from lapor.store.cache import LOOKUP_CACHE_SECONDS
from lapor.store.db import Database
from lapor.store.export_files import FileExportStorage
from lapor.store.export_pieces import DatabaseExportStorage
from lapor.store.photo_blobs import DatabasePhotoStore
from lapor.store.photo_files import FilePhotoStore
from tests.conftest import PASSWORD, AppHarness, World, jpeg_bytes, postgres_schema, require_service
from tests.html import field_values, one, tag

STORY = "Antrean perekaman KTP sangat panjang dan loket tutup sebelum jam 12."
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Past STREAM_ABOVE (store/photo_blobs.py), and not a whole number of its pieces.
LONG_PDF = b"%PDF-1.4\n" + bytes(range(256)) * 5000 + b"\n%%EOF\n"
BASE = "https://lapor.example.go.id"


@dataclass
class Machines:
    a: AppHarness
    b: AppHarness
    backend: str

    @property
    def shared(self) -> bool:
        return self.a is not self.b

    def kept_names(self) -> Callable[[Any], set[str]]:
        def read(conn: Any) -> set[str]:
            query = select(t.photo_blobs.c.name).where(t.photo_blobs.c.kept.is_(True))
            return set(conn.execute(query).scalars())

        return read


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def client_for(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 4711))
    return httpx.AsyncClient(transport=transport, base_url=BASE, follow_redirects=False)


def a_citizen() -> str:
    """An address of its own for each test: counts in the shared Redis outlive a test."""
    return f"2001:db8::{random.randrange(1, 0xFFFF):x}:{random.randrange(1, 0xFFFF):x}"


@asynccontextmanager
async def machine(
    settings: Settings, database: Database, world: World | None, address: str
) -> AsyncIterator[AppHarness]:
    app = create_app(settings, database=database, run_background_tasks=False)
    async with app.router.lifespan_context(app):
        svc = app.state.services
        seeded = world or await World(svc.store, svc.signing).standard()
        async with client_for(app, address) as client:
            yield AppHarness(app, client, settings, seeded)


def redis_url() -> str:
    url = os.environ.get("LAPOR_TEST_REDIS_URL")
    if not url:
        require_service("LAPOR_TEST_REDIS_URL is not set (.ci/run sets it)")
    return url


@asynccontextmanager
async def two_machines(
    make_settings: Callable[..., Settings], tmp_path: Path, **overrides: Any
) -> AsyncIterator[Machines]:
    """Machines A and B: one PostgreSQL schema and one Redis, a data directory each."""
    async with postgres_schema() as (url, schema):
        common = {"database_url": url, "redis_url": redis_url(), **overrides}
        address = a_citizen()
        settings_a = make_settings(data_dir=tmp_path / "a", **common)
        settings_b = make_settings(data_dir=tmp_path / "b", **common)
        async with (
            machine(settings_a, Database(url, schema=schema), None, address) as a,
            machine(settings_b, Database(url, schema=schema), a.world, address) as b,
        ):
            yield Machines(a, b, "postgresql")


@pytest.fixture(params=["sqlite", "postgresql"])
async def machines(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Machines]:
    if request.param == "sqlite":
        settings = make_settings()
        async with machine(
            settings, Database(settings.database_url), None, "198.51.100.7"
        ) as one_app:
            yield Machines(one_app, one_app, "sqlite")
        return
    async with two_machines(make_settings, tmp_path) as both:
        yield both


async def login(h: AppHarness, email: str) -> None:
    h.client.cookies.clear()
    response = await h.client.post("/admin/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def act(h: AppHarness, email: str, report_id: int, path: str, **data: str) -> None:
    response = await h.act(email, report_id, path, **data)
    assert response.status_code == 303, response.text
    h.client.cookies.clear()


async def report_id_of(h: AppHarness, code: str) -> int:
    report = await h.app.state.services.store.report_by_tracking_code(tracking.normalize(code))
    assert report is not None
    return int(report.id)


def decoded(response: httpx.Response) -> tuple[int, int]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as image:
        image.load()
        return image.size


async def test_a_photo_sent_through_one_machine_is_served_by_the_other(
    machines: Machines,
) -> None:
    a, b = machines.a, machines.b
    response = await a.submit(
        text=STORY, files=[("photos", ("ktp.jpg", jpeg_bytes(2000, 1500), "image/jpeg"))]
    )
    assert response.status_code == 303, response.text
    private = response.headers["location"].removesuffix("?sent=1")
    code = private.split("/")[2]
    # The citizen's private page, opened on the other machine, shows the photo it sent.
    page = soup(await b.client.get(private))
    [img] = page.select("ul.photos img")
    src = str(img["src"])
    assert src.startswith(f"{private}/photos/") and src.endswith("?size=small")
    assert max(decoded(await b.client.get(src))) == 320
    assert decoded(await b.client.get(src.removesuffix("?size=small"))) == (1600, 1200)
    # Once verified, the report's public page on the other machine shows it too.
    await act(
        a,
        "koor@prov.go.id",
        await report_id_of(a, code),
        "forward",
        title="Antrean",
        category="pelayanan",
        unit=str(a.world.units["dinas"].id),
    )
    public = soup(await b.client.get(f"/t/{code}"))
    [shown] = public.select("ul.photos img")
    small = await b.client.get(str(shown["src"]))
    assert max(decoded(small)) == 320 and small.headers["cache-control"].startswith("public")
    assert small.headers["etag"] and small.headers["last-modified"]
    # The small copy B made is A's too, the same bytes.
    assert (await a.client.get(str(shown["src"]))).content == small.content
    # Staff see it on either machine.
    await login(b, "koor@prov.go.id")
    report_id = await report_id_of(b, code)
    staff = await b.client.get(f"/admin/reports/{report_id}/photos/0")
    assert decoded(staff) == (1600, 1200)
    assert staff.headers["cache-control"] == "private, max-age=3600"
    if machines.shared:
        # Neither machine keeps the photo on its own disk.
        for h in (a, b):
            assert not list(h.settings.photo_dir.rglob("*.jpg"))


async def test_an_answers_attachments_uploaded_on_one_machine_are_served_by_the_other(
    machines: Machines,
) -> None:
    a, b = machines.a, machines.b
    await a.world.user("petugas@dinas.go.id", "officer", "dinas")
    response = await a.submit(text=STORY)
    assert response.status_code == 303
    code = response.headers["location"].split("/")[2]
    report_id = await report_id_of(a, code)
    await act(
        a,
        "koor@prov.go.id",
        report_id,
        "forward",
        title="Antrean",
        category="pelayanan",
        unit=str(a.world.units["dinas"].id),
    )
    await login(a, "petugas@dinas.go.id")
    page = soup(await a.client.get(f"/admin/reports/{report_id}"))
    fields = field_values(one(page, "form[action$='/follow-up']").select("input[type=hidden]"))
    sent = await a.client.post(
        f"/admin/reports/{report_id}/follow-up",
        data={**fields, "answer": "Antrean sudah diatur ulang; surat edaran terlampir."},
        files=[
            ("attachments", ("foto.jpg", jpeg_bytes(800, 600), "image/jpeg")),
            ("attachments", ("surat.pdf", PDF, "application/pdf")),
            ("attachments", ("lampiran.pdf", LONG_PDF, "application/pdf")),
        ],
    )
    assert sent.status_code == 303, sent.text
    status = soup(await b.client.get(f"/t/{code}"))
    [photo] = status.select("ul.attachments img")
    letter, long_letter = status.select("ul.attachments a[download]")
    assert decoded(await b.client.get(str(photo["src"]))) == (800, 600)
    document = await b.client.get(str(letter["href"]))
    assert document.status_code == 200 and document.content == PDF
    assert document.headers["content-disposition"].startswith("attachment")
    assert document.headers["cache-control"] == "public, max-age=3600"
    # A letter of more than a MB comes from PostgreSQL in pieces, whole.
    long_document = await b.client.get(str(long_letter["href"]))
    assert long_document.status_code == 200 and long_document.content == LONG_PDF
    assert long_document.headers["etag"] and long_document.headers["last-modified"]
    # And to staff on the other machine.
    await login(b, "petugas@dinas.go.id")
    staff = await b.client.get(
        str(letter["href"]).replace(f"/t/{code}", f"/admin/reports/{report_id}")
    )
    assert staff.status_code == 200 and staff.content == PDF


async def test_a_photo_held_after_an_error_on_one_machine_is_sent_on_the_other(
    machines: Machines,
) -> None:
    a, b = machines.a, machines.b
    token, _ = await a.form()
    refused = await a.submit(
        token=token, text="pendek", files=[("photos", ("a.jpg", jpeg_bytes(), "image/jpeg"))]
    )
    assert refused.status_code == 400
    [ref] = [str(i["value"]) for i in soup(refused).find_all("input", attrs={"name": "photo_ref"})]
    # The resend lands on the other machine, carrying only the reference.
    response = await b.client.post(
        f"/q/{b.world.code('loket')}",
        data={
            "token": token,
            "kind": "pengaduan",
            "identity": "anonim",
            "text": STORY,
            "photo_ref": ref,
        },
    )
    assert response.status_code == 303, response.text
    private = response.headers["location"].removesuffix("?sent=1")
    [img] = soup(await a.client.get(private)).select("ul.photos img")
    assert decoded(await a.client.get(str(img["src"]).removesuffix("?size=small"))) == (64, 48)


async def test_a_photo_is_kept_before_the_report_that_names_it(
    machines: Machines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Durability: when the store is asked to write the report, the photo is already kept
    where every machine reads it (committed, seen through the other machine's connections);
    so it is when the receipt is answered."""
    a, b = machines.a, machines.b
    store = a.app.state.services.store
    seen: list[set[str]] = []
    write = store.submit_report

    async def watched(new: Any) -> Any:
        names = {p.filename for p in new.photos}
        if machines.shared:
            seen.append(names & await b.app.state.services.store.db.read(machines.kept_names()))
        else:
            photos = a.app.state.services.photos
            assert isinstance(photos, FilePhotoStore)
            seen.append({n for n in names if photos.path(n).is_file()})
        return await write(new)

    monkeypatch.setattr(store, "submit_report", watched)
    response = await a.submit(
        text=STORY, files=[("photos", ("ktp.jpg", jpeg_bytes(), "image/jpeg"))]
    )
    assert response.status_code == 303
    code = response.headers["location"].split("/")[2]
    report = await b.app.state.services.store.report_by_tracking_code(tracking.normalize(code))
    assert report is not None
    [photo] = report.photos
    assert seen == [{photo.filename}]
    if machines.shared:
        assert isinstance(b.app.state.services.photos, DatabasePhotoStore)
        assert photo.filename in await b.app.state.services.store.db.read(machines.kept_names())


# -- revocations: refused on every machine within LOOKUP_CACHE_SECONDS ---------------------


@pytest.fixture
async def pg_machines(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Machines]:
    async with two_machines(make_settings, tmp_path) as both:
        yield both


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every process's look-up caches see `seconds` more pass (store/cache.py's clock)."""
    now = cache.clock
    monkeypatch.setattr(cache, "clock", lambda: now() + seconds)


async def test_a_poster_revoked_on_one_machine_is_refused_by_the_other_within_the_bound(
    pg_machines: Machines, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pg_machines.a, pg_machines.b
    code = a.world.code("loket")
    assert (await b.client.get(f"/q/{code}")).status_code == 200  # B has the poster cached
    await a.app.state.services.store.revoke_poster(a.world.posters["loket"].id)
    assert (await a.client.get(f"/q/{code}")).status_code == 410
    # B still knows the poster as it was, for at most the bound...
    assert (await b.client.get(f"/q/{code}")).status_code == 200
    later(monkeypatch, LOOKUP_CACHE_SECONDS)
    # ...and refuses it past it.
    assert (await b.client.get(f"/q/{code}")).status_code == 410
    # A form opened before the revocation may still be sent (it was issued while the poster
    # was valid: citizens/views.py); a new one is not to be had.
    response = await b.client.post(f"/q/{code}", data={"token": "x", "text": STORY})
    assert response.status_code == 410


async def test_a_widget_revoked_on_one_machine_is_refused_by_the_other_within_the_bound(
    pg_machines: Machines, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pg_machines.a, pg_machines.b
    svc = a.app.state.services
    site = "https://dinkes.example.go.id"
    widget = await svc.store.add_widget(a.world.units["dinas"].id, [site])
    key = svc.signing.widget_key(widget.id, widget.version)

    async def frame(h: AppHarness) -> str:
        response = await h.client.get(
            f"/w/{key}", params={"o": site, "lang": "id"}, headers={"sec-fetch-dest": "iframe"}
        )
        assert response.status_code == 200
        body = tag(soup(response).body)
        return str(body.get("data-refused") or "form")

    assert await frame(b) == "form"
    await svc.store.revoke_widget(widget.id)
    assert "revoked" in await frame(a)
    assert await frame(b) == "form"
    later(monkeypatch, LOOKUP_CACHE_SECONDS)
    assert "revoked" in await frame(b)


async def test_a_kiosk_revoked_on_one_machine_is_refused_by_the_other_at_once(
    pg_machines: Machines,
) -> None:
    a, b = pg_machines.a, pg_machines.b
    kiosks = a.app.state.services.store.kiosks
    kiosk, pairing = await kiosks.add(a.world.units["prov"].id, "Lantai 1", datetime.now(UTC))
    paired = await a.client.post("/kiosk/api/pair", json={"code": pairing})
    assert paired.status_code == 200
    auth = {"authorization": f"Bearer {paired.json()['credential']}"}
    assert (await b.client.post("/kiosk/api/heartbeat", json={}, headers=auth)).status_code == 200
    await kiosks.revoke(kiosk.id, datetime.now(UTC))
    refused = await b.client.post("/kiosk/api/heartbeat", json={}, headers=auth)
    assert refused.status_code == 410 and refused.json()["error"] == "revoked"


async def test_a_staff_account_deactivated_on_one_machine_is_signed_out_of_the_other_at_once(
    pg_machines: Machines,
) -> None:
    a, b = pg_machines.a, pg_machines.b
    await login(b, "koor@prov.go.id")
    assert (await b.client.get("/admin")).status_code == 200
    user = a.world.users["koor@prov.go.id"]
    await a.app.state.services.store.set_user_active(user.id, False)
    response = await b.client.get("/admin")
    assert response.status_code == 303 and "/admin/login" in response.headers["location"]


async def test_an_api_key_revoked_on_one_machine_is_refused_by_the_other_at_once(
    pg_machines: Machines,
) -> None:
    a, b = pg_machines.a, pg_machines.b
    key = open311_rules.new_api_key()
    store = a.app.state.services.store
    issued = await store.add_api_key("FixMyStreet", open311_rules.api_key_hash(key))
    fields = {"api_key": key, "service_code": "infrastruktur", "description": STORY}
    assert (await b.client.post("/open311/v2/requests.json", data=fields)).status_code == 200
    await store.revoke_api_key(issued.id)
    assert (await b.client.post("/open311/v2/requests.json", data=fields)).status_code == 403


# -- rate limits: one count across machines ----------------------------------------------


async def test_two_machines_on_one_redis_count_a_citizens_submissions_together(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    async with two_machines(make_settings, tmp_path, submit_limit_per_address="3/day") as machines:
        a, b = machines.a, machines.b
        answers = []
        for h in (a, b, a, b):
            answers.append((await h.submit(text=STORY)).status_code)
        # Each machine alone saw two: only a shared count refuses the fourth. (A day, not a
        # minute: the sliding window forgets part of the last minute right after a boundary.)
        assert answers == [303, 303, 303, 429]


# -- exports: written by one machine, downloaded through the other ------------------------


async def test_an_export_written_on_one_machine_is_downloaded_through_the_other(
    machines: Machines, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = machines.a, machines.b
    for _ in range(3):
        assert (await a.submit(text=STORY)).status_code == 303
    await login(a, "koor@prov.go.id")
    csrf = await a.csrf()
    started = await a.client.post("/admin/exports", data={"csrf": csrf, "query": ""})
    assert started.status_code == 303
    # What A's runner saved, as it hands it to be kept.
    files = a.app.state.services.export_files
    keep = files.keep
    saved: list[bytes] = []

    async def watched(job: Any, written: Path) -> None:
        saved.append(written.read_bytes())
        await keep(job, written)

    monkeypatch.setattr(files, "keep", watched)
    if isinstance(files, DatabaseExportStorage):
        files.piece = 1000  # many pieces, the last one short: B must put them back in order
    assert await a.app.state.exports.run_one()
    await login(b, "koor@prov.go.id")
    url = f"{started.headers['location']}/file"
    download = await b.client.get(url)
    assert download.status_code == 200, download.text
    assert download.content == saved[0]
    assert int(download.headers["content-length"]) == len(saved[0])
    assert download.headers["content-disposition"].startswith('attachment; filename="laporan-')
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert len(rows) == 4 and rows[1][9] == STORY
    store = b.app.state.services.store

    def pieces(conn: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(t.export_pieces)).scalar())

    exports = [h.settings.data_dir / "exports" for h in (a, b)]
    if machines.shared:
        # Kept in the database, so neither machine's data directory holds it.
        assert isinstance(files, DatabaseExportStorage)
        assert await store.db.read(pieces) == -(-len(saved[0]) // 1000) > 1
        assert not [p for d in exports if d.exists() for p in d.iterdir()]
    else:
        assert isinstance(files, FileExportStorage) and await store.db.read(pieces) == 0
        assert [p.suffix for p in exports[0].iterdir()] == [".xlsx"]
    # A day later B's runner expires it: the download is gone, and so are its pieces and file.
    await store.db.write(
        lambda conn: conn.execute(
            update(t.export_jobs).values(finished_at=datetime.now(UTC) - timedelta(hours=25))
        )
    )
    await b.app.state.exports._expire()
    assert (await a.client.get(url)).status_code == 404
    assert await store.db.read(pieces) == 0
    assert not [p for d in exports if d.exists() for p in d.iterdir()]
