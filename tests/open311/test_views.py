"""Open311 GeoReport v2 over HTTP on the real app (tests/conftest.py): every method and error in
both formats, the privacy rules of the public listing, and API keys from issue to revocation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from sqlalchemy import update

from lapor.complaints import open311 as rules
from lapor.complaints import tracking
from lapor.complaints.categories import CATEGORIES
from lapor.complaints.records import Report
from lapor.complaints.reports import Channel, Identity, Status
from lapor.complaints.workflow import Action, Forwarding
from lapor.store import schema as t
from lapor.store.clock import now
from tests.conftest import AppHarness, MakeHarness

V2 = "/open311/v2"
FORMATS = ("xml", "json")
TEXT = "Jalan berlubang besar di depan SD Negeri 3, sudah dua motor jatuh minggu ini."
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def parse(response: httpx.Response, fmt: str) -> Any:
    """The document as plain data: XML by the Spark convention the JSON follows, so one
    assertion reads both (a list of children for a list root, text for a leaf)."""
    if fmt == "json":
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        return response.json()
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(DECLARATION)
    root = ET.fromstring(response.content)
    assert "{" not in root.tag, "no namespace"
    return _spark(root)


LISTS = {"services", "attributes", "values", "service_requests", "errors", "endpoints"}
LISTS |= {"formats", "service_request_updates"}


def _spark(element: ET.Element) -> Any:
    if element.tag in LISTS:
        return [_spark(child) for child in element]
    if len(element) == 0:
        return element.text
    return {child.tag: _spark(child) for child in element}


def error_of(response: httpx.Response, fmt: str, status: int) -> str:
    """Every problem's description, after checking the spec's shape of each."""
    assert response.status_code == status, response.text
    found = parse(response, fmt)
    assert found, "at least one error"
    for error in found:
        assert set(error) == {"code", "description"}
        assert str(error["code"]) == str(status) and error["description"]
    return " ".join(str(error["description"]) for error in found)


async def new_key(h: AppHarness, name: str = "FixMyStreet Banjarmasin") -> str:
    key = rules.new_api_key()
    await h.app.state.services.store.add_api_key(name, rules.api_key_hash(key))
    return key


async def post(h: AppHarness, fmt: str = "json", **fields: str) -> httpx.Response:
    return await h.client.post(f"{V2}/requests.{fmt}", data=fields)


async def file(h: AppHarness, key: str, **fields: str) -> Report:
    """POST a valid request and read the report it made."""
    data = {"api_key": key, "service_code": "infrastruktur", "description": TEXT, **fields}
    response = await post(h, **data)
    assert response.status_code == 200, response.text
    [answer] = response.json()
    code = tracking.normalize(answer["service_request_id"])
    assert code is not None
    report: Report | None = await h.app.state.services.store.report_by_tracking_code(code)
    assert report is not None
    return report


async def forward(h: AppHarness, report: Report, category: str | None = "infrastruktur") -> None:
    world = h.world
    await world.store.forward_report(
        report.id,
        seen_version=report.version,
        actor=world.users["koor@prov.go.id"],
        scope=world.subtree("prov"),
        forwarding=Forwarding("Jalan rusak", None, world.units["rsud"].id, category),
        follow_up_due=date(2026, 12, 14),
    )


async def answer(h: AppHarness, report_id: int, version: int) -> None:
    world = h.world
    if "petugas@rsud.go.id" not in world.users:
        await world.user("petugas@rsud.go.id", "officer", "rsud")
    await world.store.follow_up_report(
        report_id,
        seen_version=version,
        actor=world.users["petugas@rsud.go.id"],
        scope=world.scope("petugas@rsud.go.id"),
        answer="Lubang sudah ditambal oleh Dinas PU pada hari Senin.",
    )


async def count(h: AppHarness) -> int:
    n: int = await h.app.state.services.store.count_reports()
    return n


# -- discovery and services -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_discovery_names_the_endpoint_and_its_formats(harness: AppHarness, fmt: str) -> None:
    response = await harness.client.get(f"{V2}/discovery.{fmt}")
    assert response.status_code == 200
    doc = parse(response, fmt)
    assert doc["changeset"] and doc["contact"] and doc["key_service"]
    [endpoint] = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"{harness.settings.base_url}/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_one_service_per_category_with_group_and_keywords(
    harness: AppHarness, fmt: str
) -> None:
    response = await harness.client.get(f"{V2}/services.{fmt}", headers={"accept-language": "en"})
    assert response.status_code == 200
    services = parse(response, fmt)
    assert [s["service_code"] for s in services] == list(CATEGORIES)
    health = next(s for s in services if s["service_code"] == "kesehatan")
    assert health["service_name"] == "Health"
    assert health["group"] == "Basic services"
    assert "hospital" in health["keywords"] and "puskesmas" in health["keywords"]
    assert str(health["metadata"]).lower() == "true" and health["type"] == "realtime"
    assert all(s["description"] and s["keywords"] and s["group"] for s in services)
    indonesian = parse(
        await harness.client.get(f"{V2}/services.{fmt}", headers={"accept-language": "id"}), fmt
    )
    assert (
        next(s for s in indonesian if s["service_code"] == "kesehatan")["group"] != "Basic services"
    )


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_service_definition_lists_kind_identity_and_unit(
    harness: AppHarness, fmt: str
) -> None:
    response = await harness.client.get(f"{V2}/services/pungli.{fmt}")
    assert response.status_code == 200
    definition = parse(response, fmt)
    assert definition["service_code"] == "pungli"
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == ["kind", "identity", "unit"]
    assert [int(a["order"]) for a in attributes] == [1, 2, 3]
    assert all(a["datatype"] == "singlevaluelist" for a in attributes)
    assert all(str(a["variable"]).lower() == "true" for a in attributes)
    keys = {a["code"]: [v["key"] for v in a["values"]] for a in attributes}
    assert keys["kind"] == ["pengaduan", "aspirasi", "informasi"]
    assert keys["identity"] == ["named", "anonim", "rahasia"]
    assert {"prov", "dinas", "rsud", "other"} == set(keys["unit"])


@pytest.mark.parametrize("fmt", FORMATS)
async def test_unknown_service_format_and_jurisdiction_are_404(
    harness: AppHarness, fmt: str
) -> None:
    assert "nope" in error_of(await harness.client.get(f"{V2}/services/nope.{fmt}"), fmt, 404)
    wrong = await harness.client.get(f"{V2}/services.{fmt}?jurisdiction_id=elsewhere.go.id")
    assert "elsewhere.go.id" in error_of(wrong, fmt, 404)
    right = await harness.client.get(f"{V2}/services.{fmt}?jurisdiction_id=lapor.example.go.id")
    assert right.status_code == 200
    empty = await harness.client.get(f"{V2}/services.{fmt}?jurisdiction_id=")
    assert empty.status_code == 200  # an empty optional argument is no argument
    error_of(await harness.client.get(f"{V2}/services.html"), "xml", 404)


# -- filing -------------------------------------------------------------------------------------


async def test_a_request_is_a_report_of_channel_api_routed_like_any_other(
    harness: AppHarness,
) -> None:
    key = await new_key(harness)
    report = await file(
        harness,
        key,
        first_name="Siti",
        last_name="Rahma",
        phone="0812 3456 7890",
        email="siti@example.com",
        address_string="Jl. A. Yani km 5, Banjarmasin",
        lat="-3.3194",
        long="114.5908",
        media_url="https://fixmystreet.example.org/photo/1.jpg",
        device_id="abc",
        account_id="42",
    )
    assert report.channel is Channel.API
    assert report.api_client == "FixMyStreet Banjarmasin"
    assert report.category == "infrastruktur"
    assert report.text == TEXT and report.location == "Jl. A. Yani km 5, Banjarmasin"
    assert (report.latitude, report.longitude) == (-3.3194, 114.5908)
    assert report.media_url == "https://fixmystreet.example.org/photo/1.jpg"
    assert report.identity is Identity.NAMED and report.reporter_name == "Siti Rahma"
    assert report.reporter_phone == "+6281234567890"
    assert report.unit_name == "Pemerintah Provinsi"
    assert report.routed_unit_name == "Pemerintah Provinsi"  # its coordinator, as for a poster
    assert report.status is Status.RECEIVED
    # The coordinator is told, as for every report.
    assert any(m.to_address == "koor@prov.go.id" for m in await harness.outbox())
    [listed] = await harness.app.state.services.store.list_api_keys()
    assert listed.last_used_at is not None


async def test_the_answer_names_the_tracking_code_at_once_in_xml(harness: AppHarness) -> None:
    key = await new_key(harness)
    data = {"api_key": key, "service_code": "kesehatan", "description": TEXT}
    response = await post(harness, "xml", **data)
    assert response.status_code == 200
    [answer] = parse(response, "xml")
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    code = tracking.normalize(answer["service_request_id"])
    assert code is not None and answer["service_request_id"] == tracking.format_code(code)
    report = await harness.app.state.services.store.report_by_tracking_code(code)
    assert report is not None and report.identity is Identity.ANONYMOUS
    assert report.reporter_name is None and report.reporter_phone is None
    # The report's own page for the citizen works with the same code.
    assert (await harness.client.get(f"/t/{answer['service_request_id']}")).status_code == 200


async def test_attributes_choose_kind_identity_and_unit(harness: AppHarness) -> None:
    key = await new_key(harness)
    report = await file(
        harness,
        key,
        first_name="Budi",
        email="budi@example.com",
        **{"attribute[kind]": "aspirasi", "attribute[identity]": "rahasia"},
        **{"attribute[unit]": "rsud"},
    )
    assert report.kind.value == "aspirasi" and report.identity is Identity.CONFIDENTIAL
    assert report.unit_name == "RSUD Ulin" and report.reporter_email == "budi@example.com"


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_missing_wrong_or_revoked_key_is_403_and_stores_nothing(
    harness: AppHarness, fmt: str
) -> None:
    data = {"service_code": "infrastruktur", "description": TEXT}
    assert "api_key" in error_of(await post(harness, fmt, **data), fmt, 403)
    error_of(await post(harness, fmt, api_key="lapor311_guess", **data), fmt, 403)
    key = await new_key(harness)
    [issued] = await harness.app.state.services.store.list_api_keys()
    await harness.app.state.services.store.revoke_api_key(issued.id)
    error_of(await post(harness, fmt, api_key=key, **data), fmt, 403)
    assert await count(harness) == 0


BAD_POSTS: list[tuple[dict[str, str], int, str]] = [
    ({}, 400, "service_code"),
    ({"service_code": "potholes"}, 404, "potholes"),
    ({"description": "Ada <script>alert(1)</script> di sini, tolong periksa."}, 400, "HTML"),
    ({"description": "Lampu mati &#60;b&#62; sejak minggu lalu di gang kami."}, 400, "HTML"),
    ({"description": "x" * 4001}, 400, "4"),
    ({"description": ""}, 400, "description"),
    ({"attribute[colour]": "red"}, 400, "colour"),
    ({"attribute[kind]": "pothole"}, 400, "kind"),
    ({"attribute[unit]": "nowhere"}, 400, "unit"),
    ({"attribute[kind][]": "pengaduan", "attribute[kind]": "aspirasi"}, 400, "kind"),
    ({"lat": "-3.3"}, 400, "lat"),
    ({"lat": "91", "long": "114"}, 400, "lat"),
    ({"lat": "nan", "long": "114"}, 400, "lat"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"attribute[identity]": "named"}, 400, "first_name"),
    ({"first_name": "Siti"}, 400, "phone"),
    ({"phone": "12"}, 400, "phone"),
    ({"email": "not an address", "first_name": "Siti"}, 400, "email"),
    ({"jurisdiction_id": "elsewhere.go.id"}, 404, "elsewhere"),
]


@pytest.mark.parametrize(("fields", "status", "named"), BAD_POSTS)
@pytest.mark.parametrize("fmt", FORMATS)
async def test_bad_requests_say_what_is_wrong_and_store_nothing(
    harness: AppHarness, fmt: str, fields: dict[str, str], status: int, named: str
) -> None:
    key = await new_key(harness)
    data = {"api_key": key, "service_code": "infrastruktur", "description": TEXT}
    data.update(fields)
    if "service_code" not in fields and not fields:
        del data["service_code"]
    response = await harness.client.post(
        f"{V2}/requests.{fmt}", data=data, headers={"accept-language": "en"}
    )
    assert named in error_of(response, fmt, status)
    assert await count(harness) == 0


async def test_errors_are_in_the_clients_language(harness: AppHarness) -> None:
    response = await harness.client.post(
        f"{V2}/requests.json", data={"service_code": "pajak"}, headers={"accept-language": "id"}
    )
    indonesian = error_of(response, "json", 403)
    response = await harness.client.post(
        f"{V2}/requests.json", data={"service_code": "pajak"}, headers={"accept-language": "en"}
    )
    assert error_of(response, "json", 403) != indonesian


async def test_only_a_form_body_is_read(harness: AppHarness) -> None:
    key = await new_key(harness)
    body = {"api_key": key, "service_code": "sosial", "description": TEXT}
    response = await harness.client.post(f"{V2}/requests.json", json=body)
    assert "x-www-form-urlencoded" in error_of(response, "json", 400)
    response = await harness.client.post(f"{V2}/requests.xml", files={"x": b"y"}, data=body)
    error_of(response, "xml", 400)
    assert await count(harness) == 0


async def test_each_key_has_its_own_rate_limit(make_harness: MakeHarness) -> None:
    async with make_harness(open311_limit_per_key="2/day") as h:
        first, second = await new_key(h, "A"), await new_key(h, "B")
        for _ in range(2):
            await file(h, first)
        data = {"api_key": first, "service_code": "lainnya", "description": TEXT}
        refused = await post(h, "xml", **data)
        error_of(refused, "xml", 429)
        assert int(refused.headers["retry-after"]) >= 1
        await file(h, second)  # another client is not held back
        assert await count(h) == 3


# -- the public listing -------------------------------------------------------------------------


async def test_only_verified_reports_that_are_not_confidential_are_public(
    harness: AppHarness,
) -> None:
    key = await new_key(harness)
    person = {"first_name": "Siti", "last_name": "Rahma", "phone": "081234567890"}
    person |= {"email": "siti.rahma@example.com"}
    waiting = await file(harness, key, **person)
    named = await file(harness, key, **person)
    secret = await file(harness, key, **person, **{"attribute[identity]": "rahasia"})
    spam = await file(harness, key)
    await forward(harness, named)
    await forward(harness, secret)
    await harness.world.store.decide(
        spam.id,
        seen_version=spam.version,
        actor=harness.world.users["koor@prov.go.id"],
        scope=harness.world.subtree("prov"),
        action=Action.ARCHIVE,
        reason="Iklan, bukan laporan.",
        duplicate_of=None,
    )
    for fmt in FORMATS:
        response = await harness.client.get(f"{V2}/requests.{fmt}")
        assert response.status_code == 200
        listed = parse(response, fmt)
        assert [r["service_request_id"] for r in listed] == [tracking.group(named.tracking_code)]
        for leaked in ("Siti", "Rahma", "812345", "siti.rahma", "example.com"):
            assert leaked not in response.text
        for hidden in (waiting, secret, spam):
            one = await harness.client.get(
                f"{V2}/requests/{tracking.group(hidden.tracking_code)}.{fmt}"
            )
            error_of(one, fmt, 404)
        asked = await harness.client.get(
            f"{V2}/requests.{fmt}",
            params={
                "service_request_id": ",".join(
                    tracking.group(r.tracking_code) for r in (waiting, named, secret, spam)
                )
            },
        )
        assert [r["service_request_id"] for r in parse(asked, fmt)] == [
            tracking.group(named.tracking_code)
        ]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_public_request_reads_as_the_spec_says(harness: AppHarness, fmt: str) -> None:
    key = await new_key(harness)
    report = await file(harness, key, address_string="Jl. A. Yani km 5", lat="-3.3", long="114.6")
    await forward(harness, report)
    response = await harness.client.get(
        f"{V2}/requests/{tracking.group(report.tracking_code)}.{fmt}"
    )
    assert response.status_code == 200
    [request] = parse(response, fmt)
    assert list(request) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    assert request["status"] == "open" and request["service_code"] == "infrastruktur"
    assert request["agency_responsible"] == "RSUD Ulin"
    assert request["status_notes"] == "RSUD Ulin"  # forwarded to it
    assert request["description"] == TEXT and request["address"] == "Jl. A. Yani km 5"
    assert float(request["lat"]) == -3.3 and float(request["long"]) == 114.6
    assert request["media_url"] is None
    # W3C date-times with the zone: the deployment's own (WITA, +08:00).
    assert request["requested_datetime"].endswith("+08:00")
    assert rules.read_datetime(request["updated_datetime"]) >= rules.read_datetime(
        request["requested_datetime"]
    )
    assert request["expected_datetime"] == "2026-12-14T23:59:59+08:00"


async def test_an_answered_then_accepted_report_closes_with_the_answer(harness: AppHarness) -> None:
    key = await new_key(harness)
    report = await file(harness, key)
    await forward(harness, report)
    await answer(harness, report.id, report.version + 1)
    code = tracking.group(report.tracking_code)
    [request] = (await harness.client.get(f"{V2}/requests/{code}.json")).json()
    assert request["status"] == "open" and "ditambal" in request["status_notes"]
    assert request["expected_datetime"] is None
    await harness.world.store.reporter_acts(
        report.id, seen_version=report.version + 2, action=Action.ACCEPT, rating=5
    )
    [request] = (await harness.client.get(f"{V2}/requests/{code}.json")).json()
    assert request["status"] == "closed" and "ditambal" in request["status_notes"]
    closed = (await harness.client.get(f"{V2}/requests.json?status=closed")).json()
    opened = (await harness.client.get(f"{V2}/requests.json?status=open")).json()
    assert [r["service_request_id"] for r in closed] == [code] and opened == []


async def test_the_listing_filters_by_service_window_and_page(harness: AppHarness) -> None:
    key = await new_key(harness)
    reports = [await file(harness, key, service_code=c) for c in ("kesehatan", "pungli", "pajak")]
    for report in reports:
        await forward(harness, report, category=report.category)
    codes = [tracking.group(r.tracking_code) for r in reports]

    async def ids(**params: str) -> list[str]:
        response = await harness.client.get(f"{V2}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert await ids() == codes[::-1]  # newest first
    assert await ids(service_code="pungli,pajak") == codes[:0:-1]
    assert await ids(page_size="2") == codes[::-1][:2]
    assert await ids(page_size="2", page="2") == codes[:1]
    assert await ids(page="3", page_size="2") == []
    today = now()
    start = (today - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await ids(start_date=start) == codes[::-1]
    assert await ids(end_date=start) == []
    # Older than the default window of 90 days: listed only when asked for.
    old = today - timedelta(days=100)

    def backdate(conn: Any) -> None:
        conn.execute(
            update(t.reports).where(t.reports.c.id == reports[0].id).values(received_at=old)
        )

    await harness.app.state.services.store.db.write(backdate)
    assert await ids() == codes[:0:-1]
    since = (old - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await ids(start_date=since) == codes[:1]
    assert await ids(service_request_id=codes[0]) == codes[:1]  # overrides the window


BAD_QUERIES: list[tuple[dict[str, str], int]] = [
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, 400),
    ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, 400),
    ({"start_date": "2026-06-01T00:00:00"}, 400),  # no zone
    ({"start_date": "yesterday"}, 400),
    ({"status": "pending"}, 400),
    ({"page": "0"}, 400),
    ({"page_size": "1001"}, 400),
    ({"page_size": "²"}, 400),
    ({"service_code": "potholes"}, 404),
    ({"service_request_id": ",".join(["ABCDE-12345"] * 101)}, 400),
    ({"jurisdiction_id": "elsewhere.go.id"}, 404),
]


@pytest.mark.parametrize(("params", "status"), BAD_QUERIES)
@pytest.mark.parametrize("fmt", FORMATS)
async def test_bad_queries_are_refused_in_the_spec_shape(
    harness: AppHarness, fmt: str, params: dict[str, str], status: int
) -> None:
    error_of(await harness.client.get(f"{V2}/requests.{fmt}", params=params), fmt, status)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_an_unknown_request_is_404(harness: AppHarness, fmt: str) -> None:
    error_of(await harness.client.get(f"{V2}/requests/ABCDE-12345.{fmt}"), fmt, 404)
    code = tracking.group(tracking.new_tracking_code())
    error_of(await harness.client.get(f"{V2}/requests/{code}.{fmt}"), fmt, 404)


async def test_public_reading_is_limited_per_address(make_harness: MakeHarness) -> None:
    async with make_harness(track_limit_per_address="2/day") as h:
        for _ in range(2):
            assert (await h.client.get(f"{V2}/requests.json")).status_code == 200
        refused = await h.client.get(f"{V2}/requests.xml")
        error_of(refused, "xml", 429)
        assert "retry-after" in refused.headers


# -- mySociety's updates ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_updates_follow_what_happened_without_the_reporters_words(
    harness: AppHarness, fmt: str
) -> None:
    key = await new_key(harness)
    report = await file(harness, key, first_name="Siti", phone="081234567890")
    secret = await file(
        harness, key, first_name="Siti", phone="081234567890", **{"attribute[identity]": "rahasia"}
    )
    await forward(harness, report)
    await forward(harness, secret)
    await answer(harness, report.id, report.version + 1)
    await harness.world.store.reporter_acts(
        report.id, seen_version=report.version + 2, action=Action.REPLY, text="Belum, Siti di sini."
    )
    response = await harness.client.get(f"{V2}/servicerequestupdates.{fmt}")
    assert response.status_code == 200
    updates = parse(response, fmt)
    code = tracking.group(report.tracking_code)
    assert {u["service_request_id"] for u in updates} == {code}
    assert [u["status"] for u in updates] == ["in_progress", "action_scheduled"]
    assert "ditambal" in updates[1]["description"]
    assert "Siti" not in response.text and "812345" not in response.text
    assert all(set(u) >= {"update_id", "updated_datetime", "description"} for u in updates)
    assert len({u["update_id"] for u in updates}) == 2
    too_long = await harness.client.get(
        f"{V2}/servicerequestupdates.{fmt}",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"},
    )
    assert "90" in error_of(too_long, fmt, 400)
    later = (now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    none = await harness.client.get(f"{V2}/servicerequestupdates.{fmt}?start_date={later}")
    assert parse(none, fmt) == [] or parse(none, fmt) is None


async def test_contacts_written_into_the_text_are_masked_in_public(harness: AppHarness) -> None:
    key = await new_key(harness)
    text = "Petugas minta uang. Hubungi saya di 0812 9876 5432 atau siti.r@mail.example.id."
    report = await file(harness, key, description=text)
    await forward(harness, report)
    for fmt in FORMATS:
        response = await harness.client.get(f"{V2}/requests.{fmt}")
        [request] = parse(response, fmt)
        assert request["description"] == "Petugas minta uang. Hubungi saya di […] atau […]."
        assert "9876" not in response.text and "siti.r" not in response.text
    # Staff still read what the reporter wrote.
    stored = await harness.app.state.services.store.report_by_tracking_code(report.tracking_code)
    assert stored is not None and stored.text == text
