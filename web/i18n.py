"""gettext for every page: Bahasa Indonesia first, English second.

msgids are English; `locale/id` carries the Indonesian text (a test keeps it complete). The
catalogs are compiled from the .po files at start-up, so no binary .mo lives in the repository.
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_format_percent
from babel.support import NullTranslations, Translations
from starlette.datastructures import URL
from starlette.requests import HTTPConnection

from lapor import resources

LOCALE_DIR = resources.path("locale")
LANGUAGES = ("id", "en")
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
LANGUAGE_COOKIE = "lang"

# The zone names Indonesians read on clocks and letters; CLDR would print "GMT+08.00".
_ZONE_NAMES = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("lapor_language", default="id")


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> dict[str, NullTranslations]:
    catalogs: dict[str, NullTranslations] = {}
    for language in LANGUAGES:
        po_path = locale_dir / language / "LC_MESSAGES" / "messages.po"
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        catalogs[language] = Translations(buffer)
    return catalogs


_catalogs: dict[str, NullTranslations] = {}


def catalogs() -> dict[str, NullTranslations]:
    if not _catalogs:
        _catalogs.update(load_catalogs())
    return _catalogs


def current_language() -> str:
    return _current.get()


@contextmanager
def using(language: str) -> Iterator[None]:
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


def set_language(language: str) -> None:
    _current.set(language)


def gettext(message: str, **variables: object) -> str:
    text = catalogs()[_current.get()].gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = catalogs()[_current.get()].ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def catalog_ngettext(singular: str, plural: str, n: int) -> str:
    """The catalog's words for `n`, unformatted: templates format them (web/templating.py)."""
    return catalogs()[_current.get()].ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction where it is translated later (tables, error codes)."""
    return message


def negotiate(conn: HTTPConnection, default: str, *, software: bool = False) -> str:
    """An explicit choice (?lang=) beats the cookie the switch set, which beats the
    deployment's language. A browser's Accept-Language is not asked: an Indonesian service
    speaks Indonesian to a phone set to English (many are, out of the box) until the person
    chooses English with the switch on the page. Client software (`software`: Open311) is
    different: its Accept-Language is what its programmer chose for the people it shows our
    sentences to, so it is honoured after ?lang=."""
    # Most requests have no query at all: not parsing an empty one is a tenth of a
    # submission's own work on the event loop.
    chosen = conn.query_params.get("lang") if conn.scope.get("query_string") else None
    asked = chosen or (None if software else _language_cookie(conn))
    if asked in LANGUAGES:
        return asked
    if software:
        for language in _accept_language(conn.headers.get("accept-language", "")):
            if language in LANGUAGES:
                return language
    return default


def _language_cookie(conn: HTTPConnection) -> str | None:
    # Most requests carry no cookie at all (a citizen's first scan): no header object is built
    # to learn that.
    if not any(name == b"cookie" for name, _ in conn.scope["headers"]):
        return None
    return conn.cookies.get(LANGUAGE_COOKIE)


def _accept_language(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(weighted)]


def language_url(url: URL, language: str) -> str:
    """The page at `url` in `language`: its path and query with `lang` set, the rest kept (a
    filter, a tracking code's private link), for the language switch."""
    query = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "lang"]
    return f"{url.path}?{urlencode([*query, ('lang', language)])}"


def zone_name(tz: ZoneInfo) -> str:
    return _ZONE_NAMES.get(tz.key, tz.key)


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


# An inbox page formats 50 moments and 50 deadlines, most deadlines on a handful of days:
# Babel takes 15-20 µs for each, so the day's words are made once per day and language and
# only the clock time is put together here. The patterns are Babel's "d MMMM y, HH.mm"
# (Indonesian writes a dot between hours and minutes) and "d MMMM y, HH:mm".
_DAY_PATTERN = "d MMMM y"
_TIME_SEPARATOR = {"id": "."}


@lru_cache(maxsize=4096)
def _day_words(value: date, pattern: str, language: str) -> str:
    return babel_format_date(value, pattern, locale=_locale(language))


def format_datetime(value: datetime, tz: ZoneInfo) -> str:
    language = _current.get()
    if value.tzinfo is None:  # as Babel reads a naive moment: UTC
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(tz)
    day = _day_words(local.date(), _DAY_PATTERN, language)
    separator = _TIME_SEPARATOR.get(language, ":")
    return f"{day}, {local.hour:02d}{separator}{local.minute:02d} {zone_name(tz)}"


def format_short_datetime(value: datetime, tz: ZoneInfo) -> str:
    """ "3 Des, 01.55" (the year too when it is not this one): for lists, where the long form
    took three lines of a column."""
    language = _current.get()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(tz)
    pattern = "d MMM" if local.year == datetime.now(tz).year else "d MMM y"
    separator = _TIME_SEPARATOR.get(language, ":")
    day = _day_words(local.date(), pattern, language)
    return f"{day}, {local.hour:02d}{separator}{local.minute:02d}"


def format_short_date(value: date) -> str:
    """ "Sel, 8 Des": a deadline in a list."""
    language = _current.get()
    pattern = "EEE, d MMM" if value.year == date.today().year else "EEE, d MMM y"
    return _day_words(value, pattern, language)


def format_date(value: date) -> str:
    return _day_words(value, "EEEE, d MMMM y", _current.get())


def format_month(value: date) -> str:
    """ "Desember 2025" / "December 2025": a month as people say it."""
    return _day_words(value, "LLLL y", _current.get())


def format_number(value: int | float) -> str:
    return format_decimal(value, locale=_locale(_current.get()))


def format_percent(share: float | None) -> str:
    """0.875 → "88%" ("88 %" where the language writes it so); None → a dash."""
    if share is None:
        return "–"
    return babel_format_percent(share, locale=_locale(_current.get()))


def format_rounded(days: float | None) -> str:
    """One decimal ("2,5" in Indonesian): median days, average ratings; None → a dash."""
    if days is None:
        return "–"
    return format_decimal(round(days, 1), format="#,##0.0", locale=_locale(_current.get()))


def format_fixed(value: Decimal | Fraction | float | None, places: int = 2) -> str:
    """A fixed number of decimals rounded half up ("76,39" in Indonesian): IKM scores and item
    averages, which people check by hand; None → a dash."""
    if value is None:
        return "–"
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    exact = Decimal(str(value)) if isinstance(value, float) else value
    quantum = Decimal(1).scaleb(-places)
    return format_decimal(
        exact.quantize(quantum, rounding=ROUND_HALF_UP),
        format="#,##0" + ("." + "0" * places if places else ""),
        locale=_locale(_current.get()),
    )
