"""The kiosk over HTTP: pairing (expiry, reuse, throttling), credentials, heartbeats, the pool
of tracking codes (reserve, expire, release on revoke) and the idempotency of queued reports."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from lapor.complaints import kiosk as rules
from lapor.complaints import tracking
from lapor.complaints.records import Kiosk
from lapor.settings import Settings
from lapor.web.signing import secret_digest
from tests.conftest import AppHarness, MakeHarness, restarted

TEXT = "Petugas loket tidak ada di tempat selama satu jam."


@dataclass
class KioskHarness:
    h: AppHarness
    kiosk: Kiosk
    code: str  # its pairing code
    credential: str = ""

    @property
    def client(self) -> httpx.AsyncClient:
        return self.h.client

    async def pair(self, code: str | None = None, **headers: str) -> httpx.Response:
        response = await self.client.post(
            "/kiosk/api/pair", json={"code": code or self.code}, headers=headers
        )
        if response.status_code == 200:
            self.credential = response.json()["credential"]
        return response

    def auth(self, credential: str | None = None) -> dict[str, str]:
        return {"authorization": f"Bearer {credential or self.credential}"}

    async def post(self, path: str, body: Any, credential: str | None = None) -> httpx.Response:
        return await self.client.post(
            f"/kiosk/api/{path}", json=body, headers=self.auth(credential)
        )

    async def codes(self, held: int = 0) -> list[dict[str, Any]]:
        response = await self.post("codes", {"held": held})
        assert response.status_code == 200, response.text
        codes: list[dict[str, Any]] = response.json()["codes"]
        return codes

    def report(self, **fields: Any) -> dict[str, Any]:
        body = {
            "key": "k" * 22,
            "unit": self.h.world.units["dinas"].id,
            "kind": "pengaduan",
            "text": TEXT,
            "identity": "anonim",
            "language": "id",
            "reported_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        }
        body.update(fields)
        return body

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.h.settings.data_dir / "lapor.db") as conn:
            return conn.execute(sql, params).fetchall()


async def hall_kiosk(h: AppHarness) -> KioskHarness:
    """A kiosk in the province's hall: its children (dinas, rsud) are the agencies offered."""
    kiosk, code = await h.world.store.kiosks.add(
        h.world.units["prov"].id, "Lantai 1", datetime.now(UTC)
    )
    return KioskHarness(h, kiosk, code)


@pytest.fixture
async def kh(make_harness: MakeHarness) -> AsyncIterator[KioskHarness]:
    async with make_harness() as h:
        yield await hall_kiosk(h)


async def test_a_pairing_code_works_once_and_gives_a_credential(kh: KioskHarness) -> None:
    assert len(kh.code) == 6 and kh.code.isdigit()
    response = await kh.pair(f"{kh.code[:3]} {kh.code[3:]}")  # typed with a space
    assert response.status_code == 200
    assert response.json()["kiosk"] == {"id": kh.kiosk.id, "name": "Lantai 1"}
    assert response.headers["cache-control"] == "no-store"
    again = await kh.pair()
    assert again.status_code == 400
    assert again.json()["error"] == "code"
    assert "salah" in again.json()["message"]  # Indonesian by default


async def test_an_expired_pairing_code_is_refused(kh: KioskHarness) -> None:
    kh.rows("SELECT 1")  # the database exists
    with sqlite3.connect(kh.h.settings.data_dir / "lapor.db") as conn:
        conn.execute(
            "UPDATE kiosks SET pairing_expires_at = ?",
            ((datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None),),
        )
    assert (await kh.pair()).status_code == 400


async def test_wrong_pairing_codes_are_throttled(make_harness: MakeHarness) -> None:
    async with make_harness(kiosk_pair_limit_per_address="3/day") as h:
        _, code = await h.world.store.kiosks.add(h.world.units["prov"].id, "A", datetime.now(UTC))
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(3):
            response = await h.client.post("/kiosk/api/pair", json={"code": wrong})
            assert response.status_code == 400
        throttled = await h.client.post("/kiosk/api/pair", json={"code": code})
        assert throttled.status_code == 429
        assert throttled.json()["error"] == "throttled"


async def test_parallel_wrong_codes_cannot_outrun_the_pairing_limit(
    make_harness: MakeHarness,
) -> None:
    """The attack that worked: forty wrong codes at once all got 400, none 429, because only
    the failures were counted, after the store had looked."""
    import asyncio

    async with make_harness(kiosk_pair_limit_per_address="5/day") as h:
        answers = await asyncio.gather(
            *[h.client.post("/kiosk/api/pair", json={"code": f"{n:06d}"}) for n in range(40)]
        )
        assert sum(a.status_code == 400 for a in answers) <= 5
        assert sum(a.status_code == 429 for a in answers) >= 35


async def test_a_hall_pairs_many_tablets_from_one_address(make_harness: MakeHarness) -> None:
    async with make_harness(kiosk_pair_limit_per_address="3/day") as h:
        store = h.world.store.kiosks
        for n in range(6):
            _, code = await store.add(h.world.units["prov"].id, f"Lantai {n}", datetime.now(UTC))
            assert (await h.client.post("/kiosk/api/pair", json={"code": code})).status_code == 200


async def test_strangers_pause_six_digit_codes_but_not_ten_digit_ones(
    make_harness: MakeHarness,
) -> None:
    async with make_harness(kiosk_pair_limit="3/hour") as h:
        store = h.world.store.kiosks
        kiosk, code = await store.add(h.world.units["prov"].id, "A", datetime.now(UTC))
        for n in range(3):
            transport = httpx.ASGITransport(app=h.app, client=(f"203.0.113.{n + 1}", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="https://x.example") as c:
                wrong = "000000" if code != "000000" else "111111"
                assert (await c.post("/kiosk/api/pair", json={"code": wrong})).status_code == 400
        paused = await h.client.post("/kiosk/api/pair", json={"code": code})
        assert paused.status_code == 429 and paused.json()["error"] == "paused"
        assert "sepuluh angka" in paused.json()["message"]
        # Wrong ten-digit codes count only where they come from, and a right one pairs.
        assert (await h.client.post("/kiosk/api/pair", json={"code": "0" * 10})).status_code == 400
        _, long_code = await store.new_pairing_code(kiosk.id, datetime.now(UTC), long_code=True)
        assert len(long_code) == rules.LONG_PAIRING_DIGITS
        spaced = rules.spaced_pairing_code(long_code)
        assert (await h.client.post("/kiosk/api/pair", json={"code": spaced})).status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"code": 123456}', b'{"code": "12345"}', b'{"code": "abcdef"}'],
)
async def test_malformed_pairing_requests_are_refused(kh: KioskHarness, body: bytes) -> None:
    response = await kh.client.post(
        "/kiosk/api/pair", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "code"


async def test_the_api_wants_a_valid_credential(kh: KioskHarness) -> None:
    assert (await kh.pair()).status_code == 200
    assert (await kh.client.get("/kiosk/api/config")).status_code == 401
    forged = kh.credential[:-2] + ("AA" if not kh.credential.endswith("AA") else "BB")
    response = await kh.client.get("/kiosk/api/config", headers=kh.auth(forged))
    assert response.status_code == 401
    assert response.json()["error"] == "credential"
    # Pairing the kiosk again (a replaced tablet) spends the old credential.
    old = kh.credential
    _, code = await kh.h.world.store.kiosks.new_pairing_code(kh.kiosk.id, datetime.now(UTC))
    assert (await kh.pair(code)).status_code == 200
    assert (await kh.client.get("/kiosk/api/config", headers=kh.auth(old))).status_code == 401
    assert (await kh.client.get("/kiosk/api/config", headers=kh.auth())).status_code == 200


async def test_config_offers_the_halls_agencies(kh: KioskHarness) -> None:
    await kh.pair()
    response = await kh.client.get("/kiosk/api/config", headers=kh.auth())
    data = response.json()
    assert data["hall"]["name"] == "Pemerintah Provinsi"
    assert [a["name"] for a in data["agencies"]] == ["Dinas Kependudukan", "RSUD Ulin"]


async def test_heartbeats_are_kept_for_the_admins(kh: KioskHarness) -> None:
    await kh.pair()
    device_time = datetime.now(UTC) + timedelta(seconds=90)
    oldest = datetime.now(UTC) - timedelta(hours=2)
    response = await kh.post(
        "heartbeat",
        {
            "online": True,
            "queue_length": 4,
            "oldest_queued_at": oldest.isoformat(),
            "app_version": "abc123",
            "storage_persistent": True,
            "device_time": device_time.isoformat(),
        },
    )
    assert response.status_code == 200
    assert response.json()["kiosk"] == kh.kiosk.id
    kiosk = await kh.h.world.store.kiosks.get(kh.kiosk.id)
    assert kiosk is not None
    assert kiosk.queue_length == 4 and kiosk.app_version == "abc123"
    assert kiosk.storage_persistent is True
    assert kiosk.clock_offset_ms is not None and 85_000 < kiosk.clock_offset_ms < 95_000
    assert kiosk.oldest_queued_at is not None
    # Nonsense is left out, the beat still counts.
    response = await kh.post(
        "heartbeat",
        {"queue_length": "many", "device_time": "yesterday", "storage_persistent": "yes"},
    )
    assert response.status_code == 200
    kiosk = await kh.h.world.store.kiosks.get(kh.kiosk.id)
    assert kiosk is not None and kiosk.queue_length == 0 and kiosk.clock_offset_ms is None


async def test_the_pool_is_topped_up_and_bounded(kh: KioskHarness) -> None:
    await kh.pair()
    codes = await kh.codes(held=0)
    assert len(codes) == rules.POOL_SIZE
    first = codes[0]
    assert tracking.is_valid(first["code"])
    assert first["display"] == tracking.format_code(first["code"])
    assert set("".join(first["qr"])) <= {"0", "1"} and len(first["qr"]) == len(first["qr"][0])
    assert len(await kh.codes(held=rules.POOL_SIZE)) == 0
    assert len(await kh.codes(held=rules.POOL_SIZE - 5)) == 5
    # A device that keeps saying it holds nothing cannot drain the code space.
    for _ in range(5):
        await kh.codes(held=0)
    count = kh.rows("SELECT count(*) FROM kiosk_codes")[0][0]
    assert count == rules.POOL_MAX_OUTSTANDING


async def test_a_reserved_code_says_it_waits_for_the_kiosk(kh: KioskHarness) -> None:
    await kh.pair()
    code = (await kh.codes())[0]
    page = await kh.client.get(f"/t/{code['display']}")
    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    waiting = soup.find(id="waiting")
    assert waiting is not None and "kios" in waiting.get_text().lower()
    # Delivered, it is an ordinary status page.
    response = await kh.post("reports", kh.report(code=code["code"]))
    assert response.status_code == 201
    page = await kh.client.get(f"/t/{code['display']}")
    assert BeautifulSoup(page.text, "html.parser").find(id="waiting") is None
    assert code["display"] in page.text


async def test_a_queued_report_is_stored_once_with_its_pool_code(kh: KioskHarness) -> None:
    await kh.pair()
    code = (await kh.codes())[0]
    body = kh.report(code=code["code"])
    first = await kh.post("reports", body)
    assert first.status_code == 201, first.text
    assert first.json()["key"] == body["key"]
    assert first.json()["code"] == code["code"]
    again = await kh.post("reports", body)  # the answer was lost: sent again
    assert again.status_code == 200
    assert again.json() == {**first.json(), "received_at": again.json()["received_at"]}
    rows = kh.rows("SELECT tracking_code, channel, kiosk_id, reported_at, received_at FROM reports")
    assert len(rows) == 1
    tracking_code, channel, kiosk_id, reported_at, received_at = rows[0]
    assert (tracking_code, channel, kiosk_id) == (code["code"], "kiosk", kh.kiosk.id)
    assert reported_at < received_at  # the device's time, hours before it arrived
    assert kh.rows("SELECT count(*) FROM kiosk_codes WHERE code = ?", code["code"]) == [(0,)]


async def test_the_same_key_with_another_report_is_refused(kh: KioskHarness) -> None:
    await kh.pair()
    codes = await kh.codes()
    body = kh.report(code=codes[0]["code"])
    assert (await kh.post("reports", body)).status_code == 201
    changed = await kh.post("reports", {**body, "text": TEXT + " Dan lagi."})
    assert changed.status_code == 409
    assert changed.json()["key"] == body["key"]
    other_code = await kh.post("reports", {**body, "code": codes[1]["code"]})
    assert other_code.status_code == 409
    assert kh.rows("SELECT count(*) FROM reports") == [(1,)]
    # The second code was not used up by the refused report.
    assert kh.rows("SELECT count(*) FROM kiosk_codes WHERE code = ?", codes[1]["code"]) == [(1,)]


async def test_a_report_without_a_code_gets_one(kh: KioskHarness) -> None:
    await kh.pair()
    response = await kh.post("reports", kh.report(code=""))
    assert response.status_code == 201
    assert tracking.is_valid(response.json()["code"])


async def test_a_code_no_longer_in_the_pool_keeps_the_report(kh: KioskHarness) -> None:
    await kh.pair()
    unreserved = tracking.new_tracking_code()
    response = await kh.post("reports", kh.report(code=unreserved))
    assert response.status_code == 201
    stored = response.json()["code"]
    assert stored != unreserved
    notes = kh.rows("SELECT note FROM report_events WHERE kind = 'kiosk_code_lost'")
    assert notes == [(tracking.group(unreserved),)]


async def test_another_kiosks_code_cannot_be_taken(kh: KioskHarness) -> None:
    await kh.pair()
    _, code = await kh.h.world.store.kiosks.add(
        kh.h.world.units["prov"].id, "Lantai 2", datetime.now(UTC)
    )
    pairing = await kh.client.post("/kiosk/api/pair", json={"code": code})
    other_credential = pairing.json()["credential"]
    theirs = (
        await kh.client.post(
            "/kiosk/api/codes", json={"held": 0}, headers=kh.auth(other_credential)
        )
    ).json()["codes"][0]
    response = await kh.post("reports", kh.report(code=theirs["code"]))
    assert response.status_code == 201
    assert response.json()["code"] != theirs["code"]  # still theirs to give out


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": "pendek"}, "text"),
        ({"kind": "x"}, "kind"),
        ({"identity": "named"}, "name"),
        ({"unit": 0}, "unit"),
        ({"key": "short"}, "key"),
        ({"code": "ABC"}, "code"),
    ],
)
async def test_bad_reports_are_refused_with_reasons(
    kh: KioskHarness, fields: dict[str, Any], field: str
) -> None:
    await kh.pair()
    response = await kh.post("reports", kh.report(**fields))
    assert response.status_code == 400
    data = response.json()
    assert field in {e["field"] for e in data["errors"]}
    assert all(e["message"] for e in data["errors"])
    assert kh.rows("SELECT count(*) FROM reports") == [(0,)]


async def test_a_unit_outside_the_hall_is_refused(kh: KioskHarness) -> None:
    await kh.pair()
    response = await kh.post("reports", kh.report(unit=kh.h.world.units["other"].id))
    assert response.status_code == 400
    assert kh.rows("SELECT count(*) FROM reports") == [(0,)]


async def test_an_implausible_device_time_is_not_kept(kh: KioskHarness) -> None:
    await kh.pair()
    future = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    assert (await kh.post("reports", kh.report(reported_at=future))).status_code == 201
    assert kh.rows("SELECT reported_at FROM reports") == [(None,)]


async def test_revoking_shows_not_active_and_releases_the_codes(kh: KioskHarness) -> None:
    await kh.pair()
    codes = await kh.codes()
    await kh.h.world.store.kiosks.revoke(kh.kiosk.id, datetime.now(UTC))
    response = await kh.post("heartbeat", {})
    assert response.status_code == 410
    assert response.json()["error"] == "revoked"
    assert (await kh.post("reports", kh.report(code=codes[0]["code"]))).status_code == 410
    assert kh.rows("SELECT count(*) FROM kiosk_codes") == [(0,)]
    page = await kh.client.get(f"/t/{codes[0]['display']}")
    assert page.status_code == 404
    # A revoked kiosk cannot be paired again: an admin adds a new one.
    with pytest.raises(Exception, match="revoked"):
        await kh.h.world.store.kiosks.new_pairing_code(kh.kiosk.id, datetime.now(UTC))


async def test_expired_codes_are_given_up_after_their_grace(kh: KioskHarness) -> None:
    await kh.pair()
    await kh.codes()
    store = kh.h.world.store.kiosks
    later = datetime.now(UTC) + rules.CODE_LIFETIME + rules.CODE_GRACE - timedelta(hours=1)
    assert await store.sweep_codes(later) == 0
    assert await store.sweep_codes(later + timedelta(hours=2)) == rules.POOL_SIZE


async def test_the_app_shell_and_its_worker(kh: KioskHarness) -> None:
    shell = await kh.client.get("/kiosk")
    assert shell.status_code == 200
    soup = BeautifulSoup(shell.text, "html.parser")
    viewport = soup.find("meta", attrs={"name": "viewport"})
    assert viewport is not None and "interactive-widget=resizes-content" in str(viewport["content"])
    boot = soup.find("script", id="kiosk-boot")
    assert boot is not None
    import json

    data = json.loads(boot.get_text())
    assert data["strings"]["id"]["start_button"] == "Mulai"
    assert data["strings"]["en"]["start_button"] == "Start"
    # Without SMS sending, the phone field promises no SMS.
    assert data["sms_sending"] is False and "SMS" in data["strings"]["id"]["phone_hint"]
    worker = await kh.client.get("/kiosk/sw.js")
    assert worker.headers["service-worker-allowed"] == "/kiosk"
    assert worker.headers["content-type"].startswith("text/javascript")
    assert data["version"] in worker.text
    for path in data["files"]:
        assert path in worker.text
        assert (await kh.client.get(path)).status_code == 200


async def test_config_carries_the_survey_and_the_faces(kh: KioskHarness) -> None:
    await kh.pair()
    data = (await kh.client.get("/kiosk/api/config", headers=kh.auth())).json()
    assert len(data["faces"]["id"]) == 5 and len(data["faces"]["en"]) == 5
    assert [item["id"] for item in data["ikm"]["id"]] == list(range(1, 10))
    assert all(len(item["answers"]) == 4 for item in data["ikm"]["en"])


async def test_quick_ratings_and_surveys_are_stored_once(kh: KioskHarness) -> None:
    await kh.pair()
    unit = kh.h.world.units["rsud"].id
    rating = {
        "key": "r" * 20,
        "kind": "rating",
        "unit": unit,
        "rating": 4,
        "language": "id",
        "reported_at": datetime.now(UTC).isoformat(),
    }
    first = await kh.post("feedback", rating)
    assert first.status_code == 201 and first.json() == {"key": rating["key"]}
    assert (await kh.post("feedback", rating)).status_code == 200
    assert (await kh.post("feedback", {**rating, "rating": 2})).status_code == 409
    survey = {
        "key": "s" * 20,
        "kind": "ikm",
        "unit": unit,
        "answers": "432143214",
        "language": "en",
    }
    assert (await kh.post("feedback", survey)).status_code == 201
    rows = kh.rows(
        "SELECT kind, unit_id, kiosk_id, rating, answers, idempotency_key FROM feedback ORDER BY id"
    )
    assert rows == [
        ("rating", unit, kh.kiosk.id, 4, None, f"kiosk{kh.kiosk.id}:{'r' * 20}"),
        ("ikm", unit, kh.kiosk.id, None, "432143214", f"kiosk{kh.kiosk.id}:{'s' * 20}"),
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"rating": 6},
        {"kind": "ikm", "answers": "4321"},
        {"kind": "vote"},
        {"key": "x"},
        {"unit": 999},
        {"unit": "other"},
    ],
)
async def test_bad_feedback_is_refused(kh: KioskHarness, fields: dict[str, Any]) -> None:
    await kh.pair()
    body = {
        "key": "f" * 20,
        "kind": "rating",
        "unit": kh.h.world.units["dinas"].id,
        "rating": 5,
        "language": "id",
    }
    if fields.get("unit") == "other":
        fields = {"unit": kh.h.world.units["other"].id}
    response = await kh.post("feedback", {**body, **fields})
    assert response.status_code == 400
    assert response.json()["errors"]
    assert kh.rows("SELECT count(*) FROM feedback") == [(0,)]


# -- bodies that are not the JSON object the API reads ------------------------------------------
ENDPOINTS = ("pair", "codes", "heartbeat", "reports", "feedback")
DEEP = b"[" * 5000
# Each is refused as a whole, before any of it is used: not JSON, not UTF-8 (or escaped text
# no database can hold), not one object, numbers no JSON client means, keys given twice,
# nested past the depth the reader allows.
MALFORMED: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \n",
    "not json": b"not json",
    "an array": b"[]",
    "a string": b'"code"',
    "a number": b"123456",
    "null": b"null",
    "two objects": b"{} {}",
    "cut short": b'{"held": 0',
    "deep arrays": DEEP,
    "deep objects": b'{"a":' * 5000,
    "deep inside an object": b'{"held": ' + b"[" * 2000 + b"]" * 2000 + b"}",
    "33 deep": b'{"a":' * 32 + b"[]" + b"}" * 32,
    "invalid utf-8": b'{"code": "\xc3\x28", "held": 0}',
    "latin-1": '{"app_version": "café"}'.encode("latin-1"),
    "utf-16": '{"held": 0}'.encode("utf-16"),
    "utf-8 bom": b'\xef\xbb\xbf{"held": 0}',
    "lone surrogate": b'{"held": 0, "app_version": "\\ud800"}',
    "nul": b'{"held": 0, "app_version": "a\\u0000b"}',
    "nan": b'{"held": NaN}',
    "infinity": b'{"held": Infinity}',
    "minus infinity": b'{"held": -Infinity}',
    "overflowing float": b'{"held": 1e400}',
    "huge integer": b'{"held": ' + b"9" * 5000 + b"}",
    "integer past 2**53": b'{"held": 9007199254740993}',
    "duplicate keys": b'{"held": 0, "held": 5}',
}
WRONG_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin-1",
)


async def _paired_for(kh: KioskHarness, path: str) -> dict[str, str]:
    if path == "pair":
        return {}
    assert (await kh.pair()).status_code == 200
    return kh.auth()


def _stored(kh: KioskHarness) -> list[tuple[Any, ...]]:
    """Everything a kiosk endpoint can write."""
    return [
        *kh.rows("SELECT count(*) FROM reports"),
        *kh.rows("SELECT count(*) FROM feedback"),
        *kh.rows("SELECT count(*) FROM kiosk_codes"),
        *kh.rows("SELECT last_seen_at, queue_length, app_version FROM kiosks"),
    ]


def _assert_refused(response: httpx.Response, path: str, what: str) -> None:
    assert response.status_code == 400, (what, response.status_code, response.text[:200])
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["error"] == ("code" if path == "pair" else "body"), what
    assert data["message"], what


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_deeply_nested_json_is_refused_not_a_crash(kh: KioskHarness, path: str) -> None:
    headers = await _paired_for(kh, path)
    before = _stored(kh)
    response = await kh.client.post(
        f"/kiosk/api/{path}",
        content=DEEP,
        headers={**headers, "content-type": "application/json"},
    )
    _assert_refused(response, path, "5000 [")
    assert "permintaan" in response.json()["message"].lower() or path == "pair"  # Indonesian
    assert _stored(kh) == before


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_malformed_bodies_are_refused(make_harness: MakeHarness, path: str) -> None:
    # Limits high enough that every malformed pairing body here is answered as one.
    async with make_harness(
        kiosk_pair_limit_per_address="1000/minute", kiosk_pair_limit="1000/minute"
    ) as h:
        kh = await hall_kiosk(h)
        headers = await _paired_for(kh, path)
        before = _stored(kh)
        for what, body in MALFORMED.items():
            response = await kh.client.post(
                f"/kiosk/api/{path}",
                content=body,
                headers={**headers, "content-type": "application/json"},
            )
            _assert_refused(response, path, what)
        good = json.dumps({"code": kh.code} if path == "pair" else {"held": 0}).encode()
        for media_type in WRONG_TYPES:
            response = await kh.client.post(
                f"/kiosk/api/{path}", content=good, headers={**headers, "content-type": media_type}
            )
            _assert_refused(response, path, media_type)
        response = await kh.client.post(f"/kiosk/api/{path}", content=good, headers=headers)
        _assert_refused(response, path, "no content type")
        assert _stored(kh) == before


async def test_the_reader_takes_nesting_up_to_its_depth(kh: KioskHarness) -> None:
    await kh.pair()
    # 32 levels, the object itself included: read, and the list where a count belongs ignored.
    body = b'{"held": ' + b"[" * 31 + b"]" * 31 + b', "x": "[[[[{{{{\\"]]"}'
    response = await kh.client.post(
        "/kiosk/api/codes",
        content=body,
        headers={**kh.auth(), "content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["codes"]) == rules.POOL_SIZE


@pytest.mark.parametrize("body", [DEEP, b"\xff\xfe", b'{"code": NaN}', b"[]"])
async def test_malformed_pairing_bodies_count_as_wrong_codes(
    make_harness: MakeHarness, body: bytes
) -> None:
    """Against the address that sent them. The deployment-wide ceiling guards six-digit codes
    only: a body that names no code cannot guess one, and must not pause pairing for all."""
    async with make_harness(kiosk_pair_limit_per_address="3/day") as h:
        _, code = await h.world.store.kiosks.add(h.world.units["prov"].id, "A", datetime.now(UTC))
        for _ in range(3):
            response = await h.client.post(
                "/kiosk/api/pair", content=body, headers={"content-type": "application/json"}
            )
            assert response.status_code == 400
            assert response.json()["error"] == "code"
        throttled = await h.client.post("/kiosk/api/pair", json={"code": code})
        assert throttled.status_code == 429
        assert throttled.json()["error"] == "throttled"


KEY_A, KEY_B = "key-a-0123456789abcdef", "key-b-0123456789abcdef"


async def test_a_paired_kiosk_outlives_the_key_that_signed_its_credential(
    make_harness: MakeHarness, make_settings: Callable[..., Settings]
) -> None:
    async with make_harness(secret_keys=KEY_A) as h:
        kh = await hall_kiosk(h)
        assert (await kh.pair()).status_code == 200
    async with restarted(make_settings(secret_keys=KEY_B)) as client:
        response = await client.get("/kiosk/api/config", headers=kh.auth())
        assert response.status_code == 200, response.text
        # The digest, not a key, is what recognises it: another credential is still refused.
        forged = kh.credential[:-2] + ("AA" if not kh.credential.endswith("AA") else "BB")
        assert (await client.get("/kiosk/api/config", headers=kh.auth(forged))).status_code == 401


async def test_a_kiosk_paired_before_credentials_were_kept_keeps_its_own_at_its_next_request(
    make_harness: MakeHarness, make_settings: Callable[..., Settings]
) -> None:
    async with make_harness(secret_keys=KEY_A) as h:
        kh = await hall_kiosk(h)
        assert (await kh.pair()).status_code == 200
        kh.rows("UPDATE kiosks SET credential_hash = NULL")  # as migration 0012 leaves it
        assert (await kh.client.get("/kiosk/api/config", headers=kh.auth())).status_code == 200
        assert kh.rows("SELECT credential_hash FROM kiosks") == [(secret_digest(kh.credential),)]
        # An earlier pairing's credential, still signed under a configured key, is spent.
        old = kh.credential
        _, again = await h.world.store.kiosks.new_pairing_code(kh.kiosk.id, datetime.now(UTC))
        assert (await kh.pair(again)).status_code == 200
        spent = await kh.client.get("/kiosk/api/config", headers=kh.auth(old))
        assert spent.status_code == 401
        assert spent.json()["message"] == "Kios ini sudah dipasangkan ulang."
    async with restarted(make_settings(secret_keys=KEY_B)) as client:
        assert (await client.get("/kiosk/api/config", headers=kh.auth())).status_code == 200
        assert (await client.get("/kiosk/api/config", headers=kh.auth(old))).status_code == 401


async def test_a_credential_signed_with_a_leaked_key_cannot_replace_the_kept_one(
    kh: KioskHarness,
) -> None:
    assert (await kh.pair()).status_code == 200
    forged = kh.h.world.signing.kiosk_credential(kh.kiosk.id, kh.kiosk.version + 1)
    response = await kh.client.get("/kiosk/api/config", headers=kh.auth(forged))
    assert response.status_code == 401
    assert (await kh.client.get("/kiosk/api/config", headers=kh.auth())).status_code == 200


# -- what one credential may send ---------------------------------------------------------------
def _rating(kh: KioskHarness, n: int, at: datetime | None = None) -> dict[str, Any]:
    return {
        "key": f"rating-{n:015d}",
        "kind": "rating",
        "unit": kh.h.world.units["rsud"].id,
        "rating": 1,
        "language": "id",
        "reported_at": (at or datetime.now(UTC)).isoformat(),
    }


async def _limited_kiosk(kh: KioskHarness) -> Kiosk:
    kiosk = await kh.h.world.store.kiosks.get(kh.kiosk.id)
    assert kiosk is not None
    return kiosk


async def test_a_script_on_one_credential_is_held_to_what_a_person_could_send(
    kh: KioskHarness,
) -> None:
    """The attack that worked: 130 quick ratings in 1.3 s on one credential, all stored."""
    await kh.pair()
    answers = [await kh.post("feedback", _rating(kh, n)) for n in range(130)]
    stored = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code == 429]
    assert len(stored) == 20  # LAPOR_KIOSK_FEEDBACK_LIMIT's minute
    assert len(refused) == 110
    for n, answer in enumerate(answers[20:], start=20):
        # Named, so the app keeps that item and tries it again; told when.
        assert answer.json()["key"] == f"rating-{n:015d}"
        assert answer.json()["error"] == "throttled"
        assert 1 <= int(answer.headers["retry-after"]) <= 60
        assert answer.json()["retry_after"] == int(answer.headers["retry-after"])
    assert kh.rows("SELECT count(*) FROM feedback") == [(20,)]
    # Marked once (once a minute at most), for the admins' list.
    kiosk = await _limited_kiosk(kh)
    assert kiosk.limited_count == 1 and kiosk.limited_at is not None
    metrics = (await kh.client.get("/metrics")).text
    assert 'lapor_rate_limited_total{limit="kiosk_feedback"} 110.0' in metrics


async def test_reports_and_each_kiosk_have_limits_of_their_own(make_harness: MakeHarness) -> None:
    async with make_harness(kiosk_report_limit="2/day") as h:
        hall = h.world.units["prov"].id
        first, code = await h.world.store.kiosks.add(hall, "Lantai 1", datetime.now(UTC))
        second, other_code = await h.world.store.kiosks.add(hall, "Lantai 2", datetime.now(UTC))
        kh, other = KioskHarness(h, first, code), KioskHarness(h, second, other_code)
        await kh.pair()
        await other.pair()
        sent = [await kh.post("reports", kh.report(key=f"report-{n:012d}")) for n in range(3)]
        assert [a.status_code for a in sent] == [201, 201, 429]
        assert sent[2].json()["key"] == "report-000000000002"
        assert kh.rows("SELECT count(*) FROM reports WHERE kiosk_id = ?", first.id) == [(2,)]
        # Ratings count on their own, and the hall's other tablet (the same address) on its own.
        assert (await kh.post("feedback", _rating(kh, 1))).status_code == 201
        answer = await other.post("reports", other.report(key="other-report-00001"))
        assert answer.status_code == 201


async def test_a_backlog_after_an_outage_is_all_stored_in_the_end(kh: KioskHarness) -> None:
    """Ten hours offline in a busy hall: 150 ratings, delivered in a burst when the network is
    back. The limit slows them, loses none: each refused item is sent again when told."""
    await kh.pair()
    start = datetime.now(UTC) - timedelta(hours=10)
    queue = [_rating(kh, n, start + timedelta(minutes=4 * n)) for n in range(150)]
    limits = kh.h.app.state.services.limits
    waits = 0
    while queue:
        answer = await kh.post("feedback", queue[0])
        assert answer.status_code in (201, 429), answer.text
        assert answer.json()["key"] == queue[0]["key"]
        if answer.status_code == 201:
            queue.pop(0)
        else:
            waits += 1
            assert waits < 50, "the backlog never drained"
            await limits.reset()  # the Retry-After passes: the windows are empty again
    rows = kh.rows("SELECT count(*), count(DISTINCT idempotency_key) FROM feedback")
    assert rows == [(150, 150)]
    assert waits == 7  # 20 a minute: held back seven times on the way


# -- the reporter's private link, from the kiosk's receipt -------------------------------------
def _private_page(kh: KioskHarness, link: str) -> str:
    return link.removeprefix(kh.h.settings.base_url)


async def _is_private(kh: KioskHarness, path: str) -> bool:
    page = await kh.client.get(path)
    if page.status_code != 200:
        return False
    return BeautifulSoup(page.text, "html.parser").find("p", class_="private") is not None


async def test_a_pool_code_carries_the_secret_of_a_private_link(kh: KioskHarness) -> None:
    """The receipt's QR code opens the reporter's private page, even for a report that waited
    in the queue: the kiosk had the secret with the code, the report brings it along."""
    await kh.pair()
    code = (await kh.codes())[0]
    secret = code["secret"]
    assert len(secret) >= 20
    from lapor.web.posters import qr_matrix

    link = f"{kh.h.settings.base_url}/t/{code['display']}/{secret}"
    assert code["qr"] == ["".join("1" if d else "0" for d in row) for row in qr_matrix(link)]
    assert kh.rows("SELECT count(*) FROM kiosk_codes WHERE code = ?", code["code"]) == [(1,)]
    body = kh.report(code=code["code"], secret=secret)
    response = await kh.post("reports", body)
    assert response.status_code == 201, response.text
    assert response.json()["link"] == link
    # Only the digest is kept, and the link opens the private page; another secret does not.
    assert kh.rows("SELECT reporter_secret_hash FROM reports") == [(secret_digest(secret),)]
    assert await _is_private(kh, _private_page(kh, link))
    assert not await _is_private(kh, f"/t/{code['display']}/{'x' * 20}")
    # A resend is the same report; the same key with another secret is another one.
    assert (await kh.post("reports", body)).status_code == 200
    other = await kh.post("reports", {**body, "secret": "y" * 20})
    assert other.status_code == 409
    assert kh.rows("SELECT count(*) FROM reports") == [(1,)]


async def test_a_report_without_a_pool_code_is_answered_with_its_private_link(
    kh: KioskHarness,
) -> None:
    """The pool ran dry: a receipt still on screen when the answer comes shows the server's."""
    await kh.pair()
    response = await kh.post("reports", kh.report(code=""))
    assert response.status_code == 201
    data = response.json()
    assert data["link"].startswith(f"{kh.h.settings.base_url}/t/{data['display']}/")
    assert data["qr"] and set("".join(data["qr"])) <= {"0", "1"}
    assert await _is_private(kh, _private_page(kh, data["link"]))


@pytest.mark.parametrize(
    "secret",
    ["short", "x" * 65, "ä" * 20, 1234, ["x" * 20]],
)
async def test_a_bad_secret_is_refused(kh: KioskHarness, secret: Any) -> None:
    await kh.pair()
    code = (await kh.codes())[0]
    response = await kh.post("reports", kh.report(code=code["code"], secret=secret))
    assert response.status_code == 400
    assert "secret" in {e["field"] for e in response.json()["errors"]}
    assert kh.rows("SELECT count(*) FROM reports") == [(0,)]


async def test_a_secret_without_its_pool_code_is_refused(kh: KioskHarness) -> None:
    await kh.pair()
    response = await kh.post("reports", kh.report(code="", secret="z" * 20))
    assert response.status_code == 400
    assert kh.rows("SELECT count(*) FROM reports") == [(0,)]


# -- which units a kiosk offers ----------------------------------------------------------------
async def test_config_offers_deeper_units_under_their_agency(kh: KioskHarness) -> None:
    """A puskesmas under the hospital is offered, shown under it; a unit without staff of its
    own is offered (its reports go to the coordinator above), and reports to it are taken."""
    world = kh.h.world
    puskesmas = await world.unit("puskesmas", "rsud", "Puskesmas Teluk Dalam")
    pustu = await world.unit("pustu", "puskesmas", "Pustu Alalak")
    await kh.pair()
    data = (await kh.client.get("/kiosk/api/config", headers=kh.auth())).json()
    rsud = world.units["rsud"].id
    assert data["agencies"] == [
        {"id": world.units["dinas"].id, "name": "Dinas Kependudukan", "parent": None},
        {"id": rsud, "name": "RSUD Ulin", "parent": None},
        {"id": puskesmas.id, "name": "Puskesmas Teluk Dalam", "parent": rsud},
        {"id": pustu.id, "name": "Pustu Alalak", "parent": puskesmas.id},
    ]
    response = await kh.post("reports", kh.report(unit=pustu.id))
    assert response.status_code == 201, response.text
    routed = kh.rows("SELECT unit_id, routed_unit_id FROM reports")
    assert routed == [(pustu.id, world.units["prov"].id)]


async def test_units_no_coordinator_reaches_are_not_offered(make_harness: MakeHarness) -> None:
    async with make_harness() as h:
        world = h.world
        await world.unit("mpp", name="Mal Pelayanan Publik")
        await world.unit("samsat", "mpp", "Samsat")
        await world.unit("pajak", "mpp", "Kantor Pajak")
        await world.user("koor@samsat.go.id", "coordinator", "samsat")
        kiosk, code = await world.store.kiosks.add(world.units["mpp"].id, "Hall", datetime.now(UTC))
        kh = KioskHarness(h, kiosk, code)
        await kh.pair()
        data = (await kh.client.get("/kiosk/api/config", headers=kh.auth())).json()
        # Nobody would read a report to the tax office: it is not offered...
        assert [a["name"] for a in data["agencies"]] == ["Samsat"]
        # ...but one queued for it before is still taken, for the administrators.
        response = await kh.post("reports", kh.report(unit=world.units["pajak"].id))
        assert response.status_code == 201, response.text
