"""The reporter's private link: reply, accept and rate, which the tracking code alone cannot."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup

from lapor.settings import Settings
from tests.conftest import AppHarness, MakeHarness, restarted
from tests.html import field_values, one


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def db(harness: AppHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute(sql).fetchall()


async def staff_post(
    harness: AppHarness, email: str, report_id: int, path: str, **data: str
) -> None:
    response = await harness.act(email, report_id, path, **data)
    assert response.status_code == 303, response.text
    harness.client.cookies.clear()


async def reporter_form(harness: AppHarness, private: str, name: str) -> dict[str, str]:
    page = soup(await harness.client.get(private))
    form = page.find("form", action=lambda a: bool(a) and a.endswith(f"/{name}"))
    assert form is not None, f"the reporter is offered {name}"
    return field_values(i for i in form.find_all("input") if i.get("type") != "radio")


async def test_a_whole_conversation_through_the_private_link(harness: AppHarness) -> None:
    await harness.world.user("petugas@dinas.go.id", "officer", "dinas")
    response = await harness.submit(identity="named", name="Sari", email="sari@example.id")
    private = response.headers["location"].removesuffix("?sent=1")
    code = private[3:14]
    receipt = soup(await harness.client.get(response.headers["location"]))
    assert receipt.find("a", href=f"https://lapor.example.go.id{private}") is not None
    [(report_id,)] = db(harness, "SELECT id FROM reports")

    await staff_post(
        harness,
        "koor@prov.go.id",
        report_id,
        "forward",
        title="Antrean",
        category="pelayanan",
        unit=str(harness.world.units["dinas"].id),
    )
    await staff_post(
        harness,
        "petugas@dinas.go.id",
        report_id,
        "follow-up",
        answer="Loket tambahan dibuka mulai Senin.",
    )

    # The public page shows the answer but offers nothing to act on.
    public = soup(await harness.client.get(f"/t/{code}"))
    assert public.find("form", class_="reporter") is None
    # The reporter is not satisfied and replies: the report goes back to the unit.
    fields = await reporter_form(harness, private, "reply")
    reply = "Senin sudah lewat dan loket tambahan belum ada."
    assert (
        await harness.client.post(f"{private}/reply", data={**fields, "text": reply})
    ).status_code == 303
    assert db(harness, "SELECT status FROM reports") == [("diteruskan",)]
    await staff_post(
        harness,
        "petugas@dinas.go.id",
        report_id,
        "follow-up",
        answer="Mohon maaf, loket tambahan kini sudah buka.",
    )
    fields = await reporter_form(harness, private, "accept")
    assert (
        await harness.client.post(f"{private}/accept", data={**fields, "rating": "5"})
    ).status_code == 303
    assert db(harness, "SELECT status, rating FROM reports") == [("selesai", 5)]
    timeline = one(soup(await harness.client.get(f"/t/{code}")), ".timeline").text
    assert reply in timeline and "Sari" not in timeline


async def test_a_question_is_answered_back_to_the_coordinator(harness: AppHarness) -> None:
    response = await harness.submit()
    private = response.headers["location"].removesuffix("?sent=1")
    [(report_id,)] = db(harness, "SELECT id FROM reports")
    await staff_post(
        harness,
        "koor@prov.go.id",
        report_id,
        "postpone",
        reason="Loket nomor berapa yang Anda maksud?",
    )
    fields = await reporter_form(harness, private, "reply")
    assert (
        await harness.client.post(
            f"{private}/reply", data={**fields, "text": "Loket nomor tiga, sekitar pukul sepuluh."}
        )
    ).status_code == 303
    assert db(harness, "SELECT status FROM reports") == [("masuk",)]


async def test_the_tracking_code_alone_cannot_act(harness: AppHarness) -> None:
    response = await harness.submit()
    private = response.headers["location"].removesuffix("?sent=1")
    code = private[3:14]
    forged = f"/t/{code}/{'A' * 20}"
    assert (await harness.client.get(forged)).status_code == 404
    assert (
        await harness.client.post(f"{forged}/accept", data={"version": "1", "rating": "1"})
    ).status_code == 404
    # Nothing to accept yet even with the right link: refused, nothing changed.
    refused = await harness.client.post(f"{private}/accept", data={"version": "1", "rating": "1"})
    assert refused.status_code == 409
    assert db(harness, "SELECT status, rating FROM reports") == [("masuk", None)]
    # Another site cannot make the reporter's browser act.
    cross = await harness.client.post(
        f"{private}/reply",
        data={"version": "1", "text": "x" * 20},
        headers={"origin": "https://evil.example"},
    )
    assert cross.status_code == 403


async def test_a_retried_submission_gets_the_same_private_link(harness: AppHarness) -> None:
    token, _ = await harness.form()
    first = await harness.submit(token=token)
    again = await harness.submit(token=token)
    assert first.headers["location"] == again.headers["location"]


KEY_A, KEY_B = "key-a-0123456789abcdef", "key-b-0123456789abcdef"


async def opens(client: httpx.AsyncClient, private: str) -> bool:
    """Whether the link is the reporter's: its page shows, and acting through it is refused for
    the report's state (409), not as a stranger's (404)."""
    page = await client.get(private)
    acted = await client.post(f"{private}/accept", data={"version": "1", "rating": "5"})
    assert (page.status_code == 200) == (acted.status_code == 409), (page, acted)
    return page.status_code == 200


async def test_the_private_link_outlives_the_key_that_made_it(
    make_harness: MakeHarness, make_settings: Callable[..., Settings]
) -> None:
    async with make_harness(secret_keys=KEY_A) as harness:
        private = (await harness.submit()).headers["location"].removesuffix("?sent=1")
    # The operator rotated and, later, removed the old key.
    async with restarted(make_settings(secret_keys=f"{KEY_B},{KEY_A}")) as client:
        assert await opens(client, private)
    async with restarted(make_settings(secret_keys=KEY_B)) as client:
        assert await opens(client, private)
        assert not await opens(client, private[:-4] + "AAAA")


async def test_a_retry_after_a_rotation_gets_the_first_link(
    make_harness: MakeHarness, make_settings: Callable[..., Settings]
) -> None:
    """The first delivery's link was made under a key that is no longer the newest: a resend
    (the same form token, still valid under the old key) answers with that link, not one the
    newest key would make, so the reporter holds one link and it keeps working."""
    async with make_harness(secret_keys=KEY_A) as harness:
        token, _ = await harness.form()
        first = (await harness.submit(token=token)).headers["location"]
        form = {"token": token, "kind": "pengaduan", "identity": "anonim"}
        form["text"] = "Antrean sangat panjang dan loket tutup sebelum jam pelayanan."
        path = f"/q/{harness.world.code('loket')}"
    async with restarted(make_settings(secret_keys=f"{KEY_B},{KEY_A}")) as client:
        again = await client.post(path, data=form)
        assert again.status_code == 303
        assert again.headers["location"] == first
    async with restarted(make_settings(secret_keys=KEY_B)) as client:
        assert await opens(client, first.removesuffix("?sent=1"))


async def test_a_retry_whose_first_link_no_key_makes_gets_one_that_works(
    make_harness: MakeHarness, make_settings: Callable[..., Settings]
) -> None:
    """The newest key at the first delivery was removed, an older one kept (the form token is
    signed with that one): the resend cannot show the first link again, so it shows the newest
    key's, and the report opens with both."""
    async with make_harness(secret_keys=KEY_A) as harness:
        token, _ = await harness.form()
        form = {"token": token, "kind": "pengaduan", "identity": "anonim"}
        form["text"] = "Antrean sangat panjang dan loket tutup sebelum jam pelayanan."
        path = f"/q/{harness.world.code('loket')}"
    async with restarted(make_settings(secret_keys=f"{KEY_B},{KEY_A}")) as client:
        first = (await client.post(path, data=form)).headers["location"].removesuffix("?sent=1")
    async with restarted(make_settings(secret_keys=KEY_A)) as client:
        again = await client.post(path, data=form)
        assert again.status_code == 303
        second = again.headers["location"].removesuffix("?sent=1")
        assert second != first
        assert await opens(client, second)
        assert await opens(client, first)


async def test_a_report_from_before_kept_digests_keeps_its_link_once_the_server_started(
    make_harness: MakeHarness, make_settings: Callable[..., Settings]
) -> None:
    """A report stored before migration 0012 has no digest of its link: the server fills it
    in when it starts, under the keys then configured, so removing one later strands nobody."""
    async with make_harness(secret_keys=KEY_A) as harness:
        private = (await harness.submit()).headers["location"].removesuffix("?sent=1")
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        conn.execute("UPDATE reports SET reporter_secret_hash = NULL")  # as 0012 leaves it
    async with restarted(make_settings(secret_keys=f"{KEY_B},{KEY_A}")) as client:
        assert await opens(client, private)
    # One digest per key: which of them made the link is not known.
    [(digests,)] = db(harness, "SELECT reporter_secret_hash FROM reports")
    assert len(digests.split()) == 2
    async with restarted(make_settings(secret_keys=KEY_B)) as client:
        assert await opens(client, private)


async def test_until_it_is_filled_in_the_keys_open_an_earlier_link(
    make_harness: MakeHarness,
) -> None:
    """Workers of the earlier version may store reports without a digest while an upgrade
    rolls out: those links open under the configured keys until the next start fills them."""
    async with make_harness(secret_keys=KEY_A) as harness:
        private = (await harness.submit()).headers["location"].removesuffix("?sent=1")
        with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
            conn.execute("UPDATE reports SET reporter_secret_hash = NULL")
        assert await opens(harness.client, private)
        assert not await opens(harness.client, private[:-4] + "AAAA")
