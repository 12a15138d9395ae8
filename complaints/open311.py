"""Open311 GeoReport v2 in the domain's terms: which services there are (one per category, their
codes the stored category codes, so they stay as they are across releases), the attributes a
report needs beyond its text, what the public listing may show, how our statuses read as
`open`/`closed`, and the rules for the date window of a query. No HTTP, no SQL: the open311/
surface speaks the wire format, the store runs the queries, both through these rules.

What is public (docs/open311.md says the same): a report staff have verified (forwarded to a
unit, answered, closed, or found outside the organisation's authority), never a confidential
one, and never anything about who sent it."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from lapor.complaints.categories import CATEGORIES
from lapor.complaints.reports import Identity, Kind, Status, clean_text

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The discovery document's changeset: moved on whenever the services or their definitions
# change, so clients know to refresh what they cached.
CHANGESET = "2026-12-02T00:00:00Z"

# The categories, grouped as a client's menu would show them. Every category is in one group.
GROUPS: Mapping[str, tuple[str, ...]] = {
    "administrasi": ("pelayanan", "kependudukan", "perizinan", "pajak"),
    "layanan_dasar": ("kesehatan", "pendidikan", "sosial", "ketenagakerjaan"),
    "prasarana": ("infrastruktur", "transportasi", "lingkungan"),
    "ketertiban": ("ketertiban", "pungli"),
    "lainnya": ("lainnya",),
}
GROUP_OF: Mapping[str, str] = {code: group for group, codes in GROUPS.items() for code in codes}
assert set(GROUP_OF) == set(CATEGORIES), "every category belongs to one group"
# The service of a verified report filed under no category.
UNFILED = "lainnya"

# Only these can be seen publicly, and only once verified (verified_at is set).
PUBLIC_STATUSES = frozenset(
    {Status.FORWARDED, Status.FOLLOWED_UP, Status.CLOSED, Status.NOT_AUTHORITY}
)
OPEN_STATUSES = frozenset({Status.FORWARDED, Status.FOLLOWED_UP})
# The steps of a timeline shown as updates: what staff did and said to the reporter, and the
# reporter's acceptance as a bare status change. Never what the reporter wrote.
PUBLIC_EVENT_KINDS = frozenset(
    {
        "forwarded",
        "followed_up",
        "not_authority",
        "handed_over",
        "rerouted",
        "accepted",
        "auto_closed",
    }
)
# Whose note is the request's status_notes: the newest of these with a note.
NOTE_EVENT_KINDS = PUBLIC_EVENT_KINDS - {"accepted", "auto_closed"}
# mySociety's update statuses (FixMyStreet's open311-adapter) for our statuses.
UPDATE_STATUS: Mapping[Status, str] = {
    Status.RECEIVED: "open",
    Status.POSTPONED: "open",
    Status.FORWARDED: "in_progress",
    Status.FOLLOWED_UP: "action_scheduled",
    Status.CLOSED: "closed",
    Status.NOT_AUTHORITY: "not_councils_responsibility",
    Status.ARCHIVED: "no_further_action",
}


class OpenClosed(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def open_closed(status: Status) -> OpenClosed:
    return OpenClosed.OPEN if status in OPEN_STATUSES else OpenClosed.CLOSED


def statuses_for(wanted: Sequence[OpenClosed]) -> frozenset[Status]:
    """The public statuses a `status=open,closed` filter names; all of them for none."""
    if not wanted:
        return PUBLIC_STATUSES
    return frozenset(s for s in PUBLIC_STATUSES if open_closed(s) in wanted)


def service_of(category: str | None) -> str:
    return category if category is not None and category in GROUP_OF else UNFILED


# -- the attributes of a service definition ------------------------------------------------


class Attribute(StrEnum):
    KIND = "kind"
    IDENTITY = "identity"
    UNIT = "unit"


ATTRIBUTE_ORDER = (Attribute.KIND, Attribute.IDENTITY, Attribute.UNIT)
KIND_VALUES = tuple(Kind)
IDENTITY_VALUES = tuple(Identity)


@dataclass(frozen=True)
class Filing:
    """What a POST's attributes chose, checked against the definition."""

    kind: Kind
    identity: Identity | None  # None: named when a name and a contact came, else anonymous
    unit_slug: str | None  # None: the organisation's top unit


class AttributeProblem(StrEnum):
    UNKNOWN = "unknown"  # an attribute code the definition does not have
    VALUE = "value"  # a value not among the attribute's values
    REPEATED = "repeated"  # several values for a single-value list


@dataclass(frozen=True)
class BadAttribute(ValueError):
    code: str
    problem: AttributeProblem


def read_attributes(given: Mapping[str, Sequence[str]], unit_slugs: Sequence[str]) -> Filing:
    """`attribute[CODE]=VALUE` as a POST sent them (code -> the values given), or
    BadAttribute for the first one outside the definition. An empty value is no value."""
    for code in given:
        if code not in tuple(Attribute):
            raise BadAttribute(code[:40], AttributeProblem.UNKNOWN)
    chosen: dict[Attribute, str] = {}
    for attribute in ATTRIBUTE_ORDER:
        values = [v.strip() for v in given.get(attribute.value, ()) if v.strip()]
        if len(values) > 1:
            raise BadAttribute(attribute.value, AttributeProblem.REPEATED)
        if values:
            chosen[attribute] = values[0]
    kind = Kind.COMPLAINT
    if Attribute.KIND in chosen:
        try:
            kind = Kind(chosen[Attribute.KIND])
        except ValueError:
            raise BadAttribute(Attribute.KIND.value, AttributeProblem.VALUE) from None
    identity = None
    if Attribute.IDENTITY in chosen:
        try:
            identity = Identity(chosen[Attribute.IDENTITY])
        except ValueError:
            raise BadAttribute(Attribute.IDENTITY.value, AttributeProblem.VALUE) from None
    unit = chosen.get(Attribute.UNIT)
    if unit is not None and unit not in unit_slugs:
        raise BadAttribute(Attribute.UNIT.value, AttributeProblem.VALUE)
    return Filing(kind, identity, unit)


# -- what the public listing shows of the text ----------------------------------------------

MASK = "[…]"
# What still reads as a way to reach someone in a report's text or a note: an e-mail address,
# an Indonesian phone number (+62, 62 or 0, then 8 to 13 digits, spaced or not), a 16-digit
# NIK. Sums of money ("Rp 15.000.000") and years start otherwise and stay.
_CONTACTS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w+])(?:\+62|62|0)(?:[\s.-]?\d){8,13}(?!\d)"
    r"|(?<!\d)\d{16}(?!\d)"
)


def mask_contacts(text: str) -> str:
    """The text with every e-mail address, phone number and NIK replaced by MASK: the public
    listing never shows one, even where the reporter wrote it into the report."""
    return _CONTACTS.sub(MASK, text)


# -- what a POST may carry -------------------------------------------------------------------

MEDIA_URL_MAX = 500  # reports.media_url
# "May contain line breaks, but not html or code": a tag, a comment, a declaration or a
# character reference is refused rather than silently cleaned, so the client knows. A "<" that
# starts no tag ("antrean < 5 menit") is prose, as a browser reads it too.
_MARKUP = re.compile(r"<[A-Za-z!/?]|&#?[A-Za-z0-9]+;")


def has_markup(text: str) -> bool:
    return _MARKUP.search(text) is not None


def read_point(lat: str, long: str) -> tuple[float, float] | None:
    """WGS84 latitude and longitude as sent, or ValueError; None when neither came."""
    lat, long = lat.strip(), long.strip()
    if not lat and not long:
        return None
    if not lat or not long:
        raise ValueError("lat and long come together")
    latitude, longitude = float(lat), float(long)
    # float() reads "nan" and "inf" too; neither is a place.
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError("outside WGS84")
    return round(latitude, 7), round(longitude, 7)


def read_media_url(raw: str) -> str | None:
    """A link to media as sent, kept for staff to open (never fetched): http(s) only, so a
    javascript: or data: address never becomes a link on the report's page."""
    url = raw.strip()
    if not url:
        return None
    if len(url) > MEDIA_URL_MAX or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("not a link")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest or rest.startswith("/"):
        raise ValueError("not an http(s) link")
    return url


# -- the date window of GET requests and GET servicerequestupdates --------------------------

WINDOW = timedelta(days=90)
PAGE_SIZE_MAX = 1000  # the spec's "first 1000 requests"
PAGES_MAX = 10_000
CODES_MAX = 100  # tracking codes in one service_request_id list


class WindowProblem(StrEnum):
    TOO_LONG = "too_long"
    REVERSED = "reversed"


@dataclass(frozen=True)
class BadWindow(ValueError):
    problem: WindowProblem


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The span of requested_datetime a query covers: the most recent 90 days by default,
    90 days from a start or up to an end given alone, never more than 90 days."""
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise BadWindow(WindowProblem.REVERSED)
    if end - start > WINDOW:
        raise BadWindow(WindowProblem.TOO_LONG)
    return start, end


_W3C = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?\Z")


def read_datetime(raw: str) -> datetime:
    """A W3C date-time (the subset of ISO 8601 the spec names) with its zone, or a bare date
    (midnight UTC); ValueError for anything else, a time without a zone included."""
    text = raw.strip()
    if not _W3C.match(text):
        raise ValueError("not a W3C date-time with a zone")
    if len(text) == 10:
        text += "T00:00:00Z"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None
    return moment


def w3c(moment: datetime) -> str:
    """`2026-12-02T14:05:00+07:00`: seconds, and the zone always."""
    return moment.replace(microsecond=0).isoformat()


# -- API keys --------------------------------------------------------------------------------

KEY_PREFIX = "lapor311_"
NAME_MAX = 120


def read_client_name(typed: str) -> str:
    """The name a key is issued under (the client's: "FixMyStreet Banjarmasin"), one line;
    ValueError when empty or longer than NAME_MAX. It is what staff see on reports it filed."""
    name = " ".join(clean_text(typed).split())
    if not name or len(name) > NAME_MAX:
        raise ValueError("a client name of 1 to 120 characters")
    return name


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_hash(key: str) -> str:
    """What is stored of a key: 256 random bits need no slow hash to be safe from guessing."""
    return hashlib.sha256(key.strip().encode()).hexdigest()
