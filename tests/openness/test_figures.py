"""The public figures pages, /statistik and /statistik/{unit}, checked against a known data set:
the page, the CSV and the JSON say the same numbers, and nothing about any one report."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import update

from lapor.complaints.openness import read_period
from lapor.complaints.reports import Status
from lapor.openness.views import warm_figures
from lapor.server import create_app
from lapor.settings import Settings
from lapor.store import schema as t
from tests.conftest import AppHarness
from tests.html import one, tag
from tests.store.test_inbox import submit

SECRET_TEXT = "Petugas meminta uang tambahan di loket rahasia nomor tujuh."


def at(day: str, hour: int = 2) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


async def change(harness: AppHarness, report_id: int, **values: Any) -> None:
    def write(conn: Any) -> None:
        conn.execute(update(t.reports).where(t.reports.c.id == report_id).values(**values))

    await harness.world.store.db.write(write)


async def known_year(harness: AppHarness) -> None:
    """2026 at the province: A verified and answered in time, accepted; B verified late,
    answered the next day, closed by itself; C never verified, received in March (past the
    60 days); D at the other province."""
    world = harness.world
    a = await submit(world, "a", received_at=at("2026-11-02", 1), verify_due=date(2026, 11, 5))
    b = await submit(world, "b", received_at=at("2026-11-02", 1), verify_due=date(2026, 11, 5))
    c = await submit(
        world,
        "c",
        unit="rsud",
        received_at=at("2026-03-02"),
        verify_due=date(2026, 3, 5),
        text=SECRET_TEXT,
    )
    await submit(world, "d", unit="other", received_at=at("2026-11-05"))
    closed = Status.CLOSED.value
    # Forwarded Tuesday 3 November, answered Tuesday 10 November: 5 working days.
    await change(
        harness,
        a,
        status=closed,
        verified_at=at("2026-11-03"),
        forwarded_at=at("2026-11-03"),
        follow_up_due=date(2026, 11, 10),
        followed_up_at=at("2026-11-10"),
        closed_at=at("2026-11-11"),
        rating=4,
        due_on=None,
    )
    # Forwarded Monday 9 November (late), answered Tuesday 10 November: 1 working day.
    await change(
        harness,
        b,
        status=closed,
        verified_at=at("2026-11-09"),
        forwarded_at=at("2026-11-09"),
        follow_up_due=date(2026, 11, 16),
        followed_up_at=at("2026-11-10"),
        closed_at=at("2026-11-25"),
        due_on=None,
    )
    await change(harness, c, due_on=date(2026, 3, 5))


def soup(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def kpi(page: BeautifulSoup, label: str) -> str:
    for box in page.select("dl.kpis > div"):
        if tag(box.dt).get_text(strip=True) == label:
            return tag(box.dd).get_text(" ", strip=True)
    raise AssertionError(f"no figure {label!r}")


async def test_a_units_year_as_a_page_csv_and_json(harness: AppHarness) -> None:
    await known_year(harness)
    response = await harness.client.get("/statistik/prov", params={"year": "2026"})
    assert response.status_code == 200
    assert "public" in response.headers["cache-control"]
    page = soup(response.text)
    assert "Pemerintah Provinsi" in tag(page.h1).get_text()
    assert kpi(page, "Laporan masuk") == "3"
    assert kpi(page, "Diverifikasi tepat waktu").startswith("33%")
    assert kpi(page, "Ditindaklanjuti tepat waktu").startswith("100%")
    assert kpi(page, "Median hari kerja sampai tindak lanjut") == "3,0"
    assert kpi(page, "Ditutup karena pelapor menerima jawaban").startswith("50%")
    assert kpi(page, "Belum selesai setelah 60 hari") == "1"
    rows = {
        tag(r.th).get_text(" ", strip=True): r.find_all("td")[0].get_text()
        for r in page.select("table.by-unit tbody tr")
    }
    assert rows == {
        "Pemerintah Provinsi (sendiri)": "0",
        "Dinas Kependudukan": "2",
        "RSUD Ulin": "1",
    }
    months = [tag(r.th).get_text() for r in page.select("table.by-month tbody tr")]
    assert months == ["2026-03", "2026-11"]
    # Nothing of any one report: no text, no tracking code.
    assert SECRET_TEXT not in response.text and "loket rahasia" not in response.text

    data = (await harness.client.get("/statistik/prov.json", params={"year": "2026"})).json()
    assert data["unit"] == {"slug": "prov", "name": "Pemerintah Provinsi"}
    assert data["period"] == {"from": "2026-01", "to": "2026-12"}
    total = data["total"]
    assert (total["received"], total["verified_in_time"], total["verified_late"]) == (3, 1, 2)
    assert total["verified_in_time_percent"] == 33.3
    assert total["median_working_days_to_follow_up"] == 3.0
    assert (total["closed"], total["closed_by_acceptance"]) == (2, 1)
    assert total["closed_by_acceptance_percent"] == 50.0
    assert total["past_escalation"] == 1
    assert total["ikm"] is None and total["ikm_grade"] is None
    assert [u["slug"] for u in data["units"]] == ["prov", "dinas", "rsud"]
    assert [m["received"] for m in data["months"]][2:3] == [1]  # March
    assert len(data["months"]) == 12

    csv_response = await harness.client.get("/statistik/prov.csv", params={"year": "2026"})
    assert csv_response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(csv_response.text.lstrip("\ufeff"))))
    last = table[-1]
    assert (last["unit"], last["month"], last["received"]) == ("prov", "", "3")
    assert last["median_working_days_to_follow_up"] == "3.0"
    assert {row["unit"] for row in table} == {"prov", "dinas", "rsud"}
    assert SECRET_TEXT not in csv_response.text


async def test_the_organisation_page_counts_every_agency(harness: AppHarness) -> None:
    await known_year(harness)
    page = soup((await harness.client.get("/statistik?year=2026")).text)
    assert kpi(page, "Laporan masuk") == "4"
    links = [a["href"] for a in page.select("table.by-unit tbody a")]
    assert links == ["/statistik/prov?year=2026", "/statistik/other?year=2026"]
    data = json.loads((await harness.client.get("/statistik.json?year=2026")).text)
    assert data["unit"] is None and data["total"]["received"] == 4


async def test_the_figures_are_linked_from_every_citizen_page(harness: AppHarness) -> None:
    for path in ("/", "/t", f"/q/{harness.world.code('loket')}"):
        page = soup((await harness.client.get(path)).text)
        assert page.select_one("footer a[href='/statistik']") is not None, path
    english = soup((await harness.client.get("/statistik?lang=en")).text)
    assert "How reports are handled" in tag(english.h1).get_text()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/statistik?year=1999", 400),
        ("/statistik?year=abcd", 400),
        ("/statistik?year=3000", 400),
        ("/statistik.csv?year=1999", 400),
        ("/statistik.xml", 404),
        ("/statistik/ghost", 404),
        ("/statistik/prov.xlsx", 404),
        ("/statistik/PROV", 404),
    ],
)
async def test_bad_requests_are_refused_and_say_why(
    harness: AppHarness, path: str, status: int
) -> None:
    response = await harness.client.get(path)
    assert response.status_code == status
    if status == 400 and ".csv" not in path:
        page = soup(response.text)
        assert "Tahun itu tidak dapat ditampilkan" in one(page, "[role=alert]").get_text()
        assert response.headers["cache-control"] == "no-store"


async def test_a_burst_of_visitors_costs_one_computation(
    harness: AppHarness, monkeypatch: Any
) -> None:
    store = harness.app.state.services.store
    calls = 0
    original = store.monitoring_with_follow_up_dates

    async def counting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(*args)

    monkeypatch.setattr(store, "monitoring_with_follow_up_dates", counting)
    pages = await asyncio.gather(*(harness.client.get("/statistik/dinas") for _ in range(8)))
    assert {p.status_code for p in pages} == {200} and calls == 1
    await harness.client.get("/statistik/dinas.json")  # the same period's figures
    assert calls == 1


async def test_the_organisations_figures_are_summed_as_the_server_starts(
    harness: AppHarness, monkeypatch: Any
) -> None:
    # Over a million reports the sum takes seconds: done at start, in the background
    # (server.py's "public-figures" task), the first visitor does not wait for it.
    svc = harness.app.state.services
    calls = 0
    original = svc.store.monitoring_with_follow_up_dates

    async def counting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(*args)

    monkeypatch.setattr(svc.store, "monitoring_with_follow_up_dates", counting)
    await warm_figures(svc)
    assert calls == 1
    assert (await harness.client.get("/statistik")).status_code == 200
    assert calls == 1


async def test_the_server_starts_summing_the_figures(
    make_settings: Callable[..., Settings],
) -> None:
    async def not_summed() -> Any:
        raise LookupError("not summed at start")

    app = create_app(make_settings(), run_background_tasks=True)
    async with app.router.lifespan_context(app):
        svc = app.state.services
        key = (0, read_period("", datetime.now(svc.settings.timezone).date())[0].year)
        for _ in range(200):
            await asyncio.sleep(0.05)
            with contextlib.suppress(KeyError, LookupError):
                figures = await svc.page_cache["public_figures"].get(key, not_summed)
                break
        assert figures.root is None
