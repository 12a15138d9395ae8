"""Hostile input for the public figures pages and the list of answered reports: any unit name,
format, search and page, in any language; the public may send anything, and the pages change
nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import MakeHarness
from tests.fuzz.harness import STARLETTE_CUT_PART, Fuzz, covers, fuzz, fuzz_settings, segment
from tests.fuzz.strategies import queries, values

pytestmark = STARLETTE_CUT_PART


@pytest.fixture
async def fz(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(make_harness) as f:
        yield f


@covers("GET /statistik", "GET /statistik.{fmt:str}", "GET /statistik/{name:str}")
@fuzz_settings()
@given(data=st.data())
async def test_the_public_figures_take_any_request(fz: Fuzz, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["dinas", "prov", "rsud", "ghost"]) | values.map(segment))
    fmt = data.draw(
        st.sampled_from(["", ".csv", ".json", ".xml", ".csv.json"]) | values.map(segment)
    )
    path = data.draw(st.sampled_from([f"/statistik/{name}{fmt}", f"/statistik{fmt}", "/statistik"]))
    query = data.draw(queries(["year", "lang", "unit", "from", "to"]))
    await fz.send(data.draw(st.sampled_from(["GET", "POST", "HEAD"])), path, query=query)


@covers("GET /jawaban")
@fuzz_settings()
@given(data=st.data())
async def test_the_answered_list_takes_any_request(fz: Fuzz, data: st.DataObject) -> None:
    query = data.draw(queries(["q", "page", "lang"], {"q": "lampu jalan", "page": "1"}))
    await fz.send(data.draw(st.sampled_from(["GET", "POST", "HEAD"])), "/jawaban", query=query)
