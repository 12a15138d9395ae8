"""The admin's widget page: add with the origins typed one per line, the snippet in both
forms with the CSP lines, revoke after a confirmation; bad input changes nothing."""

from __future__ import annotations

import sqlite3

import pytest

from tests.admin.test_manage import ADMIN, alert, notice, post
from tests.admin.test_workflow import signed_in, soup
from tests.conftest import AppHarness
from tests.html import tag


@pytest.fixture
async def admin(harness: AppHarness) -> AppHarness:
    await signed_in(harness, ADMIN)
    return harness


def widgets(harness: AppHarness) -> list[tuple[object, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(
            "SELECT id, unit_id, origins, revoked_at IS NOT NULL FROM widgets ORDER BY id"
        ).fetchall()


async def test_add_a_widget_and_copy_its_snippet(admin: AppHarness) -> None:
    dinas = admin.world.units["dinas"]
    response = await post(
        admin,
        "/admin/widgets",
        unit=str(dinas.id),
        origins="HTTPS://Dinkes.Example.go.id/\r\n\r\nhttp://dinkes.example.go.id",
    )
    assert response.status_code == 303
    assert widgets(admin) == [
        (1, dinas.id, "https://dinkes.example.go.id\nhttp://dinkes.example.go.id", 0)
    ]
    page = soup(await admin.client.get(response.headers["location"]))
    assert "Dinas Kependudukan" in notice(page)
    key = admin.app.state.services.signing.widget_key(1, 1)
    section = page.find(id="widget-1")
    assert section is not None
    snippets = [t.get_text() for t in section.find_all("textarea", class_="snippet")]
    assert snippets == [
        f'<script async src="https://lapor.example.go.id/widget.js" data-key="{key}" '
        'data-cfasync="false"></script>',
        f'<script async src="https://lapor.example.go.id/widget.js?key={key}" '
        'data-cfasync="false"></script>',
    ]
    assert all(t.has_attr("readonly") for t in section.find_all("textarea"))
    assert [b["data-copy"] for b in section.find_all("button", class_="copy")] == [
        "snippet-1",
        "url-snippet-1",
    ]
    text = section.get_text(" ")
    assert "script-src https://lapor.example.go.id" in text
    assert "frame-src https://lapor.example.go.id" in text
    assert 'nonce="NONCE"' in text
    assert page.find("script", src=lambda s: s and s.startswith("/static/copy.js"))


@pytest.mark.parametrize(
    "origins, says",
    [
        ("javascript:alert(1)", "javascript:"),
        ("https://dinkes.go.id/layanan", "tanpa path"),
        ("https://*.go.id", "wildcard"),
        ("", "paling sedikit satu situs"),
        ("\n".join(f"https://s{i}.go.id" for i in range(25)), "Paling banyak 20"),
    ],
)
async def test_bad_origins_are_refused_with_the_reason_and_nothing_stored(
    admin: AppHarness, origins: str, says: str
) -> None:
    response = await post(
        admin, "/admin/widgets", unit=str(admin.world.units["dinas"].id), origins=origins
    )
    assert response.status_code == 400
    page = soup(response)
    assert says in alert(page)
    assert tag(page.find("textarea", id="origins")).get_text() == origins[:4000]
    assert widgets(admin) == []


async def test_an_unknown_unit_is_refused(admin: AppHarness) -> None:
    response = await post(admin, "/admin/widgets", unit="99999", origins="https://a.go.id")
    assert response.status_code == 400
    assert widgets(admin) == []


async def test_revoke_asks_first_then_the_form_stops_opening(admin: AppHarness) -> None:
    svc = admin.app.state.services
    widget = await svc.store.add_widget(admin.world.units["dinas"].id, ["https://a.go.id"])
    confirm = await admin.client.get(f"/admin/widgets/{widget.id}/revoke")
    assert confirm.status_code == 200
    assert widgets(admin)[0][3] == 0
    response = await post(admin, f"/admin/widgets/{widget.id}/revoke")
    assert response.status_code == 303
    assert widgets(admin)[0][3] == 1
    page = soup(await admin.client.get(response.headers["location"]))
    assert "dicabut" in notice(page)
    assert tag(page.find(id="widget-1")).find("textarea") is None
    frame = await admin.client.get(
        f"/w/{svc.signing.widget_key(widget.id, 1)}",
        params={"o": "https://a.go.id"},
        headers={"sec-fetch-dest": "iframe"},
    )
    assert soup(frame).find("form") is None
    assert (await admin.client.get("/admin/widgets/999/revoke")).status_code == 404
