"""`/statistik`: the organisation's figures, and `/statistik/{unit}` each unit's, by month and
by sub-unit, as a page for anyone and as open data (`.csv`, `.json`); and `/jawaban`, the
public list of answered reports.

Counted over every report the unit received, confidential ones included (a count shows
nothing of them); no text, name or code of any report is here. Summing a year of a
province's reports takes the database seconds, so each (unit, period) is computed once and
served from memory for PUBLIC_SECONDS, also to the HTTP caches in front (Cache-Control), and
then recomputed in the background while the kept figures are still served (STALE_SECONDS)."""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lapor.complaints.access import Reach, Scope
from lapor.complaints.monitoring import (
    Row,
    branch_of,
    month_start,
    months_between,
    roll_up,
    with_follow_up_days,
)
from lapor.complaints.openness import FIELDS, PublicPeriod, open_data, read_period, years_offered
from lapor.complaints.publication import PAGE_SIZE, read_page, read_query
from lapor.complaints.records import Unit
from lapor.complaints.tracking import group
from lapor.store.cache import SharedCache
from lapor.store.monitoring import Period
from lapor.store.publication import Total
from lapor.web.charts import bar_chart
from lapor.web.services import Services, services

logger = logging.getLogger(__name__)

PUBLIC_SECONDS = 300  # how old the figures a visitor reads may be
# Past that, the figures kept are served once more, with the time they were summed, while they
# are summed again in the background; only after a day without visitors does one wait.
STALE_SECONDS = 86_400
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class PublicFigures:
    root: Unit | None  # None: the whole organisation
    period: PublicPeriod
    total: Row[None]
    by_month: list[Row[str]]
    by_unit: list[tuple[Unit, Row[int]]]  # the units right below `root`, and root itself
    as_of: datetime


async def _compute(svc: Services, root: Unit | None, period: PublicPeriod) -> PublicFigures:
    settings = svc.settings
    tz = settings.timezone
    units = await svc.store.list_units()
    now = datetime.now(UTC)
    escalation = timedelta(days=settings.deadline_rules.escalate_after_calendar_days)
    window = Period(
        datetime.combine(period.first, time(), tz),
        datetime.combine(month_start(period.last, -1), time(), tz),
        now.astimezone(tz).date(),
        tz,
        escalate_before=now - escalation,
    )
    path = root.path if root else ""
    everything = Scope(Reach.ALL, root.id if root else 0, path)
    raw, dates = await svc.store.monitoring_with_follow_up_dates(everything, path, window)
    with_follow_up_days(raw, dates, settings.calendar)
    # Each unit counts towards the unit right below `root` it lies under (or `root` itself).
    bucket = branch_of(units, path, root.id if root else None)
    below = [u for u in units if u.parent_id == (root.id if root else None)]
    shown = ([root] if root else []) + below
    rows, total = roll_up(raw, lambda key: bucket.get(key[0]), [u.id for u in shown])
    by_id = {row.group: row for row in rows}
    by_month, _ = roll_up(raw, lambda key: key[1], months_between(period.first, period.last))
    return PublicFigures(root, period, total, by_month, [(u, by_id[u.id]) for u in shown], now)


Cached = SharedCache[tuple[int, int | None], PublicFigures]


def _figures_cache(svc: Services) -> Cached:
    # One cache per app (its store), kept beside the other pages computed once.
    cache: Cached = svc.page_cache.setdefault(
        "public_figures", Cached(PUBLIC_SECONDS, stale_seconds=STALE_SECONDS)
    )
    return cache


async def _load(request: Request, root: Unit | None) -> tuple[PublicFigures, bool]:
    svc = services(request)
    today = datetime.now(svc.settings.timezone).date()
    period, readable = read_period(request.query_params.get("year", ""), today)
    key = (root.id if root else 0, period.year)
    figures = await _figures_cache(svc).get(key, lambda: _compute(svc, root, period))
    return figures, readable


async def warm_figures(svc: Services) -> None:
    """Sum the organisation's figures (/statistik as first opened) once as the server starts,
    in the background: over a million reports that takes seconds, which the first visitor
    after a restart would otherwise wait out. Later sums run behind the kept figures."""
    period, _ = read_period("", datetime.now(svc.settings.timezone).date())
    try:
        await _figures_cache(svc).get((0, period.year), lambda: _compute(svc, None, period))
    except Exception:
        # A visitor's request sums them again, and shows its error if it has one.
        logger.exception("summing the public figures at start failed")


def _headers() -> dict[str, str]:
    return {"cache-control": f"public, max-age={PUBLIC_SECONDS}"}


async def _page(request: Request, root: Unit | None) -> Response:
    svc = services(request)
    figures, readable = await _load(request, root)
    today = datetime.now(svc.settings.timezone).date()
    first = await svc.store.first_received_day(svc.settings.timezone)
    suffix = f"?year={figures.period.year}" if figures.period.year else ""
    base = f"/statistik/{root.slug}" if root else "/statistik"
    return svc.templates.response(
        request,
        "openness/figures.html",
        {
            "f": figures,
            "chart": bar_chart(
                [(r.group, r.figures.received, r.figures.verified_share) for r in figures.by_month]
            ),
            "years": years_offered(today, first),
            "base": base,
            "csv_url": f"{base}.csv{suffix}",
            "json_url": f"{base}.json{suffix}",
            "readable": readable,
            "escalation_days": svc.settings.deadline_rules.escalate_after_calendar_days,
        },
        status_code=200 if readable else 400,
        headers=_headers() if readable else {"cache-control": "no-store"},
    )


def _csv(figures: PublicFigures) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["unit", "month", *FIELDS])

    def cells(data: dict[str, Any]) -> list[Any]:
        return ["" if data[name] is None else data[name] for name in FIELDS]

    # The rows a spreadsheet filters on: every unit's period, every month, then the total.
    for unit, row in figures.by_unit:
        writer.writerow([unit.slug, "", *cells(open_data(row))])
    root = figures.root.slug if figures.root else ""
    for month in figures.by_month:
        writer.writerow([root, month.group, *cells(open_data(month))])
    writer.writerow([root, "", *cells(open_data(figures.total))])
    period = figures.period.year or f"{figures.period.first:%Y-%m}_{figures.period.last:%Y-%m}"
    name = f"statistik-{root or 'semua'}-{period}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**_headers(), "content-disposition": f'attachment; filename="{name}"'},
    )


def _json(figures: PublicFigures) -> Response:
    root = figures.root
    body = {
        "unit": {"slug": root.slug, "name": root.name} if root else None,
        "period": {
            "from": f"{figures.period.first:%Y-%m}",
            "to": f"{figures.period.last:%Y-%m}",
        },
        "as_of": figures.as_of.isoformat(timespec="seconds"),
        "total": open_data(figures.total),
        "months": [{"month": m.group, **open_data(m)} for m in figures.by_month],
        "units": [{"slug": u.slug, "name": u.name, **open_data(row)} for u, row in figures.by_unit],
    }
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        media_type="application/json",
        headers={**_headers(), "access-control-allow-origin": "*"},
    )


async def _data(request: Request, root: Unit | None, fmt: str) -> Response:
    if fmt not in FORMATS:
        raise HTTPException(404)
    figures, readable = await _load(request, root)
    if not readable:
        raise HTTPException(400, "year must be a year from 2000 to this one, such as 2026")
    return _csv(figures) if fmt == "csv" else _json(figures)


async def organisation_figures(request: Request) -> Response:
    return await _page(request, None)


async def organisation_figures_data(request: Request) -> Response:
    return await _data(request, None, request.path_params["fmt"])


async def unit_figures(request: Request) -> Response:
    """`/statistik/{slug}`, or `/statistik/{slug}.csv` / `.json` (a slug has no dot)."""
    slug, dot, fmt = request.path_params["name"].partition(".")
    unit = await services(request).store.unit_by_slug(slug)
    if unit is None or unit.slug != slug:
        raise HTTPException(404)
    return await _data(request, unit, fmt) if dot else await _page(request, unit)


LIST_SECONDS = 60  # how old the public list a visitor reads may be


async def answered_reports(request: Request) -> Response:
    """`/jawaban`: the reports the units answered, newest answer first, searchable and paged
    (complaints/publication.py says which are on it and what they show)."""
    svc = services(request)
    query = read_query(request.query_params.get("q", ""))
    page = read_page(request.query_params.get("page", ""))
    if page is None:
        raise HTTPException(400, "page must be a page number, such as 2")
    items = await svc.store.answered_reports(query=query, page=page, size=PAGE_SIZE)
    if page == 1 and len(items) < PAGE_SIZE:
        total = Total(len(items))  # the whole list or search is on this page
    else:
        # Counting the whole list reads every entry of its index: the figure is kept as long
        # as a visitor's page may be (LIST_SECONDS), and searched words a while too.
        totals: SharedCache[str, Total] = svc.page_cache.setdefault(
            "public_list_totals", SharedCache(LIST_SECONDS, stale_seconds=STALE_SECONDS)
        )
        total = await totals.get(query, lambda: svc.store.answered_total(query=query))
    # Past SEARCH_COUNT matches a search does not know how many pages it has: it offers the
    # next page while a page is full.
    pages = max(1, -(-total.count // PAGE_SIZE))
    more = total.more and len(items) == PAGE_SIZE

    def page_url(number: int) -> str:
        params = {"q": query} if query else {}
        if number > 1:
            params["page"] = str(number)
        return "/jawaban" + (f"?{urlencode(params)}" if params else "")

    return svc.templates.response(
        request,
        "openness/answered.html",
        {
            "items": items,
            "total": total,
            "query": query,
            "page": page,
            "pages": pages,
            "previous_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages or more else None,
            "format_code": group,
            "local_day": lambda moment: moment.astimezone(svc.settings.timezone).date(),
        },
        status_code=200 if page <= pages or items else 404,
        headers={"cache-control": f"public, max-age={LIST_SECONDS}"},
    )
