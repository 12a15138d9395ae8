from __future__ import annotations

import base64
import io
import os
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from lapor.web import posters
from lapor.web.posters import (
    MAX_QR_VERSION,
    PosterTooDense,
    qr_matrix,
    qr_version,
    render_pdf,
    render_png,
    render_svg,
)

BASE = "https://lapor.kalselprov.go.id"  # 30 characters, the longest base URL we expect
URL = BASE + "/q/" + "K7M2-PQ9X-4TRB-8WZC-3HJN-D"  # 26-character counter code
POSTER = {
    "unit_name": "Dinas Kependudukan dan Pencatatan Sipil Kota Banjarmasin",
    "label": "Loket 3 – Perekaman KTP",
    "instruction": "Pindai kode ini dengan kamera ponsel untuk menyampaikan pengaduan",
    "url_caption": "Tidak bisa memindai? Ketik alamat ini di peramban:",
    "footer": "SP4N-LAPOR! · Pemerintah Provinsi Kalimantan Selatan",
}
SVG_NS = "{http://www.w3.org/2000/svg}"


# --------------------------------------------------------------------------------------------
# A minimal PDF reader, just enough for reportlab's output: the project has no PDF library, and
# reportlab re-encodes non-ASCII glyphs into subset codes, so only the ToUnicode maps tell
# whether text such as an en dash is really selectable.


def _pdf_objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
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


def _ref(text: bytes, key: bytes) -> int:
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


def _pdf_text(pdf: bytes) -> str:
    """Text of every page as a viewer would copy it: one line per text-showing operation."""
    objects = _pdf_objects(pdf)
    lines: list[str] = []
    for head, _ in objects.values():
        if not re.search(rb"/Type /Page\b", head):
            continue
        fonts_dict = objects[_ref(head, b"Font")][0]
        maps = {
            name: _tounicode(objects[_ref(objects[int(ref)][0], b"ToUnicode")][1] or b"")
            for name, ref in re.findall(rb"/(\S+) (\d+) 0 R", fonts_dict)
        }
        content = objects[_ref(head, b"Contents")][1] or b""
        font: dict[int, str] = {}
        operands: list[bytes] = []
        for kind, value in _content_tokens(content):
            if kind == "string" or value.startswith(b"/") or _is_number(value):
                operands.append(value)
                continue
            # Anything else is an operator, which consumes the operands collected before it.
            if value == b"Tf":
                font = maps[operands[-2].lstrip(b"/")]
            elif value in (b"Tj", b"TJ", b"'", b'"'):
                shown = [v for v in operands if not v.startswith(b"/") and not _is_number(v)]
                lines.append("".join(font.get(code, "\ufffd") for s in shown for code in s))
            operands = []
    return "\n".join(lines)


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


def _pdf_title(pdf: bytes) -> str:
    objects = _pdf_objects(pdf)
    trailer = pdf[pdf.rindex(b"trailer") :]
    info = objects[_ref(trailer, b"Info")][0]
    start = info.index(b"/Title") + len(b"/Title ")
    return _pdf_string(info[start:])


# --------------------------------------------------------------------------------------------
# QR matrix


def test_matrix_is_square_without_quiet_zone() -> None:
    matrix = qr_matrix(URL)
    version = qr_version(URL)
    assert len(matrix) == 17 + 4 * version
    assert all(len(row) == len(matrix) for row in matrix)
    # Finder pattern starts in the very first module because the quiet zone is left out.
    assert matrix[0][:7] == [True] * 7


def test_matrix_is_a_fresh_copy() -> None:
    qr_matrix(URL)[0][0] = False
    assert qr_matrix(URL)[0][0] is True


def test_typical_counter_url_fits_the_version_limit() -> None:
    assert len(URL) == 59
    assert qr_version(URL) <= MAX_QR_VERSION


def test_too_long_url_is_refused() -> None:
    with pytest.raises(PosterTooDense):
        qr_matrix(BASE + "/q/" + "x" * 120)
    with pytest.raises(PosterTooDense):
        render_pdf(BASE + "/q/" + "x" * 120, **POSTER)


def test_absurdly_long_url_is_refused_not_crashed() -> None:
    # Past version 40 qrcode raises its own overflow error; callers only need to catch ours.
    with pytest.raises(PosterTooDense):
        qr_version("x" * 5000)


def test_too_dense_is_a_value_error() -> None:
    assert issubclass(PosterTooDense, ValueError)


def test_empty_url_is_refused() -> None:
    with pytest.raises(ValueError):
        qr_matrix("")


# --------------------------------------------------------------------------------------------
# PNG


def _decode(png: bytes) -> zxingcpp.Barcode:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return results[0]


def test_png_decodes_back_to_the_url() -> None:
    png = render_png(URL)
    barcode = _decode(png)
    assert barcode.text == URL
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    # The decoder's own reading of the symbol, not our claim about it.
    assert barcode.ec_level == "M"
    extra = barcode.extra
    assert isinstance(extra, dict)
    assert int(extra["Version"]) == qr_version(URL) <= MAX_QR_VERSION


@pytest.mark.parametrize(
    "url",
    ["HTTPS://LAPOR.KALSELPROV.GO.ID/Q/K7M2PQ9X4TRB8WZC3HJND", BASE + "/q/aZ09-_~.%20"],
)
def test_png_round_trips_other_alphabets(url: str) -> None:
    assert _decode(render_png(url, box_px=4)).text == url


def test_png_is_small_bilevel_and_sized_by_module() -> None:
    png = render_png(URL, box_px=8, border=2)
    image = Image.open(io.BytesIO(png))
    side = (len(qr_matrix(URL)) + 4) * 8
    assert image.format == "PNG"
    assert image.mode in ("1", "L")
    assert image.size == (side, side)
    assert len(png) < 4000
    # Quiet zone is white, first finder module is black.
    assert image.convert("L").getpixel((0, 0)) == 255
    assert image.convert("L").getpixel((16, 16)) == 0


def test_png_rejects_nonsense_sizes() -> None:
    with pytest.raises(ValueError):
        render_png(URL, box_px=0)
    with pytest.raises(ValueError):
        render_png(URL, border=-1)


# --------------------------------------------------------------------------------------------
# SVG


def test_svg_is_standalone_xml_with_one_path() -> None:
    svg = render_svg(URL)
    assert svg.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    side = len(qr_matrix(URL)) + 8
    assert root.get("viewBox") == f"0 0 {side} {side}"
    assert root.get("shape-rendering") == "crispEdges"
    assert root.get("width", "").endswith("mm")
    assert root.get("height") == root.get("width")
    rect = root.find(SVG_NS + "rect")
    assert rect is not None
    assert rect.get("fill") == "#fff"
    paths = root.findall(SVG_NS + "path")
    assert len(paths) == 1


def test_svg_path_covers_exactly_the_dark_modules() -> None:
    border = 3
    root = ET.fromstring(render_svg(URL, border=border))
    path = root.find(SVG_NS + "path")
    assert path is not None
    d = path.get("d", "")
    painted: set[tuple[int, int]] = set()
    for x, y, width in re.findall(r"M(\d+),(\d+)h(\d+)v1h-\3z", d):
        for dx in range(int(width)):
            painted.add((int(x) + dx - border, int(y) - border))
    assert re.sub(r"M(\d+),(\d+)h(\d+)v1h-\3z", "", d) == ""
    matrix = qr_matrix(URL)
    dark = {(x, y) for y, row in enumerate(matrix) for x, cell in enumerate(row) if cell}
    assert painted == dark


# --------------------------------------------------------------------------------------------
# PDF


@pytest.fixture(scope="module")
def poster_pdf() -> bytes:
    return render_pdf(URL, **POSTER)


def test_pdf_is_a_single_a4_page(poster_pdf: bytes) -> None:
    assert poster_pdf.startswith(b"%PDF-")
    assert poster_pdf.rstrip().endswith(b"%%EOF")
    pages = [h for h, _ in _pdf_objects(poster_pdf).values() if re.search(rb"/Type /Page\b", h)]
    assert len(pages) == 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pages[0]


def test_pdf_embeds_its_fonts(poster_pdf: bytes) -> None:
    objects = _pdf_objects(poster_pdf)
    fonts = [h for h, _ in objects.values() if re.search(rb"/Type /Font(?![A-Za-z])", h)]
    assert fonts
    for head in fonts:
        # Every font is a subset TrueType with an embedded program, none of the unembedded
        # base-14 fonts a viewer would substitute.
        assert b"/Subtype /TrueType" in head
        descriptor = objects[_ref(head, b"FontDescriptor")][0]
        assert b"/FontFile2" in descriptor
    assert b"BitstreamVeraSans" in poster_pdf


def test_pdf_text_is_selectable(poster_pdf: bytes) -> None:
    text = _pdf_text(poster_pdf)
    flat = " ".join(text.split())
    assert POSTER["unit_name"] in flat
    assert "Loket 3 – Perekaman KTP" in text
    assert POSTER["instruction"] in flat
    assert POSTER["url_caption"] in flat
    assert POSTER["footer"] in text
    assert URL in text.splitlines()  # on one line, so it can be copied as a whole


def test_pdf_metadata_title(poster_pdf: bytes) -> None:
    assert _pdf_title(poster_pdf) == POSTER["unit_name"] + " – " + POSTER["label"]


def test_pdf_qr_is_vector_and_large(poster_pdf: bytes) -> None:
    objects = _pdf_objects(poster_pdf)
    assert not any(b"/Subtype /Image" in h for h, _ in objects.values())
    page = next(h for h, _ in objects.values() if re.search(rb"/Type /Page\b", h))
    content = objects[_ref(page, b"Contents")][1] or b""
    scale = re.search(rb"([\d.]+) 0 0 -([\d.]+) [\d.]+ [\d.]+ cm", content)
    assert scale is not None
    rects = re.findall(rb"(\d+) (\d+) (\d+) 1 re", content)
    matrix = qr_matrix(URL)
    assert sum(int(w) for _, _, w in rects) == sum(map(sum, matrix))
    # Merged runs: fewer rectangles than dark modules.
    assert len(rects) < sum(map(sum, matrix))
    width_mm = float(scale.group(1)) * len(matrix) / 72 * 25.4
    assert width_mm >= 120


def test_pdf_is_deterministic(poster_pdf: bytes) -> None:
    assert render_pdf(URL, **POSTER) == poster_pdf


def test_pdf_without_footer() -> None:
    pdf = render_pdf(URL, **{**POSTER, "footer": ""})
    assert POSTER["footer"] not in _pdf_text(pdf)


def test_pdf_with_very_long_texts_still_renders() -> None:
    pdf = render_pdf(
        URL,
        unit_name="Badan Perencanaan Pembangunan, Penelitian dan Pengembangan Daerah " * 20,
        label="Loket Pelayanan Terpadu Satu Pintu – Perizinan " * 10,
        instruction=POSTER["instruction"] * 5,
        url_caption=POSTER["url_caption"] * 5,
        footer=POSTER["footer"] * 10,
    )
    assert pdf.startswith(b"%PDF-")
    assert "Badan Perencanaan" in _pdf_text(pdf)


def test_bundled_font_has_real_glyphs_for_typographic_marks() -> None:
    # ToUnicode maps text even when the glyph is missing, so check the font itself: a missing
    # en dash would print as an empty box while still "extracting" fine.
    name = posters._pick_font(POSTER["label"] + POSTER["footer"], bold=False)
    assert name == "LaporSans"
    font = posters._font(name)
    assert font is not None
    for ch in "–—…·‘’“”":
        assert ord(ch) in font.face.charToGlyph


@pytest.mark.skipif(
    not os.path.exists(posters._FONT_FILES["LaporWide"]), reason="DejaVu fonts not installed"
)
def test_pdf_falls_back_for_glyphs_vera_lacks() -> None:
    # Vera has no Latin Extended-A beyond a few letters; DejaVu covers them.
    pdf = render_pdf(URL, **{**POSTER, "unit_name": "Kantor Camat Bāru → Lantai 2"})
    assert "Kantor Camat Bāru → Lantai 2" in _pdf_text(pdf)
    assert b"DejaVuSans" in pdf


# --------------------------------------------------------------------------------------------
# Layout: everything on the page, code never below 12 cm, whatever the texts


def _max_url(version: int) -> str:
    """Longest text that still encodes at exactly `version`; our real base alone is already
    version 3, so the smaller versions start from a bare host."""
    url = BASE + "/q/" if version >= 3 else "a.id/"
    while True:
        longer = url + "x"
        try:
            if qr_version(longer) > version:
                return url
        except PosterTooDense:
            return url
        url = longer


def _assert_fits_page(layout: posters._PosterLayout) -> None:
    blocks = [
        (layout.title, layout.title_top),
        (layout.label, layout.label_top),
        (layout.instruction, layout.instruction_top),
        (layout.caption, layout.caption_top),
        (layout.url, layout.url_top),
        (layout.footer, layout.footer_top),
    ]
    for block, top in blocks:
        for line in block.lines:
            width = pdfmetrics.stringWidth(line, block.font, block.size)
            assert width <= posters._TEXT_W + 0.01
        assert top <= posters._PAGE_H - posters._MARGIN + 0.01
        assert top - block.height >= posters._MARGIN - 0.01
    assert layout.qr_x >= posters._MARGIN


def _assert_fits(layout: posters._PosterLayout, modules: int) -> None:
    _assert_fits_page(layout)
    assert layout.qr_side >= 120 * mm
    quiet = 4 * layout.qr_side / modules  # the standard's four-module quiet zone
    assert layout.label_top - layout.label.height - layout.qr_top >= quiet - 0.01
    assert layout.qr_top - layout.qr_side - layout.instruction_top >= quiet - 0.01


@pytest.mark.parametrize("version", range(1, MAX_QR_VERSION + 1))
def test_layout_keeps_code_large_with_worst_case_texts(version: int) -> None:
    url = _max_url(version)
    assert qr_version(url) == version
    layout = posters._plan_poster(
        url,
        unit_name="Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu " * 10,
        label="Loket 12 – Perizinan Berusaha Berbasis Risiko " * 10,
        instruction=POSTER["instruction"] * 5,
        url_caption=POSTER["url_caption"] * 5,
        footer=POSTER["footer"] * 10,
    )
    _assert_fits(layout, len(qr_matrix(url)))


words = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=40
)


@settings(max_examples=60, deadline=None)
@given(
    unit_name=st.lists(words, max_size=15).map(" ".join),
    label=st.lists(words, max_size=10).map(" ".join),
    footer=st.lists(words, max_size=10).map(" ".join),
)
def test_layout_fits_any_texts(unit_name: str, label: str, footer: str) -> None:
    layout = posters._plan_poster(
        URL,
        unit_name=unit_name,
        label=label,
        instruction=POSTER["instruction"],
        url_caption=POSTER["url_caption"],
        footer=footer,
    )
    _assert_fits(layout, len(qr_matrix(URL)))


def test_layout_tightens_texts_before_shrinking_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    # With DejaVu present the generous budget always leaves 12 cm; force the fallback path that
    # hosts without it (wider URL glyphs) can reach.
    roomy = posters._plan_poster(URL, **POSTER)
    monkeypatch.setattr(posters, "_QR_MIN", 1000 * mm)
    tight = posters._plan_poster(URL, **POSTER)
    assert tight.title.size < roomy.title.size
    assert tight.qr_side >= roomy.qr_side
    _assert_fits_page(tight)
