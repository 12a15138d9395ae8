"""The admin's pages for units, accounts and posters: what they show, what they change, and
that a bad input changes nothing and says why in the admin's language."""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from bs4 import BeautifulSoup
from PIL import Image

from lapor.web.posters import display_url
from tests.admin.test_workflow import signed_in, soup
from tests.conftest import AppHarness
from tests.html import attr, one, tag
from tests.pdf import page_texts, pdf_info, pdf_pages, pdf_text

ADMIN = "admin@prov.go.id"


@pytest.fixture
async def admin(harness: AppHarness) -> AppHarness:
    await signed_in(harness, ADMIN)
    return harness


async def post(harness: AppHarness, path: str, **data: str) -> Any:
    csrf = await harness.csrf("/admin/password")
    return await harness.client.post(path, data={"csrf": csrf, **data})


def alert(page: BeautifulSoup) -> str:
    found = page.find(role="alert")
    assert found is not None, "the page says what went wrong"
    return found.get_text(" ", strip=True)


def notice(page: BeautifulSoup) -> str:
    found = page.find(role="status")
    assert found is not None, "the page says what was done"
    return found.get_text(" ", strip=True)


async def follow(harness: AppHarness, response: Any) -> BeautifulSoup:
    assert response.status_code == 303, response.text
    return soup(await harness.client.get(response.headers["location"]))


# -- units -----------------------------------------------------------------------------------
async def test_units_are_listed_as_a_tree_with_their_staff_and_posters(admin: AppHarness) -> None:
    await admin.world.user("old@prov.go.id", "officer", "dinas")
    await admin.world.store.set_user_active(admin.world.users["old@prov.go.id"].id, False)
    page = soup(await admin.client.get("/admin/units"))
    rows = page.select("table.units tbody tr")
    names = [one(row, "td.tree").get_text(strip=True) for row in rows]
    assert names == ["Pemerintah Provinsi", "Dinas Kependudukan", "RSUD Ulin", "Kabupaten Lain"]
    depth = {one(row, "td.tree a").text: one(row, "td.tree")["class"] for row in rows}
    assert "depth-0" in depth["Pemerintah Provinsi"] and "depth-1" in depth["RSUD Ulin"]
    cells = {
        name: [td.get_text(" ", strip=True) for td in row.select("td.n")]
        for name, row in zip(names, rows, strict=True)
    }
    assert cells["Pemerintah Provinsi"] == ["3", "0"]  # coordinator, admin, inspector
    assert cells["Dinas Kependudukan"] == ["0 (1 nonaktif)", "1"]
    assert cells["Kabupaten Lain"] == ["1", "1"]


async def test_an_admin_adds_a_unit_under_a_parent(admin: AppHarness) -> None:
    prov = admin.world.units["prov"]
    page = await follow(
        admin,
        await post(
            admin,
            "/admin/units",
            slug=" Puskesmas-1 ",
            name="  Puskesmas   Satu ",
            parent=str(prov.id),
        ),
    )
    assert notice(page) == "Unit “Puskesmas Satu” ditambahkan."
    unit = await admin.world.store.unit_by_slug("puskesmas-1")
    assert unit is not None and unit.name == "Puskesmas Satu" and unit.parent_id == prov.id
    assert unit.path == f"{prov.path}{unit.id}/"
    row = page.find("tr", id=f"unit-{unit.id}")
    assert row is not None and "depth-1" in one(row, "td.tree")["class"]
    top = await follow(
        admin, await post(admin, "/admin/units", slug="pusat", name="Pusat", parent="")
    )
    assert top.find("tr", id=lambda i: bool(i) and i.startswith("unit-")) is not None
    assert (await admin.world.store.unit_by_slug("pusat")).parent_id is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"slug": "Bad Slug!", "name": "X"}, "slug", "huruf kecil a–z"),
        ({"slug": "dinas", "name": "Lagi"}, "slug", "sudah dipakai unit lain"),
        ({"slug": "x" * 65, "name": "X"}, "slug", "1 sampai 64 karakter"),
        ({"slug": "baru", "name": "   "}, "name", "1 sampai 200 karakter"),
        ({"slug": "baru", "name": "N" * 201}, "name", "1 sampai 200 karakter"),
        ({"slug": "baru", "name": "Baru", "parent": "99999"}, "parent", "unit induk"),
        ({"slug": "baru", "name": "Baru", "parent": "abc"}, "parent", "unit induk"),
    ],
)
async def test_a_bad_unit_is_refused_and_nothing_changes(
    admin: AppHarness, fields: dict[str, str], field: str, message: str
) -> None:
    before = await admin.world.store.list_units()
    response = await post(admin, "/admin/units", **fields)
    assert response.status_code == 400
    page = soup(response)
    assert message in alert(page)
    assert page.find(id=f"{field}-error") is not None
    assert tag(page.find(id=field))["aria-invalid"] == "true"
    assert tag(page.find("input", id="slug"))["value"] == fields["slug"]
    assert await admin.world.store.list_units() == before


async def test_errors_speak_english_when_asked(admin: AppHarness) -> None:
    admin.client.cookies.set("lang", "en")
    response = await post(admin, "/admin/units", slug="Bad Slug!", name="")
    assert response.status_code == 400
    text = alert(soup(response))
    assert "lowercase letters a–z" in text and "name of 1 to 200 characters" in text


async def test_an_admin_renames_a_unit_and_the_slug_stays(admin: AppHarness) -> None:
    dinas = admin.world.units["dinas"]
    page = await follow(
        admin, await post(admin, f"/admin/units/{dinas.id}/rename", name="Disdukcapil Kota")
    )
    assert notice(page) == "Nama unit diubah menjadi “Disdukcapil Kota”."
    assert tag(page.h1).text == "Disdukcapil Kota"
    renamed = await admin.world.store.unit(dinas.id)
    assert renamed is not None and (renamed.name, renamed.slug) == ("Disdukcapil Kota", "dinas")
    refused = await post(admin, f"/admin/units/{dinas.id}/rename", name=" ")
    assert refused.status_code == 400 and "1 sampai 200 karakter" in alert(soup(refused))
    assert (await admin.world.store.unit(dinas.id)).name == "Disdukcapil Kota"  # type: ignore[union-attr]
    assert (await post(admin, "/admin/units/99999/rename", name="X")).status_code == 404


async def test_only_an_empty_unit_can_be_deleted_after_a_confirmation(admin: AppHarness) -> None:
    store = admin.world.store
    empty = await store.add_unit("kosong", "Unit Kosong", "prov")
    page = soup(await admin.client.get(f"/admin/units/{empty.id}"))
    link = page.find("a", href=f"/admin/units/{empty.id}/delete")
    assert link is not None
    confirm = soup(await admin.client.get(f"/admin/units/{empty.id}/delete"))
    assert confirm.find("form", action=f"/admin/units/{empty.id}/delete", method="post")
    assert await store.unit(empty.id) is not None  # asking changes nothing
    done = await follow(admin, await post(admin, f"/admin/units/{empty.id}/delete"))
    assert notice(done) == "Unit telah dihapus."
    assert await store.unit(empty.id) is None
    # A unit with a poster (or staff, sub-units, reports) stays, and the page says why.
    dinas = admin.world.units["dinas"]
    dinas_page = soup(await admin.client.get(f"/admin/units/{dinas.id}"))
    assert dinas_page.find("a", href=f"/admin/units/{dinas.id}/delete") is None
    assert (await admin.client.get(f"/admin/units/{dinas.id}/delete")).status_code == 409
    refused = await post(admin, f"/admin/units/{dinas.id}/delete")
    assert refused.status_code == 409
    assert "tidak dapat dihapus" in alert(soup(refused))
    assert await store.unit(dinas.id) is not None


# -- users -----------------------------------------------------------------------------------
async def test_users_are_listed_with_role_unit_and_status(admin: AppHarness) -> None:
    page = soup(await admin.client.get("/admin/users"))
    rows = {
        tag(row.td).get_text(" ", strip=True): [
            td.get_text(" ", strip=True) for td in row.find_all("td")[1:4]
        ]
        for row in page.select("table.users tbody tr")
    }
    assert rows["koor@prov.go.id"] == ["admin koordinator", "Pemerintah Provinsi", "aktif"]
    assert rows["admin@prov.go.id (Anda)"][0] == "administrator"
    filtered = soup(await admin.client.get(f"/admin/users?unit={admin.world.units['other'].id}"))
    assert [tag(r.td).text for r in filtered.select("table.users tbody tr")] == ["koor@other.go.id"]


async def test_a_generated_password_is_shown_once_and_works(admin: AppHarness) -> None:
    dinas = admin.world.units["dinas"]
    response = await post(
        admin,
        "/admin/users",
        email=" Petugas@Dinas.GO.id ",
        role="officer",
        unit=str(dinas.id),
        password="",
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    password = tag(soup(response).find(id="new-password")).text
    assert len(password) >= 10
    user = await admin.world.store.user_by_email("petugas@dinas.go.id")
    assert user is not None and (user.role, user.unit_id, user.active) == (
        "officer",
        dinas.id,
        True,
    )
    listing = await admin.client.get("/admin/users")
    assert "petugas@dinas.go.id" in listing.text and password not in listing.text
    admin.client.cookies.clear()
    assert (await admin.login("petugas@dinas.go.id", password)).status_code == 303


async def test_a_typed_password_redirects_to_the_list(admin: AppHarness) -> None:
    rsud = admin.world.units["rsud"]
    page = await follow(
        admin,
        await post(
            admin,
            "/admin/users",
            email="k@rsud.go.id",
            role="coordinator",
            unit=str(rsud.id),
            password="sebuah kata sandi",
        ),
    )
    assert notice(page) == "Akun k@rsud.go.id ditambahkan."
    admin.client.cookies.clear()
    assert (await admin.login("k@rsud.go.id", "sebuah kata sandi")).status_code == 303


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"email": "bukan-email"}, "email", "alamat email"),
        ({"email": "KOOR@prov.go.id "}, "email", "Sudah ada akun"),
        ({"role": "raja"}, "role", "Pilih peran"),
        ({"unit": "99999"}, "unit", "Pilih unit"),
        ({"unit": ""}, "unit", "Pilih unit"),
        ({"password": "pendek"}, "password", "minimal 10 karakter"),
        ({"password": "p" * 201}, "password", "paling banyak 200 karakter"),
    ],
)
async def test_a_bad_account_is_refused_and_nothing_changes(
    admin: AppHarness, fields: dict[str, str], field: str, message: str
) -> None:
    data = {
        "email": "baru@prov.go.id",
        "role": "officer",
        "unit": str(admin.world.units["dinas"].id),
        "password": "",
        **fields,
    }
    before = await admin.world.store.list_users()
    response = await post(admin, "/admin/users", **data)
    assert response.status_code == 400
    page = soup(response)
    assert message in alert(page) and page.find(id=f"{field}-error") is not None
    assert tag(page.find("input", id="email"))["value"] == data["email"]
    assert tag(page.find("input", id="password")).get("value") is None
    assert await admin.world.store.list_users() == before


async def test_deactivation_ends_sessions_at_once_and_reactivation_revives_none(
    admin: AppHarness,
) -> None:
    await signed_in(admin, "koor@prov.go.id")
    coordinator_cookies = dict(admin.client.cookies)
    await signed_in(admin, ADMIN)
    koor = admin.world.users["koor@prov.go.id"]
    confirm = await admin.client.get(f"/admin/users/{koor.id}/deactivate")
    assert confirm.status_code == 200
    assert soup(confirm).find("form", action=f"/admin/users/{koor.id}/deactivate")
    assert (await admin.world.store.user(koor.id)).active  # type: ignore[union-attr]
    page = await follow(admin, await post(admin, f"/admin/users/{koor.id}/deactivate"))
    assert "koor@prov.go.id tidak dapat masuk lagi" in notice(page)
    row = page.find("tr", id=f"user-{koor.id}")
    assert row is not None and "nonaktif" in row.get_text()
    admin_cookies = dict(admin.client.cookies)

    admin.client.cookies.clear()
    admin.client.cookies.update(coordinator_cookies)
    assert (await admin.client.get("/admin")).status_code == 303  # signed out at once
    admin.client.cookies.clear()
    assert (await admin.login("koor@prov.go.id")).status_code == 400

    admin.client.cookies.update(admin_cookies)
    await follow(admin, await post(admin, f"/admin/users/{koor.id}/reactivate"))
    admin.client.cookies.clear()
    admin.client.cookies.update(coordinator_cookies)
    assert (await admin.client.get("/admin")).status_code == 303  # the old cookie stays dead
    await signed_in(admin, "koor@prov.go.id")


async def test_an_admin_names_a_person_and_moves_them_to_another_role_and_unit(
    admin: AppHarness,
) -> None:
    officer = await admin.world.user("petugas@dinas.go.id", "officer", "dinas")
    listing = soup(await admin.client.get("/admin/users"))
    edit = one(listing, f"tr#user-{officer.id} a[href='/admin/users/{officer.id}']")
    page = soup(await admin.client.get(attr(edit, "href")))
    assert tag(page.find("select", id="role")).find("option", selected=True) is not None
    rsud = admin.world.units["rsud"].id
    saved = await follow(
        admin,
        await post(
            admin,
            f"/admin/users/{officer.id}",
            name="  Rina   Wulandari ",
            role="coordinator",
            unit=str(rsud),
        ),
    )
    assert "Rina Wulandari" in notice(saved)
    user = await admin.world.store.user(officer.id)
    assert user is not None
    assert (user.name, user.role, user.unit_id) == ("Rina Wulandari", "coordinator", rsud)
    row = one(soup(await admin.client.get("/admin/users")), f"tr#user-{officer.id}")
    assert "Rina Wulandari" in row.get_text() and "petugas@dinas.go.id" in row.get_text()
    # The person's next request already has the new role: a coordinator sees monitoring.
    await admin.client.post("/admin/logout", data={"csrf": await admin.csrf()})
    await signed_in(admin, "petugas@dinas.go.id")
    assert (await admin.client.get("/admin/monitoring")).status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "x" * 121}, "name", "paling banyak 120 karakter"),
        ({"name": "Rina\x00"}, "name", "paling banyak 120 karakter"),
        ({"role": "superuser"}, "role", "Pilih peran"),
        ({"unit": "999999"}, "unit", "Pilih unit"),
    ],
)
async def test_a_bad_account_change_is_refused_and_changes_nothing(
    admin: AppHarness, data: dict[str, str], field: str, message: str
) -> None:
    officer = await admin.world.user("petugas@dinas.go.id", "officer", "dinas")
    good = {"name": "", "role": "officer", "unit": str(admin.world.units["dinas"].id)}
    response = await post(admin, f"/admin/users/{officer.id}", **{**good, **data})
    assert response.status_code == 400
    page = soup(response)
    assert message in alert(page)
    assert tag(page.find(id=field)).get("aria-invalid") == "true"
    assert await admin.world.store.user(officer.id) == officer


async def test_an_admin_renames_themself_but_cannot_change_their_own_role_or_unit(
    admin: AppHarness,
) -> None:
    me = admin.world.users[ADMIN]
    mine = {"role": me.role, "unit": str(me.unit_id)}
    await follow(admin, await post(admin, f"/admin/users/{me.id}", name="Budi", **mine))
    demoted = await post(
        admin, f"/admin/users/{me.id}", name="Budi", role="officer", unit=mine["unit"]
    )
    assert demoted.status_code == 400 and "administrator lain" in alert(soup(demoted))
    user = await admin.world.store.user(me.id)
    assert user is not None and (user.name, user.role) == ("Budi", "admin")
    assert (await admin.client.get("/admin/users/999999")).status_code == 404


async def test_an_admin_cannot_deactivate_themself(admin: AppHarness) -> None:
    me = admin.world.users[ADMIN]
    page = soup(await admin.client.get("/admin/users"))
    assert page.find("a", href=f"/admin/users/{me.id}/deactivate") is None
    response = await post(admin, f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 400
    assert "menonaktifkan akun Anda sendiri" in alert(soup(response))
    assert (await admin.world.store.user(me.id)).active  # type: ignore[union-attr]
    assert (await admin.client.get("/admin/users")).status_code == 200


async def test_a_password_reset_shows_the_new_one_and_ends_every_session(admin: AppHarness) -> None:
    await signed_in(admin, "koor@prov.go.id")
    coordinator_cookies = dict(admin.client.cookies)
    await signed_in(admin, ADMIN)
    koor = admin.world.users["koor@prov.go.id"]
    confirm = soup(await admin.client.get(f"/admin/users/{koor.id}/reset-password"))
    assert confirm.find("form", action=f"/admin/users/{koor.id}/reset-password")
    response = await post(admin, f"/admin/users/{koor.id}/reset-password")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    password = tag(soup(response).find(id="new-password")).text
    assert (await admin.client.get("/admin/users")).status_code == 200  # the admin stays in
    admin.client.cookies.clear()
    admin.client.cookies.update(coordinator_cookies)
    assert (await admin.client.get("/admin")).status_code == 303
    admin.client.cookies.clear()
    assert (await admin.login("koor@prov.go.id")).status_code == 400  # the old password
    assert (await admin.login("koor@prov.go.id", password)).status_code == 303


async def test_unknown_accounts_are_404(admin: AppHarness) -> None:
    for path in ("/admin/users/99999/deactivate", "/admin/users/99999/reset-password"):
        assert (await admin.client.get(path)).status_code == 404
        assert (await post(admin, path)).status_code == 404
    assert (await post(admin, "/admin/users/99999/reactivate")).status_code == 404


# -- posters ---------------------------------------------------------------------------------
async def test_posters_are_listed_per_unit_and_created(admin: AppHarness) -> None:
    page = soup(await admin.client.get("/admin/posters"))
    assert [h.text for h in page.select("main h2")][:3] == [
        "Dinas Kependudukan",
        "RSUD Ulin",
        "Kabupaten Lain",
    ]
    rsud = admin.world.units["rsud"]
    created = await follow(
        admin, await post(admin, "/admin/posters", unit=str(rsud.id), label="  Poli   Anak ")
    )
    assert notice(created) == "Poster “Poli Anak” dibuat: unduh lalu cetak."
    [poster] = [p for p in await admin.world.store.list_posters(rsud.id) if p.label == "Poli Anak"]
    row = created.find("tr", id=f"poster-{poster.id}")
    assert row is not None
    url = one(row, ".url").text
    assert url == admin.world.signing.poster_url(admin.settings.base_url, poster.id, 1)
    assert (await admin.client.get(url)).status_code == 200  # the citizen's form opens
    only_rsud = soup(await admin.client.get(f"/admin/posters?unit={rsud.id}"))
    assert [h.text for h in only_rsud.select("main h2")] == ["RSUD Ulin", "Buat poster"]
    assert len(only_rsud.select("table.posters tbody tr")) == 2


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"label": " "}, "label", "1 sampai 200 karakter"),
        ({"label": "L" * 201}, "label", "1 sampai 200 karakter"),
        ({"unit": "99999"}, "unit", "Pilih unit"),
    ],
)
async def test_a_bad_poster_is_refused_and_nothing_changes(
    admin: AppHarness, fields: dict[str, str], field: str, message: str
) -> None:
    data = {"unit": str(admin.world.units["dinas"].id), "label": "Loket 9", **fields}
    before = await admin.world.store.list_posters()
    response = await post(admin, "/admin/posters", **data)
    assert response.status_code == 400
    page = soup(response)
    assert message in alert(page) and page.find(id=f"{field}-error") is not None
    assert tag(page.find("input", id="label"))["value"] == data["label"]
    assert await admin.world.store.list_posters() == before


async def test_an_admin_relabels_a_poster_and_its_prints_keep_working(admin: AppHarness) -> None:
    poster = admin.world.posters["loket"]
    code = admin.world.code("loket")
    listing = soup(await admin.client.get("/admin/posters"))
    row = tag(listing.find("tr", id=f"poster-{poster.id}"))
    assert row.find("a", href=f"/admin/posters/{poster.id}") is not None
    page = soup(await admin.client.get(f"/admin/posters/{poster.id}"))
    assert tag(page.find("input", id="label"))["value"] == poster.label
    refused = await post(admin, f"/admin/posters/{poster.id}", label="  ")
    assert refused.status_code == 400 and "1 sampai 200 karakter" in alert(soup(refused))
    assert (await admin.world.store.poster(poster.id)) == poster
    done = await follow(
        admin, await post(admin, f"/admin/posters/{poster.id}", label="Loket 7 – Akta")
    )
    assert "Loket 7 – Akta" in notice(done)
    form = await admin.client.get(f"/q/{code}")
    assert form.status_code == 200 and "Loket 7 – Akta" in form.text  # same code, new label
    assert (await post(admin, "/admin/posters/99999", label="X")).status_code == 404


async def test_revoking_asks_first_then_stops_earlier_prints(admin: AppHarness) -> None:
    poster = admin.world.posters["loket"]
    old_code = admin.world.code("loket")
    confirm = await admin.client.get(f"/admin/posters/{poster.id}/revoke")
    assert confirm.status_code == 200
    form = soup(confirm).find("form", action=f"/admin/posters/{poster.id}/revoke")
    assert form is not None and form["method"] == "post"
    assert (await admin.client.get(f"/q/{old_code}")).status_code == 200  # nothing yet
    page = await follow(admin, await post(admin, f"/admin/posters/{poster.id}/revoke"))
    assert "telah berhenti berfungsi" in notice(page)
    assert (await admin.client.get(f"/q/{old_code}")).status_code == 410
    row = page.find("tr", id=f"poster-{poster.id}")
    assert row is not None and row.find_all("td")[2].text.strip() != "–"
    new_url = one(row, ".url").text
    assert (await admin.client.get(new_url)).status_code == 200  # the reprint works
    assert (await post(admin, "/admin/posters/99999/revoke")).status_code == 404


@pytest.mark.parametrize(
    "fmt, media_type, magic, name",
    [
        ("pdf", "application/pdf", b"%PDF", "v1.pdf"),
        ("a4", "application/pdf", b"%PDF", "v1.pdf"),
        ("a5", "application/pdf", b"%PDF", "v1-a5.pdf"),
        ("tent", "application/pdf", b"%PDF", "v1-tent.pdf"),
        ("png", "image/png", b"\x89PNG", "v1.png"),
        ("svg", "image/svg+xml", b"<", "v1.svg"),
    ],
)
async def test_the_printable_poster_downloads(
    admin: AppHarness, fmt: str, media_type: str, magic: bytes, name: str
) -> None:
    poster = admin.world.posters["loket"]
    response = await admin.client.get(f"/admin/posters/{poster.id}/print/{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"] == (
        f'attachment; filename="poster-{poster.id}-dinas-{name}"'
    )
    assert response.content.startswith(magic)
    url = admin.world.signing.poster_url(admin.settings.base_url, poster.id, 1)
    if fmt == "png":
        [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
        assert code.text == url.upper()
    if media_type == "application/pdf":
        assert len(pdf_pages(response.content)) == 1
        assert pdf_info(response.content, "Author") == "Pemerintah Provinsi"
        assert display_url(url) in pdf_text(response.content).splitlines()


async def test_the_unit_page_prints_every_poster_of_the_unit_and_below(
    admin: AppHarness,
) -> None:
    world = admin.world
    await world.unit("upt", "dinas", "UPT Dukcapil Utara")
    await world.poster("utara", "upt", "Loket Utara")
    await world.poster("loket2", "dinas", "Loket 4 – Akta")
    page = soup(await admin.client.get(f"/admin/units/{world.units['dinas'].id}"))
    links = {attr(a, "href"): a.text for a in page.select(".print-all a")}
    unit_id = world.units["dinas"].id
    assert set(links) == {f"/admin/units/{unit_id}/posters/{p}" for p in ("a4", "a5", "tent")}
    says = tag(one(page, ".print-all").find_previous("p")).text
    assert says == "Cetak 3 poster unit ini dan sub-unitnya dalam satu PDF, satu halaman per loket."
    for paper in ("a4", "a5", "tent"):
        response = await admin.client.get(f"/admin/units/{unit_id}/posters/{paper}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="posters-dinas-{paper}.pdf"'
        )
        pages = page_texts(response.content)
        assert len(pages) == 3
        labels = ["Loket 3 – Perekaman KTP", "Loket 4 – Akta", "Loket Utara"]
        for text, label in zip(pages, labels, strict=True):
            assert label in text.splitlines()
        assert "IGD" not in pdf_text(response.content)  # a sibling unit's poster
    whole = await admin.client.get(f"/admin/units/{world.units['prov'].id}/posters/a4")
    assert len(pdf_pages(whole.content)) == 4  # the province: dinas's three and RSUD's IGD


async def test_a_unit_without_posters_offers_none_and_bad_addresses_are_404(
    admin: AppHarness,
) -> None:
    world = admin.world
    await world.unit("kosong", "prov", "Unit Kosong")
    empty = world.units["kosong"].id
    page = soup(await admin.client.get(f"/admin/units/{empty}"))
    assert page.select(".print-all a") == []
    # Typed in anyway: said in the admin's language, nothing to download.
    response = await admin.client.get(f"/admin/units/{empty}/posters/a4")
    assert response.status_code == 400
    assert "Unit ini dan sub-unitnya belum punya poster." in response.text
    dinas = world.units["dinas"].id
    assert (await admin.client.get(f"/admin/units/{dinas}/posters/png")).status_code == 404
    assert (await admin.client.get(f"/admin/units/{dinas}/posters/pdf")).status_code == 404
    assert (await admin.client.get("/admin/units/99999/posters/a4")).status_code == 404


async def test_only_admins_print_a_units_posters(harness: AppHarness) -> None:
    await signed_in(harness, "koor@prov.go.id")
    dinas = harness.world.units["dinas"].id
    assert (await harness.client.get(f"/admin/units/{dinas}/posters/a4")).status_code == 403


async def test_unknown_poster_or_format_is_404(admin: AppHarness) -> None:
    poster = admin.world.posters["loket"]
    assert (await admin.client.get(f"/admin/posters/{poster.id}/print/gif")).status_code == 404
    assert (await admin.client.get("/admin/posters/99999/print/pdf")).status_code == 404


# -- who sees the pages ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "email, shown", [(ADMIN, True), ("koor@prov.go.id", False), ("insp@prov.go.id", False)]
)
async def test_only_admins_see_the_links(harness: AppHarness, email: str, shown: bool) -> None:
    await signed_in(harness, email)
    nav = one(soup(await harness.client.get("/admin")), "header nav")
    links = {attr(a, "href") for a in nav.find_all("a")}
    assert ({"/admin/units", "/admin/users", "/admin/posters"} <= links) is shown
