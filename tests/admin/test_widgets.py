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


async def test_change_a_widgets_sites_with_the_same_rules_and_the_same_key(
    admin: AppHarness,
) -> None:
    svc = admin.app.state.services
    widget = await svc.store.add_widget(admin.world.units["dinas"].id, ["https://a.go.id"])
    key = svc.signing.widget_key(widget.id, 1)
    page = soup(await admin.client.get("/admin/widgets"))
    links = [a["href"] for a in tag(page.find(id=f"widget-{widget.id}")).find_all("a")]
    assert f"/admin/widgets/{widget.id}" in links
    assert f"/admin/widgets/{widget.id}/preview" in links
    detail = soup(await admin.client.get(f"/admin/widgets/{widget.id}"))
    assert tag(detail.find("textarea", id="origins")).get_text() == "https://a.go.id"
    # The hint says how soon the change reaches the sites.
    assert "5 detik" in tag(detail.find(id="origins-hint")).get_text()
    # Bad input: the reason, the typed text back, nothing changed.
    bad = await post(admin, f"/admin/widgets/{widget.id}", origins="https://*.go.id")
    assert bad.status_code == 400
    assert "wildcard" in alert(soup(bad))
    assert tag(soup(bad).find("textarea", id="origins")).get_text() == "https://*.go.id"
    assert widgets(admin) == [(widget.id, widget.unit_id, "https://a.go.id", 0)]
    # Without the CSRF token nothing happens either.
    forged = await admin.client.post(f"/admin/widgets/{widget.id}", data={"origins": "https://b"})
    assert forged.status_code == 403
    response = await post(
        admin, f"/admin/widgets/{widget.id}", origins="https://B.go.id\nhttps://a.go.id/"
    )
    assert response.status_code == 303
    assert widgets(admin) == [(widget.id, widget.unit_id, "https://b.go.id\nhttps://a.go.id", 0)]
    done = soup(await admin.client.get(response.headers["location"]))
    assert "Dinas Kependudukan" in notice(done)
    # The next frame follows the new list at once (this process forgot its cached widget).
    frame = await admin.client.get(
        f"/w/{key}", params={"o": "https://b.go.id"}, headers={"sec-fetch-dest": "iframe"}
    )
    assert soup(frame).find("form", id="report-form") is not None
    await svc.store.revoke_widget(widget.id)
    refused = await post(admin, f"/admin/widgets/{widget.id}", origins="https://c.go.id")
    assert refused.status_code == 400
    assert "dicabut" in alert(soup(refused))
    assert (await admin.client.get("/admin/widgets/999")).status_code == 404
    assert (await post(admin, "/admin/widgets/999", origins="https://c.go.id")).status_code == 404


async def test_the_preview_runs_the_real_loader_from_our_own_origin(admin: AppHarness) -> None:
    svc = admin.app.state.services
    widget = await svc.store.add_widget(admin.world.units["dinas"].id, ["https://a.go.id"])
    response = await admin.client.get(f"/admin/widgets/{widget.id}/preview")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    page = soup(response)
    key = svc.signing.widget_key(widget.id, 1)
    sources = [s["src"] for s in page.find_all("script", src=lambda s: s and "widget.js" in s)]
    assert sources == ["/widget.js", f"/widget.js?key={key}"]
    assert page.select_one("[data-lapor-widget]") is not None
    assert (await admin.client.get("/admin/widgets/999/preview")).status_code == 404
