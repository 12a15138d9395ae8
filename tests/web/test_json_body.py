"""The JSON body reader (web/json_body.py): what it takes, what it refuses, and that its
depth scan agrees with the real nesting of any JSON document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lapor.web.json_body import MAX_DEPTH, is_json, parse_object, within_depth


def nested(depth: int) -> Any:
    value: Any = []
    for n in range(depth - 1):
        value = [value] if n % 2 else {"k": value}
    return value


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def test_it_reads_an_ordinary_object() -> None:
    body = {
        "key": "k" * 22,
        "unit": 3,
        "text": "Antre \u201clama\u201d 😀 [{",
        "ok": True,
        "x": 1.5,
    }
    assert parse_object(json.dumps(body).encode()) == body
    assert parse_object(json.dumps(body, ensure_ascii=False).encode()) == body
    assert parse_object(b'{"n": -9007199254740992, "m": 1e300}') == {
        "n": -(2**53),
        "m": 1e300,
    }


def test_depth_is_bounded_at_the_limit() -> None:
    assert parse_object(json.dumps({"a": nested(MAX_DEPTH - 1)}).encode()) is not None
    assert parse_object(json.dumps({"a": nested(MAX_DEPTH)}).encode()) is None
    assert parse_object(b"[" * 100_000) is None


@pytest.mark.parametrize(
    ("text", "within"),
    [
        ('{"a": "' + "[" * 100 + '"}', True),  # brackets inside a string do not count
        ('{"a": "\\"' + "[" * 100 + '"}', True),  # nor after an escaped quote
        ('{"a": "\\\\", "b": ' + "[" * 40 + "]" * 40 + "}", False),  # an escaped backslash
        ("[" * 33 + '"unterminated', False),
        ('"' + "[" * 40, True),  # an unterminated string: the scanner stops there too
        ("[]" * 1000, True),
        ("]" * 40 + "[" * 40, True),  # the scanner stops at the first ]
    ],
)
def test_the_depth_scan(text: str, within: bool) -> None:
    assert within_depth(text) is within


def test_the_scan_is_linear_on_quotes_and_escapes() -> None:
    # Each of these would cost a quadratic scan minutes; a linear one, milliseconds.
    for text in ("[]" * 20 + '"\\' * 30_000, "[]" * 20 + '"' + '\\"' * 30_000):
        assert within_depth(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(1, 8))
def test_the_scan_agrees_with_the_real_depth(value: Any, limit: int) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert within_depth(text, limit) is (depth_of(value) <= limit)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet='[]{}"\\:,0a ', max_size=200).map(str.encode))
def test_no_body_makes_it_raise(raw: bytes) -> None:
    result = parse_object(raw)
    assert result is None or isinstance(result, dict)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b"3",
        b"{} []",
        b'{"a": NaN}',
        b'{"a": -Infinity}',
        b'{"a": 1e999}',
        b'{"a": 9007199254740993}',
        b'{"a": ' + b"1" * 400 + b"}",
        b'{"a": 1, "a": 1}',
        b'{"a": {"b": 1, "b": 2}}',
        b'{"a": ["\\udc00"]}',
        b'{"\\ud800": 1}',
        b'{"a": "\\u0000"}',
        b'{"a": "\xe9"}',
        b'\xef\xbb\xbf{"a": 1}',
        '{"a": 1}'.encode("utf-16-le"),
    ],
)
def test_what_it_refuses(raw: bytes) -> None:
    assert parse_object(raw) is None


@pytest.mark.parametrize(
    ("content_type", "taken"),
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ('application/json; charset="utf-8"', True),
        ("application/json; charset=iso-8859-1", False),
        ("text/json", False),
        ("application/jsonx", False),
        ("", False),
        (None, False),
    ],
)
def test_the_content_type(content_type: str | None, taken: bool) -> None:
    assert is_json(content_type) is taken
