"""Answer templates: kept per unit (and optionally per category), managed by the staff of
that unit or above it, offered to the officer who answers a report."""

from __future__ import annotations

from typing import Any

import httpx
from bs4 import BeautifulSoup

from tests.admin.test_workflow import reported, signed_in
from tests.conftest import AppHarness
from tests.html import one

BODY = "Terima kasih atas laporan Anda. Petugas kami sudah menindaklanjuti di lokasi."


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def add_template(
    harness: AppHarness, unit: str, title: str, category: str = "", body: str = BODY
) -> Any:
    csrf = await harness.csrf("/admin/answers")
    return await harness.client.post(
        "/admin/answers",
        data={
            "csrf": csrf,
            "unit": str(harness.world.units[unit].id),
            "category": category,
            "title": title,
            "body": body,
        },
    )


async def test_templates_reach_the_officer_of_a_unit_below(harness: AppHarness) -> None:
    await harness.world.user("petugas@dinas.go.id", "officer", "dinas")
    await signed_in(harness, "koor@prov.go.id")
    assert (await add_template(harness, "prov", "Umum")).status_code == 303
    assert (
        await add_template(
            harness,
            "prov",
            "Antrean KTP",
            "kependudukan",
            "Jadwal loket KTP kini diperpanjang sampai pukul 15.00.",
        )
    ).status_code == 303
    assert (await add_template(harness, "prov", "Kesehatan", "kesehatan")).status_code == 303
    assert (await add_template(harness, "rsud", "Khusus RSUD")).status_code == 303
    listed = soup(await harness.client.get("/admin/answers")).select("table.answers tbody tr")
    assert len(listed) == 4

    report_id, _ = await reported(harness)
    assert (
        await harness.act(
            "koor@prov.go.id",
            report_id,
            "forward",
            title="Antrean",
            category="kependudukan",
            unit=str(harness.world.units["dinas"].id),
        )
    ).status_code == 303
    await signed_in(harness, "petugas@dinas.go.id")
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    offered = {
        o.get_text().split(" (")[0]: o["value"]
        for o in page.select("#template option")
        if o["value"]
    }
    # Province-wide general and same-category ones; not another category, not RSUD's.
    assert set(offered) == {"Umum", "Antrean KTP"}
    # Without JavaScript, picking reloads the page with the template in the answer box.
    picked = soup(
        await harness.client.get(
            f"/admin/reports/{report_id}", params={"template": offered["Antrean KTP"]}
        )
    )
    assert "diperpanjang sampai pukul 15.00" in one(picked, "#answer").get_text()
    # A template id that is not offered here fills nothing.
    foreign = soup(
        await harness.client.get(f"/admin/reports/{report_id}", params={"template": "999"})
    )
    assert one(foreign, "#answer").get_text() == ""


async def test_bad_templates_are_refused_and_change_nothing(harness: AppHarness) -> None:
    await signed_in(harness, "koor@prov.go.id")
    short = await add_template(harness, "prov", "Pendek", body="Oke.")
    assert short.status_code == 400
    assert "paling sedikit 10 karakter" in one(soup(short), "#refusal").get_text()
    assert one(soup(short), "#template-title")["value"] == "Pendek"
    outside = await add_template(harness, "other", "Wilayah lain")
    assert outside.status_code == 400
    unknown = await add_template(harness, "prov", "Aneh", category="astrologi")
    assert unknown.status_code == 400
    assert soup(await harness.client.get("/admin/answers")).select("table.answers") == []


async def test_templates_of_other_units_cannot_be_edited_or_deleted(harness: AppHarness) -> None:
    await signed_in(harness, "koor@other.go.id")
    assert (await add_template(harness, "other", "Milik kabupaten")).status_code == 303
    [link] = soup(await harness.client.get("/admin/answers")).select("table.answers a")
    path = str(link["href"])
    await signed_in(harness, "koor@prov.go.id")
    csrf = await harness.csrf("/admin/answers")
    assert (await harness.client.get(path)).status_code == 404
    assert (
        await harness.client.post(
            path,
            data={
                "csrf": csrf,
                "unit": str(harness.world.units["prov"].id),
                "title": "Diambil alih",
                "body": BODY,
            },
        )
    ).status_code == 404
    assert (await harness.client.post(f"{path}/delete", data={"csrf": csrf})).status_code == 404
    # Its owner edits, then deletes it.
    await signed_in(harness, "koor@other.go.id")
    csrf = await harness.csrf("/admin/answers")
    edited = await harness.client.post(
        path,
        data={
            "csrf": csrf,
            "unit": str(harness.world.units["other"].id),
            "title": "Diubah",
            "body": BODY,
        },
    )
    assert edited.status_code == 303
    assert "Diubah" in (await harness.client.get("/admin/answers")).text
    assert (await harness.client.post(f"{path}/delete", data={"csrf": csrf})).status_code == 303
    assert soup(await harness.client.get("/admin/answers")).select("table.answers") == []
