"""The WhatsApp channel as Meta calls it, on the real app (tests/conftest.py), with a local
Graph API stand-in (tests/channels/graph.py) receiving the replies and serving photos."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from lapor.channels.whatsapp import setup_text
from lapor.complaints import tracking
from lapor.complaints.reports import TEXT_MAX, Channel, Identity, Status
from lapor.settings import Settings
from tests.channels.graph import Graph, graph_api
from tests.conftest import AppHarness, MakeHarness, jpeg_bytes

APP_SECRET = "whatsapp-app-secret-0123456789"
VERIFY_TOKEN = "verify-token-0123456789"
ACCESS_TOKEN = "EAAG-test-access-token"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "6281234567890"
NUMBER = "+6281234567890"
TEXT = "Jalan di depan pasar Banjarbaru berlubang besar sejak minggu lalu"


@pytest.fixture
def graph() -> Iterator[Graph]:
    with graph_api(ACCESS_TOKEN, PHONE_NUMBER_ID) as g:
        yield g


@asynccontextmanager
async def whatsapp(
    make_harness: MakeHarness, graph: Graph, **overrides: Any
) -> AsyncIterator[AppHarness]:
    settings = dict(
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_access_token=ACCESS_TOKEN,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_graph_url=graph.url,
        whatsapp_gather_seconds=0,
    )
    settings.update(overrides)
    async with make_harness(**settings) as h:
        yield h


_ids = iter(range(1, 1_000_000))


def message(kind: str = "text", sent: float | None = None, **fields: Any) -> dict[str, Any]:
    """One entry of `value.messages[]` as Meta documents it."""
    bodies: dict[str, dict[str, Any]] = {
        "text": {"body": TEXT},
        "image": {"mime_type": "image/jpeg", "sha256": "x", "id": "1"},
        "location": {"latitude": -3.4425, "longitude": 114.8328},
    }
    body = bodies.get(kind, {})
    found = {
        "from": WA_ID,
        "id": f"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFDNB{next(_ids):08d}",
        "timestamp": str(int(sent if sent is not None else time.time())),
        "type": kind,
        kind: body,
    }
    found.update(fields)
    return found


def webhook(
    messages: Sequence[dict[str, Any]] = (),
    statuses: Sequence[dict[str, Any]] = (),
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "628115001708", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Siti Rahmah"}, "wa_id": WA_ID}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def status(wamid: str, state: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": wamid,
        "status": state,
        "timestamp": str(int(time.time())),
        "recipient_id": WA_ID,
        **fields,
    }


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post(h: AppHarness, payload: dict[str, Any], **headers: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    sent = {"content-type": "application/json", "x-hub-signature-256": sign(body), **headers}
    return await h.client.post("/channels/whatsapp", content=body, headers=sent)


async def settle(h: AppHarness) -> None:
    """What the background jobs do after the webhook: the runner makes the reports, the
    outbox sends the replies to the stand-in."""
    await h.app.state.whatsapp_inbox.process_due()
    await h.app.state.services.mail.send_due()


async def wa_rows(h: AppHarness) -> list[Any]:
    return [m for m in await h.outbox() if m.to_address.startswith("whatsapp:")]


async def test_off_without_settings(harness: AppHarness) -> None:
    assert (await harness.client.get("/channels/whatsapp")).status_code == 404
    assert (await post(harness, webhook([message()]))).status_code == 404


async def test_meta_verification_handshake(make_harness: MakeHarness, graph: Graph) -> None:
    async with whatsapp(make_harness, graph) as h:
        query = {
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        }
        answer = await h.client.get("/channels/whatsapp", params=query)
        assert answer.status_code == 200 and answer.text == "1158201444"
        assert answer.headers["content-type"].startswith("text/plain")
        wrong = {**query, "hub.verify_token": "not-" + VERIFY_TOKEN}
        assert (await h.client.get("/channels/whatsapp", params=wrong)).status_code == 403
        other = {**query, "hub.mode": "unsubscribe"}
        assert (await h.client.get("/channels/whatsapp", params=other)).status_code == 403
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_refused_total{reason="verify_token"} 2.0' in metrics


async def test_forged_or_unsigned_events_change_nothing(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        body = json.dumps(webhook([message()])).encode()
        other = json.dumps(webhook([message(text={"body": "lain " + TEXT})])).encode()
        attempts = [
            {},
            {"x-hub-signature-256": sign(body, "not-the-app-secret")},
            {"x-hub-signature-256": sign(other)},
            {"x-hub-signature-256": sign(body).removeprefix("sha256=")},
            {"x-hub-signature-256": "sha256=" + "0" * 64},
        ]
        for headers in attempts:
            answer = await h.client.post("/channels/whatsapp", content=body, headers=headers)
            assert answer.status_code == 403
        await settle(h)
        store = h.app.state.services.store
        assert await store.count_reports() == 0 and await wa_rows(h) == []
        assert (
            await store.whatsapp_known(
                [m["id"] for m in json.loads(body)["entry"][0]["changes"][0]["value"]["messages"]]
            )
            == set()
        )
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_refused_total{reason="signature_missing"} 1.0' in metrics
        assert 'lapor_whatsapp_refused_total{reason="signature_wrong"} 4.0' in metrics
        assert graph.sent == []


async def test_a_text_becomes_a_report_and_the_receipt_reaches_whatsapp(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        answer = await post(h, webhook([message()]))
        assert answer.status_code == 200
        await settle(h)
        [receipt] = await wa_rows(h)
        assert receipt.to_address == "whatsapp:" + NUMBER and receipt.status == "sent"
        code = tracking.format_code(receipt.notice.tracking_code)
        store = h.app.state.services.store
        report = await store.report_by_tracking_code(receipt.notice.tracking_code)
        assert report is not None and report.channel is Channel.WHATSAPP
        assert report.text == TEXT and report.unit_name == "Pemerintah Provinsi"
        assert report.reporter_phone == NUMBER and report.reporter_name == "Siti Rahmah"
        [sent] = graph.sent
        assert sent["messaging_product"] == "whatsapp" and sent["to"] == WA_ID
        assert sent["type"] == "text"
        assert f"{h.settings.base_url}/t/{code}" in sent["text"]["body"]
        # The wamid Meta gave it, for its delivery statuses; how it went out, for the page.
        assert receipt.provider_id == sent["_wamid"] and receipt.subject == "WhatsApp"
        assert (await h.client.get(f"/t/{code}")).status_code == 200
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_inbound_total{outcome="stored"} 1.0' in metrics
        assert 'lapor_whatsapp_inbound_total{outcome="report"} 1.0' in metrics
        assert 'lapor_reports_submitted_total{channel="whatsapp"} 1.0' in metrics


async def test_a_retried_delivery_makes_one_report_and_one_receipt(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        payload = webhook([message()])
        for _ in range(3):
            assert (await post(h, payload)).status_code == 200
        await settle(h)
        # Days later, after the report was made: still the same message.
        assert (await post(h, payload)).status_code == 200
        await settle(h)
        assert await h.app.state.services.store.count_reports() == 1
        assert len(await wa_rows(h)) == 1 and len(graph.sent) == 1
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_inbound_total{outcome="duplicate"} 3.0' in metrics


async def test_a_text_and_two_photos_are_one_report_with_clean_photos(
    make_harness: MakeHarness, graph: Graph
) -> None:
    exif = Image.Exif()
    exif[0x8827] = 400  # ISO speed: any EXIF tag would do
    exif[0x010F] = "PhoneMaker"
    graph.media["9001"] = jpeg_bytes(800, 600, exif=exif.tobytes())
    graph.media["9002"] = jpeg_bytes(640, 480, color=(10, 120, 30))
    async with whatsapp(make_harness, graph) as h:
        now = time.time()
        await post(h, webhook([message(sent=now - 20)]))
        await post(
            h,
            webhook(
                [
                    message(
                        "image", sent=now - 10, image={"id": "9001", "mime_type": "image/jpeg"}
                    ),
                    message("image", sent=now - 5, image={"id": "9002", "caption": "lubangnya"}),
                    message(
                        "location",
                        sent=now,
                        location={
                            "latitude": -3.4425,
                            "longitude": 114.8328,
                            "name": "Pasar Banjarbaru",
                        },
                    ),
                ]
            ),
        )
        await settle(h)
        [receipt] = await wa_rows(h)
        store = h.app.state.services.store
        report = await store.report_by_tracking_code(receipt.notice.tracking_code)
        assert await store.count_reports() == 1
        assert len(report.photos) == 2 and sorted(graph.media_fetches) == ["9001", "9002"]
        assert report.text == TEXT + "\nlubangnya"
        assert report.location == "Pasar Banjarbaru (-3.442500, 114.832800)"
        photos = h.app.state.services.photos
        for photo in report.photos:
            with Image.open(photos.path(photo.filename)) as kept:
                assert kept.format == "JPEG" and not kept.getexif() and "exif" not in kept.info


async def test_a_greeting_gets_the_help_reply_and_no_report(
    make_harness: MakeHarness, graph: Graph
) -> None:
    graph.media["7"] = jpeg_bytes()
    async with whatsapp(make_harness, graph) as h:
        await post(h, webhook([message(text={"body": "P"}), message(text={"body": "halo"})]))
        await settle(h)
        await post(h, webhook([message("image", image={"id": "7"})]))
        await settle(h)
        assert await h.app.state.services.store.count_reports() == 0
        rows = await wa_rows(h)
        assert len(rows) == 2 and all(r.notice.reply == "help" for r in rows)
        assert len(graph.texts()) == 2 and "ANONIM" in graph.texts()[0]
        # A photo alone is not fetched: it belongs to no report.
        assert graph.media_fetches == []


async def test_anonim_and_a_unit_word(make_harness: MakeHarness, graph: Graph) -> None:
    async with whatsapp(make_harness, graph) as h:
        store = h.app.state.services.store
        await store.set_unit_sms_word("rsud", "RSUD")
        await post(h, webhook([message(text={"body": "anonim RSUD IGD penuh sejak pagi tadi"})]))
        await settle(h)
        [receipt] = await wa_rows(h)
        report = await store.report_by_tracking_code(receipt.notice.tracking_code)
        assert report.unit_name == "RSUD Ulin" and report.identity is Identity.ANONYMOUS
        assert report.reporter_phone is None and report.reporter_name is None
        assert report.text == "IGD penuh sejak pagi tadi"
        # The keyword SMS users are used to may lead.
        await post(h, webhook([message(text={"body": "LAPOR lampu jalan mati di Jl. A. Yani"})]))
        await settle(h)
        assert await store.count_reports() == 2


async def test_outside_the_24_hour_window_the_template_goes(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph, whatsapp_template="lapor_kabar") as h:
        # Meta delivers late (our server was down for a day): the window counts from the
        # citizen's message, not from our receipt of it.
        await post(h, webhook([message(sent=time.time() - 25 * 3600)]))
        await settle(h)
        [receipt] = await wa_rows(h)
        [sent] = graph.sent
        code = tracking.format_code(receipt.notice.tracking_code)
        assert sent["type"] == "template" and sent["template"]["name"] == "lapor_kabar"
        assert sent["template"]["language"] == {"code": "id"}
        [body] = sent["template"]["components"]
        assert [p["text"] for p in body["parameters"]] == [code, f"{h.settings.base_url}/t/{code}"]
        assert receipt.status == "sent" and receipt.subject == "WhatsApp (lapor_kabar)"
        # Within the window (its last message an hour ago): free text.
        await post(h, webhook([message(sent=time.time() - 3600, text={"body": "lapor " + TEXT})]))
        await settle(h)
        assert [m["type"] for m in graph.sent] == ["template", "text"]


async def test_meta_saying_the_window_closed_sends_the_template(
    make_harness: MakeHarness, graph: Graph
) -> None:
    graph.window_closed.add(WA_ID)
    async with whatsapp(make_harness, graph, whatsapp_template="lapor_kabar") as h:
        await post(h, webhook([message()]))
        await settle(h)
        assert [m["type"] for m in graph.sent] == ["template"]
        [receipt] = await wa_rows(h)
        assert receipt.status == "sent"


async def test_outside_the_window_without_a_template_it_fails_with_the_reason(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        await post(h, webhook([message(sent=time.time() - 30 * 3600)]))
        await settle(h)
        [receipt] = await wa_rows(h)
        assert receipt.status == "failed" and "24-hour" in receipt.last_error
        assert graph.sent == []


async def test_a_graph_outage_is_retried(make_harness: MakeHarness, graph: Graph) -> None:
    graph.down = True
    async with whatsapp(make_harness, graph) as h:
        await post(h, webhook([message()]))
        await settle(h)
        [receipt] = await wa_rows(h)
        assert receipt.status == "pending" and "503" in receipt.last_error


async def test_delivery_statuses_land_on_the_outbox_row(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        await post(h, webhook([message()]))
        await settle(h)
        [sent] = graph.sent
        wamid = sent["_wamid"]
        for state in ("delivered", "read", "sent", "delivered"):
            # Out of order, as Meta may deliver them: a status never goes back.
            assert (await post(h, webhook(statuses=[status(wamid, state)]))).status_code == 200
        [receipt] = await wa_rows(h)
        assert receipt.delivery == "read" and receipt.delivery_at is not None
        assert (await h.login("admin@prov.go.id")).status_code == 303
        page = BeautifulSoup((await h.client.get("/admin/outbox")).text, "html.parser")
        row = next(tr for tr in page.select("tbody tr") if "WhatsApp •••" + NUMBER[-3:] in tr.text)
        assert "dibaca" in row.text
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_deliveries_total{outcome="delivered"} 2.0' in metrics
        assert 'lapor_whatsapp_deliveries_total{outcome="read"} 1.0' in metrics


async def test_a_failed_status_keeps_metas_error(make_harness: MakeHarness, graph: Graph) -> None:
    async with whatsapp(make_harness, graph) as h:
        await post(h, webhook([message()]))
        await settle(h)
        wamid = graph.sent[0]["_wamid"]
        error = {"code": 131026, "title": "Message undeliverable"}
        await post(h, webhook(statuses=[status(wamid, "failed", errors=[error])]))
        await post(h, webhook(statuses=[status(wamid, "read")]))
        [receipt] = await wa_rows(h)
        assert receipt.delivery == "failed"
        assert receipt.last_error == "WhatsApp: 131026 Message undeliverable"


async def test_other_business_numbers_and_odd_shapes_are_ignored(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        assert (await post(h, webhook([message()], phone_number_id="999"))).status_code == 200
        odd = webhook([message(timestamp="soon"), {"from": WA_ID}])
        assert (await post(h, odd)).status_code == 200
        not_ours = {"object": "page", "entry": []}
        assert (await post(h, not_ours)).status_code == 400
        await settle(h)
        assert await h.app.state.services.store.count_reports() == 0
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_inbound_total{outcome="unreadable"} 2.0' in metrics
        assert 'lapor_whatsapp_refused_total{reason="not_a_webhook"} 1.0' in metrics


async def test_per_number_limit(make_harness: MakeHarness, graph: Graph) -> None:
    async with whatsapp(make_harness, graph, whatsapp_limit_per_number="2/day") as h:
        first = webhook([message(), message(text={"body": "kedua " + TEXT})])
        assert (await post(h, first)).status_code == 200
        # Acknowledged, so Meta does not retry it for days, but not kept.
        assert (
            await post(h, webhook([message(text={"body": "ketiga " + TEXT})]))
        ).status_code == 200
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_inbound_total{outcome="rate_limited"} 1.0' in metrics
        assert 'lapor_whatsapp_inbound_total{outcome="stored"} 2.0' in metrics
        # A retry of a stored message is still recognised as one.
        assert (await post(h, first)).status_code == 200
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_inbound_total{outcome="duplicate"} 2.0' in metrics


async def test_staff_see_a_whatsapp_report(make_harness: MakeHarness, graph: Graph) -> None:
    async with whatsapp(make_harness, graph) as h:
        await post(h, webhook([message()]))
        await settle(h)
        [receipt] = await wa_rows(h)
        assert (await h.login("koor@prov.go.id")).status_code == 303
        page = await h.client.get(f"/admin/reports/{receipt.report_id}")
        assert page.status_code == 200
        assert NUMBER in page.text and "WhatsApp" in page.text and "None" not in page.text


async def test_reactions_get_no_reply_and_help_is_rationed(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        reaction = message("reaction", reaction={"message_id": "wamid.ours", "emoji": "👍"})
        await post(h, webhook([reaction]))
        await settle(h)
        assert graph.sent == []
        for word in ("halo", "tes", "P", "halo lagi"):
            await post(h, webhook([message(text={"body": word})]))
            await settle(h)
        # An automatic responder on the other end gets three help replies an hour, no more.
        assert len(graph.texts()) == 3
        assert await h.app.state.services.store.count_reports() == 0


def test_setup_text_names_what_is_set(make_settings: Callable[..., Settings]) -> None:
    text = setup_text(
        make_settings(
            whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token=VERIFY_TOKEN,
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
            whatsapp_template="lapor_kabar",
        )
    )
    assert "https://lapor.example.go.id/channels/whatsapp" in text and "WhatsApp is on." in text
    assert f"LAPOR_WHATSAPP_PHONE_NUMBER_ID = {PHONE_NUMBER_ID}" in text
    assert "LAPOR_WHATSAPP_TEMPLATE = lapor_kabar" in text
    assert "LAPOR_WHATSAPP_ACCESS_TOKEN = (EMPTY" in text
    # The secrets themselves are never printed.
    assert APP_SECRET not in text and VERIFY_TOKEN not in text


async def test_a_long_text_is_kept_up_to_the_limit_and_the_receipt_says_so(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        await post(h, webhook([message(text={"body": "panjang sekali " * 290})]))
        await settle(h)
        [receipt] = await wa_rows(h)
        report = await h.app.state.services.store.report_by_tracking_code(
            receipt.notice.tracking_code
        )
        assert len(report.text) <= TEXT_MAX and receipt.notice.cut
        [text] = graph.texts()
        assert "4.000" in text or "4000" in text


async def _whatsapp_report(h: AppHarness) -> Any:
    assert (await post(h, webhook([message()]))).status_code == 200
    await settle(h)
    [receipt] = await wa_rows(h)
    report = await h.app.state.services.store.report_by_tracking_code(receipt.notice.tracking_code)
    assert report is not None
    return report


async def test_a_question_goes_by_whatsapp_and_the_whatsapp_answer_lands_on_the_report(
    make_harness: MakeHarness, graph: Graph
) -> None:
    question = "Di jalan mana tepatnya, dan sejak kapan lubangnya ada?"
    async with whatsapp(make_harness, graph) as h:
        report = await _whatsapp_report(h)
        assert (
            await h.act("koor@prov.go.id", report.id, "postpone", reason=question)
        ).status_code == 303
        await h.app.state.services.mail.send_due()
        code = tracking.format_code(report.tracking_code)
        asked = graph.sent[-1]
        assert asked["to"] == WA_ID and asked["type"] == "text"
        assert question in asked["text"]["body"] and code in asked["text"]["body"]
        assert "Balas pesan ini" in asked["text"]["body"]

        answer = "Jalan Ahmad Yani km 3, sejak banjir minggu lalu"
        graph.media["9003"] = jpeg_bytes(640, 480)
        photo = message("image", image={"mime_type": "image/jpeg", "sha256": "x", "id": "9003"})
        batch = webhook([message(text={"body": answer}), photo])
        assert (await post(h, batch)).status_code == 200
        await settle(h)
        store = h.app.state.services.store
        after = await store.report_by_tracking_code(report.tracking_code)
        assert after is not None and after.status is Status.RECEIVED
        assert [e.note for e in after.events if e.kind == "reporter_reply"] == [answer]
        # The photo sent with the answer is on the report, kept like every photo.
        [kept] = after.photos
        assert h.app.state.services.photos.path(kept.filename).is_file()
        # An answer is no new report.
        assert await store.count_reports() == 1

        # Meta says the question was read: the report's conversation shows it delivered.
        await post(h, webhook(statuses=[status(asked["_wamid"], "read")]))
        h.client.cookies.clear()
        assert (await h.login("koor@prov.go.id")).status_code == 303
        page = BeautifulSoup(
            (await h.client.get(f"/admin/reports/{report.id}")).text, "html.parser"
        )
        conversation = page.find(id="conversation")
        assert conversation is not None
        said = [li.get_text(" ", strip=True) for li in conversation.select("li.message")]
        assert len(said) == 4, said
        assert TEXT in said[0] and "WhatsApp dari pelapor" in said[0]
        assert question in said[2] and "WhatsApp ke pelapor" in said[2]
        assert answer in said[3]
        question_item = conversation.select("li.message-out")[1]
        assert question_item.select_one(".delivery-delivered") is not None


async def test_stop_on_whatsapp_holds_and_a_blocked_number_makes_nothing(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        store = h.app.state.services.store
        await post(h, webhook([message(text={"body": "stop"})]))
        await settle(h)
        assert await store.number_rules("whatsapp:" + NUMBER) == (True, False)
        # The confirmation is the one message a stopped number still gets.
        [confirmation] = graph.sent
        assert "MULAI" in confirmation["text"]["body"]
        await post(h, webhook([message()]))
        await settle(h)
        # The report is made, but its receipt is not sent.
        assert await store.count_reports() == 1
        receipt = max(await wa_rows(h), key=lambda m: m.id)
        assert receipt.status == "failed" and "STOP" in (receipt.last_error or "")
        assert len(graph.sent) == 1

        await store.set_blocked("whatsapp:" + NUMBER, True)
        await post(h, webhook([message(text={"body": "LAPOR " + TEXT + " lagi"})]))
        await settle(h)
        assert await store.count_reports() == 1 and len(graph.sent) == 1
        metrics = (await h.client.get("/metrics")).text
        assert 'lapor_whatsapp_inbound_total{outcome="stop"} 1.0' in metrics
        assert 'lapor_whatsapp_inbound_total{outcome="blocked"} 1.0' in metrics


async def test_a_phone_only_web_reporter_chooses_whatsapp_and_is_told_there(
    make_harness: MakeHarness, graph: Graph
) -> None:
    both = dict(
        whatsapp_template="lapor_kabar",
        sms_secret="sms-secret-0123456789",
        sms_sendsms_url="http://127.0.0.1:9/cgi-bin/sendsms",
    )
    async with whatsapp(make_harness, graph, **both) as h:
        token, form = await h.form()
        choices = [i["value"] for i in form.select("input[name=notify_by]")]
        assert choices == ["sms", "whatsapp"]
        checked = form.select_one("input[name=notify_by][checked]")
        hint = form.find(id="phone-hint")
        assert checked is not None and checked["value"] == "sms"
        assert hint is not None and "SMS atau WhatsApp" in hint.get_text()

        refused = await h.submit(
            token=token, identity="named", name="Siti", phone="0812 3456 7890", notify_by="fax"
        )
        assert refused.status_code == 400
        page = BeautifulSoup(refused.text, "html.parser")
        assert page.select_one(".error-summary a[href='#notify_by']") is not None
        assert page.select_one("input#notify_by[aria-invalid=true]") is not None
        assert await h.app.state.services.store.count_reports() == 0

        sent = await h.submit(
            token=token,
            identity="named",
            name="Siti",
            phone="0812 3456 7890",
            notify_by="whatsapp",
        )
        assert sent.status_code == 303
        await h.app.state.services.mail.send_due()
        [receipt] = await wa_rows(h)
        assert receipt.to_address == "whatsapp:" + NUMBER and receipt.status == "sent"
        # The reporter never wrote to us: WhatsApp allows only the approved template.
        [message] = graph.sent
        assert message["to"] == WA_ID and message["type"] == "template"
        code = tracking.format_code(receipt.notice.tracking_code)
        [body] = message["template"]["components"]
        assert body["parameters"][0]["text"] == code

        # Without a choice, the first the deployment offers: SMS.
        token, _ = await h.form()
        await h.submit(token=token, identity="named", name="Ani", phone="0813 1111 2222")
        assert any(m.to_address == "sms:+6281311112222" for m in await h.outbox())


async def test_without_a_template_whatsapp_is_not_offered_to_web_reporters(
    make_harness: MakeHarness, graph: Graph
) -> None:
    async with whatsapp(make_harness, graph) as h:
        _, form = await h.form()
        assert form.select("input[name=notify_by]") == [] and form.find(id="phone-hint") is None
        await h.submit(identity="named", name="Siti", phone="0812 3456 7890", notify_by="whatsapp")
        assert await wa_rows(h) == []
