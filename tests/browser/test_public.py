"""The public figures in Chromium on a 360 px phone, JavaScript off and on: reached from the
citizen's pages, readable without sideways scrolling, the chart's meaning in words, a unit's
page one tap away, the open data downloadable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_citizen import (
    assert_fits_phone,
    expect,
    fill_report,
    open_form,
    receipt_code,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [False, True])
def test_a_citizen_reads_the_figures_on_a_phone(
    lapor_server: Any, make_page: Callable[..., Any], javascript: bool
) -> None:
    page = make_page(javascript=javascript)
    open_form(page, lapor_server.poster_url)
    fill_report(page, "Tidak ada kursi di ruang tunggu, warga lanjut usia berdiri lama sekali.")
    page.click("button.send")
    receipt_code(page)
    # From the receipt's footer to the organisation's figures.
    page.click("footer a[href='/statistik']")
    expect(page.locator("h1")).to_contain_text("Kinerja penanganan pengaduan")
    received = page.locator("dl.kpis > div", has_text="Laporan masuk").locator("dd")
    expect(received).not_to_have_text("0")
    expect(page.locator("figure.chart-figure figcaption.legend")).to_contain_text("tepat waktu")
    assert_fits_phone(page)
    # The province's own page, one tap away, also fits.
    page.locator("table.by-unit a").first.click()
    expect(page).to_have_url(f"{lapor_server.base_url}/statistik/prov")
    expect(page.locator("h1")).to_contain_text("Pemerintah Provinsi")
    assert_fits_phone(page)
    with page.expect_download() as download:
        page.click("a:text('Data ini sebagai CSV')")
    assert download.value.suggested_filename.startswith("statistik-prov-")
    assert page.problems == []
