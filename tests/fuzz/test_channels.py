"""Hostile input for the inbound channels (channels/): the SMS gateway's callback, with the
right secret and without, as a query string (Kannel's get-url) and as a form body; and its
delivery reports (the dlr-url the outbox hands Kannel)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import MakeHarness
from tests.fuzz.harness import STARLETTE_CUT_PART, Fuzz, covers, fuzz, fuzz_settings
from tests.fuzz.strategies import form_bodies, queries

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
