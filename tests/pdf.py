"""A minimal PDF reader for the posters' tests: the project has no PDF library, and reportlab
re-encodes non-ASCII glyphs into subset codes, so only the ToUnicode maps tell whether text
such as an en dash is really selectable. Just enough for reportlab's own output."""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator


def pdf_objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary text, decoded stream or None), located via the xref table."""
    start = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    header = re.match(rb"xref\s+0 (\d+)\s+", pdf[start:])
    assert header is not None
    table = pdf[start + header.end() :].split(b"\n")[: int(header.group(1))]
    objects: dict[int, tuple[bytes, bytes | None]] = {}
    for number, entry in enumerate(table):
        offset, _, kind = entry.split()[:3]
        if kind == b"n":
            objects[number] = _pdf_object_at(pdf, int(offset))
    return objects


def _pdf_object_at(pdf: bytes, offset: int) -> tuple[bytes, bytes | None]:
    body_start = pdf.index(b"obj", offset) + 3
    end = pdf.index(b"endobj", body_start)
    # Anchored on the closing ">>": font names such as BitstreamVeraSans contain "stream".
    stream = re.compile(rb">>\s*stream(\r\n|\n)").search(pdf, body_start, end)
    if stream is None:
        return pdf[body_start:end], None
    head = pdf[body_start : stream.start() + 2]
    length = re.search(rb"/Length (\d+)", head)
    assert length is not None
    data = pdf[stream.end() : stream.end() + int(length.group(1))]
    for name in re.findall(rb"/(ASCII85Decode|FlateDecode)", head):
        if name == b"ASCII85Decode":
            data = base64.a85decode(data.strip().removesuffix(b"~>"))
        else:
            data = zlib.decompress(data)
    return head, data


def ref(text: bytes, key: bytes) -> int:
    match = re.search(rb"/" + key + rb" (\d+) 0 R", text)
    assert match is not None, key
    return int(match.group(1))


def _tounicode(cmap: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            first = int(dst, 16)
            for code in range(int(lo, 16), int(hi, 16) + 1):
                mapping[code] = chr(first + code - int(lo, 16))
    return mapping


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def _literal(data: bytes, i: int) -> tuple[bytes, int]:
    """Parse the PDF literal string opening at data[i] == '('; return (bytes, index after)."""
    out, depth, i = bytearray(), 1, i + 1
    while True:
        c = data[i]
        if c == ord("\\"):
            nxt = data[i + 1]
            octal = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += _ESCAPES.get(nxt, bytes([nxt]))
            i += 2
            continue
        depth += {ord("("): 1, ord(")"): -1}.get(c, 0)
        if depth == 0:
            return bytes(out), i + 1
        out.append(c)
        i += 1


def _content_tokens(data: bytes) -> Iterator[tuple[str, bytes]]:
    i = 0
    while i < len(data):
        c = data[i : i + 1]
        if c.isspace():
            i += 1
        elif c == b"(":
            value, i = _literal(data, i)
            yield "string", value
        elif c == b"<" and data[i + 1 : i + 2] != b"<":
            end = data.index(b">", i)
            yield "string", bytes.fromhex(data[i + 1 : end].decode())
            i = end + 1
        elif c in b"[]":
            i += 1
        else:
            match = re.match(rb"/?[^\s()<>\[\]/]+", data[i:])
            assert match is not None
            yield "word", match.group()
            i += match.end()


def pdf_text(pdf: bytes) -> str:
    """Text of every page as a viewer would copy it: one line per text-showing operation."""
    return "\n".join(page_texts(pdf))


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, in the order the pages were written."""
    objects = pdf_objects(pdf)
    pages: list[str] = []
    for head, _ in objects.values():
        if not re.search(rb"/Type /Page\b", head):
            continue
        lines: list[str] = []
        pages.append("")
        fonts_dict = objects[ref(head, b"Font")][0]
        maps = {
            name: _tounicode(objects[ref(objects[int(number)][0], b"ToUnicode")][1] or b"")
            for name, number in re.findall(rb"/(\S+) (\d+) 0 R", fonts_dict)
        }
        content = objects[ref(head, b"Contents")][1] or b""
        font: dict[int, str] = {}
        operands: list[tuple[str, bytes]] = []
        for kind, value in _content_tokens(content):
            if kind == "string" or value.startswith(b"/") or _is_number(value):
                operands.append((kind, value))
                continue
            # Anything else is an operator, which consumes the operands collected before it.
            if value == b"Tf":
                font = maps[operands[-2][1].lstrip(b"/")]
            elif value in (b"Tj", b"TJ", b"'", b'"'):
                shown = [v for k, v in operands if k == "string"]
                lines.append("".join(font.get(code, "\ufffd") for s in shown for code in s))
            operands = []
        pages[-1] = "\n".join(lines)
    return pages


def _is_number(token: bytes) -> bool:
    return re.fullmatch(rb"[-+]?(\d+\.?\d*|\.\d+)", token) is not None


# PDFDocEncoding differs from Latin-1 only in 0x80-0xA0, where it keeps typographic marks;
# reportlab uses it for metadata whenever every character fits.
_PDFDOC_HIGH = "•†‡…—–ƒ⁄‹›−‰„“”‘’‚™ﬁﬂŁŒŠŸŽıłœšž\ufffd€"


def _pdf_string(raw: bytes) -> str:
    value, _ = _literal(raw, 0)
    if value.startswith(b"\xfe\xff"):
        return value[2:].decode("utf-16-be")
    return "".join(_PDFDOC_HIGH[b - 0x80] if 0x80 <= b <= 0xA0 else chr(b) for b in value)


def pdf_info(pdf: bytes, key: str) -> str:
    """One entry of the document information dictionary: Title, Author, Subject, ..."""
    objects = pdf_objects(pdf)
    trailer = pdf[pdf.rindex(b"trailer") :]
    info = objects[ref(trailer, b"Info")][0]
    start = info.index(b"/" + key.encode() + b" ") + len(key) + 2
    return _pdf_string(info[start:])


def pdf_pages(pdf: bytes) -> list[bytes]:
    """The page dictionaries, in no particular order."""
    return [h for h, _ in pdf_objects(pdf).values() if re.search(rb"/Type /Page\b", h)]


def page_content(pdf: bytes, page: bytes) -> bytes:
    return pdf_objects(pdf)[ref(page, b"Contents")][1] or b""
