from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm

from lapor.web import posters
from lapor.web.posters import (
    MAX_QR_VERSION,
    PosterTooDense,
    Sheet,
    qr_matrix,
    qr_text,
    qr_version,
    render,
    render_png,
    render_sheets,
    render_svg,
)
from lapor.web.signing import Signing
from tests.pdf import page_content, page_texts, pdf_info, pdf_objects, pdf_pages, pdf_text, ref

BASE = "https://lapor.kalselprov.go.id"  # 30 characters, the longest base URL we expect
SIGNING = Signing(["poster-test-key-0123456789abcdef"])
URL = SIGNING.poster_url(BASE, 12, 1)
SVG_NS = "{http://www.w3.org/2000/svg}"


def sheet(**changes: object) -> Sheet:
    made = Sheet(
        url=URL,
        unit_name="Dinas Kependudukan dan Pencatatan Sipil Kota Banjarmasin",
        label="Loket 3 – Perekaman KTP",
        organisation="Pemerintah Provinsi Kalimantan Selatan",
        poster_id=12,
        version=1,
        printed_on=date(2026, 12, 2),
        channels=("lapor.go.id", "SMS 1708", "SMS LAPOR DUKCAPIL ke 0811 5000 123"),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# What the QR code carries


@pytest.mark.parametrize("poster_id, version", [(1, 1), (12, 1), (32_767, 1_023)])
def test_a_poster_code_is_version_3_at_m_behind_a_30_character_base_url(
    poster_id: int, version: int
) -> None:
    """Issue 18: the whole URL in the QR code's alphanumeric mode, so a 30-character base
    URL gives version 3 at error correction M (the first codes needed version 4)."""
    assert len(BASE) == 30
    url = SIGNING.poster_url(BASE, poster_id, version)
    text = qr_text(url)
    assert text == url.upper().replace("/Q/", "/Q/")
    assert set(text) <= posters._ALPHANUMERIC
    barcode = _decode(render(fmt="png", sheet=sheet(url=url)))
    assert barcode.text == text
    # The decoder's own reading of the symbol, not our claim about it.
    assert barcode.ec_level == "M"
    assert isinstance(barcode.extra, dict) and int(barcode.extra["Version"]) == 3
    assert len(qr_matrix(text)) == 29 and qr_version(text) == 3
    # A first-format code in byte mode needed a larger symbol.
    first = f"{BASE}/q/{SIGNING.first_format_poster_code(poster_id, version)}"
    assert qr_version(first) >= 4


def test_the_qr_text_keeps_what_is_case_sensitive() -> None:
    code = SIGNING.poster_code(3, 2)
    # A path of the base URL's own may sit behind a case-sensitive proxy: kept as it is.
    assert qr_text(f"https://pemda.go.id/Lapor/q/{code}") == f"HTTPS://PEMDA.GO.ID/Lapor/Q/{code}"
    # A first-format code is base64url, which is case-sensitive.
    first = SIGNING.first_format_poster_code(3, 2)
    assert qr_text(f"{BASE}/q/{first}") == f"HTTPS://LAPOR.KALSELPROV.GO.ID/q/{first}"
    assert qr_text("no-scheme") == "no-scheme"


def test_the_typed_address_drops_only_https() -> None:
    assert posters.display_url(URL) == URL.removeprefix("https://")
    assert posters.display_url("http://127.0.0.1:8000/q/1") == "http://127.0.0.1:8000/q/1"


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
    assert qr_version(URL) <= MAX_QR_VERSION


def test_too_long_url_is_refused() -> None:
    with pytest.raises(PosterTooDense):
        qr_matrix(BASE + "/q/" + "x" * 120)
    with pytest.raises(PosterTooDense):
        render_sheets("a4", [sheet(url=BASE + "/q/" + "x" * 120)])


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
    return render("a4", sheet())


@pytest.mark.parametrize(
    "fmt, box",
    [("a4", A4), ("pdf", A4), ("a5", A5), ("tent", A4)],
)
def test_each_paper_is_one_page_of_its_size(fmt: str, box: tuple[float, float]) -> None:
    pdf = render(fmt, sheet())
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    pages = pdf_pages(pdf)
    assert len(pages) == 1
    media = re.search(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", pages[0])
    assert media is not None
    assert (float(media.group(1)), float(media.group(2))) == pytest.approx(box, abs=0.01)


def test_pdf_embeds_its_fonts(poster_pdf: bytes) -> None:
    objects = pdf_objects(poster_pdf)
    fonts = [h for h, _ in objects.values() if re.search(rb"/Type /Font(?![A-Za-z])", h)]
    assert fonts
    for head in fonts:
        # Every font is a subset TrueType with an embedded program, none of the unembedded
        # base-14 fonts a viewer would substitute.
        assert b"/Subtype /TrueType" in head
        descriptor = objects[ref(head, b"FontDescriptor")][0]
        assert b"/FontFile2" in descriptor
    assert b"BitstreamVeraSans" in poster_pdf


def test_the_poster_says_what_issue_18_asks(poster_pdf: bytes) -> None:
    """Identity, promise, three steps, the address to type, the other channels, and which
    print it is, all as selectable text."""
    text = pdf_text(poster_pdf)
    flat = " ".join(text.split())
    lines = text.splitlines()
    assert "LAPOR!" in lines
    assert "Layanan Aspirasi dan Pengaduan Online Rakyat" in flat
    assert "Pemerintah Provinsi Kalimantan Selatan" in flat
    assert "Dinas Kependudukan dan Pencatatan Sipil Kota Banjarmasin" in flat
    assert "Loket 3 – Perekaman KTP" in lines
    for promise in ("Gratis", "Identitas dapat dirahasiakan"):
        assert promise in lines
    for step in ("1", "2", "3", "Pindai", "Tulis", "Pantau"):
        assert step in lines
    assert "kode lacak" in flat
    # The address on one line, so it can be copied whole, without the https:// browsers add.
    assert URL.removeprefix("https://") in lines
    assert "lapor.go.id · SMS 1708 · SMS LAPOR DUKCAPIL ke 0811 5000 123" in lines
    assert "Poster 12 · versi 1 · dicetak 2 Desember 2026" in lines


def test_the_tent_carries_the_same_face_twice() -> None:
    lines = pdf_text(render("tent", sheet())).splitlines()
    assert lines.count("LAPOR!") == 2
    assert lines.count(URL.removeprefix("https://")) == 2
    assert sum("lapor.go.id" in line for line in lines) == 2


def test_pdf_metadata_names_the_organisation_not_anonymous(poster_pdf: bytes) -> None:
    assert pdf_info(poster_pdf, "Author") == "Pemerintah Provinsi Kalimantan Selatan"
    assert pdf_info(poster_pdf, "Title") == (
        "LAPOR! Dinas Kependudukan dan Pencatatan Sipil Kota Banjarmasin – Loket 3 – Perekaman KTP"
    )
    assert pdf_info(poster_pdf, "Subject") == URL
    assert "anonymous" not in poster_pdf.decode("latin-1")


def test_pdf_qr_is_vector_and_large(poster_pdf: bytes) -> None:
    objects = pdf_objects(poster_pdf)
    assert not any(b"/Subtype /Image" in h for h, _ in objects.values())
    content = page_content(poster_pdf, pdf_pages(poster_pdf)[0])
    scale = re.search(rb"([\d.]+) 0 0 -([\d.]+) [\d.]+ [\d.]+ cm", content)
    assert scale is not None
    rects = re.findall(rb"(\d+) (\d+) (\d+) 1 re", content)
    matrix = qr_matrix(qr_text(URL))
    assert sum(int(w) for _, _, w in rects) == sum(map(sum, matrix))
    # Merged runs: fewer rectangles than dark modules.
    assert len(rects) < sum(map(sum, matrix))
    width_mm = float(scale.group(1)) * len(matrix) / 72 * 25.4
    # 29 modules of more than 3 mm: scans from a couple of metres.
    assert width_mm >= 90


def test_pdf_is_deterministic(poster_pdf: bytes) -> None:
    assert render("a4", sheet()) == poster_pdf


def test_print_all_is_one_page_per_poster_in_order() -> None:
    counters = [
        sheet(poster_id=n, label=f"Loket {n}", url=SIGNING.poster_url(BASE, n, 1))
        for n in (3, 5, 8)
    ]
    for paper in ("a4", "a5", "tent"):
        pdf = render_sheets(paper, counters)
        assert len(pdf_pages(pdf)) == 3
        texts = page_texts(pdf)
        for page, counter in zip(texts, counters, strict=True):
            assert counter.label in page.splitlines()
            assert counter.url.removeprefix("https://") in page.splitlines()
        assert pdf_info(pdf, "Author") == "Pemerintah Provinsi Kalimantan Selatan"
        assert (
            pdf_info(pdf, "Title") == "LAPOR! – 3 poster – Pemerintah Provinsi Kalimantan Selatan"
        )


def test_print_all_refuses_nothing_and_unknown_papers() -> None:
    with pytest.raises(ValueError):
        render_sheets("a4", [])
    with pytest.raises(ValueError):
        render_sheets("a3", [sheet()])
    with pytest.raises(ValueError):
        render("gif", sheet())


def test_bundled_font_has_real_glyphs_for_typographic_marks() -> None:
    # ToUnicode maps text even when the glyph is missing, so check the font itself: a missing
    # en dash would print as an empty box while still "extracting" fine.
    name = posters._pick_font("Loket 3 – Perekaman KTP · versi", bold=False)
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
    pdf = render("a4", sheet(unit_name="Kantor Camat Bāru → Lantai 2"))
    assert "Kantor Camat Bāru → Lantai 2" in pdf_text(pdf)
    assert b"DejaVuSans" in pdf


# --------------------------------------------------------------------------------------------
# Layout: the code stays large and on the page whatever the texts

LONG = {
    "unit_name": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu " * 10,
    "label": "Loket 12 – Perizinan Berusaha Berbasis Risiko " * 10,
    "organisation": "Pemerintah Kabupaten Hulu Sungai Selatan Provinsi Kalimantan Selatan " * 5,
    "channels": (
        "lapor.go.id",
        "SMS 1708",
        "SMS LAPOR PERIZINAN DAN PENANAMAN MODAL ke 0811 5000 123",
    )
    * 4,
}
SMALLEST = {"a4": 85 * mm, "a5": 60 * mm, "tent": 60 * mm}


def _assert_code_fits(paper: str, placed: posters.QrPlacement) -> None:
    width, height = posters.PAPERS[paper]
    quiet = 4 * placed.side / 29
    assert placed.side >= SMALLEST[paper]
    assert placed.x - quiet >= 0 and placed.x + placed.side + quiet <= width
    assert placed.top + quiet <= height and placed.top - placed.side - quiet >= 0


@pytest.mark.parametrize("paper", ["a4", "a5", "tent"])
def test_the_code_stays_large_with_worst_case_texts(paper: str) -> None:
    placed = posters.placement(paper, sheet(**LONG))
    _assert_code_fits(paper, placed)
    pdf = render_sheets(paper, [sheet(**LONG)])
    assert "Dinas Penanaman Modal" in pdf_text(pdf)


words = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=40
)


@settings(max_examples=30, deadline=None)
@given(
    unit_name=st.lists(words, max_size=15).map(" ".join),
    label=st.lists(words, max_size=10).map(" ".join),
    organisation=st.lists(words, max_size=10).map(" ".join),
    paper=st.sampled_from(["a4", "a5", "tent"]),
)
def test_layout_fits_any_texts(unit_name: str, label: str, organisation: str, paper: str) -> None:
    made = sheet(unit_name=unit_name, label=label, organisation=organisation)
    _assert_code_fits(paper, posters.placement(paper, made))
