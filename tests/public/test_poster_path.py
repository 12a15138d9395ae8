from __future__ import annotations

from bs4 import BeautifulSoup

from tests.conftest import AppHarness


async def test_scan_report_receipt_status(harness: AppHarness) -> None:
    response = await harness.submit()
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/t/") and location.endswith("?sent=1")
    receipt = await harness.client.get(location)
    page = BeautifulSoup(receipt.text, "html.parser")
    code = page.select_one(".receipt .code")
    assert code is not None and code.text.strip() == location[3:14]
