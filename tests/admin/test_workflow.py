"""Forwarding (disposisi) and the unit's follow-up (tindak lanjut), through the workspace."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.conftest import AppHarness
from tests.html import field_values, tag


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def reported(
    harness: AppHarness,
    *,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    **fields: str,
) -> tuple[int, str]:
    response = await harness.submit(files=files, **fields)
    code = response.headers["location"][3:14]
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        [(report_id,)] = conn.execute(
            "SELECT id FROM reports WHERE tracking_code = ?", (code.replace("-", ""),)
        ).fetchall()
    return report_id, code


async def signed_in(harness: AppHarness, email: str) -> None:
    harness.client.cookies.clear()
    assert (await harness.login(email)).status_code == 303


async def forward_form(harness: AppHarness, report_id: int) -> dict[str, str]:
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    form = page.find("form", action=f"/admin/reports/{report_id}/forward")
    assert form is not None, "the coordinator is offered the forward form"
    return field_values(form.find_all("input"))


@pytest.fixture
async def officer(harness: AppHarness) -> AppHarness:
    await harness.world.user("petugas@dinas.go.id", "officer", "dinas")
    await harness.world.user("petugas@rsud.go.id", "officer", "rsud")
    return harness


async def test_forward_then_follow_up_reaches_the_reporter(officer: AppHarness) -> None:
    harness = officer
    report_id, code = await reported(
        harness, identity="named", name="Ani", phone="0812345678", email="ani@example.id"
    )
    await signed_in(harness, "koor@prov.go.id")
    fields = await forward_form(harness, report_id)
    dinas = harness.world.units["dinas"].id
    response = await harness.client.post(
        f"/admin/reports/{report_id}/forward",
        data={
            **fields,
            "title": "Antrean KTP terlalu lama",
            "category": "kependudukan",
            "unit": str(dinas),
            "note": "Mohon cek jadwal petugas loket 3.",
        },
    )
    assert response.status_code == 303
    detail = await harness.client.get(f"/admin/reports/{report_id}")
    assert "Antrean KTP terlalu lama" in detail.text and "Mohon cek jadwal" in detail.text

    # The officer of that unit sees it and answers; the officer of another unit does not.
    await signed_in(harness, "petugas@rsud.go.id")
    assert (await harness.client.get(f"/admin/reports/{report_id}")).status_code == 404
    await signed_in(harness, "petugas@dinas.go.id")
    inbox = soup(await harness.client.get("/admin"))
    assert [a["href"] for a in inbox.select("table.inbox a.code")] == [
        f"/admin/reports/{report_id}"
    ]
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    assert "Mohon cek jadwal" in page.text  # internal notes are for staff
    form = tag(page.find("form", action=f"/admin/reports/{report_id}/follow-up"))
    fields = field_values(form.find_all("input"))
    answer = "Jadwal petugas sudah ditambah; loket 3 kini buka sampai pukul 15.00."
    response = await harness.client.post(
        f"/admin/reports/{report_id}/follow-up", data={**fields, "answer": answer}
    )
    assert response.status_code == 303

    # The reporter reads the answer, never the internal note, on the public status page.
    harness.client.cookies.clear()
    status = await harness.client.get(f"/t/{code}")
    assert answer in status.text and "Mohon cek jadwal" not in status.text
    assert "Ani" not in status.text
    mail = await harness.outbox()
    recipients = {m.to_address for m in mail}
    assert {"petugas@dinas.go.id", "ani@example.id"} <= recipients
    assert "petugas@rsud.go.id" not in recipients
    [to_reporter] = [m for m in mail if m.to_address == "ani@example.id"]
    assert answer in to_reporter.body and "Ani" not in to_reporter.body


async def test_two_coordinators_acting_at_once_cannot_both_win(officer: AppHarness) -> None:
    harness = officer
    report_id, _ = await reported(harness)
    await signed_in(harness, "koor@prov.go.id")
    fields = await forward_form(harness, report_id)
    data = {
        **fields,
        "title": "Judul",
        "category": "lainnya",
        "unit": str(harness.world.units["dinas"].id),
    }
    first, second = await asyncio.gather(
        harness.client.post(f"/admin/reports/{report_id}/forward", data=data),
        harness.client.post(
            f"/admin/reports/{report_id}/forward",
            data={**data, "unit": str(harness.world.units["rsud"].id)},
        ),
    )
    assert sorted([first.status_code, second.status_code]) == [303, 409]
    loser = first if first.status_code == 409 else second
    assert soup(loser).find(id="refusal") is not None
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        events = conn.execute("SELECT count(*) FROM report_events WHERE kind = 'forwarded'")
        assert events.fetchone() == (1,)


@pytest.mark.parametrize(
    "change, status",
    [
        ({"title": ""}, 400),
        ({"title": "x" * 201}, 400),
        ({"unit": ""}, 400),
        ({"unit": "outside"}, 400),
        ({"unit": "²"}, 400),
        ({"version": "0"}, 409),
    ],
)
async def test_bad_forwarding_changes_nothing(
    officer: AppHarness, change: dict[str, str], status: int
) -> None:
    harness = officer
    report_id, _ = await reported(harness)
    await signed_in(harness, "koor@prov.go.id")
    fields = await forward_form(harness, report_id)
    data = {
        **fields,
        "title": "Judul",
        "category": "lainnya",
        "unit": str(harness.world.units["dinas"].id),
        **change,
    }
    if data["unit"] == "outside":
        data["unit"] = str(harness.world.units["other"].id)
    response = await harness.client.post(f"/admin/reports/{report_id}/forward", data=data)
    assert response.status_code == status
    assert soup(response).find(id="refusal") is not None
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        assert conn.execute("SELECT status, version FROM reports").fetchall() == [("masuk", 1)]


async def test_who_may_act(officer: AppHarness) -> None:
    harness = officer
    report_id, _ = await reported(harness)
    data = {
        "title": "Judul",
        "category": "lainnya",
        "unit": str(harness.world.units["dinas"].id),
        "version": "1",
    }
    # An inspector reads but cannot act; an officer cannot forward; another region's
    # coordinator does not even see the report.
    for email, expected in (
        ("insp@prov.go.id", 403),
        ("petugas@dinas.go.id", 403),
        ("koor@other.go.id", 404),
    ):
        await signed_in(harness, email)
        csrf = await harness.csrf("/admin")
        response = await harness.client.post(
            f"/admin/reports/{report_id}/forward", data={**data, "csrf": csrf}
        )
        assert response.status_code == expected, email
    # Nobody can answer a report that was never forwarded.
    await signed_in(harness, "petugas@dinas.go.id")
    csrf = await harness.csrf("/admin")
    response = await harness.client.post(
        f"/admin/reports/{report_id}/follow-up",
        data={"csrf": csrf, "version": "1", "answer": "Jawaban yang terlalu dini sekali."},
    )
    assert response.status_code == 404
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        assert conn.execute("SELECT status FROM reports").fetchall() == [("masuk",)]


async def decision_fields(harness: AppHarness, report_id: int, path: str) -> dict[str, str]:
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    form = page.find("form", action=f"/admin/reports/{report_id}/{path}")
    assert form is not None, f"the coordinator is offered {path}"
    return field_values(form.find_all("input"))


async def test_postpone_asks_the_reporter_on_the_status_page_and_by_mail(
    harness: AppHarness,
) -> None:
    report_id, code = await reported(
        harness, identity="rahasia", name="Budi", email="budi@example.id"
    )
    await signed_in(harness, "koor@prov.go.id")
    fields = await decision_fields(harness, report_id, "postpone")
    question = "Di loket mana dan jam berapa kejadiannya?"
    response = await harness.client.post(
        f"/admin/reports/{report_id}/postpone", data={**fields, "reason": question}
    )
    assert response.status_code == 303
    harness.client.cookies.clear()
    status = await harness.client.get(f"/t/{code}")
    assert question in status.text and "Budi" not in status.text
    mail = [m for m in await harness.outbox() if m.to_address == "budi@example.id"]
    assert len(mail) == 1 and question in mail[0].body


async def test_archive_as_duplicate_points_to_the_original(harness: AppHarness) -> None:
    _, original = await reported(harness)
    report_id, code = await reported(harness)
    await signed_in(harness, "koor@prov.go.id")
    fields = await decision_fields(harness, report_id, "archive")
    unknown = await harness.client.post(
        f"/admin/reports/{report_id}/archive",
        data={**fields, "reason": "Laporan yang sama sudah masuk.", "duplicate_of": "ZZZZZ-ZZZZZ"},
    )
    assert unknown.status_code == 400
    itself = await harness.client.post(
        f"/admin/reports/{report_id}/archive",
        data={**fields, "reason": "Laporan yang sama sudah masuk.", "duplicate_of": code},
    )
    assert itself.status_code == 400
    response = await harness.client.post(
        f"/admin/reports/{report_id}/archive",
        data={
            **fields,
            "reason": "Laporan yang sama sudah masuk.",
            "duplicate_of": original.lower(),
        },
    )
    assert response.status_code == 303
    status = await harness.client.get(f"/t/{code}")
    assert original in status.text
    # An archived report cannot be forwarded any more.
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    assert page.find("form", action=f"/admin/reports/{report_id}/forward") is None


async def test_not_authority_needs_a_reason(harness: AppHarness) -> None:
    report_id, code = await reported(harness)
    await signed_in(harness, "koor@prov.go.id")
    fields = await decision_fields(harness, report_id, "not-authority")
    short = await harness.client.post(
        f"/admin/reports/{report_id}/not-authority", data={**fields, "reason": "bukan"}
    )
    assert short.status_code == 400
    reason = "Jalan nasional ini kewenangan Kementerian PUPR, silakan lapor ke sana."
    assert (
        await harness.client.post(
            f"/admin/reports/{report_id}/not-authority", data={**fields, "reason": reason}
        )
    ).status_code == 303
    assert reason in (await harness.client.get(f"/t/{code}")).text


def facts(response: httpx.Response) -> dict[str, str]:
    page = soup(response)
    box = tag(page.find("dl", class_="facts"))
    return {
        dt.get_text(strip=True): tag(dt.find_next_sibling("dd")).get_text(" ", strip=True)
        for dt in box.find_all("dt")
    }


async def test_the_deadline_shown_is_the_one_running_or_how_it_was_met(
    officer: AppHarness,
) -> None:
    """What people read: after forward, answer and acceptance, "Batas verifikasi" stayed for
    staff and "Diverifikasi paling lambat" for the citizen of a closed report."""
    harness = officer
    report_id, code = await reported(harness)
    assert "Diverifikasi paling lambat" in facts(await harness.client.get(f"/t/{code}"))
    await signed_in(harness, "koor@prov.go.id")
    fields = await forward_form(harness, report_id)
    await harness.client.post(
        f"/admin/reports/{report_id}/forward",
        data={
            **fields,
            "title": "Antrean",
            "category": "lainnya",
            "unit": str(harness.world.units["dinas"].id),
        },
    )
    staff = facts(await harness.client.get(f"/admin/reports/{report_id}"))
    assert "Diverifikasi" in staff and "tepat waktu" in staff["Diverifikasi"]
    assert "Verifikasi paling lambat" not in staff
    citizen = facts(await harness.client.get(f"/t/{code}"))
    assert "Instansi menjawab paling lambat" in citizen
    assert "Diverifikasi paling lambat" not in citizen

    await signed_in(harness, "petugas@dinas.go.id")
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    form = tag(page.find("form", action=f"/admin/reports/{report_id}/follow-up"))
    answer = "Jadwal petugas sudah ditambah; loket 3 kini buka sampai pukul 15.00."
    await harness.client.post(
        f"/admin/reports/{report_id}/follow-up",
        data={**field_values(form.find_all("input")), "answer": answer},
    )
    staff = facts(await harness.client.get(f"/admin/reports/{report_id}"))
    assert "bila tidak ada balasan" in staff["Dijawab"]
    citizen = facts(await harness.client.get(f"/t/{code}"))
    assert "Dijawab pada" in citizen and "Selesai dengan sendirinya pada" in citizen
    assert "Instansi menjawab paling lambat" not in citizen


async def test_the_timeline_names_staff_and_the_unit_reads_the_coordinators_note(
    officer: AppHarness,
) -> None:
    harness = officer
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        conn.execute("UPDATE users SET name = 'Rina Wulandari' WHERE email = 'koor@prov.go.id'")
    report_id, _ = await reported(harness)
    await signed_in(harness, "koor@prov.go.id")
    fields = await forward_form(harness, report_id)
    response = await harness.client.post(
        f"/admin/reports/{report_id}/forward",
        data={
            **fields,
            "title": "Antrean",
            "category": "lainnya",
            "unit": str(harness.world.units["dinas"].id),
            "note": "Tolong cek loket tiga hari ini.",
        },
    )
    assert response.headers["location"] == f"/admin/reports/{report_id}?done=forward"
    page = soup(await harness.client.get(response.headers["location"]))
    assert "Diteruskan" in tag(page.find(id="done")).get_text()
    timeline = tag(page.select_one("ol.timeline")).get_text()
    assert "Rina Wulandari" in timeline and "koor@prov.go.id" not in timeline
    await signed_in(harness, "petugas@dinas.go.id")
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    note = tag(page.find(id="unit-note")).get_text()
    assert "Tolong cek loket tiga hari ini." in note and "Rina Wulandari" in note
    assert page.find(id="done") is None
