"""Hostile input for Open311 (open311/): every method in both formats and in formats that are
none, with a valid API key and without, queries and form bodies of every shape."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.complaints import open311 as rules
from tests.conftest import MakeHarness
from tests.fuzz.harness import STARLETTE_CUT_PART, Fuzz, covers, fuzz, fuzz_settings, segment
from tests.fuzz.strategies import form_bodies, queries, texts

pytestmark = STARLETTE_CUT_PART

KEY = rules.KEY_PREFIX + "fuzz-key-0123456789abcdefghijklmnop"
# Mostly a real format, so the examples get past the door; sometimes none that is one.
VALID_FORMAT = st.sampled_from(["xml", "json"])
FORMATS = st.one_of(
    VALID_FORMAT, VALID_FORMAT, VALID_FORMAT, st.sampled_from(["XML", "html", ""]), texts
)
QUERY = [
    "jurisdiction_id",
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "page",
    "page_size",
]
VALID_QUERY = {
    "jurisdiction_id": "lapor.example.go.id",
    "service_request_id": "ABCDE-12345,0000000000",
    "service_code": "kesehatan,pungli",
    "start_date": "2026-11-01T00:00:00Z",
    "end_date": "2026-12-01T00:00:00+07:00",
    "status": "open,closed",
    "page": "2",
    "page_size": "10",
}
POST_FIELDS = [
    "api_key",
    "service_code",
    "description",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "media_url",
    "jurisdiction_id",
    "attribute[kind]",
    "attribute[identity]",
    "attribute[unit]",
    "attribute[unit][]",
    "attribute[nope]",
    "attribute[",
]


@pytest.fixture
async def fz(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(make_harness) as f:
        await f.svc.store.add_api_key("Fuzz client", rules.api_key_hash(KEY))
        yield f


def valid_query(fz: Fuzz) -> dict[str, str]:
    return {**VALID_QUERY, "jurisdiction_id": fz.svc.settings.open311_jurisdiction}


def _fmt(data: st.DataObject) -> str:
    return segment(data.draw(FORMATS))


@covers(
    "GET /open311/v2/discovery.{fmt}",
    "GET /open311/v2/services.{fmt}",
    "GET /open311/v2/services/{service_code}.{fmt}",
    "GET /open311/v2/requests/{service_request_id}.{fmt}",
    "GET /open311/v2/servicerequestupdates.{fmt}",
)
@fuzz_settings()
@given(data=st.data())
async def test_the_reading_methods_take_any_query(fz: Fuzz, data: st.DataObject) -> None:
    fmt = _fmt(data)
    query = data.draw(queries(QUERY, valid_query(fz)))
    path = data.draw(
        st.sampled_from(
            [
                f"/open311/v2/discovery.{fmt}",
                f"/open311/v2/services.{fmt}",
                f"/open311/v2/services/{segment(data.draw(st.one_of(texts, st.just('sosial'))))}"
                f".{fmt}",
                f"/open311/v2/requests/{segment(data.draw(st.one_of(texts, st.just(fz.code))))}"
                f".{fmt}",
                f"/open311/v2/servicerequestupdates.{fmt}",
            ]
        )
    )
    await fz.send("GET", path, query=query)


@covers("GET /open311/v2/requests.{fmt}", "POST /open311/v2/requests.{fmt}")
@fuzz_settings()
@given(data=st.data())
async def test_requests_take_any_query_and_any_form(fz: Fuzz, data: st.DataObject) -> None:
    fmt = _fmt(data)
    if data.draw(st.booleans()):
        await fz.send(
            "GET", f"/open311/v2/requests.{fmt}", query=data.draw(queries(QUERY, valid_query(fz)))
        )
        return
    valid = {
        "api_key": data.draw(st.sampled_from([KEY, "", "lapor311_wrong"])),
        "service_code": "infrastruktur",
        "description": "Jalan berlubang besar di depan sekolah dasar, berbahaya.",
    }
    # Either anything at all, or a body whose key, service and jurisdiction hold, with hostile
    # values only in what the report is made of: those examples reach the submission core.
    if data.draw(st.booleans()):
        valid["api_key"] = KEY
        names = [n for n in POST_FIELDS if n not in ("api_key", "service_code", "jurisdiction_id")]
        body = data.draw(form_bodies(valid, names, intact=True))
        await fz.send("POST", f"/open311/v2/requests.{data.draw(VALID_FORMAT)}", body=body)
        return
    body = data.draw(form_bodies(valid, POST_FIELDS))
    await fz.send("POST", f"/open311/v2/requests.{fmt}", body=body)
