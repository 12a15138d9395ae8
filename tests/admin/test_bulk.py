"""Bulk actions from the inbox: each selected report is changed or refused on its own."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
from bs4 import BeautifulSoup

from tests.admin.test_workflow import reported, signed_in
from tests.conftest import AppHarness
from tests.html import one


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def rows(harness: AppHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(sql).fetchall()


async def inbox_selection(harness: AppHarness, **params: str) -> tuple[list[str], str, str]:
    """The check box values the inbox offers, the bulk form's CSRF token and its way back."""
    page = soup(await harness.client.get("/admin", params=params))
    boxes = [str(b["value"]) for b in page.select("input[name=report][form=bulk]")]
    csrf = str(one(page, "form#bulk input[name=csrf]")["value"])
    back = str(one(page, "input[name=back][form=bulk]")["value"])
    return boxes, csrf, back


async def test_forward_several_reports_at_once(harness: AppHarness) -> None:
    first, _ = await reported(harness, text="Lampu jalan di depan kantor camat mati total.")
    second, _ = await reported(harness, text="Lampu jalan di simpang empat pasar juga mati.")
    third, _ = await reported(harness, text="Laporan lain yang tidak ikut dipilih sama sekali.")
    await signed_in(harness, "koor@prov.go.id")
    boxes, csrf, back = await inbox_selection(harness, q="lampu")
    assert len(boxes) == 2 and back == "q=lampu"
    response = await harness.client.post(
        "/admin/bulk",
        data={
            "csrf": csrf,
            "action": "forward",
            "report": boxes,
            "back": back,
            "title": "Lampu jalan mati",
            "category": "infrastruktur",
            "tags": "lampu",
            "unit": str(harness.world.units["rsud"].id),
        },
    )
    assert response.status_code == 200
    page = soup(response)
    assert "2 laporan" in one(page, "#done").get_text()
    assert page.select_one("a[href='/admin?q=lampu']") is not None
    assert sorted(rows(harness, "SELECT id, status, title, category FROM reports")) == [
        (first, "diteruskan", "Lampu jalan mati", "infrastruktur"),
        (second, "diteruskan", "Lampu jalan mati", "infrastruktur"),
        (third, "masuk", None, None),
    ]


async def test_a_report_changed_meanwhile_is_refused_alone(harness: AppHarness) -> None:
    first, _ = await reported(harness, text="Lampu jalan di depan kantor camat mati total.")
    second, _ = await reported(harness, text="Lampu jalan di simpang empat pasar juga mati.")
    await signed_in(harness, "koor@prov.go.id")
    boxes, _, back = await inbox_selection(harness)
    # Someone archives the first report after the list was shown.
    assert (
        await harness.act(
            "koor@prov.go.id", first, "archive", reason="Laporan ganda dari warga yang sama."
        )
    ).status_code == 303
    csrf = await harness.csrf()  # act() signed in afresh
    response = await harness.client.post(
        "/admin/bulk",
        data={
            "csrf": csrf,
            "action": "archive",
            "report": boxes,
            "back": back,
            "reason": "Bukan laporan pelayanan publik.",
        },
    )
    page = soup(response)
    assert response.status_code == 200
    assert "1 laporan" in one(page, "#done").get_text()
    refused = one(page, "#refused").get_text()
    assert "mengubah laporan ini" in refused  # stale: the archive by the other hand stands
    notes = rows(
        harness,
        "SELECT report_id, note FROM report_events WHERE kind = 'archive' ORDER BY report_id",
    )
    assert notes == [
        (first, "Laporan ganda dari warga yang sama."),
        (second, "Bukan laporan pelayanan publik."),
    ]


async def test_bad_bulk_requests_change_nothing(harness: AppHarness) -> None:
    await reported(harness)
    await signed_in(harness, "koor@prov.go.id")
    boxes, csrf, back = await inbox_selection(harness)
    cases: list[tuple[dict[str, str | list[str]], str]] = [
        (
            {
                "action": "forward",
                "report": boxes,
                "title": "",
                "category": "lainnya",
                "unit": str(harness.world.units["rsud"].id),
            },
            "judul",
        ),
        ({"action": "archive", "report": boxes, "reason": "pendek"}, "10 karakter"),
        ({"action": "explode", "report": boxes}, "Pilih tindakan"),
        ({"action": "archive", "reason": "Bukan laporan pelayanan publik."}, "sedikitnya satu"),
        (
            {"action": "archive", "report": ["1; DROP"], "reason": "Bukan laporan pelayanan."},
            "sedikitnya satu",
        ),
        (
            {
                "action": "archive",
                "report": [f"{i}.1" for i in range(1, 102)],
                "reason": "Bukan laporan pelayanan publik.",
            },
            "100 laporan",
        ),
    ]
    for data, message in cases:
        response = await harness.client.post(
            "/admin/bulk", data={"csrf": csrf, "back": back, **data}
        )
        assert response.status_code == 400, data
        assert message in one(soup(response), "#refusal").get_text(), data
    assert rows(harness, "SELECT status, version FROM reports") == [("masuk", 1)]


async def test_officers_only_assign_and_only_their_reports(harness: AppHarness) -> None:
    await harness.world.user("petugas@rsud.go.id", "officer", "rsud")
    colleague = await harness.world.user("petugas2@rsud.go.id", "officer", "rsud")
    mine, _ = await reported(harness)
    other, _ = await reported(harness, text="Laporan ini tetap di koordinator provinsi saja.")
    assert (
        await harness.act(
            "koor@prov.go.id",
            mine,
            "forward",
            title="Antrean IGD",
            category="kesehatan",
            unit=str(harness.world.units["rsud"].id),
        )
    ).status_code == 303
    await signed_in(harness, "petugas@rsud.go.id")
    boxes, csrf, _ = await inbox_selection(harness)
    assert [b.split(".")[0] for b in boxes] == [str(mine)]
    page = soup(await harness.client.get("/admin"))
    assert [i["value"] for i in page.select("form#bulk input[name=action]")] == ["assign"]
    forged = await harness.client.post(
        "/admin/bulk",
        data={
            "csrf": csrf,
            "action": "archive",
            "report": boxes,
            "reason": "Bukan laporan pelayanan publik.",
        },
    )
    assert forged.status_code == 400
    response = await harness.client.post(
        "/admin/bulk",
        data={
            "csrf": csrf,
            "action": "assign",
            "assignee": str(colleague.id),
            "report": [*boxes, f"{other}.1"],
        },
    )
    page = soup(response)
    assert "1 laporan" in one(page, "#done").get_text()
    # The report outside the officer's reach is refused without its tracking code.
    assert f"#{other}" in one(page, "#refused").get_text()
    assert sorted(rows(harness, "SELECT id, assigned_user_id FROM reports")) == [
        (mine, colleague.id),
        (other, None),
    ]


def step_fields(page: BeautifulSoup) -> dict[str, Any]:
    """What the forward step's form sends back as it stands: its hidden fields."""
    form = page.select_one("form#bulk-forward")
    assert form is not None
    fields: dict[str, Any] = {"report": []}
    for hidden in form.select("input[type=hidden]"):
        name, value = str(hidden["name"]), str(hidden["value"])
        if name == "report":
            fields["report"].append(value)
        else:
            fields[name] = value
    return fields


async def test_forward_asks_for_the_unit_on_a_second_page(harness: AppHarness) -> None:
    first, _ = await reported(harness, text="Lampu jalan di depan kantor camat mati total.")
    second, _ = await reported(harness, text="Lampu jalan di simpang empat pasar juga mati.")
    await reported(harness, text="Laporan lain yang tidak ikut dipilih sama sekali.")
    await signed_in(harness, "koor@prov.go.id")
    inbox = soup(await harness.client.get("/admin", params={"q": "lampu"}))
    # The inbox's bulk form carries no unit picker (nor the other forward fields).
    assert inbox.select("form#bulk select[name=unit], form#bulk input[name=title]") == []
    boxes, csrf, back = await inbox_selection(harness, q="lampu")
    step = await harness.client.post(
        "/admin/bulk", data={"csrf": csrf, "action": "forward", "report": boxes, "back": back}
    )
    assert step.status_code == 200
    page = soup(step)
    fields = step_fields(page)
    assert sorted(fields["report"]) == sorted(boxes)  # ids and versions as the inbox showed
    assert fields["action"] == "forward" and fields["back"] == back
    assert len(page.select("#selected a.code")) == 2
    units = [o["value"] for o in page.select("form#bulk-forward select[name=unit] option")]
    assert str(harness.world.units["rsud"].id) in units
    assert page.select_one("a[href='/admin?q=lampu']") is not None
    # Nothing has changed yet.
    assert rows(harness, "SELECT DISTINCT status FROM reports") == [("masuk",)]
    done = await harness.client.post(
        "/admin/bulk",
        data={
            **fields,
            "title": "Lampu jalan mati",
            "category": "infrastruktur",
            "tags": "",
            "unit": str(harness.world.units["rsud"].id),
        },
    )
    assert done.status_code == 200
    assert "2 laporan" in one(soup(done), "#done").get_text()
    assert sorted(
        rows(
            harness, "SELECT id, status, forwarded_unit_id FROM reports WHERE status = 'diteruskan'"
        )
    ) == [
        (first, "diteruskan", harness.world.units["rsud"].id),
        (second, "diteruskan", harness.world.units["rsud"].id),
    ]


async def test_the_forward_step_keeps_the_selection_when_refused(harness: AppHarness) -> None:
    await reported(harness)
    await signed_in(harness, "koor@prov.go.id")
    boxes, csrf, back = await inbox_selection(harness)
    fields = step_fields(
        soup(
            await harness.client.post(
                "/admin/bulk",
                data={"csrf": csrf, "action": "forward", "report": boxes, "back": back},
            )
        )
    )
    for typed, message in [
        ({"title": "Antrean", "category": "lainnya", "unit": ""}, "Pilih unit"),
        (
            {
                "title": "Antrean",
                "category": "lainnya",
                "unit": str(harness.world.units["other"].id),
            },
            "wilayah Anda",
        ),
        (
            {"title": "", "category": "lainnya", "unit": str(harness.world.units["rsud"].id)},
            "judul",
        ),
    ]:
        response = await harness.client.post("/admin/bulk", data={**fields, **typed})
        assert response.status_code == 400, typed
        page = soup(response)
        assert message in one(page, "#refusal").get_text(), typed
        # The same page again, with the selection and what was typed.
        assert step_fields(page)["report"] == boxes
        title = page.select_one("form#bulk-forward input[name=title]")
        assert title is not None and title["value"] == typed["title"]
    assert rows(harness, "SELECT status, version FROM reports") == [("masuk", 1)]


async def test_a_report_changed_during_the_forward_step_is_refused(harness: AppHarness) -> None:
    first, _ = await reported(harness, text="Lampu jalan di depan kantor camat mati total.")
    second, _ = await reported(harness, text="Lampu jalan di simpang empat pasar juga mati.")
    await signed_in(harness, "koor@prov.go.id")
    boxes, csrf, back = await inbox_selection(harness)
    fields = step_fields(
        soup(
            await harness.client.post(
                "/admin/bulk",
                data={"csrf": csrf, "action": "forward", "report": boxes, "back": back},
            )
        )
    )
    # While the second page is open, someone archives the first report.
    assert (
        await harness.act(
            "koor@prov.go.id", first, "archive", reason="Laporan ganda dari warga yang sama."
        )
    ).status_code == 303
    fields["csrf"] = await harness.csrf()  # act() signed in afresh
    response = await harness.client.post(
        "/admin/bulk",
        data={
            **fields,
            "title": "Lampu jalan mati",
            "category": "infrastruktur",
            "unit": str(harness.world.units["rsud"].id),
        },
    )
    assert response.status_code == 200
    page = soup(response)
    assert "1 laporan" in one(page, "#done").get_text()
    assert "mengubah laporan ini" in one(page, "#refused").get_text()
    assert sorted(rows(harness, "SELECT id, status FROM reports")) == [
        (first, "arsip"),
        (second, "diteruskan"),
    ]


async def test_the_forward_step_needs_a_selection_and_the_role(harness: AppHarness) -> None:
    await harness.world.user("petugas@rsud.go.id", "officer", "rsud")
    await reported(harness)
    await signed_in(harness, "koor@prov.go.id")
    _, csrf, back = await inbox_selection(harness)
    empty = await harness.client.post(
        "/admin/bulk", data={"csrf": csrf, "action": "forward", "back": back}
    )
    assert empty.status_code == 400
    assert "sedikitnya satu" in one(soup(empty), "#refusal").get_text()
    harness.client.cookies.clear()
    await signed_in(harness, "petugas@rsud.go.id")
    officer = await harness.client.post(
        "/admin/bulk", data={"csrf": await harness.csrf(), "action": "forward", "report": ["1.1"]}
    )
    assert officer.status_code == 400 and soup(officer).select_one("form#bulk-forward") is None
