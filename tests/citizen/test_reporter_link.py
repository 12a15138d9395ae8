"""The reporter's private link: reply, accept and rate, which the tracking code alone cannot."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
from bs4 import BeautifulSoup

from tests.conftest import AppHarness
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
