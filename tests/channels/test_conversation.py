"""One conversation on the report, over HTTP on the real app: every SMS in and out is on the
report's timeline, the reporter answers a question by SMS as they would on the web, staff
reply from the report's page, numbers stay hidden where the identity rules say, STOP and the
block list hold."""

from __future__ import annotations

import json
from typing import Any

import httpx
from bs4 import BeautifulSoup

from lapor.complaints import tracking
from lapor.complaints.conversation import Delivery
from lapor.complaints.notices import ChangeNotice, SmsNotice
from lapor.complaints.reports import Status
from lapor.complaints.sms import segments
from tests.admin.test_intake import blank_form, take
from tests.channels.test_sms import NUMBER, SECRET, SENDER, deliver, sms_rows
from tests.conftest import AppHarness, MakeHarness, free_port

KOOR = "koor@prov.go.id"
QUESTION = "Di jalan mana tepatnya, dan sejak kapan rusaknya?"


def _sending() -> dict[str, str]:
    # SMS is configured for sending; nothing listens there, and no test sends (the sender
    # runs only where a test calls it).
    return {
        "sms_secret": SECRET,
        "sms_sendsms_url": f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms",
        "sms_sendsms_password": "sendsms-test-pw",
    }


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def sms_report(
    h: AppHarness, text: str = "LAPOR jalan rusak di depan pasar", **p: str
) -> Any:
    assert (await deliver(h, text, **p)).text == "stored"
    receipts = [m for m in await sms_rows(h) if isinstance(m.notice, SmsNotice)]
    receipt = max(receipts, key=lambda m: m.id)
    report = await h.app.state.services.store.report_by_tracking_code(receipt.notice.tracking_code)
    assert report is not None
    return report


async def staff_page(h: AppHarness, email: str, report_id: int) -> BeautifulSoup:
    h.client.cookies.clear()
    assert (await h.login(email)).status_code == 303
    response = await h.client.get(f"/admin/reports/{report_id}")
    assert response.status_code == 200
    return soup(response)


async def test_a_question_goes_by_sms_and_the_sms_answer_lands_on_the_report(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(**_sending()) as h:
        report = await sms_report(h)
        assert (await h.act(KOOR, report.id, "postpone", reason=QUESTION)).status_code == 303
        [question] = [m for m in await sms_rows(h) if isinstance(m.notice, ChangeNotice)]
        assert question.to_address == "sms:" + NUMBER
        code = tracking.format_code(report.tracking_code)
        # The same notice the mail tells, in a text message's words: the question, how to answer.
        assert QUESTION in question.body and code in question.body
        assert "Balas SMS ini" in question.body and segments(question.body).count <= 2

        answer = "Jalan Merdeka depan pasar, sejak banjir minggu lalu."
        response = await deliver(h, answer, id="a-1")
        assert response.status_code == 200 and response.text == "answer"
        store = h.app.state.services.store
        after = await store.report_by_tracking_code(report.tracking_code)
        # Out of "waiting for the reporter", as a reply through the private link: back to the
        # coordinator, the answer on the public timeline, the coordinator told.
        assert after.status is Status.RECEIVED
        assert [e.note for e in after.events if e.kind == "reporter_reply"] == [answer]
        told = [m for m in await h.outbox() if m.to_address == KOOR and answer in (m.body or "")]
        assert len(told) == 1

        # A retry of the answer changes nothing.
        assert (await deliver(h, answer, id="a-1")).text == "duplicate"
        again = await store.report_by_tracking_code(report.tracking_code)
        assert again.version == after.version

        page = await staff_page(h, KOOR, report.id)
        conversation = page.find(id="conversation")
        assert conversation is not None
        incoming = [li.get_text(" ", strip=True) for li in conversation.select("li.message-in")]
        outgoing = [li.get_text(" ", strip=True) for li in conversation.select("li.message-out")]
        assert len(incoming) == 2 and "jalan rusak di depan pasar" in incoming[0]
        assert answer in incoming[1] and "SMS dari pelapor" in incoming[1]
        assert len(outgoing) == 2 and all("SMS ke pelapor" in o for o in outgoing)
        assert "Kode lacak" in outgoing[0] and QUESTION in outgoing[1]
        assert all("menunggu di kotak keluar" in o for o in outgoing)


async def test_the_answer_goes_to_the_report_its_code_names(make_harness: MakeHarness) -> None:
    async with make_harness(**_sending()) as h:
        first = await sms_report(h, "LAPOR lampu jalan mati di gang 3")
        second = await sms_report(h, "LAPOR got mampet di depan sekolah")
        for report in (first, second):
            assert (await h.act(KOOR, report.id, "postpone", reason=QUESTION)).status_code == 303
        code = tracking.format_code(first.tracking_code)
        assert (await deliver(h, f"{code} gang 3 RT 05, sejak Senin", id="c-1")).text == "answer"
        store = h.app.state.services.store
        assert (await store.report_by_tracking_code(first.tracking_code)).status is Status.RECEIVED
        second_now = await store.report_by_tracking_code(second.tracking_code)
        assert second_now.status is Status.POSTPONED
        # Without a code: the newest report waiting for this number.
        assert (await deliver(h, "di depan SD Negeri 2", id="c-2")).text == "answer"
        assert (await store.report_by_tracking_code(second.tracking_code)).status is Status.RECEIVED


async def test_a_message_no_report_waits_for_gets_the_help_reply(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(**_sending()) as h:
        report = await sms_report(h)
        assert (await h.act(KOOR, report.id, "postpone", reason=QUESTION)).status_code == 303
        # Another number's message is never taken for this reporter's answer.
        other = await h.client.get(
            "/channels/sms",
            params={"secret": SECRET, "from": "085700001111", "text": "di jalan Merdeka"},
        )
        assert other.text == "help sent"
        store = h.app.state.services.store
        assert (await store.report_by_tracking_code(report.tracking_code)).status is (
            Status.POSTPONED
        )


async def test_staff_reply_on_the_reporters_channel(make_harness: MakeHarness) -> None:
    async with make_harness(**_sending()) as h:
        report = await sms_report(h)
        words = "Petugas kami akan meninjau lokasi besok pagi."
        response = await h.act(KOOR, report.id, "reply", message=words)
        assert response.status_code == 303
        [reply] = [m for m in await sms_rows(h) if isinstance(m.notice, ChangeNotice)]
        assert reply.to_address == "sms:" + NUMBER and reply.notice.event == "staff_message"
        assert reply.body.startswith(tracking.format_code(report.tracking_code) + ": " + words)
        page = await staff_page(h, KOOR, report.id)
        [out] = [li for li in page.select("li.message-out") if words in li.get_text()]
        assert KOOR in out.get_text() and "delivery-queued" in str(out)

        # Too long for two SMS: refused with the reason, nothing queued; htmx gets the block.
        before = len(await sms_rows(h))
        long = await h.act(KOOR, report.id, "reply", message="panjang " * 60)
        assert long.status_code == 400
        assert soup(long).find(id="reply-problem") is not None
        csrf = await h.csrf(f"/admin/reports/{report.id}")
        swapped = await h.client.post(
            f"/admin/reports/{report.id}/reply",
            data={"csrf": csrf, "message": "   "},
            headers={"HX-Request": "true"},
        )
        assert swapped.status_code == 200 and soup(swapped).find(id="reply-problem") is not None
        assert len(await sms_rows(h)) == before

        # Without the CSRF token, or as an inspector, nothing goes out.
        forged = await h.client.post(f"/admin/reports/{report.id}/reply", data={"message": words})
        assert forged.status_code == 403
        h.client.cookies.clear()
        await h.login("insp@prov.go.id")
        csrf = await h.csrf(f"/admin/reports/{report.id}")
        inspector = await h.client.post(
            f"/admin/reports/{report.id}/reply", data={"csrf": csrf, "message": words}
        )
        assert inspector.status_code == 403
        h.client.cookies.clear()
        await h.login("koor@other.go.id")
        csrf = await h.csrf("/admin")
        outside = await h.client.post(
            f"/admin/reports/{report.id}/reply", data={"csrf": csrf, "message": words}
        )
        assert outside.status_code == 404
        assert len(await sms_rows(h)) == before


async def test_a_report_without_a_number_offers_no_reply(make_harness: MakeHarness) -> None:
    async with make_harness(**_sending()) as h:
        assert (await h.submit()).status_code == 303  # anonymous, by the poster's form
        [item] = (await h.app.state.services.store.list_outbox())[:1]
        page = await staff_page(h, KOOR, item.report_id)
        assert page.find(id="reply-form") is None


async def test_an_anonymous_sms_report_shows_its_number_to_nobody(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(**_sending()) as h:
        report = await sms_report(h, "LAPOR ANONIM pungutan liar di loket 3")
        digits = NUMBER[-9:]
        for email in (KOOR, "admin@prov.go.id", "insp@prov.go.id"):
            page = await staff_page(h, email, report.id)
            assert digits not in page.get_text()
        await staff_page(h, "admin@prov.go.id", report.id)
        outbox = await h.client.get("/admin/outbox")
        assert outbox.status_code == 200 and digits not in outbox.text
        assert "•••890" in outbox.text
        # Still answered on its channel: the number is the outbox's alone.
        assert (await h.act(KOOR, report.id, "reply", message="Terima kasih.")).status_code == 303
        assert [m.to_address for m in await sms_rows(h)].count("sms:" + NUMBER) == 2


async def test_phone_only_reporters_of_the_form_are_told_by_sms(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(**_sending()) as h:
        _, form = await h.form()
        assert form.find(id="phone-hint") is not None
        assert (
            await h.submit(identity="rahasia", name="Siti", phone="0813 2222 3333")
        ).status_code == 303
        [receipt] = await sms_rows(h)
        assert receipt.to_address == "sms:+6281322223333" and receipt.notice.reply == "receipt"
        report_id = receipt.report_id
        assert (await h.act(KOOR, report_id, "postpone", reason=QUESTION)).status_code == 303
        assert [
            m.notice.status for m in await sms_rows(h) if isinstance(m.notice, ChangeNotice)
        ] == [Status.POSTPONED]
        # Confidential: the number for the coordinator alone.
        assert "81322223333" in (await staff_page(h, KOOR, report_id)).get_text()
        for email in ("admin@prov.go.id", "insp@prov.go.id"):
            assert "81322223333" not in (await staff_page(h, email, report_id)).get_text()
        # With an e-mail address, mail as before and no SMS.
        h.client.cookies.clear()
        mailed = await h.submit(
            identity="rahasia", name="Ani", phone="0813 4444 5555", email="ani@example.id"
        )
        assert mailed.status_code == 303
        assert "sms:+6281344445555" not in [m.to_address for m in await sms_rows(h)]


async def test_without_sms_sending_the_form_promises_nothing(harness: AppHarness) -> None:
    _, form = await harness.form()
    assert form.find(id="phone-hint") is None
    sent = await harness.submit(identity="rahasia", name="Siti", phone="0813 2222 3333")
    assert sent.status_code == 303
    assert await sms_rows(harness) == []


async def test_stop_stops_messages_and_mulai_resumes_them(make_harness: MakeHarness) -> None:
    async with make_harness(**_sending()) as h:
        svc = h.app.state.services
        report = await sms_report(h)
        assert (await deliver(h, "Stop", id="s-1")).text == "stop"
        assert await svc.store.number_rules("sms:" + NUMBER) == (True, False)
        assert (await h.act(KOOR, report.id, "postpone", reason=QUESTION)).status_code == 303
        await svc.mail.send_due()
        rows = {
            m.notice.reply if isinstance(m.notice, SmsNotice) else "question": m
            for m in await sms_rows(h)
        }
        # Nothing goes to the number but the confirmation (tried: the gateway is down here).
        assert rows["question"].status == "failed" and "STOP" in rows["question"].last_error
        assert rows["receipt"].status == "failed"
        assert rows["stopped"].status == "pending" and "gateway" in rows["stopped"].last_error
        assert "MULAI" in rows["stopped"].body
        page = await staff_page(h, KOOR, report.id)
        assert len(page.select("li.message-out .delivery-failed")) == 2
        assert (await deliver(h, "mulai", id="s-2")).text == "start"
        assert await svc.store.number_rules("sms:" + NUMBER) == (False, False)
        assert "resumed" in [
            m.notice.reply for m in await sms_rows(h) if isinstance(m.notice, SmsNotice)
        ]


async def test_a_blocked_number_makes_nothing(make_harness: MakeHarness) -> None:
    async with make_harness(**_sending()) as h:
        await h.login("admin@prov.go.id")
        csrf = await h.csrf("/admin/numbers")
        bad = await h.client.post(
            "/admin/numbers", data={"csrf": csrf, "number": "bukan nomor", "note": ""}
        )
        assert bad.status_code == 400 and soup(bad).find(id="block-problem") is not None
        done = await h.client.post(
            "/admin/numbers", data={"csrf": csrf, "number": SENDER, "note": "pesan berantai"}
        )
        assert done.status_code == 303
        listed = await h.client.get("/admin/numbers")
        assert NUMBER in listed.text and "pesan berantai" in listed.text
        response = await deliver(h, "LAPOR jalan rusak di depan pasar", id="b-1")
        assert response.status_code == 200 and response.text == "blocked"
        assert await h.app.state.services.store.count_reports() == 0
        assert await sms_rows(h) == []
        unblock = await h.client.post(
            "/admin/numbers/unblock", data={"csrf": csrf, "address": "sms:" + NUMBER}
        )
        assert unblock.status_code == 303
        assert (await deliver(h, "LAPOR jalan rusak di depan pasar", id="b-2")).text == "stored"
        # Only admins keep the list.
        h.client.cookies.clear()
        await h.login(KOOR)
        assert (await h.client.get("/admin/numbers")).status_code == 403


async def test_delivery_reports_mark_the_message(make_harness: MakeHarness) -> None:
    async with make_harness(**_sending()) as h:
        report = await sms_report(h)
        [receipt] = await sms_rows(h)
        query = {"secret": SECRET, "outbox": str(receipt.id), "type": "1"}
        assert (
            await h.client.get("/channels/sms/delivery", params={**query, "secret": "x"})
        ).status_code == 403
        assert (
            await h.client.get("/channels/sms/delivery", params={**query, "outbox": "x"})
        ).status_code == 400
        assert (
            await h.client.get("/channels/sms/delivery", params={**query, "type": "8"})
        ).text == "noted"
        assert (await h.client.get("/channels/sms/delivery", params=query)).text == "delivered"
        store = h.app.state.services.store
        page = await staff_page(h, KOOR, report.id)
        assert page.select("li.message-out .delivery-delivered")
        messages = (await store.report_for_staff(report.id, h.world.scope(KOOR))).messages
        assert [m.delivery for m in messages if m.direction == "out"] == [Delivery.DELIVERED]
        metrics = await h.client.get("/metrics")
        line = 'lapor_channel_messages_total{channel="sms",direction="out",outcome="delivered"} 1.0'
        assert line in metrics.text
        assert (
            'lapor_channel_messages_total{channel="sms",direction="in",outcome="stored"} 1.0'
            in (metrics.text)
        )


async def test_a_flood_of_noise_makes_no_report(make_harness: MakeHarness) -> None:
    async with make_harness(**_sending()) as h:
        answers = [
            (await deliver(h, noise, id=f"n-{i}")).status_code
            for i, noise in enumerate(["", " ", "?", "ok", "LAPOR", "lapor  ", "\u200b"] * 2)
        ]
        assert await h.app.state.services.store.count_reports() == 0
        # A help reply or two, then the number's limit: no endless replies to a loop.
        assert answers.count(429) >= 8
        assert len(await sms_rows(h)) <= 5


async def test_a_report_taken_by_staff_for_a_phone_only_citizen_is_told_by_sms(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(**_sending()) as h:
        await h.login(KOOR)
        form = await h.client.get("/admin/reports/new")
        assert soup(form).find(id="phone-hint") is not None
        taken = await take(h, await blank_form(h), identity="named", phone="0812 5555 6666")
        assert taken.status_code == 303
        [receipt] = await sms_rows(h)
        assert receipt.to_address == "sms:+6281255556666" and receipt.notice.reply == "receipt"


async def test_the_kiosk_says_what_its_phone_field_brings(make_harness: MakeHarness) -> None:
    async with make_harness(**_sending()) as h:
        boot = soup(await h.client.get("/kiosk")).find("script", id="kiosk-boot")
        assert boot is not None and json.loads(boot.get_text())["sms_sending"] is True
