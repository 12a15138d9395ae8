"""The two formats of one document: XML with the declaration first and no namespace, JSON by the
Spark convention."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from lapor.open311.wire import to_json, to_xml


def test_xml_and_json_carry_the_same_document() -> None:
    content = [{"a": "x\x01y", "b": None, "c": True, "values": [{"key": 1, "name": "é"}]}]
    xml = to_xml("services", content)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    [service] = ET.fromstring(xml)
    assert service.tag == "service"
    assert service.findtext("a") == "xy"  # a control character XML cannot carry is left out
    assert service.findtext("c") == "true"
    empty = service.find("b")
    assert empty is not None and empty.text is None and len(empty) == 0
    assert service.findtext("values/value/name") == "é"
    assert json.loads(to_json(content)) == [
        {"a": "x\x01y", "b": None, "c": True, "values": [{"key": 1, "name": "é"}]}
    ]
    assert "é".encode() in to_json(content)  # UTF-8, not \\u escapes


def test_an_object_root_and_a_list_of_strings() -> None:
    xml = to_xml("discovery", {"endpoints": [{"formats": ["text/xml", "application/json"]}]})
    root = ET.fromstring(xml)
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]
