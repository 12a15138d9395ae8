"""Changes to a report that keep its status: redaction, classification, internal notes,
assignment, extensions; and the unit's request to re-route it."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.admin.test_workflow import reported
from tests.conftest import AppHarness, jpeg_bytes
from tests.html import field_values, one

NIK = "3201234567890001"
STORY = f"Saya Budi NIK {NIK} menunggu empat jam di loket perekaman KTP."


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def row(harness: AppHarness, sql: str, *params: Any) -> tuple[Any, ...]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        result: tuple[Any, ...] = conn.execute(sql, params).fetchone()
    return result


async def page_of(harness: AppHarness, email: str, report_id: int) -> Any:
    harness.client.cookies.clear()
    assert (await harness.login(email)).status_code == 303
    return await harness.client.get(f"/admin/reports/{report_id}")


@pytest.fixture
async def forwarded(harness: AppHarness) -> tuple[AppHarness, int]:
    """A report with a photo, forwarded to the population office, which has an officer."""
    await harness.world.user("petugas@dinas.go.id", "officer", "dinas")
    await harness.world.user("petugas2@dinas.go.id", "officer", "dinas")
    await harness.world.user("petugas@rsud.go.id", "officer", "rsud")
    report_id, _ = await reported(
        harness,
        text=STORY,
        files=[("photos", ("ktp.jpg", jpeg_bytes(), "image/jpeg"))],
    )
    response = await harness.act(
        "koor@prov.go.id",
        report_id,
        "forward",
        title="Antrean KTP",
        category="kependudukan",
        tags="antrean",
        unit=str(harness.world.units["dinas"].id),
    )
    assert response.status_code == 303
    return harness, report_id


async def test_redaction_hides_the_original_from_everyone_but_coordinators(
    forwarded: tuple[AppHarness, int],
) -> None:
    harness, report_id = forwarded
    redacted = "Pelapor menunggu empat jam di loket perekaman KTP."
    response = await harness.act(
        "koor@prov.go.id", report_id, "redact", text=redacted, withhold="0"
    )
    assert response.status_code == 303
    coordinator = soup(await page_of(harness, "koor@prov.go.id", report_id))
    assert one(coordinator, "div.text").get_text() == redacted
    assert NIK in one(coordinator, "ol.timeline").get_text()
    assert coordinator.select("ul.photos img")  # still there, marked withheld
    for email in ("petugas@dinas.go.id", "insp@prov.go.id"):
        response = await page_of(harness, email, report_id)
        assert response.status_code == 200 and NIK not in response.text, email
        assert soup(response).select("ul.photos img") == [], email
        photo = await harness.client.get(f"/admin/reports/{report_id}/photos/0")
        assert photo.status_code == 404, email
    # The search index follows the redacted text: the ID number finds nothing any more.
    await page_of(harness, "koor@prov.go.id", report_id)
    found = soup(await harness.client.get("/admin", params={"q": NIK}))
    assert found.select("table.inbox a.code") == []
    assert row(harness, "SELECT kind, note FROM report_events WHERE kind = 'redacted'") == (
        "redacted",
        STORY,
    )


async def test_an_empty_redaction_changes_nothing(forwarded: tuple[AppHarness, int]) -> None:
    harness, report_id = forwarded
    response = await harness.act("koor@prov.go.id", report_id, "redact", text=" \u200b ")
    assert response.status_code == 400
    assert "tidak boleh kosong" in one(soup(response), "#refusal").get_text()
    assert row(harness, "SELECT text, version FROM reports") == (STORY, 2)


async def test_category_and_tags_can_be_corrected(forwarded: tuple[AppHarness, int]) -> None:
    harness, report_id = forwarded
    bad = await harness.act("koor@prov.go.id", report_id, "classify", category="unknown")
    assert bad.status_code == 400
    good = await harness.act(
        "koor@prov.go.id",
        report_id,
        "classify",
        title="Antrean e-KTP",
        category="pelayanan",
        tags="Antrean, e-KTP , antrean",
    )
    assert good.status_code == 303
    assert row(harness, "SELECT title, category, tags FROM reports") == (
        "Antrean e-KTP",
        "pelayanan",
        "antrean,e-ktp",
    )
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    assert "Kualitas pelayanan publik" in one(page, "dl.facts").get_text()


async def test_internal_notes_stay_inside(forwarded: tuple[AppHarness, int]) -> None:
    harness, report_id = forwarded
    note = "Dicek bersama kepala seksi besok pagi."
    assert (
        await harness.act("petugas@dinas.go.id", report_id, "note", note=note)
    ).status_code == 303
    assert (
        await harness.act("petugas@dinas.go.id", report_id, "note", note="  ")
    ).status_code == 400
    coordinator = await page_of(harness, "koor@prov.go.id", report_id)
    assert note in coordinator.text
    code = row(harness, "SELECT tracking_code FROM reports")[0]
    harness.client.cookies.clear()
    status = await harness.client.get(f"/t/{code[:5]}-{code[5:]}")
    assert status.status_code == 200 and note not in status.text
    # An inspector reads the note but cannot write one.
    inspector = await page_of(harness, "insp@prov.go.id", report_id)
    assert note in inspector.text and soup(inspector).select("#note-form") == []
    csrf = str(one(soup(inspector), "form[action='/admin/logout'] input[name=csrf]")["value"])
    refused = await harness.client.post(
        f"/admin/reports/{report_id}/note", data={"csrf": csrf, "note": "Boleh saya ikut menulis?"}
    )
    assert refused.status_code == 403


async def test_assignment_stays_inside_the_responsible_units(
    forwarded: tuple[AppHarness, int],
) -> None:
    harness, report_id = forwarded
    users = harness.world.users
    outsider = await harness.act(
        "koor@prov.go.id", report_id, "assign", assignee=str(users["petugas@rsud.go.id"].id)
    )
    assert outsider.status_code == 400
    assert row(harness, "SELECT assigned_user_id FROM reports") == (None,)
    chosen = users["petugas2@dinas.go.id"]
    assert (
        await harness.act("koor@prov.go.id", report_id, "assign", assignee=str(chosen.id))
    ).status_code == 303
    page = soup(await page_of(harness, "petugas@dinas.go.id", report_id))
    assert chosen.email in one(page, "dl.facts").get_text()
    options = [o["value"] for o in page.select("#assignee option")]
    # An officer hands it on inside their own unit only.
    assert str(users["petugas@rsud.go.id"].id) not in options and str(chosen.id) in options
    assert (
        await harness.act("petugas@dinas.go.id", report_id, "assign", assignee="")
    ).status_code == 303
    assert row(harness, "SELECT assigned_user_id FROM reports") == (None,)


async def test_an_extension_moves_the_follow_up_deadline(forwarded: tuple[AppHarness, int]) -> None:
    harness, report_id = forwarded
    before = date.fromisoformat(row(harness, "SELECT follow_up_due FROM reports")[0])
    assert (
        await harness.act(
            "koor@prov.go.id", report_id, "extend", days="0", reason="Menunggu anggaran."
        )
    ).status_code == 400
    assert (
        await harness.act(
            "koor@prov.go.id", report_id, "extend", days="5", reason="Menunggu anggaran perbaikan."
        )
    ).status_code == 303
    after, due_on = (
        date.fromisoformat(d) for d in row(harness, "SELECT follow_up_due, due_on FROM reports")
    )
    assert after == harness.settings.calendar.add_working_days(before, 5) == due_on
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    timeline = one(page, "ol.timeline").get_text()
    assert "Menunggu anggaran perbaikan." in timeline and after.isoformat() in timeline
    # The audit trail says from which state each move was made.
    assert [t.get_text() for t in page.select("ol.timeline .transition")] == [
        "(Diterima, menunggu verifikasi → Diteruskan ke unit)"
    ]


async def test_the_unit_returns_a_report_that_is_not_theirs(
    forwarded: tuple[AppHarness, int],
) -> None:
    harness, report_id = forwarded
    reason = "Ini urusan RSUD, bukan Dukcapil."
    assert (
        await harness.act("petugas@dinas.go.id", report_id, "reroute", reason=reason)
    ).status_code == 303
    assert row(harness, "SELECT status, forwarded_unit_id FROM reports") == ("masuk", None)
    gone = await harness.client.get(f"/admin/reports/{report_id}")
    assert gone.status_code == 404  # no longer the unit's
    mail = [
        m
        for m in await harness.outbox()
        if m.to_address == "koor@prov.go.id" and "dialihkan" in m.subject
    ]
    assert len(mail) == 1 and reason in mail[0].body
    again = await harness.act(
        "koor@prov.go.id",
        report_id,
        "forward",
        title="Antrean KTP",
        category="kesehatan",
        unit=str(harness.world.units["rsud"].id),
    )
    assert again.status_code == 303
    assert row(harness, "SELECT status FROM reports") == ("diteruskan",)


async def test_not_our_authority_can_pass_the_report_to_another_coordinator(
    harness: AppHarness,
) -> None:
    report_id, code = await reported(harness, identity="named", name="Ani", email="ani@example.id")
    other = harness.world.units["other"]
    response = await harness.act(
        "koor@prov.go.id",
        report_id,
        "not-authority",
        reason="Jalan itu milik kabupaten, bukan provinsi.",
        hand_to=str(other.id),
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    assert row(harness, "SELECT status, routed_unit_id FROM reports") == ("masuk", other.id)
    assert (await harness.client.get(f"/admin/reports/{report_id}")).status_code == 404
    page = soup(await page_of(harness, "koor@other.go.id", report_id))
    assert page.select_one("#forward") is not None  # theirs to verify now
    mail = await harness.outbox()
    assert any(
        m.to_address == "koor@other.go.id" and "dilimpahkan" in m.subject.lower() for m in mail
    )
    assert any(m.to_address == "ani@example.id" for m in mail)
    harness.client.cookies.clear()
    status = one(soup(await harness.client.get(f"/t/{code}")), "ol.timeline").get_text()
    assert "Kabupaten Lain" in status and "milik kabupaten" in status
    # The counters follow the report to its new unit.
    count = "SELECT n FROM report_counts WHERE unit_id = ? AND status = 'masuk'"
    assert row(harness, count, other.id) == (1,)
    assert row(harness, count, harness.world.units["prov"].id) == (0,)


async def test_a_hand_over_to_a_unit_without_coordinator_is_refused(harness: AppHarness) -> None:
    report_id, _ = await reported(harness)
    response = await harness.act(
        "koor@prov.go.id",
        report_id,
        "not-authority",
        reason="Jalan itu milik kabupaten, bukan provinsi.",
        hand_to=str(harness.world.units["rsud"].id),
    )
    assert response.status_code == 400
    assert row(harness, "SELECT status, version FROM reports") == ("masuk", 1)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def test_an_answer_carries_photos_and_letters_to_the_reporter(
    forwarded: tuple[AppHarness, int],
) -> None:
    harness, report_id = forwarded
    answer = "Antrean sudah diatur ulang; surat edaran terlampir."
    await page_of(harness, "petugas@dinas.go.id", report_id)
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    form = one(page, "form[action$='/follow-up']")
    fields = field_values(form.select("input[type=hidden]"))
    bad = await harness.client.post(
        f"/admin/reports/{report_id}/follow-up",
        data={**fields, "answer": answer},
        files=[("attachments", ("virus.exe", b"MZ\x90\x00 not a photo", "image/jpeg"))],
    )
    assert bad.status_code == 400 and "surat PDF" in bad.text
    many = await harness.client.post(
        f"/admin/reports/{report_id}/follow-up",
        data={**fields, "answer": answer},
        files=[("attachments", (f"{i}.pdf", PDF, "application/pdf")) for i in range(4)],
    )
    assert many.status_code == 400
    assert row(harness, "SELECT status FROM reports") == ("diteruskan",)
    sent = await harness.client.post(
        f"/admin/reports/{report_id}/follow-up",
        data={**fields, "answer": answer},
        files=[
            ("attachments", ("foto.jpg", jpeg_bytes(), "image/jpeg")),
            ("attachments", ("surat.pdf", PDF, "application/pdf")),
        ],
    )
    assert sent.status_code == 303
    code = row(harness, "SELECT tracking_code FROM reports")[0]
    harness.client.cookies.clear()
    status = soup(await harness.client.get(f"/t/{code[:5]}-{code[5:]}"))
    [photo] = status.select("ul.attachments img")
    [letter] = status.select("ul.attachments a[download]")
    image = await harness.client.get(str(photo["src"]))
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    document = await harness.client.get(str(letter["href"]))
    assert document.content == PDF
    assert document.headers["content-disposition"].startswith("attachment")
    assert (await harness.client.get(f"/t/{code}/attachments/9999")).status_code == 404
    other, _ = await reported(harness, text="Laporan lain tanpa lampiran apa pun di sini.")
    other_code = row(harness, "SELECT tracking_code FROM reports WHERE id = ?", other)[0]
    assert (
        await harness.client.get(str(photo["src"]).replace(code[:5] + "-" + code[5:], other_code))
    ).status_code == 404


async def test_a_likely_duplicate_is_suggested_and_archived_in_two_clicks(
    harness: AppHarness,
) -> None:
    original, original_code = await reported(
        harness, text="Lampu penerangan jalan di simpang pasar mati total."
    )
    copy, copy_code = await reported(
        harness, text="Lampu penerangan di simpang pasar mati lagi malam ini."
    )
    page = soup(await page_of(harness, "koor@prov.go.id", copy))
    [suggestion] = page.select("section.similar li")
    assert original_code in suggestion.get_text()
    link = str(suggestion.select("a")[-1]["href"])
    picked = soup(await harness.client.get(f"/admin/reports/{copy}{link.split('#')[0]}"))
    assert one(picked, "details#archive").has_attr("open")
    assert one(picked, "#duplicate-of")["value"] == original_code
    fields = {
        str(i["name"]): str(i.get("value", ""))
        for i in picked.select("form[action$='/archive'] input")
    }
    archived = await harness.client.post(
        f"/admin/reports/{copy}/archive",
        data={**fields, "reason": "Sama dengan laporan sebelumnya dari lokasi yang sama."},
    )
    assert archived.status_code == 303
    harness.client.cookies.clear()
    status = (await harness.client.get(f"/t/{copy_code}")).text
    assert original_code in status
    # The original, now alone, suggests nothing: the archived copy is no longer open.
    page = soup(await page_of(harness, "koor@prov.go.id", original))
    assert page.select("section.similar") == []
