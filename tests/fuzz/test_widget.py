"""Hostile input for the widget (widget/routes.py): the loader with any query, the frame with
any key, origin, language and page, its form with a valid token and anything in it, the
receipt with any code and secret, and the loader's check with any key and Origin. The frame
answers 200 for its refusals too, so a refusal is any answer but the redirect to a receipt."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import MakeHarness
from tests.fuzz.harness import (
    HOST,
    STARLETTE_CUT_PART,
    Fuzz,
    covers,
    fuzz,
    fuzz_settings,
    query_string,
    segment,
)
from tests.fuzz.strategies import form_bodies, images, queries, values
from tests.fuzz.test_citizen import GOOD, REPORT_FIELDS

pytestmark = STARLETTE_CUT_PART


@pytest.fixture
async def fz(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(make_harness) as f:
        yield f


def _not_a_receipt(response: httpx.Response) -> bool:
    return response.status_code != 303


def _frame_query(data: st.DataObject) -> str:
    return data.draw(
        st.just(query_string([("o", HOST), ("lang", "id")]))
        | queries(["o", "lang", "p"], {"o": HOST, "lang": "en", "p": f"{HOST}/layanan"})
    )


def _frame_headers(data: st.DataObject) -> dict[str, str]:
    dest = data.draw(st.sampled_from(["iframe", "frame", "document", "empty", "\x7f"]))
    origin = data.draw(
        st.sampled_from([HOST, HOST.upper(), "null", "https://x.example", "http://[::1", "a:b", ""])
    )
    site = data.draw(st.sampled_from(["cross-site", "same-origin", "none"]))
    return {"sec-fetch-dest": dest, "origin": origin, "sec-fetch-site": site}


@covers("POST /w/{key}")
@fuzz_settings(scale=2)
@given(data=st.data())
async def test_the_widgets_form_takes_anything(fz: Fuzz, data: st.DataObject) -> None:
    widget = fz.widget
    token = fz.svc.signing.new_widget_form_token(widget.id, widget.version)
    body = data.draw(form_bodies({"token": token, **GOOD}, REPORT_FIELDS, files=images()))
    await fz.send(
        "POST",
        f"/w/{fz.widget_key}",
        query=_frame_query(data),
        body=body,
        headers=_frame_headers(data),
        refused=_not_a_receipt,
    )


@covers(
    "GET /widget.js",
    "GET /w/{key}",
    "GET /w/{key}/sent/{code}/{secret}",
    "POST /w/{key}",
    "GET /w/{key}/check",
)
@fuzz_settings(scale=2)
@given(data=st.data())
async def test_the_widgets_pages_take_any_address(fz: Fuzz, data: st.DataObject) -> None:
    key = data.draw(st.just(fz.widget_key) | values)
    code = data.draw(st.just(fz.code) | values)
    secret = data.draw(st.just(fz.secret) | values)
    method, path = data.draw(
        st.sampled_from(
            [
                ("GET", "/widget.js"),
                ("GET", f"/w/{segment(key)}"),
                ("POST", f"/w/{segment(key)}"),
                ("GET", f"/w/{segment(key)}/sent/{segment(code)}/{segment(secret)}"),
                ("GET", f"/w/{segment(key)}/check"),
            ]
        )
    )
    query = data.draw(queries(["o", "lang", "p", "v"])) if path == "/widget.js" else ""
    await fz.send(
        method,
        path,
        query=query or _frame_query(data),
        headers=_frame_headers(data),
        refused=_not_a_receipt,
    )
