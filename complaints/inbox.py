"""What the staff inbox can be asked: filters that combine, two sort orders, a keyset cursor.

Read from the query string here, with an error code per bad parameter; the store turns a valid
query into SQL and the view turns the error codes into sentences."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from lapor.complaints import search
from lapor.complaints.categories import CATEGORY_CODES
from lapor.complaints.deadlines import WorkingCalendar
from lapor.complaints.reports import Channel, Kind, Status
from lapor.complaints.workflow import TAG_MAX


class Sort(StrEnum):
    ARRIVAL = "arrival"  # newest first
    DEADLINE = "deadline"  # the running deadline, soonest (most overdue) first


class Assigned(StrEnum):
    ME = "me"  # to the member of staff asking
    NOBODY = "nobody"  # to no one in particular yet


class Due(StrEnum):
    OVERDUE = "overdue"  # the running deadline has passed
    SOON = "soon"  # the running deadline falls within `within_days` working days


# The days a staff filter (the inbox's, the exports', the monitoring page's) may name.
# SP4N-LAPOR! dates from 2012 and this service is younger still, so no report was received
# before 2000; 2100 is past any deadline a report received now can have. A fixed year rather
# than "a few years past today", so a link or a test that works today works next year too.
# Beyond such bounds the calendar arithmetic runs out of range (year 1 midnight in the
# office's zone as UTC, the day after 9999-12-31, a spreadsheet's dates): a page answered
# 500 and a CSV broke off mid-stream.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)

WITHIN_DAYS_DEFAULT = 3
WITHIN_DAYS_MAX = 60
MAX_ID = 2**63 - 1
SEARCH_MAX = 200

T = TypeVar("T")


class Order(StrEnum):
    """The key a page is ordered and continued by (what its cursor holds)."""

    ID = "id"  # newest first by id: the order reports were stored in
    DEADLINE = "deadline"  # (due_on, id), soonest first
    # (received_at, id), newest first: for a received window, whose newest reports are found
    # by the received_at index straight away, where walking ids down from the newest report
    # would first pass every report received since the window's end.
    RECEIVED = "received"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this report in the query's order."""

    id: int
    due_on: date | None = None
    received_at: datetime | None = None  # aware, UTC

    def encode(self) -> str:
        if self.due_on:
            return f"{self.due_on.isoformat()}.{self.id}"
        if self.received_at:
            return f"{self.received_at.astimezone(UTC).strftime(_MOMENT)}.{self.id}"
        return str(self.id)


# A moment in a cursor: UTC to the microsecond, as stored, so no report is skipped or repeated.
_MOMENT = "%Y-%m-%dT%H:%M:%S.%fZ"
_MOMENT_SHAPE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII)


@dataclass(frozen=True)
class InboxQuery:
    statuses: tuple[Status, ...] = ()
    kind: Kind | None = None
    channel: Channel | None = None
    unit_id: int | None = None  # the unit the report is about, with its sub-units
    due: Due | None = None
    within_days: int = WITHIN_DAYS_DEFAULT
    received_from: date | None = None
    received_to: date | None = None  # inclusive
    category: str | None = None  # complaints.categories code
    tag: str | None = None  # one tag, folded as stored
    assigned: Assigned | None = None
    text: str = ""  # as typed, for the search box
    words: tuple[str, ...] = field(default=())  # folded search words
    sort: Sort = Sort.ARRIVAL
    after: Cursor | None = None

    @property
    def order(self) -> Order:
        return order_of(
            self.sort, dated=bool(self.received_from or self.received_to), searched=bool(self.words)
        )

    @property
    def filtered(self) -> bool:
        return self != InboxQuery(sort=self.sort, after=self.after)

    def params(self, *, after: Cursor | None = None) -> list[tuple[str, str]]:
        """The query string that asks for this query again (with another cursor)."""
        out: list[tuple[str, str]] = [("status", s.value) for s in self.statuses]
        if self.kind:
            out.append(("kind", self.kind.value))
        if self.channel:
            out.append(("channel", self.channel.value))
        if self.unit_id is not None:
            out.append(("unit", str(self.unit_id)))
        if self.due:
            out.append(("due", self.due.value))
            if self.due is Due.SOON:
                out.append(("within", str(self.within_days)))
        if self.category:
            out.append(("category", self.category))
        if self.tag:
            out.append(("tag", self.tag))
        if self.assigned:
            out.append(("assigned", self.assigned.value))
        if self.received_from:
            out.append(("from", self.received_from.isoformat()))
        if self.received_to:
            out.append(("to", self.received_to.isoformat()))
        if self.text:
            out.append(("q", self.text))
        if self.sort is not Sort.ARRIVAL:
            out.append(("sort", self.sort.value))
        if after is not None:
            out.append(("after", after.encode()))
        return out

    def first_page(self) -> InboxQuery:
        return replace(self, after=None)


E = TypeVar("E", bound=StrEnum)


def _enum(cls: type[E]) -> Callable[[str], E | None]:
    def read(raw: str) -> E | None:
        try:
            return cls(raw)
        except ValueError:
            return None

    return read


def _int(raw: str, largest: int = MAX_ID) -> int | None:
    # isascii: "²".isdigit() is true and int("²") raises.
    if raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) <= largest:
        return int(raw)
    return None


def _category(raw: str) -> str | None:
    return raw if raw in CATEGORY_CODES else None


def _tag(raw: str) -> str | None:
    tag = " ".join(raw.split()).casefold()
    return tag if 0 < len(tag) <= TAG_MAX and "," not in tag else None


def _within(raw: str) -> int | None:
    days = _int(raw, WITHIN_DAYS_MAX)
    return days if days else None


def in_range(day: date) -> bool:
    """Whether a staff filter may name `day` (FIRST_DAY to LAST_DAY)."""
    return FIRST_DAY <= day <= LAST_DAY


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


def _moment(raw: str) -> datetime | None:
    if not _MOMENT_SHAPE.fullmatch(raw):
        return None
    try:
        moment = datetime.strptime(raw, _MOMENT).replace(tzinfo=UTC)
    except ValueError:  # 2026-02-30 and the like
        return None
    return moment if in_range(moment.date()) else None


def order_of(sort: Sort, *, dated: bool, searched: bool) -> Order:
    if sort is Sort.DEADLINE:
        return Order.DEADLINE
    # A search keeps the id order: the search index hands its matches over by id.
    return Order.RECEIVED if dated and not searched else Order.ID


def _cursor(order: Order) -> Callable[[str], Cursor | None]:
    def read(raw: str) -> Cursor | None:
        if order is Order.ID:
            report_id = _int(raw)
            return Cursor(report_id) if report_id is not None else None
        key, _, rest = raw.rpartition(".")
        report_id = _int(rest)
        if report_id is None:
            return None
        if order is Order.DEADLINE:
            due_on = _date(key)
            return Cursor(report_id, due_on=due_on) if due_on and in_range(due_on) else None
        moment = _moment(key)
        return Cursor(report_id, received_at=moment) if moment else None

    return read


def read_inbox_query(params: Mapping[str, str | list[str]]) -> tuple[InboxQuery, list[str]]:
    """The query and the names of the parameters that could not be read (those are left out
    of the query, so the page can show both what was understood and what was not), with
    "dates" (once) for a well-formed date outside FIRST_DAY to LAST_DAY."""
    errors: list[str] = []

    def values(name: str) -> list[str]:
        raw = params.get(name, [])
        return [v.strip() for v in ([raw] if isinstance(raw, str) else raw) if v.strip()]

    def pick(name: str, read: Callable[[str], T | None]) -> T | None:
        found = values(name)
        if not found:
            return None
        value = read(found[0])
        if value is None:
            errors.append(name)
        return value

    statuses: list[Status] = []
    for raw in values("status"):
        status = _enum(Status)(raw)
        if status is None:
            errors.append("status")
        elif status not in statuses:
            statuses.append(status)
    received_from, received_to = pick("from", _date), pick("to", _date)
    if not all(in_range(d) for d in (received_from, received_to) if d):
        errors.append("dates")
        received_from = received_from if received_from and in_range(received_from) else None
        received_to = received_to if received_to and in_range(received_to) else None
    if received_from and received_to and received_from > received_to:
        errors.append("to")
        received_to = None
    text = (values("q") or [""])[0][:SEARCH_MAX]
    words = search.tokens(text)
    if text and not words:
        errors.append("q")
    sort = pick("sort", _enum(Sort)) or Sort.ARRIVAL
    order = order_of(sort, dated=bool(received_from or received_to), searched=bool(words))
    query = InboxQuery(
        statuses=tuple(statuses),
        kind=pick("kind", _enum(Kind)),
        channel=pick("channel", _enum(Channel)),
        unit_id=pick("unit", _int),
        due=pick("due", _enum(Due)),
        within_days=pick("within", _within) or WITHIN_DAYS_DEFAULT,
        received_from=received_from,
        received_to=received_to,
        category=pick("category", _category),
        tag=pick("tag", _tag),
        assigned=pick("assigned", _enum(Assigned)),
        text=text if words else "",
        words=words,
        sort=sort,
        after=pick("after", _cursor(order)),
    )
    return query, errors


def next_cursor(last: Any, query: InboxQuery) -> Cursor:
    """The cursor after `last` in `query`'s order (an inbox item or an export row: anything
    with id, due_on and received_at)."""
    if query.order is Order.DEADLINE:
        return Cursor(last.id, due_on=last.due_on)
    if query.order is Order.RECEIVED:
        return Cursor(last.id, received_at=last.received_at)
    return Cursor(last.id)


def received_window(query: InboxQuery, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The query's local calendar days as a UTC interval [start, end)."""

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tz).astimezone(UTC)

    return (
        midnight(query.received_from) if query.received_from else None,
        midnight(query.received_to + timedelta(days=1)) if query.received_to else None,
    )


def query_bounds(query: InboxQuery, calendar: WorkingCalendar, tz: ZoneInfo) -> dict[str, Any]:
    """The dates the store needs to apply `query` today: the day itself, the end of "due
    soon" in working days, and the received window in UTC. The inbox page and the export
    runner read a list with the same bounds, so an export holds what its page showed."""
    today = datetime.now(tz).date()
    return {
        "today": today,
        "soon_until": calendar.add_working_days(today, query.within_days),
        "received_window": received_window(query, tz),
    }
