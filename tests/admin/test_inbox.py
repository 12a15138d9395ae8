"""The inbox page: filters from the query string, the htmx partial, counts, bad input."""

from __future__ import annotations

from typing import Any

import httpx
from bs4 import BeautifulSoup

from tests.conftest import AppHarness
from tests.html import attr, one, tag


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def codes(page: BeautifulSoup) -> list[str]:
    return [a.get_text() for a in page.select("table.inbox a.code")]


async def test_search_and_filters_narrow_the_list(harness: AppHarness) -> None:
    await harness.submit(text="Ruang tunggu Puskesmas panas dan kipas angin rusak.")
    await harness.submit(kind="aspirasi", text="Mohon tambah jam layanan di hari Sabtu pagi.")
    await harness.submit("igd", text="Petugas IGD tidak ramah kepada pasien lansia.")
    await harness.login("koor@prov.go.id")
    everything = soup(await harness.client.get("/admin"))
    assert len(codes(everything)) == 3
    found = soup(await harness.client.get("/admin", params={"q": "PUSKÉSMAS"}))
    assert len(codes(found)) == 1 and "Puskesmas" in one(found, "table.inbox").get_text()
    assert tag(found.find("input", attrs={"name": "q"}))["value"] == "PUSKÉSMAS"
    aspirations = soup(await harness.client.get("/admin", params={"kind": "aspirasi"}))
    assert len(codes(aspirations)) == 1
    rsud = harness.world.units["rsud"].id
    by_unit = soup(await harness.client.get("/admin", params={"unit": rsud}))
    assert "IGD" in one(by_unit, "table.inbox").get_text() and len(codes(by_unit)) == 1
    none = soup(await harness.client.get("/admin", params={"q": "sekolah"}))
    assert codes(none) == [] and none.select_one("p.empty") is not None


async def test_counts_per_status_in_the_side_bar(harness: AppHarness) -> None:
    for _ in range(3):
        await harness.submit()
    await harness.login("koor@prov.go.id")
    page = soup(await harness.client.get("/admin"))
    received = page.select_one("aside.counts a[href='?status=masuk']")
    assert received is not None and one(received, ".n").get_text() == "3"
    assert one(page, "aside.counts li a .n").get_text() == "3"  # all


async def test_htmx_gets_only_the_results_and_the_response_varies(harness: AppHarness) -> None:
    await harness.submit()
    await harness.login("koor@prov.go.id")
    full = await harness.client.get("/admin")
    partial = await harness.client.get("/admin", headers={"HX-Request": "true"})
    assert "hx-request" in full.headers["vary"].lower()
    assert "hx-request" in partial.headers["vary"].lower()
    assert "<html" not in partial.text and "<form" not in partial.text
    assert len(codes(soup(partial))) == 1
    # Back after a live filter: htmx restores history with a request of its own, and the
    # browser shows the answer as the whole page, filters and all.
    restored = await harness.client.get(
        "/admin", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert soup(restored).select_one("form.filters") is not None
    assert "hx-history-restore-request" in restored.headers["vary"].lower()


async def test_bad_filters_are_named_in_indonesian_and_the_rest_still_applies(
    harness: AppHarness,
) -> None:
    await harness.submit()
    await harness.login("koor@prov.go.id")
    response = await harness.client.get(
        "/admin", params={"within": "999", "kind": "pengaduan", "from": "kemarin"}
    )
    assert response.status_code == 400
    alert = one(soup(response), "[role=alert]").get_text()
    assert "Jumlah hari kerja harus antara 1 dan 60" in alert
    assert "Tanggal awal" in alert
    assert len(codes(soup(response))) == 1


async def test_next_page_link_keeps_the_filters(harness: AppHarness, monkeypatch: Any) -> None:
    from lapor.admin import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(3):
        await harness.submit(text=f"Lampu penerangan jalan mati nomor {i} sejak lama.")
    await harness.submit(text="Sesuatu yang sama sekali berbeda dari yang lain.")
    await harness.login("koor@prov.go.id")
    first = soup(await harness.client.get("/admin", params={"q": "lampu"}))
    link = first.find("a", string=lambda s: bool(s) and "→" in s)
    assert link is not None and "q=lampu" in link["href"]
    second = soup(await harness.client.get(f"/admin{link['href']}"))
    assert len(codes(first)) == 2 and len(codes(second)) == 1
    assert not set(codes(first)) & set(codes(second))


async def test_a_search_that_stopped_short_offers_the_older_reports(
    harness: AppHarness, monkeypatch: Any
) -> None:
    from lapor.store import inbox

    # As with a common word at a million reports: a request searches a stretch of ids only.
    monkeypatch.setattr(inbox, "RARE_MATCHES", 0)
    monkeypatch.setattr(inbox, "SEARCH_WINDOW", 4)
    await harness.submit(text="Lampu penerangan jalan mati sejak lama.")
    for _ in range(4):
        await harness.submit(text="Antrean panjang sekali di loket pelayanan.")
    await harness.login("koor@prov.go.id")
    first = soup(await harness.client.get("/admin", params={"q": "lampu", "kind": "pengaduan"}))
    assert codes(first) == []
    assert "Tidak ada yang cocok di antara laporan terbaru." in one(first, "p.empty").get_text()
    note = first.select_one("p.search-older")
    assert note is not None and "Baru laporan terbaru yang sudah dicari." in note.get_text()
    link = tag(note.find("a"))
    assert link.get_text().startswith("Cari di laporan yang lebih lama")
    assert "q=lampu" in link["href"] and "kind=pengaduan" in link["href"]
    older = soup(await harness.client.get(f"/admin{link['href']}"))
    assert len(codes(older)) == 1 and older.select_one("p.search-older") is None
    assert "Lampu" in one(older, "table.inbox").get_text()


async def test_a_received_window_pages_by_the_time_received(
    harness: AppHarness, monkeypatch: Any
) -> None:
    from lapor.admin import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(3):
        await harness.submit()
    await harness.login("koor@prov.go.id")
    params = {"from": "2000-01-01", "to": "2100-01-01"}
    first = soup(await harness.client.get("/admin", params=params))
    link = first.find("a", string=lambda s: bool(s) and "→" in s)
    # The cursor holds the moment received, to the microsecond, then the id.
    assert link is not None and "after=" in link["href"] and "Z." in link["href"]
    second = await harness.client.get(f"/admin{link['href']}")
    assert second.status_code == 200 and not soup(second).select("[role=alert]")
    assert len(codes(first)) == 2 and len(codes(soup(second))) == 1
    assert not set(codes(first)) & set(codes(soup(second)))


async def test_many_units_are_listed_on_demand_not_on_every_page(
    harness: AppHarness, monkeypatch: Any
) -> None:
    from lapor.admin import views

    monkeypatch.setattr(views, "UNIT_FILTER_INLINE", 2)  # the province has 3 units
    await harness.submit(text="Ruang tunggu Puskesmas panas dan kipas angin rusak.")
    await harness.submit("igd", text="Petugas IGD tidak ramah kepada pasien lansia.")
    await harness.login("koor@prov.go.id")
    rsud = harness.world.units["rsud"]
    page = soup(await harness.client.get("/admin", params={"q": "igd", "unit": rsud.id}))
    picker = page.select_one("form.filters select[name=unit]")
    assert picker is not None
    # Only "any" and the unit chosen now: the filter still sends unit=<id>.
    assert [(o["value"], o.has_attr("selected")) for o in picker.select("option")] == [
        ("", False),
        (str(rsud.id), True),
    ]
    assert len(codes(page)) == 1
    # With htmx, the whole list comes from a URL the browser may keep.
    options = await harness.client.get(str(picker["hx-get"]))
    assert options.status_code == 200
    assert options.headers["cache-control"] == "private, max-age=86400"
    listed = soup(options).select("option")
    assert [o["value"] for o in listed] == [
        "",
        *[str(harness.world.units[s].id) for s in ("prov", "dinas", "rsud")],
    ]
    assert [o["value"] for o in listed if o.has_attr("selected")] == [str(rsud.id)]
    # A stale version (a unit was renamed since the page was made) is answered, not kept.
    stale = await harness.client.get("/admin/unit-options", params={"v": "old"})
    assert stale.headers["cache-control"] == "no-store" and len(soup(stale).select("option")) == 4
    # Without JavaScript, a link opens the list on a page of its own, the other filters kept.
    link = page.select_one("form.filters .unit-pick a")
    assert link is not None
    chooser = soup(await harness.client.get(str(link["href"])))
    form = chooser.select_one("form#unit-choice")
    assert form is not None and form["method"] == "get" and form["action"] == "/admin"
    carried = [(attr(i, "name"), attr(i, "value")) for i in form.select("input[type=hidden]")]
    assert carried == [("q", "igd")]
    choice = form.select_one("select[name=unit] option[selected]")
    assert choice is not None and choice["value"] == str(rsud.id)
    dinas = harness.world.units["dinas"].id
    filtered = soup(await harness.client.get("/admin", params=[*carried, ("unit", dinas)]))
    assert codes(filtered) == []  # "igd" is reported at the RSUD, not at the Dinas


async def test_the_unit_list_is_the_callers_own(harness: AppHarness, monkeypatch: Any) -> None:
    from lapor.admin import views

    monkeypatch.setattr(views, "UNIT_FILTER_INLINE", 0)
    await harness.login("koor@other.go.id")
    options = soup(await harness.client.get("/admin/unit-options"))
    assert [o["value"] for o in options.select("option")] == [
        "",
        str(harness.world.units["other"].id),
    ]
    chooser = soup(await harness.client.get("/admin/unit-filter", params={"unit": "x"}))
    assert [o["value"] for o in chooser.select("select[name=unit] option")] == [
        "",
        str(harness.world.units["other"].id),
    ]
    # One unit: nothing to filter by on the inbox.
    assert soup(await harness.client.get("/admin")).select("select[name=unit]") == []


async def test_dates_outside_the_range_are_refused_in_the_staffs_language(
    harness: AppHarness,
) -> None:
    await harness.submit()
    await harness.login("koor@prov.go.id")
    for params in ({"from": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "1999-12-31"}):
        response = await harness.client.get("/admin", params=params)
        assert response.status_code == 400, params
        alert = one(soup(response), "[role=alert]").get_text()
        assert "Tanggal harus di antara tahun 2000 dan 2100." in alert
        # The date is left out, the rest of the page still works.
        assert len(codes(soup(response))) == 1
    english = await harness.client.get("/admin", params={"to": "9999-12-31", "lang": "en"})
    assert english.status_code == 400
    assert "Dates must lie between the years 2000 and 2100." in english.text
    partial = await harness.client.get(
        "/admin", params={"from": "0001-01-01"}, headers={"HX-Request": "true"}
    )
    assert partial.status_code == 400 and "2000" in partial.text
    edges = await harness.client.get("/admin", params={"from": "2000-01-01", "to": "2100-12-31"})
    assert edges.status_code == 200 and len(codes(soup(edges))) == 1


async def test_a_tracking_code_however_typed_opens_its_report(harness: AppHarness) -> None:
    """A citizen phones in with their code: the search box takes it as they read it out."""
    submitted = await harness.submit()
    code = submitted.headers["location"][3:14]  # /t/XXXXX-XXXXX...
    await harness.login("koor@prov.go.id")
    opened = await harness.client.get("/admin", params={"q": code})
    assert opened.status_code == 303
    page = opened.headers["location"]
    assert page.startswith("/admin/reports/")
    for typed in (code.lower(), code.replace("-", " "), f"  {code.replace('-', '')} "):
        again = await harness.client.get("/admin", params={"q": typed})
        assert (again.status_code, again.headers.get("location")) == (303, page), typed
    live = await harness.client.get("/admin", params={"q": code}, headers={"HX-Request": "true"})
    assert live.headers["hx-redirect"] == page
    assert "hx-request" in live.headers["vary"].lower()
    assert (await harness.client.get(page)).status_code == 200


async def test_a_code_outside_the_callers_scope_opens_nothing(harness: AppHarness) -> None:
    submitted = await harness.submit()
    code = submitted.headers["location"][3:14]
    await harness.login("koor@other.go.id")
    answer = await harness.client.get("/admin", params={"q": code})
    assert answer.status_code == 200 and "location" not in answer.headers
    assert codes(soup(answer)) == []
