"""Forwarding to the national portal SP4N-LAPOR! in Chromium, without JavaScript: the
coordinator verifies a citizen's report, sends it to the portal from the report's page, and
the national tracking ID the portal (a local stand-in, tests/jobs/portal.py) gives back shows
on the report's page and on the citizen's status page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.conftest import LaporServer
from tests.browser.test_citizen import (
    assert_fits_phone,
    expect,
    fill_report,
    open_form,
    receipt_code,
    story,
)
from tests.browser.test_workflow import sign_in
from tests.jobs.portal import Portal, national_portal

pytestmark = pytest.mark.browser

TOKEN = "browser-portal-token-0123456789"


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    with national_portal(TOKEN) as p:
        yield p


@pytest.fixture(scope="module")
def national_server(
    tmp_path_factory: pytest.TempPathFactory, portal: Portal
) -> Iterator[LaporServer]:
    server = LaporServer(
        tmp_path_factory.mktemp("lapor-national") / "data",
        overrides={
            "LAPOR_NATIONAL_URL": portal.url,
            "LAPOR_NATIONAL_TOKEN": TOKEN,
            "LAPOR_NATIONAL_SECRET": "browser-portal-secret-0123456789",
        },
    )
    server.seed()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_coordinator_sends_a_verified_report_to_the_national_portal(
    national_server: LaporServer, portal: Portal, make_page: Callable[..., Any]
) -> None:
    server = national_server
    citizen = make_page(javascript=False)
    open_form(citizen, server.poster_url)
    fill_report(citizen, story("Lampu jalan di depan kantor kecamatan mati sejak sebulan."))
    citizen.click("button.send")
    code = receipt_code(citizen)

    coordinator = make_page(javascript=False, locale="id-ID")
    sign_in(coordinator, server, server.coordinator, server.coordinator_password)
    coordinator.click(f"table.inbox a:text('{code}')")
    # Not verified yet: the portal's section says so, and offers no button.
    expect(coordinator.locator("#national")).to_be_visible()
    expect(coordinator.locator("#national-form")).to_have_count(0)
    coordinator.fill("#title", "Lampu jalan mati")
    coordinator.select_option("#category", value="infrastruktur")
    [(dinas_id,)] = server.query("SELECT id FROM units WHERE slug = ?", "dinas")
    coordinator.select_option("#unit", value=str(dinas_id))
    coordinator.click("form[action$='/forward'] button[type=submit]")

    assert_fits_phone(coordinator)  # the portal's section too, on a 360 px phone
    coordinator.click("#national-form button[type=submit]")
    expect(coordinator.locator("#national-waiting, .national-id")).to_have_count(1)
    # The outbox sends it at once; the ID shows once the portal answered.
    deadline = time.monotonic() + 20
    while not portal.reports and time.monotonic() < deadline:
        time.sleep(0.1)
    assert portal.reports, f"the report never reached the portal\n{server.log()}"
    [(body, national_id)] = portal.reports.values()
    assert body["external_id"] == code and body["title"] == "Lampu jalan mati"
    for _ in range(50):
        coordinator.reload()
        if coordinator.locator(".national-id").count():
            break
        time.sleep(0.2)
    expect(coordinator.locator(".national-id")).to_have_text(national_id)
    expect(coordinator.locator("#national-form")).to_have_count(0)  # sent: no second button
    expect(coordinator.locator(".timeline")).to_contain_text(national_id)

    citizen.goto(f"{server.base_url}/t/{code}")
    expect(citizen.locator(".national-id")).to_have_text(national_id)
