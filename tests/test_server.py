from __future__ import annotations

import gc
from typing import Any

from lapor.server import create_app, photo_store
from lapor.settings import Settings
from lapor.store.db import Database
from lapor.store.photo_blobs import DatabasePhotoStore
from lapor.store.photo_files import FilePhotoStore
from tests.conftest import AppHarness, MakeHarness


async def test_healthz_checks_the_database(harness: AppHarness) -> None:
    response = await harness.client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"
    await harness.app.state.services.store.db.close()
    response = await harness.client.get("/healthz")
    assert response.status_code == 503


async def test_metrics_count_requests_by_route_and_submissions_by_channel(
    harness: AppHarness,
) -> None:
    await harness.submit()
    text = (await harness.client.get("/metrics")).text
    assert 'lapor_reports_submitted_total{channel="poster"} 1.0' in text
    assert 'route="/q/{code}"' in text and "lapor_http_request_duration_seconds_bucket" in text


async def test_unknown_page_is_friendly_and_localised(harness: AppHarness) -> None:
    response = await harness.client.get("/nope")
    assert response.status_code == 404 and "<h1>" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_oversized_body_is_refused_early(make_harness: MakeHarness) -> None:
    async with make_harness(max_photos=1, max_photo_bytes=2000) as harness:
        code = harness.world.code("loket")
        response = await harness.client.post(
            f"/q/{code}",
            content=b"x" * 2_000_000,
            headers={"content-type": "multipart/form-data; boundary=xyz"},
        )
        assert response.status_code == 413


def test_create_app_needs_no_io(settings: Any) -> None:
    # The app can be built (e.g. by uvicorn's factory) before the database exists.
    assert create_app(settings) is not None


async def test_metrics_are_for_the_allowed_scrapers_only(make_harness: MakeHarness) -> None:
    """Refusals, limits and per-route figures are nobody else's business: an address outside
    LAPOR_METRICS_ALLOW gets a 404 unless it shows LAPOR_METRICS_TOKEN."""
    import httpx

    async with make_harness(
        metrics_allow="10.0.0.0/8", metrics_token="scrape-me-0123456789"
    ) as harness:

        async def scrape(client: tuple[str, int], **headers: str) -> int:
            transport = httpx.ASGITransport(app=harness.app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                return (await c.get("/metrics", headers=headers)).status_code

        assert await scrape(("10.1.2.3", 5000)) == 200
        assert await scrape(("203.0.113.9", 5000)) == 404
        assert await scrape(("127.0.0.1", 5000)) == 404  # loopback only by default
        bearer = "Bearer scrape-me-0123456789"
        assert await scrape(("203.0.113.9", 5000), authorization=bearer) == 200
        assert await scrape(("203.0.113.9", 5000), authorization="Bearer wrong") == 404


def test_a_metrics_network_that_is_not_one_is_refused(make_settings: Any) -> None:
    import pytest

    from lapor.settings import SettingsError

    with pytest.raises(SettingsError, match="LAPOR_METRICS_ALLOW"):
        make_settings(metrics_allow="10.0.0.0/33")


def test_photos_are_kept_where_the_database_says_unless_chosen() -> None:
    sqlite, postgresql = Database("sqlite:///var/lapor.db"), Database("postgresql://x@y/z")
    assert isinstance(photo_store(Settings.load(environ={}, env_file=None), sqlite), FilePhotoStore)
    assert isinstance(
        photo_store(Settings.load(environ={}, env_file=None), postgresql), DatabasePhotoStore
    )
    files = Settings.load(environ={"LAPOR_PHOTO_STORAGE": "files"}, env_file=None)
    assert isinstance(photo_store(files, postgresql), FilePhotoStore)
    database = Settings.load(environ={"LAPOR_PHOTO_STORAGE": "database"}, env_file=None)
    assert isinstance(photo_store(database, sqlite), DatabasePhotoStore)


def test_exports_are_kept_where_photos_are() -> None:
    from lapor.server import export_storage
    from lapor.store.export_files import FileExportStorage
    from lapor.store.export_pieces import DatabaseExportStorage

    sqlite, postgresql = Database("sqlite:///var/lapor.db"), Database("postgresql://x@y/z")
    default = Settings.load(environ={}, env_file=None)
    assert type(export_storage(default, sqlite)) is FileExportStorage
    assert type(export_storage(default, postgresql)) is DatabaseExportStorage
    files = Settings.load(environ={"LAPOR_PHOTO_STORAGE": "files"}, env_file=None)
    assert type(export_storage(files, postgresql)) is FileExportStorage
    database = Settings.load(environ={"LAPOR_PHOTO_STORAGE": "database"}, env_file=None)
    chosen = export_storage(database, sqlite)
    assert type(chosen) is DatabaseExportStorage
    # Scratch files, and files of jobs finished before, in this machine's data directory.
    assert chosen.root == database.data_dir / "exports" == chosen.files.root


async def test_the_served_app_keeps_its_start_up_heap_out_of_the_collectors_walks(
    settings: Settings,
) -> None:
    """`lapor serve`'s app freezes what start-up built (a submission's p99 under load); an app
    a test starts leaves the collector alone, or a test process would keep every app."""
    gc.unfreeze()
    plain = create_app(settings, run_background_tasks=False)
    async with plain.router.lifespan_context(plain):
        assert gc.get_freeze_count() == 0
    served = create_app(settings, run_background_tasks=False, freeze_heap=True)
    try:
        async with served.router.lifespan_context(served):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
