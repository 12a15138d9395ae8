"""The inspectorate's monitoring page and its CSV: figures for a unit's subtree by sub-unit and
by month, with the IKM and quick ratings given at kiosks. Read-only; coordinators, inspectors
and admins, each within their own scope."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lapor.admin.access import staff_only, staff_scope
from lapor.admin.queries import date_range_error, local_today
from lapor.admin.responses import NO_STORE, csv_download
from lapor.complaints.feedback import IKM_ITEMS, ItemFigure
from lapor.complaints.monitoring import Row, month_start, months_between, read_months, roll_up
from lapor.complaints.records import StaffSession, Unit
from lapor.store.monitoring import Period
from lapor.web.charts import bar_chart
from lapor.web.i18n import N_, gettext
from lapor.web.services import services
from lapor.web.spreadsheets import csv_cell, csv_decimal, csv_percent

ERRORS = {
    "unit": N_("That unit is not in your part of the organisation."),
    "months": N_(
        "Months must look like 2026-03, the first not after the last, at most 60 months apart."
    ),
}


@dataclass
class Monitoring:
    root: Unit
    units: list[Unit]
    first: date
    last: date
    by_unit: list[Row[int]]
    by_month: list[Row[str]]
    total: Row[None]
    names: dict[int, str]
    errors: list[str]

    @property
    def items(self) -> list[ItemFigure]:
        """The nine IKM items' averages over the whole subtree."""
        return self.total.feedback.items()

    @property
    def weakest_item(self) -> int | None:
        """The item with the lowest average: where the unit's IKM loses most."""
        scored = [i for i in self.items if i.nrr is not None]
        return min(scored, key=lambda i: (i.nrr, i.item.number)).item.number if scored else None


async def _monitoring(request: Request, session: StaffSession) -> Monitoring:
    svc = services(request)
    scope = staff_scope(session)
    settings = svc.settings
    today = local_today(settings.timezone)
    units = await svc.store.units_in_scope(scope)
    errors: list[str] = []
    root = session.unit
    raw_unit = request.query_params.get("unit", "")
    if raw_unit:
        chosen = next((u for u in units if str(u.id) == raw_unit), None)
        if chosen is None:
            errors.append("unit")
        else:
            root = chosen
    first, last, months_error = read_months(
        request.query_params.get("from", ""), request.query_params.get("to", ""), today
    )
    if months_error:
        errors.append(months_error)
    tz = settings.timezone
    period = Period(
        datetime.combine(first, time(), tz),
        datetime.combine(month_start(last, -1), time(), tz),
        today,
        tz,
    )
    raw = await svc.store.monitoring(scope, root.path, period)
    # Each unit counts towards the child of `root` it lies under (or `root` itself).
    depth = root.path.count("/")
    bucket: dict[int, int] = {}
    for unit in units:
        if unit.path.startswith(root.path):
            parts = unit.path.strip("/").split("/")
            bucket[unit.id] = int(parts[depth]) if len(parts) > depth else root.id
    children = [u.id for u in units if u.parent_id == root.id]
    by_unit, total = roll_up(raw, lambda key: bucket.get(key[0]), [root.id, *children])
    months = months_between(first, last)
    by_month, _ = roll_up(raw, lambda key: key[1], months)
    return Monitoring(
        root,
        units,
        first,
        last,
        by_unit,
        by_month,
        total,
        {u.id: u.name for u in units},
        [date_range_error() if e == "dates" else gettext(ERRORS[e]) for e in errors],
    )


@staff_only("coordinator", "inspector", "admin")
async def monitoring_page(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    data = await _monitoring(request, session)
    chart = bar_chart(
        [(row.group, row.figures.received, row.figures.verified_share) for row in data.by_month]
    )
    return svc.templates.response(
        request,
        "admin/monitoring.html",
        {
            "session": session,
            "m": data,
            "chart": chart,
            "csv_link": f"/admin/monitoring.csv?{request.url.query}",
        },
        status_code=400 if data.errors else 200,
        headers=NO_STORE,
    )


COLUMNS = [
    N_("Received"),
    N_("Verified in time"),
    N_("Verified late"),
    N_("Verified in time (%)"),
    N_("Followed up in time"),
    N_("Followed up late"),
    N_("Followed up in time (%)"),
    N_("Overdue now"),
    N_("Closed"),
    N_("Median days to first response"),
    N_("Median days to close"),
    N_("Satisfaction (1–5)"),
    N_("Ratings"),
    N_("IKM responses"),
    N_("IKM (25–100)"),
    N_("IKM grade"),
    N_("Service performance"),
    N_("Quick ratings"),
    N_("Average quick rating (1–5)"),
]


def column_names() -> list[str]:
    """The CSV's header after its first column, in the current language: the report figures,
    the IKM, then each item's average (NRR) so a spreadsheet shows which item pulls it down."""
    return [
        *(gettext(c) for c in COLUMNS),
        *(
            gettext(N_("NRR U%(number)s %(name)s"), number=item.number, name=gettext(item.name))
            for item in IKM_ITEMS
        ),
    ]


def table_cells(row: Row[Any]) -> list[str]:
    f = row.figures
    return [
        str(f.received),
        str(f.verified_in_time),
        str(f.verified_late),
        csv_percent(f.verified_share),
        str(f.followed_up_in_time),
        str(f.followed_up_late),
        csv_percent(f.followed_up_share),
        str(f.overdue_now),
        str(f.closed),
        csv_decimal(row.median_response_days),
        csv_decimal(row.median_close_days),
        csv_decimal(f.satisfaction),
        str(f.ratings),
        *feedback_cells(row),
    ]


def feedback_cells(row: Row[Any]) -> list[str]:
    fb = row.feedback
    grade = fb.grade
    return [
        str(fb.ikm_responses),
        csv_decimal(fb.ikm, 2),
        grade.letter if grade else "–",
        gettext(grade.words) if grade else "–",
        str(fb.ratings),
        csv_decimal(fb.rating_average),
        *(csv_decimal(i.nrr, 2) for i in fb.items()),
    ]


@staff_only("coordinator", "inspector", "admin")
async def monitoring_csv(request: Request, session: StaffSession) -> Response:
    data = await _monitoring(request, session)
    if data.errors:
        raise HTTPException(400, "; ".join(data.errors))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([gettext(N_("Unit or month")), *column_names()])
    # A unit's name is what an admin typed; the figures are ours.
    for row in data.by_unit:
        writer.writerow([csv_cell(data.names.get(row.group, "")), *table_cells(row)])
    for month_row in data.by_month:
        writer.writerow([month_row.group, *table_cells(month_row)])
    writer.writerow([gettext(N_("Total")), *table_cells(data.total)])
    name = f"monitoring-{data.root.slug}-{data.first:%Y-%m}-{data.last:%Y-%m}.csv"

    async def body() -> AsyncIterator[str]:
        yield out.getvalue()

    return csv_download(body(), name)
