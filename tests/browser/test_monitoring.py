"""The monitoring page as an inspector reads it in Chromium: a chart with a legend whose labels
all lie inside the picture, and a month table without rows of empty months."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_citizen import expect, fill_report, open_form, receipt_code
from tests.browser.test_workflow import sign_in

pytestmark = pytest.mark.browser


def test_the_chart_has_a_legend_and_keeps_its_labels_inside(
    lapor_server: Any, make_page: Callable[..., Any]
) -> None:
    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    fill_report(citizen, "Papan informasi jadwal layanan di lobi sudah tidak terbaca sama sekali.")
    citizen.click("button.send")
    receipt_code(citizen)

    page = make_page(javascript=True, locale="id-ID")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    page.goto(f"{lapor_server.base_url}/admin/monitoring")
    legend = page.locator("figure.chart-figure figcaption.legend")
    expect(legend).to_contain_text("laporan masuk")
    expect(legend).to_contain_text("tepat waktu")
    # Every label is drawn inside the picture (the right-hand "100%" was cut off).
    outside = page.locator("svg.chart").evaluate(
        """svg => {
            const box = svg.viewBox.baseVal;
            return [...svg.querySelectorAll('text')].filter(t => {
                const b = t.getBBox();
                return b.x < box.x || b.y < box.y || b.x + b.width > box.x + box.width
                    || b.y + b.height > box.y + box.height;
            }).map(t => t.textContent);
        }"""
    )
    assert outside == []
    expect(page.locator("svg.chart text", has_text="100%")).to_have_count(1)
    # Twelve months are charted; only the one with reports is a row of the table.
    expect(page.locator("svg.chart rect")).to_have_count(12)
    rows = page.locator("table.by-month tbody tr")
    expect(rows).to_have_count(1)
    expect(page.locator("p.empty-months")).to_be_visible()
    assert citizen.problems == [] and page.problems == []
