"""The monitoring page and its CSV: who may see it, for which units, and what it shows."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from bs4 import BeautifulSoup

from tests.conftest import AppHarness


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def test_inspector_sees_the_subtree_by_unit_and_month(harness: AppHarness) -> None:
    await harness.submit()
    await harness.submit()
    await harness.submit("igd")
    await harness.submit("lain")  # another province
    await harness.login("insp@prov.go.id")
    response = await harness.client.get("/admin/monitoring")
    assert response.status_code == 200
    page = soup(response)
    rows = {r.th.get_text(" ", strip=True): r.find_all("td")[0].get_text()
            for r in page.select("table.by-unit tbody tr")}
    assert rows == {"Pemerintah Provinsi (sendiri)": "0", "Dinas Kependudukan": "2",
                    "RSUD Ulin": "1"}
    assert page.select_one("table.by-unit tfoot td").get_text() == "3"
    assert len(page.select("table.by-month tbody tr")) == 12
    assert page.select_one("svg.chart title") is not None
    assert len(page.select("svg.chart rect")) == 12


async def test_drill_down_and_csv(harness: AppHarness) -> None:
    await harness.submit()
    await harness.login("koor@prov.go.id")
    dinas = harness.world.units["dinas"].id
    page = soup(await harness.client.get("/admin/monitoring", params={"unit": dinas}))
    assert page.h1.get_text().endswith("Dinas Kependudukan")
    response = await harness.client.get("/admin/monitoring.csv", params={"unit": dinas})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["Unit atau bulan", "Diterima"]
    assert rows[1][:2] == ["Dinas Kependudukan", "1"]
    assert rows[-1][:2] == ["Total", "1"]


async def test_units_outside_scope_and_bad_months_are_refused(harness: AppHarness) -> None:
    await harness.login("koor@prov.go.id")
    other = harness.world.units["other"].id
    response = await harness.client.get("/admin/monitoring", params={"unit": other})
    assert response.status_code == 400
    alert = soup(response).select_one("[role=alert]").get_text()
    assert "tidak berada di bawah wilayah Anda" in alert
    for params in ({"from": "2026-13"}, {"from": "2026-05", "to": "2026-01"},
                   {"from": "2020-01", "to": "2026-01"}):
        assert (await harness.client.get("/admin/monitoring", params=params)).status_code == 400
    assert (await harness.client.get("/admin/monitoring.csv",
                                     params={"unit": other})).status_code == 400


@pytest.mark.parametrize("path", ["/admin/monitoring", "/admin/monitoring.csv"])
async def test_officers_have_no_monitoring(harness: AppHarness, path: str) -> None:
    await harness.world.user("petugas@rsud.go.id", "officer", "rsud")
    await harness.login("petugas@rsud.go.id")
    assert (await harness.client.get(path)).status_code == 403
