"""Hostile input for what the composition root (server.py) serves itself and stacks in front
of every surface: /healthz, /metrics, /static, any method on any path, and bodies over the
size limit to any route, the widget's frame among them (its answer reads the key)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.web.services import Services
from tests.conftest import MakeHarness
from tests.fuzz.harness import STARLETTE_CUT_PART, Body, Fuzz, covers, fuzz, fuzz_settings, segment
from tests.fuzz.strategies import CONTENT_TYPES, queries, texts, values

pytestmark = STARLETTE_CUT_PART

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"]


@pytest.fixture
async def fz(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    # The smallest allowance for photos: a body limit (3 × 1,024 bytes + 1 MB) a test can pass.
    async with fuzz(make_harness, max_photo_bytes=1024, metrics_token="t" * 32) as f:
        yield f


@covers(
    "GET /healthz", "GET /healthz/live", "GET /healthz/ready", "GET /metrics", "GET /static/{path}"
)
@fuzz_settings(scale=2)
@given(data=st.data())
async def test_the_roots_own_pages_take_any_request(fz: Fuzz, data: st.DataObject) -> None:
    path = data.draw(
        st.sampled_from(
            ["/healthz", "/healthz/live", "/healthz/ready", "/metrics", "/static/kiosk.js"]
        )
        | st.just("/static/admin.css")
        | values.map(lambda v: f"/static/{segment(v)}")
        | st.lists(values.map(segment), max_size=4).map(lambda parts: "/" + "/".join(parts))
        | st.sampled_from(["/static/../server.py", "/static/%2e%2e/server.py", "//", "/%00"])
    )
    auth = data.draw(
        st.sampled_from(["", "Bearer " + "t" * 32, "Bearer " + "t" * 31, "Basic dDp0"])
        | texts.map(lambda t: t.encode("ascii", "ignore").decode())
    )
    method = data.draw(st.sampled_from(METHODS))
    await fz.send(
        method, path, query=data.draw(queries(["v", "lang"])), headers={"authorization": auth}
    )


@fuzz_settings(scale=0.4)
@given(data=st.data())
async def test_a_body_over_the_limit_is_refused_anywhere(fz: Fuzz, data: st.DataObject) -> None:
    svc: Services = fz.svc
    limit = svc.settings.max_photos * svc.settings.max_photo_bytes + 1_000_000
    path = data.draw(
        st.sampled_from(
            [
                f"/q/{fz.h.world.code('loket')}",
                f"/w/{fz.widget_key}",
                "/kiosk/api/reports",
                "/admin/reports/new",
                "/t/x/y/reply",
            ]
        )
        | values.map(lambda v: f"/w/{segment(v)}")
    )
    size = limit + data.draw(st.integers(1, 5000))
    declared = data.draw(st.sampled_from([None, str(size), "0", "12", "-1", "x"]))
    headers = {} if declared is None else {"content-length": declared}
    query = data.draw(st.sampled_from(["", "o=https%3A%2F%2Fdinkes.example.go.id", "lang=en"]))
    body = Body(b"a" * size, data.draw(st.sampled_from(CONTENT_TYPES)))
    await fz.send("POST", path, query=query, body=body, headers=headers)
