"""The SMS channel over HTTP, as a gateway calls it, on the real app (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from lapor.complaints import tracking
from lapor.complaints.notices import SmsNotice
from lapor.complaints.reports import TEXT_MAX, Channel, Identity
from lapor.complaints.sms import segments
from tests.conftest import AppHarness, MakeHarness

SECRET = "sms-test-secret-" + "s" * 12
SENDER = "081234567890"
NUMBER = "+6281234567890"


async def deliver(h: AppHarness, text: str, **params: str) -> httpx.Response:
    query = {"secret": SECRET, "from": SENDER, "to": "1708", "text": text, **params}
    return await h.client.get("/channels/sms", params=query)


async def sms_rows(h: AppHarness) -> list[Any]:
    return [m for m in await h.outbox() if m.to_address.startswith("sms:")]


async def test_off_without_a_secret(harness: AppHarness) -> None:
    response = await deliver(harness, "LAPOR jalan rusak")
    assert response.status_code == 404
    assert await harness.app.state.services.store.count_reports() == 0


async def test_bad_secret_is_refused_and_nothing_is_stored(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        for secret in ("wrong-" + SECRET, ""):
            response = await deliver(h, "LAPOR jalan rusak di depan pasar", secret=secret)
            assert response.status_code == 403
        assert await h.app.state.services.store.count_reports() == 0
        assert await sms_rows(h) == []


async def test_gateway_address_is_checked_when_listed(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET, sms_allow="10.0.0.0/8") as h:
        assert (await deliver(h, "LAPOR jalan rusak")).status_code == 403


async def test_listed_gateway_address_passes(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET, sms_allow="198.51.100.0/24") as h:
        assert (await deliver(h, "LAPOR jalan rusak")).status_code == 200


async def test_report_and_receipt_through_the_outbox(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        response = await deliver(h, "Lapor jalan rusak di depan pasar", id="k-1", smsc="modem")
        assert response.status_code == 200 and response.text == "stored"
        [receipt] = await sms_rows(h)
        assert receipt.to_address == "sms:" + NUMBER
        assert isinstance(receipt.notice, SmsNotice) and receipt.notice.reply == "receipt"
        code = receipt.notice.tracking_code
        assert code is not None
        link = f"{h.settings.base_url}/t/{tracking.format_code(code)}"
        assert link in receipt.body and tracking.format_code(code) in receipt.body
        assert segments(receipt.body).count <= 2
        report = await h.app.state.services.store.report_by_tracking_code(code)
        assert report is not None and report.channel is Channel.SMS
        assert report.text == "jalan rusak di depan pasar"
        assert report.reporter_phone == NUMBER and report.unit_name == "Pemerintah Provinsi"
        status = await h.client.get(f"/t/{tracking.format_code(code)}")
        assert status.status_code == 200


async def test_a_retry_never_makes_two_reports(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        store = h.app.state.services.store
        for _ in range(3):
            assert (await deliver(h, "LAPOR lampu jalan mati", id="m-9")).status_code == 200
        for _ in range(2):
            response = await deliver(h, "LAPOR got mampet", time="2026-12-02 10:00")
            assert response.status_code == 200
        # Without id or time: the same words within the window.
        for _ in range(2):
            assert (await deliver(h, "LAPOR sampah menumpuk")).status_code == 200
        assert await store.count_reports() == 3
        assert len(await sms_rows(h)) == 3
        assert (await deliver(h, "LAPOR got mampet", time="2026-12-02 11:00")).text == "stored"


async def test_no_keyword_or_no_text_gets_help_and_no_report(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET, sms_keywords="LAPORPAMAN,LAPOR PAMAN") as h:
        for text in ("halo", "", "lapor paman", "halo"):
            response = await deliver(h, text)
            assert response.status_code == 200 and response.text == "help sent"
        assert await h.app.state.services.store.count_reports() == 0
        rows = await sms_rows(h)
        assert len(rows) == 3
        assert all(r.notice.reply == "help" and r.report_id is None for r in rows)
        assert "LAPORPAMAN" in rows[0].body and segments(rows[0].body).count <= 2


async def test_unit_word_anonymous_and_cut(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        store = h.app.state.services.store
        await store.set_unit_sms_word("rsud", "RSUD")
        await deliver(h, "LAPOR RSUD ANONIM IGD penuh sejak pagi", id="a")
        [receipt] = await sms_rows(h)
        report = await store.report_by_tracking_code(receipt.notice.tracking_code)
        assert report.unit_name == "RSUD Ulin" and report.identity is Identity.ANONYMOUS
        # No number with the report: it is kept only where the receipt goes.
        assert report.reporter_phone is None and receipt.to_address == "sms:" + NUMBER
        await deliver(h, "LAPOR " + "panjang " * 600, id="b")
        rows = await sms_rows(h)
        long = next(r for r in rows if r.id != receipt.id)
        assert long.notice.cut and str(TEXT_MAX) in long.body.replace(".", "")
        assert segments(long.body).count <= 2
        cut = await store.report_by_tracking_code(long.notice.tracking_code)
        assert len(cut.text) <= TEXT_MAX


async def test_post_form_and_header_secret(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        response = await h.client.post(
            "/channels/sms",
            data={"from": SENDER, "text": "LAPOR trotoar rusak"},
            headers={"x-lapor-secret": SECRET},
        )
        assert response.status_code == 200 and response.text == "stored"


async def test_per_number_limit(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET, sms_limit_per_number="2/day") as h:
        assert (await deliver(h, "LAPOR satu", id="1")).status_code == 200
        assert (await deliver(h, "LAPOR dua", id="2")).status_code == 200
        # A retry of a stored message is still answered as one.
        assert (await deliver(h, "LAPOR dua", id="2")).text == "duplicate"
        assert (await deliver(h, "LAPOR tiga", id="3")).status_code == 429
        assert await h.app.state.services.store.count_reports() == 2
        metrics = await h.client.get("/metrics")
        assert 'lapor_sms_inbound_total{outcome="rate_limited"} 1.0' in metrics.text
        assert 'lapor_sms_inbound_total{outcome="stored"} 2.0' in metrics.text


async def test_ucs2_text_as_kannel_passes_it(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        text = "LAPOR jalan rusak 🙁 di Banjarbaru"
        raw = "".join(f"%{b:02X}" for b in text.encode("utf-16-be"))
        response = await h.client.get(
            f"/channels/sms?secret={SECRET}&from={SENDER}&coding=2&id=u&text={raw}"
        )
        assert response.text == "stored"
        [receipt] = await sms_rows(h)
        report = await h.app.state.services.store.report_by_tracking_code(
            receipt.notice.tracking_code
        )
        assert report.text == "jalan rusak 🙁 di Banjarbaru"


async def test_receipts_are_listed_in_the_admins_outbox(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        await deliver(h, "LAPOR jalan rusak di depan pasar", id="o")
        assert (await h.login("admin@prov.go.id")).status_code == 303
        page = await h.client.get("/admin/outbox")
        assert page.status_code == 200
        # By its last digits only: the number of an anonymous reporter is on such rows too.
        assert "SMS •••890" in page.text and NUMBER not in page.text


async def test_admins_set_a_units_sms_word_on_its_page(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        rsud = h.world.units["rsud"]
        assert (await h.login("admin@prov.go.id")).status_code == 303
        csrf = await h.csrf(f"/admin/units/{rsud.id}")
        path = f"/admin/units/{rsud.id}/sms-word"
        saved = await h.client.post(path, data={"csrf": csrf, "sms_word": "rsud ulin"})
        assert saved.status_code == 303
        taken = await h.client.post(
            f"/admin/units/{h.world.units['dinas'].id}/sms-word",
            data={"csrf": csrf, "sms_word": "RSUDULIN"},
        )
        assert taken.status_code == 400
        assert (
            await h.client.post(path, data={"csrf": csrf, "sms_word": "a-b"})
        ).status_code == 400
        await deliver(h, "LAPOR rsudulin IGD penuh", id="w")
        [receipt] = await sms_rows(h)
        store = h.app.state.services.store
        report = await store.report_by_tracking_code(receipt.notice.tracking_code)
        assert report.unit_name == "RSUD Ulin"


async def test_staff_read_an_sms_report_with_its_number(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        await deliver(h, "LAPOR jalan rusak di depan pasar", id="s")
        [receipt] = await sms_rows(h)
        assert (await h.login("koor@prov.go.id")).status_code == 303
        page = await h.client.get(f"/admin/reports/{receipt.report_id}")
        assert page.status_code == 200
        assert NUMBER in page.text and "None" not in page.text
