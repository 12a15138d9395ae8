"""The inbox query as a URL carries it, shared by the inbox, the exports and the monitoring
page: the filters it reads, the sentences for unreadable ones, and the dates that make it
concrete today in the organisation's time zone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request

from lapor.complaints import inbox
from lapor.complaints.inbox import FIRST_DAY, LAST_DAY, InboxQuery, read_inbox_query
from lapor.settings import Settings
from lapor.web.i18n import N_, gettext

FILTER_ERRORS = {
    "status": N_("Unknown status."),
    "kind": N_("Unknown kind of report."),
    "channel": N_("Unknown entry point."),
    "unit": N_("Unknown unit."),
    "due": N_("Unknown deadline filter."),
    "within": N_("The number of working days must be between 1 and 60."),
    "from": N_("The start date must look like 2026-03-17."),
    "to": N_("The end date must look like 2026-03-17 and not be before the start date."),
    "q": N_("Search for words of at least 2 letters or digits."),
    "category": N_("Unknown category."),
    "tag": N_("A tag has at most 30 characters and no comma."),
    "assigned": N_("Unknown assignment filter."),
    "sort": N_("Unknown sort order."),
    "after": N_("That page link is damaged: showing the first page."),
    "dates": N_("Dates must lie between the years %(first)s and %(last)s."),
}


def date_range_error() -> str:
    """The sentence for a date outside the range staff filters may name (the inbox's, the
    exports' and the monitoring page's), in the current language."""
    return gettext(FILTER_ERRORS["dates"], first=FIRST_DAY.year, last=LAST_DAY.year)


def filter_errors(errors: list[str]) -> list[str]:
    """The sentences for the unreadable filters `read_inbox_query` named."""
    return [date_range_error() if e == "dates" else gettext(FILTER_ERRORS[e]) for e in errors]


def request_query(request: Request) -> tuple[InboxQuery, list[str]]:
    """The inbox query in the request's query string, and the names of unreadable filters."""
    return read_inbox_query(
        {key: request.query_params.getlist(key) for key in request.query_params}
    )


def query_bounds(query: InboxQuery, settings: Settings) -> dict[str, Any]:
    """The dates the store needs to apply `query` today, in the organisation's calendar."""
    return inbox.query_bounds(query, settings.calendar, settings.timezone)


def local_today(tz: ZoneInfo) -> date:
    return datetime.now(tz).date()
