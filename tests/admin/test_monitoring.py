"""The monitoring page and its CSV: who may see it, for which units, and what it shows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
import pytest
from bs4 import BeautifulSoup, Tag

from lapor.admin.queries import local_today
from lapor.complaints.feedback import parse_feedback
from lapor.complaints.records import NewFeedback
from tests.admin.test_exports import LEADS, formula_world
from tests.conftest import AppHarness
from tests.html import one, tag


def soup(response: httpx.Response) -> BeautifulSoup:
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
    rows = {
        tag(r.th).get_text(" ", strip=True): r.find_all("td")[0].get_text()
        for r in page.select("table.by-unit tbody tr")
    }
    assert rows == {
        "Pemerintah Provinsi (sendiri)": "0",
        "Dinas Kependudukan": "2",
        "RSUD Ulin": "1",
    }
    assert one(page, "table.by-unit tfoot td").get_text() == "3"
    # Twelve months charted, the eleven without reports left out of the table and said so.
    assert [tag(r.th).get_text() for r in page.select("table.by-month tbody tr")] == [
        f"{local_today(harness.settings.timezone):%Y-%m}"
    ]
    assert "Bulan tanpa laporan tidak dicantumkan" in one(page, "p.empty-months").get_text()
    assert page.select_one("svg.chart title") is not None
    assert "Batang: laporan masuk" in one(page, "figcaption.legend").get_text()
    assert len(page.select("svg.chart rect")) == 12


async def test_drill_down_and_csv(harness: AppHarness) -> None:
    await harness.submit()
    await harness.login("koor@prov.go.id")
    dinas = harness.world.units["dinas"].id
    page = soup(await harness.client.get("/admin/monitoring", params={"unit": dinas}))
    assert tag(page.h1).get_text().endswith("Dinas Kependudukan")
    response = await harness.client.get("/admin/monitoring.csv", params={"unit": dinas})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["Unit atau bulan", "Diterima"]
    assert rows[1][:2] == ["Dinas Kependudukan", "1"]
    assert rows[-1][:2] == ["Total", "1"]


async def test_csv_neutralises_unit_names_a_spreadsheet_would_run(harness: AppHarness) -> None:
    made = await formula_world(harness)
    await harness.submit()
    await harness.login("koor@prov.go.id")
    response = await harness.client.get("/admin/monitoring.csv")
    header, *rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    by_name = {row[0]: row for row in rows}
    for name in made:
        assert name[0] in LEADS
        assert by_name["'" + name][1] == "1"  # shown as text, never run; the figures as before
    assert by_name["Dinas Kependudukan"][1] == "1" and by_name["Total"][1] == str(len(made) + 1)
    months = [row[0] for row in rows if row[0][:2] == "20"]
    assert len(months) == 12 and all(len(m) == 7 for m in months)
    # The figures are ours: a dash for "none" stays a dash, no quote before it.
    grade = header.index("Mutu pelayanan")
    assert {row[grade] for row in rows} == {"–"}


async def test_units_outside_scope_and_bad_months_are_refused(harness: AppHarness) -> None:
    await harness.login("koor@prov.go.id")
    other = harness.world.units["other"].id
    response = await harness.client.get("/admin/monitoring", params={"unit": other})
    assert response.status_code == 400
    alert = one(soup(response), "[role=alert]").get_text()
    assert "tidak berada di bawah wilayah Anda" in alert
    for params in (
        {"from": "2026-13"},
        {"from": "2026-05", "to": "2026-01"},
        {"from": "2020-01", "to": "2026-01"},
    ):
        assert (await harness.client.get("/admin/monitoring", params=params)).status_code == 400
    assert (
        await harness.client.get("/admin/monitoring.csv", params={"unit": other})
    ).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"from": "0001-01"},
        {"to": "9999-12"},
        {"from": "0001-01", "to": "0001-12"},
        {"from": "9999-01", "to": "9999-12"},
        {"from": "1999-12", "to": "2000-01"},
    ],
)
async def test_months_outside_the_range_are_refused(
    harness: AppHarness, params: dict[str, str]
) -> None:
    await harness.login("insp@prov.go.id")
    response = await harness.client.get("/admin/monitoring", params=params)
    assert response.status_code == 400
    page = soup(response)
    assert "Tanggal harus di antara tahun 2000 dan 2100." in one(page, "[role=alert]").get_text()
    assert len(page.select("svg.chart rect")) == 12  # the default period instead
    refused = await harness.client.get("/admin/monitoring.csv", params=params)
    assert refused.status_code == 400 and "2000" in refused.text


async def test_the_edge_months_are_shown(harness: AppHarness) -> None:
    await harness.login("insp@prov.go.id")
    for first, last in (("2000-01", "2000-12"), ("2100-01", "2100-12")):
        response = await harness.client.get("/admin/monitoring", params={"from": first, "to": last})
        assert response.status_code == 200
        page = soup(response)
        assert len(page.select("svg.chart rect")) == 12
        assert "Tidak ada laporan masuk" in one(page, "table.by-month tbody").get_text()


@pytest.mark.parametrize("path", ["/admin/monitoring", "/admin/monitoring.csv"])
async def test_officers_have_no_monitoring(harness: AppHarness, path: str) -> None:
    await harness.world.user("petugas@rsud.go.id", "officer", "rsud")
    await harness.login("petugas@rsud.go.id")
    assert (await harness.client.get(path)).status_code == 403


async def feedback(harness: AppHarness, unit: str, key: str, **data: str) -> None:
    sub, errors = parse_feedback(
        {"unit": str(harness.world.units[unit].id), "language": "id", **data},
        now=datetime.now(UTC),
        languages=("id", "en"),
    )
    assert sub is not None, errors
    await harness.world.store.record_feedback(
        NewFeedback(
            submission=sub,
            idempotency_key=key,
            body_hash=sub.body_hash(),
            kiosk_id=None,
            received_at=datetime.now(UTC),
        )
    )


async def seed_feedback(harness: AppHarness) -> None:
    # The worked example of tests/complaints/test_feedback.py, split over two sub-units:
    # IKM 76.39 (C) in all. Dinas alone: sums 7 6 6 6 6 6 8 5 6 = 56, 56/2/9*25 = 77.78 (B);
    # RSUD alone: 6 5 5 8 6 7 7 3 7 = 54, 54/2/9*25 = 75.00 (C).
    for unit, key, answers in (
        ("dinas", "a", "333233423"),
        ("dinas", "b", "433433433"),
        ("rsud", "c", "323434423"),
        ("rsud", "d", "332433314"),
    ):
        await feedback(harness, unit, key, kind="ikm", answers=answers)
    await feedback(harness, "rsud", "e", kind="rating", rating="4")
    await feedback(harness, "rsud", "f", kind="rating", rating="1")
    # Another province: never counted for the province's staff.
    await feedback(harness, "other", "g", kind="ikm", answers="111111111")
    await feedback(harness, "other", "h", kind="rating", rating="5")


def cells(row: Tag) -> list[str]:
    return [td.get_text(" ", strip=True) for td in row.find_all("td")]


@pytest.mark.parametrize("email", ["insp@prov.go.id", "koor@prov.go.id"])
async def test_ikm_by_sub_unit_and_by_item(harness: AppHarness, email: str) -> None:
    await seed_feedback(harness)
    await harness.login(email)
    page = soup(await harness.client.get("/admin/monitoring"))
    rows = {
        tag(r.th).get_text(" ", strip=True): cells(r)
        for r in page.select("table.ikm-by-unit tbody tr")
    }
    assert rows == {
        "Pemerintah Provinsi (sendiri)": ["0", "–", "–", "0", "–"],
        "Dinas Kependudukan": ["2", "77,78", "B Baik", "0", "–"],
        "RSUD Ulin": ["2", "75,00", "C Kurang baik", "2", "2,5"],
    }
    assert cells(one(page, "table.ikm-by-unit tfoot tr")) == [
        "4",
        "76,39",
        "C Kurang baik",
        "2",
        "2,5",
    ]
    assert "76,39" in one(page, "dl.kpis .ikm dd").get_text()
    items = page.select("table.ikm-items tbody tr")
    assert len(items) == 9
    assert tag(items[0].th).get_text(" ", strip=True) == "U1 Persyaratan"
    assert cells(items[0]) == ["3,25", "0,361", "81,25"]
    # Complaint handling (NRR 2.00) is the item that pulls the score down.
    assert page.select("table.ikm-items tr.weakest") == [items[7]]
    assert cells(items[7]) == ["2,00", "0,222", "50,00"]
    assert cells(one(page, "table.ikm-items tfoot tr")) == ["", "3,056", "76,39"]


async def test_ikm_for_a_sub_unit_and_in_the_csv(harness: AppHarness) -> None:
    await seed_feedback(harness)
    await harness.login("insp@prov.go.id")
    rsud = harness.world.units["rsud"].id
    page = soup(await harness.client.get("/admin/monitoring", params={"unit": rsud}))
    assert cells(one(page, "table.ikm-by-unit tfoot tr")) == [
        "2",
        "75,00",
        "C Kurang baik",
        "2",
        "2,5",
    ]
    response = await harness.client.get("/admin/monitoring.csv")
    table = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    by_name = {row["Unit atau bulan"]: row for row in table}
    assert set(by_name) >= {"Pemerintah Provinsi", "Dinas Kependudukan", "RSUD Ulin", "Total"}
    total = by_name["Total"]
    assert (
        total["Responden IKM"],
        total["IKM (25–100)"],
        total["Mutu pelayanan"],
        total["Kinerja unit pelayanan"],
        total["Penilaian cepat"],
        total["Rata-rata penilaian cepat (1–5)"],
    ) == ("4", "76.39", "C", "Kurang baik", "2", "2.5")  # a point, not "76,39" in a comma file
    assert total["NRR U8 Penanganan pengaduan, saran dan masukan"] == "2.00"
    assert by_name["Dinas Kependudukan"]["IKM (25–100)"] == "77.78"
    assert by_name["Pemerintah Provinsi"]["IKM (25–100)"] == "–"
    assert by_name["Pemerintah Provinsi"]["NRR U1 Persyaratan"] == "–"
    # The month rows add up to the same total.
    months = [row for row in table if row["Unit atau bulan"][:2] == "20"]
    assert sum(int(row["Responden IKM"]) for row in months) == 4


async def test_an_admin_sees_every_province_and_the_other_coordinator_only_theirs(
    harness: AppHarness,
) -> None:
    await seed_feedback(harness)
    await harness.login("admin@prov.go.id")
    everything = soup(await harness.client.get("/admin/monitoring"))
    assert cells(one(everything, "table.ikm-by-unit tfoot tr"))[0] == "4"  # own tree
    root = soup(
        await harness.client.get(
            "/admin/monitoring", params={"unit": harness.world.units["other"].id}
        )
    )
    assert cells(one(root, "table.ikm-by-unit tfoot tr")) == [
        "1",
        "25,00",
        "D Tidak baik",
        "1",
        "5,0",
    ]
    harness.client.cookies.clear()
    await harness.login("koor@other.go.id")
    theirs = soup(await harness.client.get("/admin/monitoring"))
    assert cells(one(theirs, "table.ikm-by-unit tfoot tr"))[:3] == [
        "1",
        "25,00",
        "D Tidak baik",
    ]
