"""web/health.py: liveness answers while the process does; readiness only while it should be
sent requests (database up, schema current, not draining); /healthz is readiness."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import AppHarness


async def _set_revision(harness: AppHarness, revision: str) -> None:
    await harness.app.state.services.store.db.write(
        lambda conn: conn.execute(
            text("UPDATE alembic_version SET version_num = :r"), {"r": revision}
        )
    )


@pytest.mark.parametrize("path", ["/healthz", "/healthz/ready"])
async def test_ready_while_the_database_answers_at_this_schema(
    harness: AppHarness, path: str
) -> None:
    response = await harness.client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_not_ready_while_draining_but_alive(harness: AppHarness) -> None:
    harness.app.state.lifecycle.draining = True
    for path in ("/healthz", "/healthz/ready"):
        response = await harness.client.get(path)
        assert response.status_code == 503
        assert response.json()["reason"] == "draining"
    assert (await harness.client.get("/healthz/live")).json() == {"status": "ok"}
    # Everything else is still served while a load balancer takes the machine out.
    assert (await harness.client.get("/")).status_code == 200


async def test_not_ready_on_a_schema_behind_this_code(harness: AppHarness) -> None:
    await _set_revision(harness, "0022")
    response = await harness.client.get("/healthz/ready")
    assert response.status_code == 503 and response.json()["reason"] == "schema"


async def test_ready_on_a_schema_a_newer_release_expanded(harness: AppHarness) -> None:
    # An upgrade's expand step: the old release runs beside the new one's schema.
    await _set_revision(harness, "9999")
    assert (await harness.client.get("/healthz/ready")).status_code == 200


async def test_not_ready_without_the_database_yet_alive(harness: AppHarness) -> None:
    await harness.app.state.services.store.db.close()
    response = await harness.client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable", "reason": "database"}
    assert (await harness.client.get("/healthz/live")).status_code == 200
