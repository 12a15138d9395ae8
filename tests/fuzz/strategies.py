"""What the fuzzer sends: hostile text and bytes, form bodies (URL-encoded, multipart, broken
multipart, or anything under any content type), JSON documents, query strings and images of
every format and corruption."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st
from PIL import Image

from tests.fuzz.harness import Body, Part, multipart, query_string, urlencoded

# Text no surrogate: httpx and every browser must encode what they send.
chars = st.characters(codec="utf-8")
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\u202e",
    "\ufeff",
    "é" * 3,
    "💥" * 3,
    "0",
    "-1",
    "1e999",
    "NaN",
    "99999999999999999999",
    "9" * 400,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    '=HYPERLINK("x")',
    "2026-02-30",
    "0000-01-01",
    "9999-12-31",
    "2026-03-17T25:00",
    "true",
    "null",
    "[]",
    "{}",
    "x" * 5001,
]
texts = st.one_of(st.text(chars, max_size=60), st.sampled_from(NASTY))
# What a form field may also be: longer than any limit (too long for a URL, which httpx refuses).
long_texts = st.sampled_from(["x" * 20_001, "é" * 70_000])
# Bytes that are not UTF-8, or are but carry NULs and controls.
raw_bytes = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\x00\x00", b"\xfe\xff"]),
)
values = st.one_of(texts, raw_bytes)
field_values = st.one_of(texts, raw_bytes, long_texts)

CONTENT_TYPES = [
    None,
    "",
    "text/plain",
    "application/json",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    'multipart/form-data; boundary="',
    "multipart/form-data; boundary=" + "b" * 300,
    "multipart/mixed; boundary=x",
    "image/jpeg",
    "application/octet-stream",
    "x/\x7f",
]


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


@st.composite
def form_bodies(
    draw: st.DrawFn,
    base: Mapping[str, str],
    names: Sequence[str],
    files: st.SearchStrategy[tuple[str, bytes, str]] | None = None,
    file_field: str = "photos",
    intact: bool = False,
) -> Body:
    """A form that starts as `base` (the valid fields that get a request past the door: a
    token, a CSRF token) with hostile values for some of `names`, fields dropped, repeated or
    unknown, files where none or many are expected, in a well-formed or a broken body.
    `intact` keeps `base` first and the body well-formed: the hostile part is in the fields."""
    pairs: list[tuple[str, str | bytes]] = list(base.items())
    for name in draw(st.lists(st.sampled_from(list(names)), max_size=len(names) + 2)):
        pairs.append((name, draw(field_values)))
    if not intact and draw(st.booleans()) and pairs:
        # Hostile values first: the parser keeps the first of a repeated name.
        pairs = pairs[len(base) :] + pairs[: len(base)]
    if not intact and draw(st.integers(0, 9)) == 0 and pairs:
        del pairs[draw(st.integers(0, len(pairs) - 1))]
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.text(chars, max_size=20)), draw(values)))
    uploads = draw(st.lists(files, max_size=4)) if files is not None else []
    shapes = ["urlencoded", "multipart"] if intact else ["urlencoded", "multipart", "broken", "raw"]
    shape = draw(st.sampled_from(shapes))
    if shape == "urlencoded" and not uploads:
        return urlencoded(pairs)
    if shape == "raw":
        raw = draw(st.one_of(st.binary(max_size=300), st.just(urlencoded(pairs).content)))
        return Body(raw, draw(st.sampled_from(CONTENT_TYPES)))
    parts = [Part(name, _as_bytes(value)) for name, value in pairs]
    for filename, data, file_type in uploads:
        parts.append(Part(file_field, data, filename, file_type))
    if draw(st.booleans()):
        parts.insert(0, Part(draw(st.sampled_from(list(names) or ["x"])), b"", "", None))
    body = multipart(parts)
    if shape == "multipart":
        return body
    # Broken: cut short, a boundary the body never uses, a header line mangled, a missing CRLF.
    breakage = draw(st.sampled_from(["cut", "boundary", "header", "crlf", "bytes"]))
    content: bytes = body.content
    content_type: str | None = body.content_type
    if breakage == "cut":
        content = content[: draw(st.integers(0, len(content)))]
    elif breakage == "boundary":
        content_type = "multipart/form-data; boundary=" + draw(st.text(chars, max_size=80))
    elif breakage == "header":
        content = content.replace(
            b"Content-Disposition: form-data;", draw(st.sampled_from(BROKEN_HEADERS)), 1
        )
    elif breakage == "crlf":
        content = content.replace(b"\r\n\r\n", b"\r\n", 1)
    else:
        at = draw(st.integers(0, max(0, len(content) - 1)))
        content = content[:at] + draw(st.binary(min_size=1, max_size=20)) + content[at + 1 :]
    return Body(content, content_type)


BROKEN_HEADERS = [
    b"Content-Disposition: form-data",
    b"Content-Disposition:",
    b"Content-Disposition: attachment;",
    b"Content-Disposition: form-data; name=\xff\xfe;",
    b"Content-Disposition: form-data; name*=UTF-8''%FF;",
    b'Content-Disposition: form-data; name="\x00";',
    b"X: y\r\nContent-Disposition: form-data;",
    b"Content-Type: text/plain; charset=utf-16\r\nContent-Disposition: form-data;",
]


@st.composite
def queries(draw: st.DrawFn, names: Sequence[str], valid: Mapping[str, str] | None = None) -> str:
    """A query string naming some of `names` (repeated, empty, hostile), valid values mixed in."""
    pairs: list[tuple[str | bytes, str | bytes]] = []
    valid = valid or {}
    for name in draw(st.lists(st.sampled_from(list(names)), max_size=6)):
        if name in valid and draw(st.booleans()):
            pairs.append((name, valid[name]))
        else:
            pairs.append((name, draw(values)))
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(values), draw(values)))
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from(["%", "%zz", "&&&", "=", "a=%ff%fe", "a[]=1&a[x]=2"]))
    return query_string(pairs)


# -- JSON ---------------------------------------------------------------------------------------
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def json_bodies(draw: st.DrawFn, valid: Mapping[str, Any]) -> Body:
    """`valid` with fields dropped or replaced by any JSON value, or a body that is not JSON's
    object at all, under the right or a wrong content type."""
    import json

    doc = dict(valid)
    for name in draw(st.lists(st.sampled_from([*valid, "extra"]), max_size=len(valid) + 1)):
        if draw(st.integers(0, 4)) == 0:
            doc.pop(name, None)
        else:
            doc[name] = draw(json_values)
    shape = draw(st.sampled_from(["json", "json", "json", "text", "deep", "raw"]))
    if shape == "json":
        content = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()
    elif shape == "text":
        content = draw(
            st.sampled_from(
                [
                    b"",
                    b"{",
                    b"[]",
                    b"null",
                    b'{"a": NaN}',
                    b'{"key": 1, "key": 2}',
                    b'{"text": "\\ud800"}',
                    b'{"text": "\\u0000"}',
                    b'{"held": 1e999}',
                    b'{"held": 123456789012345678901234567890}',
                    b"\xef\xbb\xbf{}",
                    '{"a": 1}'.encode("utf-16"),
                ]
            )
        )
    elif shape == "deep":
        depth = draw(st.integers(30, 5000))
        content = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    else:
        content = draw(st.binary(max_size=200))
    content_type = draw(
        st.sampled_from(
            ["application/json"] * 4
            + ["application/json; charset=utf-8", "application/json; charset=latin-1"]
            + [c for c in CONTENT_TYPES if c != "application/json"]
        )
    )
    return Body(content, content_type)


# -- images -------------------------------------------------------------------------------------
def _png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` × `height` over one tiny compressed row: a bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0/SOF2) is rewritten to claim another size."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at >= 0:
            return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]
    return data


FORMATS = ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "ICO", "MPO"]
MODES = ["RGB", "RGBA", "L", "LA", "P", "1", "CMYK", "I", "F"]


@st.composite
def images(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """(filename, bytes, content type): a real image of any format and mode, perhaps with EXIF,
    then perhaps cut, bit-flipped, zeroed, claiming a giant size, or not an image at all, under
    a name and a type that may lie."""
    fmt = draw(st.sampled_from(FORMATS))
    width, height = draw(st.integers(1, 80)), draw(st.integers(1, 80))
    image = Image.new(draw(st.sampled_from(MODES)), (width, height))
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        exif = Image.Exif()
        exif[0x0112] = draw(st.integers(0, 65535))  # the orientation, often out of range
        if draw(st.booleans()):
            exif[0x010F] = draw(st.text(chars, max_size=20))
        options["exif"] = exif.tobytes()
    out = io.BytesIO()
    try:
        saved = (
            image
            if fmt in ("TIFF", "PNG")
            else image.convert("RGBA" if fmt in ("PNG", "WEBP", "ICO") else "RGB")
        )
        saved.save(out, fmt, **options)
    except (OSError, ValueError, KeyError, TypeError):
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG")
    data = out.getvalue()
    damage = draw(
        st.sampled_from(["none", "none", "cut", "flip", "zeros", "bomb", "empty", "junk", "tail"])
    )
    if damage == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip":
        flipped = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(flipped) - 1))
            flipped[at] ^= 1 << draw(st.integers(0, 7))
        data = bytes(flipped)
    elif damage == "zeros":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" * (len(data) - at)
    elif damage == "bomb":
        side = draw(st.sampled_from([30_000, 65_535, 100_000, 2**31 - 1]))
        if fmt == "JPEG" and draw(st.booleans()):
            data = _jpeg_with_size(data, min(side, 65_535), min(side, 65_535))
        else:
            data = _png_with_size(side, draw(st.sampled_from([1, side])))
    elif damage == "empty":
        data = b""
    elif damage == "junk":
        data = draw(st.binary(max_size=200))
    elif damage == "tail":
        data = data + draw(st.binary(min_size=1, max_size=200))
    filename = draw(
        st.sampled_from(
            ["foto.jpg", "foto.png", "foto.gif", "foto.webp", "x", "foto.exe", ".jpg", "a" * 300]
        )
        | st.text(chars, min_size=1, max_size=30)
    )
    content_type = draw(
        st.sampled_from(
            ["image/jpeg", "image/png", "image/gif", "image/webp", "text/html", "", "x"]
        )
    )
    return filename.replace('"', ""), data, content_type
