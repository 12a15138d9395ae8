from __future__ import annotations

from typing import Any

from lapor.server import create_app
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
