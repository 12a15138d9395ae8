"""Hostile input for the inbound channels (channels/): the SMS gateway's callback, with the
right secret and without, as a query string (Kannel's get-url) and as a form body; its
delivery reports (the dlr-url the outbox hands Kannel); and the WhatsApp webhook, Meta's
verification with any query and its events of any shape, signed (so they reach the parser)
and forged."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import MakeHarness
from tests.fuzz.harness import STARLETTE_CUT_PART, Body, Fuzz, covers, fuzz, fuzz_settings
from tests.fuzz.strategies import form_bodies, json_bodies, json_values, queries

pytestmark = STARLETTE_CUT_PART

SECRET = "s" * 24
FIELDS = ["secret", "from", "to", "text", "time", "smsc", "id", "coding"]


@pytest.fixture
async def fz(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(make_harness, sms_secret=SECRET) as f:
        yield f


@covers("GET /channels/sms", "POST /channels/sms")
@fuzz_settings()
@given(data=st.data())
async def test_the_sms_callback_takes_any_message(fz: Fuzz, data: st.DataObject) -> None:
    valid = {"secret": SECRET, "from": "+6281234567890", "text": "LAPOR jalan rusak di depan"}
    if data.draw(st.booleans()):
        await fz.send("GET", "/channels/sms", query=data.draw(queries(FIELDS, valid)))
    else:
        await fz.send("POST", "/channels/sms", body=data.draw(form_bodies(valid, FIELDS)))


APP_SECRET = "w" * 24
VERIFY_TOKEN = "v" * 20
HUB = ["hub.mode", "hub.verify_token", "hub.challenge"]


@pytest.fixture
async def wa(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(
        make_harness,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_phone_number_id="1065",
    ) as f:
        yield f


def _maybe(draw: st.DrawFn, valid: Any) -> Any:
    """`valid`, or now and then any JSON value in its place."""
    return draw(json_values) if draw(st.integers(0, 3)) == 0 else valid


@st.composite
def webhooks(draw: st.DrawFn) -> dict[str, Any]:
    """Meta's payload with any part of it replaced: messages of every type (and none Meta
    sends), statuses, contacts, timestamps, ids and numbers of any shape."""
    kind = draw(st.sampled_from(["text", "image", "location", "audio", "sticker", "reaction"]))
    bodies: dict[str, Any] = {
        "text": {"body": _maybe(draw, "jalan rusak di depan pasar sejak lama")},
        "image": {"id": _maybe(draw, "9001"), "caption": _maybe(draw, "lubang")},
        "location": {
            "latitude": _maybe(draw, -3.44),
            "longitude": _maybe(draw, 114.83),
            "name": _maybe(draw, "Pasar"),
        },
    }
    message = {
        "from": _maybe(draw, "6281234567890"),
        "id": _maybe(draw, "wamid." + draw(st.text(max_size=20))),
        "timestamp": _maybe(draw, "1764600000"),
        "type": _maybe(draw, kind),
        kind: _maybe(draw, bodies.get(kind, {})),
    }
    status = {
        "id": _maybe(draw, "wamid.x"),
        "status": _maybe(draw, draw(st.sampled_from(["sent", "delivered", "read", "failed"]))),
        "timestamp": _maybe(draw, "1764600000"),
        "errors": _maybe(draw, [{"code": 131026, "title": "x"}]),
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": _maybe(draw, {"phone_number_id": "1065"}),
        "contacts": _maybe(draw, [{"profile": {"name": _maybe(draw, "Siti")}, "wa_id": "62812"}]),
        "messages": _maybe(draw, [message]),
        "statuses": _maybe(draw, [status]),
    }
    change = {"field": _maybe(draw, "messages"), "value": _maybe(draw, value)}
    return {
        "object": _maybe(draw, "whatsapp_business_account"),
        "entry": _maybe(draw, [{"id": "1", "changes": _maybe(draw, [change])}]),
    }


@covers("GET /channels/whatsapp", "POST /channels/whatsapp")
@fuzz_settings(scale=2)
@given(data=st.data())
async def test_the_whatsapp_webhook_takes_any_event(wa: Fuzz, data: st.DataObject) -> None:
    choice = data.draw(st.sampled_from(["verify", "signed", "signed", "raw", "forged"]))
    if choice == "verify":
        valid = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
        await wa.send("GET", "/channels/whatsapp", query=data.draw(queries(HUB, valid)))
        return
    if choice == "raw":
        body = data.draw(json_bodies({"object": "whatsapp_business_account", "entry": []}))
        content = body.content
    else:
        content = json.dumps(data.draw(webhooks()), ensure_ascii=data.draw(st.booleans())).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), content, hashlib.sha256).hexdigest()
    if choice == "forged":
        signature = data.draw(st.sampled_from(["", "sha256=", "sha256=" + "0" * 64, "x" * 300]))
    headers = {"content-type": "application/json"}
    if signature:
        headers["x-hub-signature-256"] = signature
    await wa.send("POST", "/channels/whatsapp", body=Body(content, None), headers=headers)


@covers("GET /channels/sms/delivery")
@fuzz_settings()
@given(data=st.data())
async def test_the_delivery_report_takes_any_query(fz: Fuzz, data: st.DataObject) -> None:
    valid = {"secret": SECRET, "outbox": "1", "type": "1"}
    await fz.send(
        "GET",
        "/channels/sms/delivery",
        query=data.draw(queries(["secret", "outbox", "type"], valid)),
    )


NATIONAL_SECRET = "national-shared-secret-0123"


@pytest.fixture
async def national(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(
        make_harness,
        national_url="http://127.0.0.1:9/api/reports",
        national_secret=NATIONAL_SECRET,
    ) as f:
        yield f


@st.composite
def portal_events(draw: st.DrawFn) -> dict[str, Any]:
    """The national portal's status callback with any part of it replaced."""
    status = draw(st.sampled_from(["received", "answered", "closed", "comment", "ditolak"]))
    return {
        "event_id": _maybe(draw, draw(st.text(min_size=1, max_size=140))),
        "tracking_id": _maybe(draw, draw(st.sampled_from(["LPR-1", "", "x" * 70, "a b"]))),
        "status": _maybe(draw, status),
        "note": _maybe(draw, draw(st.text(max_size=50))),
    }


@covers("POST /channels/national")
@fuzz_settings()
@given(data=st.data())
async def test_the_national_callback_takes_any_event(national: Fuzz, data: st.DataObject) -> None:
    choice = data.draw(st.sampled_from(["signed", "signed", "raw", "forged"]))
    if choice == "raw":
        content = data.draw(json_bodies({"event_id": "e", "tracking_id": "LPR-1"})).content
    else:
        event = data.draw(portal_events())
        content = json.dumps(event, ensure_ascii=data.draw(st.booleans())).encode()
    signature = "sha256=" + hmac.new(NATIONAL_SECRET.encode(), content, hashlib.sha256).hexdigest()
    if choice == "forged":
        signature = data.draw(st.sampled_from(["", "sha256=", "sha256=" + "0" * 64, "x" * 300]))
    headers = {"content-type": "application/json"}
    if signature:
        headers["x-lapor-signature"] = signature
    await national.send("POST", "/channels/national", body=Body(content, None), headers=headers)
