"""A unit's own time limits, set in the workspace and applied to new reports."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

import httpx
from bs4 import BeautifulSoup

from lapor.admin.queries import local_today
from tests.admin.test_workflow import reported, signed_in
from tests.conftest import AppHarness
from tests.html import one


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def due_dates(harness: AppHarness, report_id: int) -> tuple[Any, ...]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        row: tuple[Any, ...] = conn.execute(
            "SELECT verify_due, follow_up_due FROM reports WHERE id = ?", (report_id,)
        ).fetchone()
    return tuple(date.fromisoformat(d) if d else None for d in row)


async def set_days(harness: AppHarness, unit: str, verify: str = "", follow_up: str = "") -> Any:
    csrf = await harness.csrf("/admin/deadlines")
    return await harness.client.post(
        f"/admin/deadlines/{harness.world.units[unit].id}",
        data={"csrf": csrf, "verify_days": verify, "follow_up_days": follow_up},
    )


async def test_unit_limits_apply_below_the_unit_that_sets_them(harness: AppHarness) -> None:
    await signed_in(harness, "koor@prov.go.id")
    assert (await set_days(harness, "prov", verify="1")).status_code == 303
    assert (await set_days(harness, "dinas", follow_up="2")).status_code == 303
    page = soup(await harness.client.get("/admin/deadlines"))
    rsud = one(page, f"#unit-{harness.world.units['rsud'].id}")
    # RSUD set nothing: it shows the province's 1 day and the settings' 5 as placeholders.
    assert [i["placeholder"] for i in rsud.select("input[type=number]")] == ["1", "5"]

    report_id, _ = await reported(harness)  # at the population office, under the province
    calendar = harness.settings.calendar
    today = local_today(harness.settings.timezone)
    assert due_dates(harness, report_id) == (calendar.add_working_days(today, 1), None)
    assert (
        await harness.act(
            "koor@prov.go.id",
            report_id,
            "forward",
            title="Antrean",
            category="pelayanan",
            unit=str(harness.world.units["dinas"].id),
        )
    ).status_code == 303
    assert due_dates(harness, report_id)[1] == calendar.add_working_days(today, 2)


async def test_bad_limits_and_foreign_units_change_nothing(harness: AppHarness) -> None:
    await signed_in(harness, "koor@prov.go.id")
    for bad in ("0", "31", "x", "2.5"):
        response = await set_days(harness, "dinas", verify=bad)
        assert response.status_code == 400, bad
        assert "1 sampai 30" in one(soup(response), "#refusal").get_text()
    assert (await set_days(harness, "other", verify="2")).status_code == 404
    await signed_in(harness, "koor@other.go.id")
    assert (await set_days(harness, "prov", verify="2")).status_code == 404
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        assert conn.execute(
            "SELECT COUNT(*) FROM units WHERE verify_days IS NOT NULL OR follow_up_days IS NOT NULL"
        ).fetchone() == (0,)
