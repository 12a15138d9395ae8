"""The sites a widget may run on: origins as admins type them, as the loader reports them, and
the page URL a citizen sent a report from. Rules only, no HTTP and no SQL: the command line, the
admin page and the form views read through the same functions.

An origin is scheme, host and port, nothing else: what a browser puts in `location.origin` and
what CSP's `frame-ancestors` compares. Normalising means two spellings of one site
(`HTTPS://Dinkes.Example.go.id:443/`) are one entry, and the comparison with the loader's
claim is plain string equality."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from enum import StrEnum
from urllib.parse import urlsplit

MAX_ORIGIN = 200
MAX_ORIGINS = 20  # a unit's sites: the main one, www, a staging copy... not a directory
MAX_PAGE_URL = 500  # reports.page_url is String(500)
DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class Problem(StrEnum):
    SCHEME = "scheme"  # not http(s): javascript:, data:, file:, a bare host name...
    HOST = "host"
    PORT = "port"
    PATH = "path"  # a path, query, fragment or user name after the host
    WILDCARD = "wildcard"
    TOO_MANY = "too_many"
    NONE = "none"


class InvalidOrigin(ValueError):
    def __init__(self, problem: Problem, typed: str = "") -> None:
        super().__init__(f"{problem.value}: {typed!r}")
        self.problem = problem
        self.typed = typed


def _host(raw: str) -> str | None:
    """The host as a browser writes it in an origin (lowercase, punycode), or None."""
    if raw.startswith("[") and raw.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(raw[1:-1]).compressed}]"
        except ValueError:
            return None
    try:
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if not host or len(host) > 253:
        return None
    labels = host.split(".")
    if all(label.isdigit() for label in labels):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            return None
    return host if all(_LABEL.fullmatch(label) for label in labels) else None


def normalize_origin(typed: str) -> str:
    """`https://dinkes.example.go.id` from what an admin typed, or InvalidOrigin."""
    raw = typed.strip()
    if "*" in raw:
        raise InvalidOrigin(Problem.WILDCARD, typed)
    if len(raw) > MAX_ORIGIN or any(c.isspace() or ord(c) < 32 for c in raw):
        raise InvalidOrigin(Problem.HOST, typed)
    scheme, sep, rest = raw.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        raise InvalidOrigin(Problem.SCHEME, typed)
    # Only a bare trailing slash may follow the host: a path would suggest that one page of
    # a site can be allowed and not the rest, which frame-ancestors cannot do.
    if rest.endswith("/"):
        rest = rest[:-1]
    if any(c in rest for c in "/?#@\\"):
        raise InvalidOrigin(Problem.PATH, typed)
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        port = parts.port
    except ValueError:
        raise InvalidOrigin(Problem.PORT, typed) from None
    if rest.endswith(":") or (port is not None and not 0 < port < 65536):
        raise InvalidOrigin(Problem.PORT, typed)
    netloc_host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    host = _host(netloc_host)
    if host is None:
        raise InvalidOrigin(Problem.HOST, typed)
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def read_origins(typed: Iterable[str]) -> list[str]:
    """Every origin normalised, duplicates dropped, order kept; the first bad one refuses all."""
    origins: list[str] = []
    for raw in typed:
        if not raw.strip():
            continue
        origin = normalize_origin(raw)
        if origin not in origins:
            origins.append(origin)
    if not origins:
        raise InvalidOrigin(Problem.NONE)
    if len(origins) > MAX_ORIGINS:
        raise InvalidOrigin(Problem.TOO_MANY)
    return origins


def registered(claimed: str, origins: Iterable[str]) -> str | None:
    """The loader's claim about where it runs, if it names a registered origin: the one value
    ever put into the form's frame-ancestors. An unverified claim; the browser enforces it."""
    try:
        origin = normalize_origin(claimed)
    except InvalidOrigin:
        return None
    return origin if origin in origins else None


def kept_page_url(claimed: str, origins: Iterable[str]) -> str | None:
    """The page a report was sent from, as the loader read it, or None. Kept only on a
    registered origin, and without query and fragment: those may carry a session id, a search
    or a name, and nobody handling the report needs them."""
    if not claimed or len(claimed) > 4 * MAX_PAGE_URL:
        return None
    try:
        parts = urlsplit(claimed.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if ":" in parts.hostname:  # IPv6
        netloc = f"[{parts.hostname}]" + ("" if port is None else f":{port}")
    origin = registered(f"{scheme}://{netloc}", origins)
    if origin is None:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or any(ord(c) < 33 or ord(c) == 127 for c in path):
        return None
    url = origin + path
    return url if len(url) <= MAX_PAGE_URL else None
