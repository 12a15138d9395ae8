"""A real Open311 client against a real server: the `georeport` package from PyPI (requests
and xmltodict underneath) reads the services, a definition, the requests and one request from
`lapor serve` on a free port, in both formats. It files nothing (it cannot), so the requests are
POSTed as the spec words them, as x-www-form-urlencoded over plain HTTP, with a key made by
`lapor api-key add`, and verified by the coordinator through the workspace's own forms."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from bs4 import BeautifulSoup
from georeport import GeoReport

from tests.browser.conftest import COORDINATOR, COORDINATOR_PASSWORD, LaporServer
from tests.html import field_values

TEXT = "Lampu jalan di Jl. Veteran mati sejak seminggu, gelap dan rawan kecelakaan."


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LaporServer, str]]:
    server = LaporServer(tmp_path_factory.mktemp("open311") / "data")
    server.seed()
    # The key is the last line `lapor api-key add` prints: a contract with operators' scripts.
    key = server.cli("api-key", "add", "FixMyStreet Banjarmasin").strip().splitlines()[-1]
    server.start()
    try:
        yield server, key
    finally:
        server.stop()


def file(server: LaporServer, key: str, fmt: str, **fields: str) -> httpx.Response:
    body = {"api_key": key, "service_code": "infrastruktur", "description": TEXT, **fields}
    return httpx.post(f"{server.base_url}/open311/v2/requests.{fmt}", data=body, timeout=10)


def verify(server: LaporServer, report_id: int) -> None:
    """The coordinator forwards the report to the unit, through the pages a person uses."""
    with httpx.Client(base_url=server.base_url, timeout=10) as staff:
        signed_in = staff.post(
            "/admin/login", data={"email": COORDINATOR, "password": COORDINATOR_PASSWORD}
        )
        assert signed_in.status_code == 303
        page = BeautifulSoup(staff.get(f"/admin/reports/{report_id}").text, "html.parser")
        form = page.find("form", action=f"/admin/reports/{report_id}/forward")
        assert form is not None
        unit = server.query("SELECT id FROM units WHERE slug = 'dinas'")[0][0]
        data = {
            **field_values(form.find_all("input")),
            "title": "Lampu jalan mati",
            "category": "infrastruktur",
            "unit": str(unit),
            "note": "",
        }
        assert staff.post(f"/admin/reports/{report_id}/forward", data=data).status_code == 303


def test_a_client_files_then_reads_in_both_formats(served: tuple[LaporServer, str]) -> None:
    server, key = served
    filed = file(server, key, "xml", address_string="Jl. Veteran, Banjarmasin")
    assert filed.status_code == 200, filed.text
    assert filed.headers["content-type"] == "text/xml; charset=utf-8"
    assert filed.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    code = filed.text.split("<service_request_id>")[1].split("</service_request_id>")[0]
    second = file(server, key, "json", lat="-3.3194", long="114.5908").json()[0]
    [(report_id, channel)] = server.query(
        "SELECT id, channel FROM reports WHERE tracking_code = ?", code.replace("-", "")
    )
    assert channel == "api"
    verify(server, report_id)

    for fmt in ("json", "xml"):
        client = GeoReport(f"{server.base_url}/open311/v2", output_format=fmt)
        services = client.get_service_list()
        assert {s["service_code"] for s in services} >= {"infrastruktur", "kesehatan", "pungli"}
        assert all(s["group"] and s["keywords"] for s in services)
        definition = client.get_service_definition("infrastruktur")
        codes = [a["code"] for a in _many(definition["attributes"], "attribute")]
        assert codes == ["kind", "identity", "unit"]
        listed = client.get_service_requests()
        # The second report is not verified: it is not public.
        assert [r["service_request_id"] for r in _many(listed, None)] == [code]
        one = client.get_service_request(code)
        assert one["service_request_id"] == code
        assert one["status"] == "open" and one["agency_responsible"] == "Dinas Kependudukan"
        assert one["address"] == "Jl. Veteran, Banjarmasin"
        by_code = client.get_service_requests(service_code="infrastruktur", status="open")
        assert [r["service_request_id"] for r in _many(by_code, None)] == [code]
        with pytest.raises(Exception, match="404"):
            client.get_service_request(second["service_request_id"])


def _many(value: object, item: str | None) -> list[dict[str, str]]:
    """xmltodict gives one child as a dict and several as a list; JSON is always a list."""
    if isinstance(value, dict) and item is not None:
        value = value[item]
    return value if isinstance(value, list) else [value]  # type: ignore[list-item]


def test_a_revoked_key_files_nothing(served: tuple[LaporServer, str]) -> None:
    server, _ = served
    key = server.cli("api-key", "add", "Short-lived").strip().splitlines()[-1]
    assert file(server, key, "json").status_code == 200
    listed = server.cli("api-key", "list")
    [key_id] = [line.split("\t")[0] for line in listed.splitlines() if line.endswith("Short-lived")]
    assert "revoked" in server.cli("api-key", "revoke", key_id)
    before = server.report_count()
    refused = file(server, key, "json")
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
    assert server.report_count() == before
    assert f"{key_id}\trevoked" in server.cli("api-key", "list")
