"""GeoReport v2's two formats from one description of a document: XML (the declaration first,
no namespace, as the spec requires) and JSON by the Spark convention (the root's children as a
list or an object, a repeated element as a list, an empty element as null), both UTF-8.

A document is a root name and its content: a list of items (each a dict, or a string) under
the root's item name, or one dict. A list inside an item is written as an element holding one
child per entry, named by `ITEM`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from starlette.responses import Response

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# The element of each entry of a list, by the list's name.
ITEM = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all, even escaped: left out rather than failing a listing.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Value = Any


def _text(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Value) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        for entry in value:
            _fill(ET.SubElement(element, ITEM[element.tag]), entry)
    else:
        element.text = _text(value)


def to_xml(root: str, content: Mapping[str, Value] | Sequence[Value]) -> bytes:
    element = ET.Element(root)
    _fill(element, content)
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode") + "\n").encode()


def to_json(content: Mapping[str, Value] | Sequence[Value]) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def document(
    fmt: str,
    root: str,
    content: Mapping[str, Value] | Sequence[Value],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = to_xml(root, content) if fmt == "xml" else to_json(content)
    return Response(body, status_code, headers=dict(headers or {}), media_type=FORMATS[fmt])


def errors(
    fmt: str,
    status_code: int,
    descriptions: Sequence[str],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The spec's error document: one `error` per problem, each with the HTTP status as its
    code, never cached."""
    content = [{"code": status_code, "description": text} for text in descriptions]
    return document(
        fmt,
        "errors",
        content,
        status_code=status_code,
        headers={"cache-control": "no-store", **(headers or {})},
    )
