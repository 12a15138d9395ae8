"""The public list of answered reports (/jawaban) and what staff keep off it, over HTTP on the
real app: only answered, non-confidential reports, as published, never who reported; search
and pages; withholding with a reason the audit trail keeps; a text that looks like it holds
personal data waits for the coordinator."""

from __future__ import annotations

import sqlite3

import pytest
from bs4 import BeautifulSoup

from lapor.complaints.publication import PAGE_SIZE, PersonalData, personal_data
from lapor.store import publication
from tests.admin.test_workflow import forward_form, reported, signed_in
from tests.conftest import AppHarness
from tests.html import field_values, tag

KOOR = "koor@prov.go.id"
OFFICER = "petugas@dinas.go.id"


def soup(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


@pytest.fixture
async def world(harness: AppHarness) -> AppHarness:
    await harness.world.user(OFFICER, "officer", "dinas")
    return harness


async def answered(
    harness: AppHarness,
    text: str,
    answer: str,
    *,
    title: str = "Antrean KTP",
    identity: str = "anonim",
    name: str = "",
    email: str = "",
) -> tuple[int, str]:
    """A report sent through the poster's form, forwarded and answered by the unit."""
    report_id, code = await reported(harness, text=text, identity=identity, name=name, email=email)
    await signed_in(harness, KOOR)
    form = await forward_form(harness, report_id)
    forwarded = await harness.client.post(
        f"/admin/reports/{report_id}/forward",
        data={
            **form,
            "title": title,
            "category": "kependudukan",
            "unit": str(harness.world.units["dinas"].id),
        },
    )
    assert forwarded.status_code == 303
    await signed_in(harness, OFFICER)
    page = soup((await harness.client.get(f"/admin/reports/{report_id}")).text)
    fields_ = field_values(
        tag(page.find("form", action=f"/admin/reports/{report_id}/follow-up")).find_all("input")
    )
    done = await harness.client.post(
        f"/admin/reports/{report_id}/follow-up", data={**fields_, "answer": answer}
    )
    assert done.status_code == 303
    harness.client.cookies.clear()
    return report_id, code


async def listed(harness: AppHarness, query: str = "") -> list[str]:
    response = await harness.client.get("/jawaban", params={"q": query} if query else {})
    assert response.status_code == 200
    return [str(li["id"]) for li in soup(response.text).select("li.answered")]


async def test_answered_reports_are_listed_as_published_and_never_who_reported(
    world: AppHarness,
) -> None:
    h = world
    text = "Antrean perekaman KTP di loket tiga berjam-jam tanpa nomor antrean."
    answer = "Mesin nomor antrean sudah dipasang; loket tiga kini buka sampai pukul 15.00."
    _, code = await answered(
        h, text, answer, identity="named", name="Siti Rahmawati", email="siti@example.id"
    )
    await answered(
        h,
        "Petugas loket meminta uang pelicin untuk mempercepat KTP.",
        "Petugas sudah diperiksa inspektorat dan dipindahkan.",
        identity="rahasia",
        name="Budi",
        email="budi@example.id",
    )
    await reported(h, text="Laporan yang belum dijawab siapa pun di dinas ini.")

    response = await h.client.get("/jawaban")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public")
    page = soup(response.text)
    [item] = page.select("li.answered")
    assert item["id"] == code
    assert text in item.get_text() and answer in item.get_text()
    assert "Dinas Kependudukan" in item.get_text() and "Antrean KTP" in item.get_text()
    assert item.select_one(f"a[href='/t/{code}']") is not None
    # Never who reported; never the confidential report, nor the unanswered one.
    assert "Siti" not in response.text and "siti@example.id" not in response.text
    assert "pelicin" not in response.text and "belum dijawab" not in response.text
    assert "1 laporan" in tag(page.find(id="count")).get_text()
    # Linked from every citizen page, in both languages.
    for url in ("/", f"/t/{code}", "/jawaban?lang=en"):
        footer = soup((await h.client.get(url)).text).select_one("footer a[href='/jawaban']")
        assert footer is not None, url
    english = await h.client.get("/jawaban?lang=en")
    assert "Answered reports" in english.text


async def test_search_and_pages(world: AppHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = world
    for n in range(PAGE_SIZE + 1):
        await answered(
            h,
            f"Lampu jalan nomor {n} di kelurahan Sungai Miai mati sejak minggu lalu.",
            "Lampu sudah diganti petugas.",
            title=f"Lampu {n}",
        )
    _, drain = await answered(
        h,
        "Saluran drainase tersumbat sampah di depan pasar.",
        "Saluran sudah dibersihkan.",
        title="Drainase",
    )
    first = await listed(h)
    assert len(first) == PAGE_SIZE and first[0] == drain  # newest answer first
    page = soup((await h.client.get("/jawaban")).text)
    older = tag(page.select_one("nav.pages a[rel=next]"))
    assert older["href"] == "/jawaban?page=2"
    second = soup((await h.client.get("/jawaban?page=2")).text).select("li.answered")
    assert len(second) == 2 and not set(first) & {li["id"] for li in second}
    assert await listed(h, "drainase") == [drain]
    assert await listed(h, "DRAINASE pasar") == [drain]
    assert await listed(h, "tidakadakatasepertiini") == []
    # Bad input: a clear refusal or an empty page, never an error.
    assert (await h.client.get("/jawaban?page=x")).status_code == 400
    assert (await h.client.get("/jawaban?page=0")).status_code == 400
    assert (await h.client.get("/jawaban?page=99")).status_code == 404
    assert (await h.client.get("/jawaban", params={"q": "\"'*)(OR 1=1 --"})).status_code == 200

    # A search past SEARCH_COUNT matches says "more than" and pages on while pages are full.
    monkeypatch.setattr(publication, "SEARCH_COUNT", PAGE_SIZE)
    page = soup((await h.client.get("/jawaban?q=lampu")).text)
    assert tag(page.find(id="count")).get_text().startswith(f"Lebih dari {PAGE_SIZE} laporan")
    assert tag(page.select_one("nav.pages a[rel=next]"))["href"] == "/jawaban?q=lampu&page=2"
    page = soup((await h.client.get("/jawaban?q=lampu&page=2")).text)
    assert len(page.select("li.answered")) == 1 and not page.select("nav.pages a[rel=next]")
    assert (await h.client.get("/jawaban?q=lampu&page=3")).status_code == 404


async def test_staff_withhold_with_a_reason_the_audit_trail_keeps(world: AppHarness) -> None:
    h = world
    report_id, code = await answered(
        h,
        "Jalan di depan sekolah berlubang besar dan membahayakan murid.",
        "Jalan sudah ditambal.",
    )
    assert await listed(h) == [code]
    await signed_in(h, KOOR)
    page = soup((await h.client.get(f"/admin/reports/{report_id}")).text)
    form = page.select_one("#public-list form input[name=action][value=withhold]")
    assert form is not None
    csrf = tag(page.select_one("#public-list input[name=csrf]"))["value"]
    url = f"/admin/reports/{report_id}/public-list"
    # No reason: refused, in the coordinator's language, nothing changed.
    refused = await h.client.post(url, data={"csrf": csrf, "action": "withhold", "reason": " "})
    assert refused.status_code == 400 and "mengapa" in refused.text
    assert (await h.client.post(url, data={"csrf": csrf, "action": "hide"})).status_code == 400
    h.client.cookies.clear()
    assert await listed(h) == [code]

    await signed_in(h, KOOR)
    csrf = await h.csrf("/admin/password")
    reason = "Menyebut nama guru yang belum terbukti bersalah"
    done = await h.client.post(url, data={"csrf": csrf, "action": "withhold", "reason": reason})
    assert done.status_code == 303
    page = soup((await h.client.get(f"/admin/reports/{report_id}")).text)
    assert reason in tag(page.find(id="list-state")).get_text()
    with sqlite3.connect(h.settings.data_dir / "lapor.db") as conn:
        audit = conn.execute(
            "SELECT e.kind, e.note, u.email, e.public FROM report_events e"
            " JOIN users u ON u.id = e.actor_user_id WHERE e.kind LIKE 'list_%'"
        ).fetchall()
    assert audit == [("list_withheld", reason, KOOR, 0)]
    h.client.cookies.clear()
    assert await listed(h) == []
    # The status page stays as it was: the list is one more way to read, not the only one.
    assert (await h.client.get(f"/t/{code}")).status_code == 200

    # An officer may not; another coordinator's report is not found.
    await signed_in(h, OFFICER)
    officer_csrf = await h.csrf("/admin/password")
    forbidden = await h.client.post(url, data={"csrf": officer_csrf, "action": "publish"})
    assert forbidden.status_code == 403
    await signed_in(h, "koor@other.go.id")
    other_csrf = await h.csrf("/admin/password")
    hidden = await h.client.post(url, data={"csrf": other_csrf, "action": "publish"})
    assert hidden.status_code == 404

    await signed_in(h, KOOR)
    csrf = await h.csrf("/admin/password")
    back = await h.client.post(url, data={"csrf": csrf, "action": "publish"})
    assert back.status_code == 303
    h.client.cookies.clear()
    assert await listed(h) == [code]


async def test_personal_data_waits_for_the_coordinator(world: AppHarness) -> None:
    h = world
    report_id, code = await answered(
        h,
        "Pak Darto dari RT 4 (0812-3456-7890) menimbun sampah di saluran air.",
        "Saluran sudah dibersihkan bersama warga.",
    )
    assert await listed(h) == []  # held: it looks like it holds a phone number
    await signed_in(h, KOOR)
    page = soup((await h.client.get(f"/admin/reports/{report_id}")).text)
    state = tag(page.find(id="list-state")).get_text()
    assert "nomor telepon" in state
    # Redacting what was flagged lets the answer go on the list.
    redact = tag(page.find("form", action=f"/admin/reports/{report_id}/redact"))
    fields = field_values(redact.find_all("input"))
    clean = "Seorang warga RT 4 menimbun sampah di saluran air."
    done = await h.client.post(f"/admin/reports/{report_id}/redact", data={**fields, "text": clean})
    assert done.status_code == 303
    h.client.cookies.clear()
    assert await listed(h) == [code]
    listing = (await h.client.get("/jawaban")).text
    assert "0812" not in listing and "Darto" not in listing and clean in listing


async def test_a_coordinator_may_publish_a_flagged_text_as_it_is(world: AppHarness) -> None:
    h = world
    report_id, code = await answered(
        h,
        "Pengaduan soal layanan; kantor bisa dihubungi lewat humas@dinas.go.id katanya.",
        "Alamat humas memang itu; layanan sudah diperbaiki.",
    )
    assert await listed(h) == []
    await signed_in(h, KOOR)
    page = soup((await h.client.get(f"/admin/reports/{report_id}")).text)
    assert "alamat e-mail" in tag(page.find(id="list-state")).get_text()
    csrf = tag(page.select_one("#public-list input[name=csrf]"))["value"]
    done = await h.client.post(
        f"/admin/reports/{report_id}/public-list", data={"csrf": csrf, "action": "publish"}
    )
    assert done.status_code == 303
    h.client.cookies.clear()
    assert await listed(h) == [code]


@pytest.mark.parametrize(
    "text, found",
    [
        ("hubungi 0812-3456-7890 ya", (PersonalData.PHONE,)),
        ("telp (0511) 3354 123", (PersonalData.PHONE,)),
        ("+62 812 3456 7890", (PersonalData.PHONE,)),
        ("NIK 6371 0123 4567 8901", (PersonalData.NIK,)),
        ("surel ani@desa.id", (PersonalData.EMAIL,)),
        ("antrean 3 jam di loket 2 sejak 2026, biaya Rp 150.000", ()),
        ("Jl. A. Yani km 3,5 RT 004 RW 02, nomor antrean 0012", ()),
    ],
)
def test_what_looks_like_personal_data(text: str, found: tuple[PersonalData, ...]) -> None:
    assert personal_data(text) == found
