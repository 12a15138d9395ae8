"""Staff sign-in, the inbox and a report's page, with scope checked in every view."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.conftest import AppHarness, MakeHarness, jpeg_bytes
from tests.html import attr, tag


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def report_ids(harness: AppHarness) -> list[int]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return [r[0] for r in conn.execute("SELECT id FROM reports ORDER BY id")]


async def test_login_sets_a_safe_cookie_and_logout_ends_the_session(harness: AppHarness) -> None:
    assert (await harness.client.get("/admin")).status_code == 303
    response = await harness.login("koor@prov.go.id")
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert (await harness.client.get("/admin")).status_code == 200
    csrf = await harness.csrf()
    stolen = dict(harness.client.cookies)
    assert (await harness.client.post("/admin/logout", data={"csrf": csrf})).status_code == 303
    harness.client.cookies.update(stolen)  # a copied cookie is worthless after logout
    assert (await harness.client.get("/admin")).status_code == 303


async def test_wrong_password_and_unknown_user_look_the_same(harness: AppHarness) -> None:
    wrong = await harness.login("koor@prov.go.id", "wrong password")
    unknown = await harness.login("nobody@prov.go.id", "wrong password")
    assert wrong.status_code == unknown.status_code == 400
    assert tag(soup(wrong).find(role="alert")).text == tag(soup(unknown).find(role="alert")).text


async def test_login_is_throttled_per_account(make_harness: MakeHarness) -> None:
    async with make_harness(login_limit_per_account="3/15minutes") as harness:
        for _ in range(3):
            assert (await harness.login("koor@prov.go.id", "nope")).status_code == 400
        # Even the right password waits now: the attacker cannot tell when they guessed it.
        assert (await harness.login("koor@prov.go.id")).status_code == 429
        assert (await harness.login("admin@prov.go.id")).status_code == 303


async def test_login_is_throttled_per_address(make_harness: MakeHarness) -> None:
    async with make_harness(login_limit_per_address="2/15minutes") as harness:
        await harness.login("a@prov.go.id", "x")
        await harness.login("b@prov.go.id", "x")
        assert (await harness.login("koor@prov.go.id")).status_code == 429


async def test_login_next_cannot_leave_the_workspace(harness: AppHarness) -> None:
    response = await harness.client.post(
        "/admin/login",
        data={
            "email": "koor@prov.go.id",
            "password": "correct horse battery",
            "next": "//evil.example/admin",
        },
    )
    assert response.headers["location"] == "/admin"


async def test_state_changes_need_the_csrf_token_and_our_origin(harness: AppHarness) -> None:
    await harness.login("koor@prov.go.id")
    assert (await harness.client.post("/admin/logout", data={})).status_code == 403
    csrf = await harness.csrf()
    evil = await harness.client.post(
        "/admin/logout", data={"csrf": csrf}, headers={"origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    assert (await harness.client.get("/admin")).status_code == 200  # still signed in


async def test_a_csrf_token_that_is_not_ascii_is_refused(harness: AppHarness) -> None:
    # Found by the fuzzer (tests/fuzz): hmac.compare_digest raised TypeError on a non-ASCII
    # str, so such a token was a 500 instead of the CSRF refusal.
    await harness.login("koor@prov.go.id")
    for token in ("é", "\x00ü", (await harness.csrf())[:-1] + "ß"):
        response = await harness.client.post("/admin/logout", data={"csrf": token})
        assert response.status_code == 403
    assert (await harness.client.get("/admin")).status_code == 200  # still signed in


async def test_coordinator_inbox_lists_subtree_only_and_opens_detail(harness: AppHarness) -> None:
    await harness.submit("loket", identity="rahasia", name="Rahasia Orang", phone="081299998888")
    await harness.submit("lain")
    loket_id, lain_id = await report_ids(harness)
    await harness.login("koor@prov.go.id")
    inbox = soup(await harness.client.get("/admin"))
    links = [a["href"] for a in inbox.select("table.inbox a.code")]
    assert links == [f"/admin/reports/{loket_id}"]
    detail = await harness.client.get(f"/admin/reports/{loket_id}")
    assert detail.status_code == 200
    assert "Rahasia Orang" in detail.text and "+6281299998888" in detail.text
    assert "Loket 3 – Perekaman KTP" in detail.text
    # Another region's report does not exist as far as this coordinator knows.
    assert (await harness.client.get(f"/admin/reports/{lain_id}")).status_code == 404


async def test_inspector_never_sees_a_confidential_reporter(harness: AppHarness) -> None:
    await harness.submit("loket", identity="rahasia", name="Rahasia Orang", phone="081299998888")
    [report_id] = await report_ids(harness)
    await harness.login("insp@prov.go.id")
    detail = await harness.client.get(f"/admin/reports/{report_id}")
    assert detail.status_code == 200
    assert "Rahasia Orang" not in detail.text and "99998888" not in detail.text


@pytest.mark.parametrize(
    "role_email, path, allowed",
    [
        ("koor@prov.go.id", "/admin/outbox", False),
        ("insp@prov.go.id", "/admin/outbox", False),
        ("admin@prov.go.id", "/admin/outbox", True),
        ("admin@prov.go.id", "/admin?view=unrouted", True),
    ],
)
async def test_admin_pages_are_for_admins(
    harness: AppHarness, role_email: str, path: str, allowed: bool
) -> None:
    await harness.login(role_email)
    response = await harness.client.get(path)
    assert response.status_code == (200 if allowed else 403)


async def test_unrouted_reports_are_listed_for_admins(harness: AppHarness) -> None:
    svc = harness.app.state.services
    lonely = await svc.store.add_unit("lonely", "Unit tanpa koordinator")
    poster = await svc.store.add_poster(lonely.id, "Loket sepi")
    code = svc.signing.poster_code(poster.id, poster.version)
    token = svc.signing.new_form_token(poster.id, poster.version)
    response = await harness.client.post(
        f"/q/{code}",
        data={
            "token": token,
            "kind": "aspirasi",
            "identity": "anonim",
            "text": "Tidak ada koordinator di atas unit ini.",
        },
    )
    assert response.status_code == 303
    await harness.login("admin@prov.go.id")
    page = soup(await harness.client.get("/admin?view=unrouted"))
    assert len(page.select("table.inbox tbody tr")) == 1


async def test_photos_are_served_only_within_scope(harness: AppHarness) -> None:
    await harness.submit("lain", files=[("photos", ("a.jpg", jpeg_bytes(), "image/jpeg"))])
    [report_id] = await report_ids(harness)
    assert (await harness.client.get(f"/admin/reports/{report_id}/photos/0")).status_code == 303
    await harness.login("koor@prov.go.id")
    assert (await harness.client.get(f"/admin/reports/{report_id}/photos/0")).status_code == 404
    await harness.client.post("/admin/logout", data={"csrf": await harness.csrf()})
    await harness.login("koor@other.go.id")
    photo = await harness.client.get(f"/admin/reports/{report_id}/photos/0")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert (await harness.client.get(f"/admin/reports/{report_id}/photos/5")).status_code == 404


async def test_inbox_paginates_with_a_keyset(harness: AppHarness, monkeypatch: Any) -> None:
    from lapor.admin import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(5):
        await harness.submit()
    await harness.login("koor@prov.go.id")
    seen: list[str] = []
    url = "/admin"
    while url:
        page = soup(await harness.client.get(url))
        seen += [attr(a, "href") for a in page.select("table.inbox a.code")]
        older = page.find("a", string=lambda s: bool(s) and "→" in s)
        url = f"/admin{older['href']}" if older else ""
    assert len(seen) == len(set(seen)) == 5


async def test_password_change(harness: AppHarness) -> None:
    await harness.login("koor@prov.go.id")
    csrf = await harness.csrf("/admin/password")
    bad = await harness.client.post(
        "/admin/password",
        data={
            "csrf": csrf,
            "current": "wrong",
            "new": "a-new-secret-1",
            "repeat": "a-new-secret-1",
        },
    )
    assert bad.status_code == 400
    ok = await harness.client.post(
        "/admin/password",
        data={
            "csrf": csrf,
            "current": "correct horse battery",
            "new": "a-new-secret-1",
            "repeat": "a-new-secret-1",
        },
    )
    assert ok.status_code == 200
    harness.client.cookies.clear()
    assert (await harness.login("koor@prov.go.id")).status_code == 400
    assert (await harness.login("koor@prov.go.id", "a-new-secret-1")).status_code == 303


async def test_expired_session_goes_back_to_login(make_harness: MakeHarness) -> None:
    async with make_harness(session_max_age=60) as harness:
        await harness.login("koor@prov.go.id")
        svc = harness.app.state.services
        from sqlalchemy import update

        from lapor.store import schema
        from lapor.store.store import now

        def expire(conn: Any) -> None:
            conn.execute(update(schema.sessions).values(expires_at=now()))

        await svc.store.db.write(expire)
        assert (await harness.client.get("/admin")).status_code == 303


async def test_parallel_guesses_cannot_outrun_the_login_limit(make_harness: MakeHarness) -> None:
    import asyncio

    async with make_harness(login_limit_per_account="5/15minutes") as harness:
        results = await asyncio.gather(
            *[harness.login("koor@prov.go.id", "guess") for _ in range(20)]
        )
        assert sum(r.status_code == 400 for r in results) <= 5
        assert sum(r.status_code == 429 for r in results) >= 15


@pytest.mark.parametrize(
    "path",
    [
        "/admin?before=%C2%B2",
        "/admin?before=99999999999999999999999",
        "/admin/reports/99999999999999999999999",
    ],
)
async def test_odd_numbers_in_urls_are_not_errors(harness: AppHarness, path: str) -> None:
    await harness.login("koor@prov.go.id")
    assert (await harness.client.get(path)).status_code in (200, 404)


async def test_password_change_ends_other_sessions(make_harness: MakeHarness) -> None:
    async with make_harness() as harness:
        await harness.login("koor@prov.go.id")
        other = dict(harness.client.cookies)
        harness.client.cookies.clear()
        await harness.login("koor@prov.go.id")
        csrf = await harness.csrf("/admin/password")
        await harness.client.post(
            "/admin/password",
            data={
                "csrf": csrf,
                "current": "correct horse battery",
                "new": "a-new-secret-1",
                "repeat": "a-new-secret-1",
            },
        )
        assert (await harness.client.get("/admin")).status_code == 200  # this one stays
        harness.client.cookies.clear()
        harness.client.cookies.update(other)
        assert (await harness.client.get("/admin")).status_code == 303


async def test_the_current_password_cannot_be_guessed_through_a_session(
    make_harness: MakeHarness,
) -> None:
    """Every attempt is counted before the check (the sign-in's limit per account and place),
    so a stolen session gets 429 after a few wrong guesses and the right one no longer helps."""
    async with make_harness(login_limit_per_account_address="3/15minutes") as harness:
        await harness.login("koor@prov.go.id")
        csrf = await harness.csrf("/admin/password")

        async def change(current: str) -> int:
            answer = await harness.client.post(
                "/admin/password",
                data={
                    "csrf": csrf,
                    "current": current,
                    "new": "a-new-secret-1",
                    "repeat": "a-new-secret-1",
                },
            )
            return answer.status_code

        assert [await change(f"guess {n}") for n in range(3)] == [400, 400, 400]
        assert await change("correct horse battery") == 429
        user = await harness.app.state.services.store.user_by_email("koor@prov.go.id")
        assert user is not None
        from lapor.admin.passwords import verify_password

        assert verify_password(user.password_hash, "correct horse battery")  # unchanged
