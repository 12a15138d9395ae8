"""Reports sent to the national portal SP4N-LAPOR! through the outbox, on the real app
(tests/conftest.py) with a local stand-in of the portal (tests/jobs/portal.py): what is sent,
the retries with one idempotency key, the national tracking ID stored and shown, and the
portal's signed status callbacks on the timeline."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import update

from lapor.store import schema
from lapor.store.store import now
from tests.admin.test_workflow import forward_form, reported, signed_in
from tests.conftest import AppHarness, MakeHarness
from tests.html import field_values
from tests.jobs.portal import Portal, callback, national_portal

TOKEN = "portal-api-token-0123456789"
SECRET = "portal-shared-secret-0123456789"


@pytest.fixture
def portal() -> Iterator[Portal]:
    with national_portal(TOKEN) as p:
        yield p


@pytest.fixture
async def h(make_harness: MakeHarness, portal: Portal) -> AsyncIterator[AppHarness]:
    async with make_harness(
        national_url=portal.url, national_token=TOKEN, national_secret=SECRET
    ) as harness:
        yield harness


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def verified(h: AppHarness, **fields: str) -> tuple[int, str]:
    """A report the coordinator verified and forwarded to the agency."""
    report_id, code = await reported(h, files=None, **fields)
    await signed_in(h, "koor@prov.go.id")
    response = await h.client.post(
        f"/admin/reports/{report_id}/forward",
        data={
            **await forward_form(h, report_id),
            "title": "Antrean KTP terlalu lama",
            "category": "kependudukan",
            "unit": str(h.world.units["dinas"].id),
        },
    )
    assert response.status_code == 303
    return report_id, code


async def send(h: AppHarness, report_id: int, email: str = "koor@prov.go.id") -> None:
    response = await h.act(email, report_id, "national")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/admin/reports/{report_id}#national"


async def deliver(h: AppHarness) -> None:
    await h.app.state.services.mail.send_due()


async def national_rows(h: AppHarness) -> list[Any]:
    return [
        m for m in await h.app.state.services.store.list_outbox() if m.to_address[:9] == "national:"
    ]


async def due_now(h: AppHarness) -> None:
    def run(conn: Any) -> None:
        conn.execute(update(schema.outbox).values(next_attempt_at=now()))

    await h.app.state.services.store.db.write(run)


def national_id_of(h: AppHarness, report_id: int) -> str | None:
    with sqlite3.connect(h.settings.data_dir / "lapor.db") as conn:
        [(found,)] = conn.execute("SELECT national_id FROM reports WHERE id = ?", (report_id,))
    return found  # type: ignore[no-any-return]


async def test_a_verified_report_is_sent_and_its_national_id_shown_to_staff_and_reporter(
    h: AppHarness, portal: Portal
) -> None:
    report_id, code = await verified(
        h, identity="named", name="Ani Lestari", phone="081234567890", email="ani@example.id"
    )
    await send(h, report_id)
    await deliver(h)

    [(headers, body)] = portal.requests
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["idempotency-key"] == f"lapor-{code.replace('-', '')}"
    assert body is not None
    assert body["external_id"] == code
    assert body["title"] == "Antrean KTP terlalu lama"
    assert body["category"] == "kependudukan"
    assert body["status_url"] == f"https://lapor.example.go.id/t/{code}"
    assert body["anonymous"] is False and body["confidential"] is False
    assert body["reporter"] == {
        "name": "Ani Lestari",
        "phone": "+6281234567890",
        "email": "ani@example.id",
    }
    [row] = await national_rows(h)
    assert row.status == "sent" and row.provider_id == "LPR-2026001"
    assert national_id_of(h, report_id) == "LPR-2026001"

    page = soup(await h.client.get(f"/admin/reports/{report_id}"))
    shown = page.select_one(".national-id")
    assert shown is not None and shown.get_text() == "LPR-2026001"
    assert page.find("form", action=f"/admin/reports/{report_id}/national") is None
    h.client.cookies.clear()
    public = soup(await h.client.get(f"/t/{code}"))
    shown = public.select_one(".national-id")
    assert shown is not None and shown.get_text() == "LPR-2026001"
    assert "LPR-2026001" in public.select_one(".timeline, ol").get_text()  # type: ignore[union-attr]


async def test_a_5xx_is_retried_with_the_same_key_and_the_portal_keeps_one_report(
    h: AppHarness, portal: Portal
) -> None:
    report_id, _ = await verified(h)
    await send(h, report_id)
    portal.fail_next = 1
    await deliver(h)
    [row] = await national_rows(h)
    assert row.status == "pending" and "503" in (row.last_error or "")
    assert national_id_of(h, report_id) is None
    await deliver(h)
    assert len(portal.requests) == 1  # not due again until the backoff has passed

    # The portal took the next try but its answer was lost: the retry after it is the same
    # delivery, and the portal keeps one report.
    portal.lose_answer_next = 1
    await due_now(h)
    await deliver(h)
    assert (await national_rows(h))[0].status == "pending"
    await due_now(h)
    await deliver(h)

    keys = {headers["idempotency-key"] for headers, _ in portal.requests}
    assert len(portal.requests) == 3 and len(keys) == 1
    assert len(portal.stored()) == 1
    [row] = await national_rows(h)
    assert row.status == "sent" and row.attempts == 3
    assert national_id_of(h, report_id) == "LPR-2026001"


async def test_a_refusal_fails_for_good_and_an_admin_resends_it_from_the_outbox(
    h: AppHarness, portal: Portal
) -> None:
    report_id, _ = await verified(h)
    await send(h, report_id)
    portal.token = "the-portal-revoked-our-token"
    await deliver(h)
    [row] = await national_rows(h)
    assert row.status == "failed" and "401" in (row.last_error or "")

    await signed_in(h, "admin@prov.go.id")
    outbox = soup(await h.client.get("/admin/outbox?status=failed"))
    form = outbox.find("form", action=f"/admin/outbox/{row.id}/resend")
    assert form is not None, "the failed delivery is on the outbox page, with a resend"
    listed = form.find_parent("tr")
    assert listed is not None and "SP4N-LAPOR!" in listed.get_text()
    assert "401" in listed.get_text()
    csrf = await h.csrf("/admin/outbox")
    assert (
        await h.client.post(f"/admin/outbox/{row.id}/resend", data={"csrf": csrf})
    ).status_code == 303
    portal.token = TOKEN
    await deliver(h)
    assert (await national_rows(h))[0].status == "sent"
    assert national_id_of(h, report_id) == "LPR-2026001"


async def test_an_anonymous_report_carries_no_name_and_no_contact(
    h: AppHarness, portal: Portal
) -> None:
    report_id, _ = await verified(h, identity="anonim")
    await send(h, report_id)
    await deliver(h)
    [(_, body)] = portal.requests
    assert body is not None
    assert body["anonymous"] is True and body["confidential"] is False
    assert "reporter" not in body


async def test_a_confidential_report_carries_its_identity_flagged_confidential(
    h: AppHarness, portal: Portal
) -> None:
    report_id, _ = await verified(h, identity="rahasia", name="Budi", phone="081298765432")
    await send(h, report_id)
    await deliver(h)
    [(_, body)] = portal.requests
    assert body is not None
    assert body["confidential"] is True and body["anonymous"] is False
    assert body["reporter"] == {"name": "Budi", "phone": "+6281298765432"}


async def test_the_field_mapping_setting_renames_and_drops_fields(
    make_harness: MakeHarness, portal: Portal
) -> None:
    mapping = '{"text": "isi_laporan", "reporter_name": "pelapor.nama", "kind": null}'
    async with make_harness(
        national_url=portal.url, national_token=TOKEN, national_fields=mapping
    ) as h:
        report_id, _ = await verified(h, identity="named", name="Ani", email="ani@example.id")
        await send(h, report_id)
        await deliver(h)
    [(_, body)] = portal.requests
    assert body is not None
    assert "description" not in body and body["isi_laporan"].startswith("Antrean")
    assert "type" not in body
    assert body["pelapor"] == {"nama": "Ani"} and body["reporter"] == {"email": "ani@example.id"}


async def test_a_report_not_verified_yet_cannot_be_sent(h: AppHarness, portal: Portal) -> None:
    report_id, _ = await reported(h)
    await signed_in(h, "koor@prov.go.id")
    page = soup(await h.client.get(f"/admin/reports/{report_id}"))
    assert page.find("form", action=f"/admin/reports/{report_id}/national") is None
    csrf = await h.csrf(f"/admin/reports/{report_id}")
    response = await h.client.post(f"/admin/reports/{report_id}/national", data={"csrf": csrf})
    assert response.status_code == 409
    assert soup(response).select_one("#national-problem") is not None
    assert await national_rows(h) == []


async def test_sending_twice_queues_one_delivery(h: AppHarness, portal: Portal) -> None:
    report_id, _ = await verified(h)
    await send(h, report_id)
    csrf = await h.csrf(f"/admin/reports/{report_id}")
    again = await h.client.post(f"/admin/reports/{report_id}/national", data={"csrf": csrf})
    assert again.status_code == 409
    assert soup(again).select_one("#national-problem") is not None
    assert len(await national_rows(h)) == 1
    waiting = soup(await h.client.get(f"/admin/reports/{report_id}"))
    assert waiting.select_one("#national-waiting") is not None


async def test_without_the_portal_set_up_there_is_no_button_and_no_callback(
    harness: AppHarness,
) -> None:
    report_id, _ = await verified(harness)
    page = soup(await harness.client.get(f"/admin/reports/{report_id}"))
    assert page.select_one("#national") is None
    csrf = await harness.csrf(f"/admin/reports/{report_id}")
    response = await harness.client.post(
        f"/admin/reports/{report_id}/national", data={"csrf": csrf}
    )
    assert response.status_code == 404
    body, headers = callback(SECRET, {"event_id": "e1", "tracking_id": "X", "status": "closed"})
    assert (
        await harness.client.post("/channels/national", content=body, headers=headers)
    ).status_code == 404


async def test_a_unit_that_sends_every_verified_report_sends_it_when_verified(
    h: AppHarness, portal: Portal
) -> None:
    await signed_in(h, "admin@prov.go.id")
    prov = h.world.units["prov"].id
    csrf = await h.csrf(f"/admin/units/{prov}")
    response = await h.client.post(
        f"/admin/units/{prov}/national", data={"csrf": csrf, "sends_national": "1"}
    )
    assert response.status_code == 303
    page = soup(await h.client.get(f"/admin/units/{prov}"))
    box = page.select_one("#sends_national")
    assert box is not None and box.has_attr("checked")

    unverified, _ = await reported(h)
    assert await national_rows(h) == []
    report_id, _ = await verified(h)
    [row] = await national_rows(h)
    assert row.report_id == report_id
    await deliver(h)
    assert national_id_of(h, report_id) == "LPR-2026001"
    assert national_id_of(h, unverified) is None

    # Unticked, the box is absent from the form: the unit stops sending.
    await signed_in(h, "admin@prov.go.id")
    csrf = await h.csrf(f"/admin/units/{prov}")
    await h.client.post(f"/admin/units/{prov}/national", data={"csrf": csrf})
    page = soup(await h.client.get(f"/admin/units/{prov}"))
    assert not page.select_one("#sends_national").has_attr("checked")  # type: ignore[union-attr]
    await verified(h)
    assert len(await national_rows(h)) == 1


async def sent(h: AppHarness, **fields: str) -> tuple[int, str]:
    report_id, code = await verified(h, **fields)
    await send(h, report_id)
    await deliver(h)
    return report_id, code


async def post_callback(
    h: AppHarness, event: dict[str, Any], secret: str = SECRET, **headers: str
) -> httpx.Response:
    body, signed = callback(secret, event)
    return await h.client.post("/channels/national", content=body, headers={**signed, **headers})


async def test_a_signed_status_callback_lands_on_the_timeline_once(
    h: AppHarness, portal: Portal
) -> None:
    report_id, code = await sent(h)
    event = {
        "event_id": "evt-1",
        "tracking_id": "LPR-2026001",
        "status": "answered",
        "note": "Instansi telah menjawab di lapor.go.id.",
    }
    response = await post_callback(h, event)
    assert response.status_code == 200 and response.json() == {
        "event_id": "evt-1",
        "duplicate": False,
    }
    again = await post_callback(h, event)
    assert again.status_code == 200 and again.json()["duplicate"] is True

    await signed_in(h, "koor@prov.go.id")
    timeline = soup(await h.client.get(f"/admin/reports/{report_id}")).select("ol.timeline li")
    answered = [li for li in timeline if "Instansi telah menjawab" in li.get_text()]
    assert len(answered) == 1
    h.client.cookies.clear()
    public = (await h.client.get(f"/t/{code}")).text
    assert public.count("Instansi telah menjawab") == 1

    # A comment is the portal's internal word: staff see it, the reporter does not.
    await post_callback(
        h,
        {
            "event_id": "evt-2",
            "tracking_id": "LPR-2026001",
            "status": "comment",
            "note": "Catatan admin pusat",
        },
    )
    assert "Catatan admin pusat" not in (await h.client.get(f"/t/{code}")).text
    await signed_in(h, "koor@prov.go.id")
    assert "Catatan admin pusat" in (await h.client.get(f"/admin/reports/{report_id}")).text


async def test_a_forged_or_unsigned_callback_is_refused_and_changes_nothing(
    h: AppHarness, portal: Portal
) -> None:
    report_id, _ = await sent(h)
    event = {"event_id": "evt-9", "tracking_id": "LPR-2026001", "status": "closed", "note": "Palsu"}
    forged = await post_callback(h, event, secret="not-the-shared-secret-at-all")
    assert forged.status_code == 403
    body, _ = callback(SECRET, event)
    unsigned = await h.client.post(
        "/channels/national", content=body, headers={"content-type": "application/json"}
    )
    assert unsigned.status_code == 403
    tampered = await h.client.post(
        "/channels/national",
        content=body.replace(b"Palsu", b"Asli!"),
        headers=callback(SECRET, event)[1],
    )
    assert tampered.status_code == 403
    await signed_in(h, "koor@prov.go.id")
    assert "Palsu" not in (await h.client.get(f"/admin/reports/{report_id}")).text
    # Once rightly signed, the same event id is new: the forgeries kept nothing.
    assert (await post_callback(h, event)).json()["duplicate"] is False


async def test_a_callback_for_no_report_or_of_the_wrong_shape_is_refused(
    h: AppHarness, portal: Portal
) -> None:
    unknown = {"event_id": "e", "tracking_id": "LPR-404", "status": "closed"}
    assert (await post_callback(h, unknown)).status_code == 404
    for wrong in ({"event_id": "e"}, {"event_id": "", "tracking_id": "X", "status": "closed"}):
        assert (await post_callback(h, wrong)).status_code == 400
    body = b"not json"
    from lapor.complaints.signatures import body_signature as sign

    response = await h.client.post(
        "/channels/national", content=body, headers={"x-lapor-signature": sign(SECRET, body)}
    )
    assert response.status_code == 400


async def test_a_report_from_the_national_portal_is_found_by_its_national_id(
    h: AppHarness, portal: Portal
) -> None:
    await signed_in(h, "koor@prov.go.id")
    page = soup(await h.client.get("/admin/reports/new"))
    form = page.find("form", action="/admin/reports/new")
    assert form is not None and page.find("input", attrs={"name": "national_id"}) is not None
    fields = field_values(form.find_all("input"))
    data = {
        **fields,
        "taken_via": "counter",
        "unit": str(h.world.units["dinas"].id),
        "kind": "pengaduan",
        "identity": "anonim",
        "language": "id",
        "text": "Laporan dari lapor.go.id tentang antrean KTP yang terlalu lama.",
        "national_id": "LPR-7654321",
    }
    response = await h.client.post("/admin/reports/new", data=data)
    assert response.status_code == 303, response.text
    report_id = int(response.headers["location"].split("/")[3])
    assert national_id_of(h, report_id) == "LPR-7654321"

    found = await h.client.get("/admin", params={"q": "LPR-7654321"})
    assert found.status_code == 303 and found.headers["location"] == f"/admin/reports/{report_id}"
    shown = soup(await h.client.get(f"/admin/reports/{report_id}")).select_one(".national-id")
    assert shown is not None and shown.get_text() == "LPR-7654321"

    # The same ID twice, or one that cannot be an ID: a clear error, the text kept.
    fresh = soup(await h.client.get("/admin/reports/new"))
    key = fresh.find("input", attrs={"name": "key"})
    assert key is not None
    for national_id in ("LPR-7654321", "no spaces <allowed>"):
        refused = await h.client.post(
            "/admin/reports/new",
            data={**data, "key": str(key["value"]), "national_id": national_id},
        )
        assert refused.status_code == 400
        again = soup(refused)
        assert again.select_one("#national-id[aria-invalid]") is not None
        assert "antrean KTP" in again.get_text()

    # Outside the caller's scope the ID finds nothing: the words are searched as any others.
    await signed_in(h, "koor@other.go.id")
    assert (await h.client.get("/admin", params={"q": "LPR-7654321"})).status_code == 200


async def test_only_those_who_may_send_see_the_button(h: AppHarness, portal: Portal) -> None:
    await h.world.user("petugas@dinas.go.id", "officer", "dinas")
    report_id, _ = await verified(h)
    for email, offered in (
        ("koor@prov.go.id", True),
        ("admin@prov.go.id", True),
        ("petugas@dinas.go.id", False),
        ("insp@prov.go.id", False),
    ):
        await signed_in(h, email)
        page = soup(await h.client.get(f"/admin/reports/{report_id}"))
        assert (page.select_one("#national-form") is not None) is offered, email
        assert (page.select_one("#national") is not None) is offered, email
