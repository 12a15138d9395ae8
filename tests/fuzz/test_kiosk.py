"""Hostile input for the kiosk (kiosk/routes.py): JSON bodies for every API call, sent with the
paired kiosk's credential so the rules behind the door run, or with a broken credential; the
app shell and its worker with any query."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import MakeHarness
from tests.fuzz.harness import Fuzz, covers, fuzz, fuzz_settings
from tests.fuzz.strategies import json_bodies, queries, texts

_keys = itertools.count()


@pytest.fixture
async def fz(make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(make_harness) as f:
        yield f


def valid_bodies(fz: Fuzz) -> dict[str, dict[str, Any]]:
    """A body each API call accepts, with a key no earlier example used."""
    key = f"fuzz-{next(_keys):020d}"
    unit = fz.h.world.units["dinas"].id
    earlier = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    return {
        "pair": {"code": "123456"},
        "codes": {"held": 2},
        "heartbeat": {
            "queue_length": 1,
            "app_version": "abc",
            "storage_persistent": True,
            "device_time": datetime.now(UTC).isoformat(),
            "online": True,
            "oldest_queued_at": earlier,
        },
        "reports": {
            "key": key,
            "unit": unit,
            "kind": "pengaduan",
            "text": "Petugas loket tidak ada di tempat selama satu jam.",
            "identity": "anonim",
            "language": "id",
            "reported_at": earlier,
        },
        "feedback": {
            "key": key,
            "kind": "rating",
            "unit": unit,
            "rating": 4,
            "answers": "432143214",
            "language": "id",
            "reported_at": earlier,
        },
    }


@covers(
    "POST /kiosk/api/pair",
    "POST /kiosk/api/codes",
    "POST /kiosk/api/heartbeat",
    "POST /kiosk/api/reports",
    "POST /kiosk/api/feedback",
)
@fuzz_settings(scale=4)
@given(data=st.data())
async def test_the_kiosk_api_takes_any_body(fz: Fuzz, data: st.DataObject) -> None:
    bodies = valid_bodies(fz)
    call = data.draw(st.sampled_from(sorted(bodies)))
    body = data.draw(json_bodies(bodies[call]))
    auth = data.draw(
        st.sampled_from(
            [
                f"Bearer {fz.credential}",
                f"Bearer {fz.credential}",
                f"bearer  {fz.credential} ",
                f"Bearer {fz.credential[:-1]}",
                "Bearer ",
                "Basic abc",
                "",
            ]
        )
        | texts.map(lambda t: "Bearer " + t.encode("ascii", "ignore").decode())
    )
    await fz.send("POST", f"/kiosk/api/{call}", body=body, headers={"authorization": auth})


@covers("GET /kiosk", "GET /kiosk/sw.js", "GET /kiosk/api/config")
@fuzz_settings()
@given(data=st.data())
async def test_the_kiosks_pages_take_any_query(fz: Fuzz, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(["/kiosk", "/kiosk/sw.js", "/kiosk/api/config"]))
    auth = data.draw(st.sampled_from([f"Bearer {fz.credential}", "Bearer x", ""]))
    await fz.send(
        "GET", path, query=data.draw(queries(["lang", "v"])), headers={"authorization": auth}
    )
