"""A JSON request body read as the one object an API expects, or nothing.

Anything but a plain object of ordinary JSON, sent as `application/json` in UTF-8, is refused
as a whole rather than read in part: a body over the size given (stopped as it arrives, not
read first), nested deeper than `MAX_DEPTH`, not UTF-8, not one JSON value, not an object,
NaN or Infinity, a number past what a JSON client can mean (a float that overflows, an integer
past JavaScript's 2**53), a key given twice (two parsers would disagree on which one counts),
or a string no database can hold (a lone surrogate, NUL). The caller answers `None` with its own
400; nothing of such a body ever reaches a rule or the store.

Depth is checked before parsing: Python's json has no depth limit of its own, and a few thousand
`[` exhaust the recursion limit inside its C scanner (a RecursionError, a 500 if uncaught).
The scan is linear in the body and skipped altogether when the body has too few brackets to be
deep at all, which is every body a kiosk sends.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from starlette.requests import Request

MAX_DEPTH = 32
MAX_INTEGER = 2**53  # JavaScript's safe integers: a larger one no browser means exactly

# A string (possessive and with its closing quote optional, so an unterminated one ends the scan
# instead of being tried again from every later quote) or one bracket. For any text the scanner
# accepts this reads the same tokens; where the scanner would stop, what follows does not count.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[\]{}]', re.DOTALL)


class _Refused(ValueError):
    pass


def is_json(content_type: str | None) -> bool:
    """`application/json`, in UTF-8 if a charset is named at all."""
    media_type, _, parameters = (content_type or "").partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


def within_depth(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether no array or object in `text` is nested deeper than `max_depth` (the outermost
    value is depth 1), counting brackets outside strings only."""
    if text.count("[") + text.count("{") <= max_depth:
        return True
    depth = 0
    for token in _TOKEN.finditer(text):
        opening = text[token.start()]
        if opening in "[{":
            depth += 1
            if depth > max_depth:
                return False
        elif opening in "]}":
            depth -= 1
    return True


def _constant(name: str) -> Any:
    raise _Refused(name)


def _float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused(literal)
    return value


def _int(literal: str) -> int:
    # The length first: int() of thousands of digits is slow before Python refuses it.
    if len(literal) > 17:
        raise _Refused("integer too long")
    value = int(literal)
    if abs(value) > MAX_INTEGER:
        raise _Refused(literal)
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _Refused("duplicate key")
    return value


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, sent as a \ud800 escape
        return False
    return True


def _all_storable(value: Any) -> bool:
    # Recursion is bounded by the depth checked before parsing.
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, dict):
        return all(_storable(k) and _all_storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_all_storable(v) for v in value)
    return True


def parse_object(raw: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any] | None:
    """The JSON object in `raw`, or None for anything else (see the module's doc)."""
    try:
        text = raw.decode("utf-8")  # strictly: no other encoding guessed, no BOM skipped
    except UnicodeDecodeError:
        return None
    if not within_depth(text, max_depth):
        return None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
        )
    except (ValueError, RecursionError):  # RecursionError cannot happen past the scan; kept
        return None
    if not isinstance(value, dict) or not _all_storable(value):
        return None
    return value


async def read_object(
    request: Request, *, max_bytes: int, max_depth: int = MAX_DEPTH
) -> dict[str, Any] | None:
    """The request's body as a JSON object, or None; reads no more than `max_bytes` + one
    chunk, whatever Content-Length says."""
    if not is_json(request.headers.get("content-type")):
        return None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return parse_object(b"".join(chunks), max_depth=max_depth)
