"""QR posters for service counters: the code itself as PNG/SVG, and a printable A4 PDF sheet.

Pure rendering: no HTTP, no database. Callers pass the finished URL and the texts to print.
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
import reportlab
from PIL import Image
from qrcode.exceptions import DataOverflowError
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = [
    "FORMATS",
    "MAX_QR_VERSION",
    "PosterTooDense",
    "qr_matrix",
    "qr_version",
    "render",
    "render_pdf",
    "render_png",
    "render_svg",
]

# Kept low so the code scans at arm's length from a cheap phone: a version-5 code (37 modules)
# printed 12+ cm wide has modules over 3 mm. With our ~30-character base URL that leaves room for
# a 51-character byte-mode code after "/q/", or 89 characters if the whole URL is uppercase.
MAX_QR_VERSION = 5


class PosterTooDense(ValueError):
    """The URL needs a QR version above MAX_QR_VERSION: shorten the URL instead of printing it."""


# --------------------------------------------------------------------------------------------
# QR matrix

Matrix = tuple[tuple[bool, ...], ...]


@functools.lru_cache(maxsize=256)
def _encode(url: str) -> tuple[int, Matrix]:
    # Cached because one poster request renders the same URL in PDF, PNG and SVG.
    if not url:
        raise ValueError("url must not be empty")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, version=None, border=0)
    qr.add_data(url)
    try:
        qr.make(fit=True)
    # Data beyond version 40 surfaces as DataOverflowError or as qrcode's own "Invalid version"
    # ValueError, depending on where the fit search gives up.
    except (DataOverflowError, ValueError) as exc:
        raise PosterTooDense(f"URL of {len(url)} characters does not fit any QR version") from exc
    version = int(qr.version)
    if version > MAX_QR_VERSION:
        raise PosterTooDense(
            f"URL of {len(url)} characters needs QR version {version}, limit is {MAX_QR_VERSION}"
        )
    return version, tuple(tuple(bool(cell) for cell in row) for row in qr.get_matrix())


def qr_matrix(url: str) -> list[list[bool]]:
    """Dark (True) / light modules at error correction M, quiet zone not included."""
    return [list(row) for row in _encode(url)[1]]


def qr_version(url: str) -> int:
    return _encode(url)[0]


def _dark_runs(matrix: Matrix) -> Iterator[tuple[int, int, int]]:
    """Yield (x, y, length) of horizontal runs of dark modules: one rectangle per run instead of
    per module keeps SVG and PDF output several times smaller."""
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            yield start, y, x - start


# --------------------------------------------------------------------------------------------
# PNG and SVG


def render_png(url: str, *, box_px: int = 10, border: int = 4) -> bytes:
    """Black-on-white 1-bit PNG, `box_px` pixels per module, `border` modules of quiet zone."""
    if box_px < 1 or border < 0:
        raise ValueError("box_px must be >= 1 and border >= 0")
    matrix = _encode(url)[1]
    side = len(matrix) + 2 * border
    # Mode "1": 0 is black, 255 white; build at one pixel per module, then scale without
    # interpolation so module edges stay sharp.
    small = Image.new("1", (side, side), 255)
    for x, y, length in _dark_runs(matrix):
        small.paste(0, (x + border, y + border, x + border + length, y + border + 1))
    image = small.resize((side * box_px, side * box_px), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# Printed SVGs are dropped into agencies' own layouts; 50 mm including the quiet zone is the
# smallest size we still trust to scan from a counter, and designers scale up from there.
_SVG_SIDE_MM = 50


def render_svg(url: str, *, border: int = 4) -> bytes:
    """Standalone SVG: white background plus one path of dark modules, viewBox in modules."""
    if border < 0:
        raise ValueError("border must be >= 0")
    matrix = _encode(url)[1]
    side = len(matrix) + 2 * border
    d = "".join(f"M{x + border},{y + border}h{n}v1h-{n}z" for x, y, n in _dark_runs(matrix))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1"'
        f' width="{_SVG_SIDE_MM}mm" height="{_SVG_SIDE_MM}mm"'
        f' viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
        f"<title>{escape(url)}</title>"
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{d}"/>'
        "</svg>\n"
    ).encode()


# --------------------------------------------------------------------------------------------
# Fonts

_REPORTLAB_FONTS = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
_DEJAVU = "/usr/share/fonts/truetype/dejavu"

# Vera ships inside reportlab, so it is there on every host. It only covers ~280 characters
# (Latin-1 plus typographic dashes and quotes, enough for Bahasa Indonesia), so a text with
# anything else falls back to DejaVu when the host has it. The URL prefers DejaVu Sans Mono, so
# posters are byte-identical only between hosts with the same fonts installed.
_FONT_FILES: dict[str, str] = {
    "LaporSans": os.path.join(_REPORTLAB_FONTS, "Vera.ttf"),
    "LaporSans-Bold": os.path.join(_REPORTLAB_FONTS, "VeraBd.ttf"),
    "LaporWide": os.path.join(_DEJAVU, "DejaVuSans.ttf"),
    "LaporWide-Bold": os.path.join(_DEJAVU, "DejaVuSans-Bold.ttf"),
    "LaporMono": os.path.join(_DEJAVU, "DejaVuSansMono-Bold.ttf"),
}


@functools.cache
def _font(name: str) -> TTFont | None:
    """Register a font once per process; None when its file is missing on this host."""
    path = _FONT_FILES[name]
    if not os.path.exists(path):
        return None
    font = TTFont(name, path)
    pdfmetrics.registerFont(font)
    return font


def _covers(font: TTFont, text: str) -> bool:
    cmap = font.face.charToGlyph
    return all(ord(ch) in cmap for ch in text if not ch.isspace())


def _pick_font(text: str, *, bold: bool) -> str:
    primary, wide = ("LaporSans-Bold", "LaporWide-Bold") if bold else ("LaporSans", "LaporWide")
    vera = _font(primary)
    assert vera is not None, "reportlab's bundled Vera fonts are missing"
    if _covers(vera, text):
        return primary
    fallback = _font(wide)
    # Without DejaVu a missing glyph prints as an empty box, which beats refusing the poster.
    return wide if fallback is not None and _covers(fallback, text) else primary


def _pick_mono(text: str) -> str:
    # A monospaced face with a marked zero keeps 0/O and 1/l apart for people typing the URL.
    mono = _font("LaporMono")
    if mono is not None and _covers(mono, text):
        return "LaporMono"
    return _pick_font(text, bold=True)


# --------------------------------------------------------------------------------------------
# Text fitting


@dataclass(frozen=True)
class _TextBlock:
    lines: tuple[str, ...]
    font: str
    size: float
    leading: float
    clipped: bool = False  # cut short with an ellipsis because even min_size did not fit

    @property
    def height(self) -> float:
        return len(self.lines) * self.leading


_ELLIPSIS = "…"
_URL_BREAK_AFTER = re.compile(r"(?<=[/?&=.\-_#])")


def _width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def _split_long(token: str, font: str, size: float, width: float) -> list[str]:
    """Break a token wider than the line by characters: a long unbroken word must still fit."""
    pieces: list[str] = []
    current, current_width = "", 0.0
    for ch in token:
        # Widths add up (reportlab applies no kerning), which keeps this linear in the token.
        ch_width = _width(ch, font, size)
        if current and current_width + ch_width > width:
            pieces.append(current)
            current, current_width = "", 0.0
        current += ch
        current_width += ch_width
    if current:
        pieces.append(current)
    return pieces


def _wrap(tokens: Sequence[str], joiner: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = current + joiner + token if current else token
        if _width(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        pieces = _split_long(token, font, size, width)
        lines.extend(pieces[:-1])
        current = pieces[-1] if pieces else ""
    if current:
        lines.append(current)
    return lines


def _truncate(lines: list[str], max_lines: int, font: str, size: float, width: float) -> list[str]:
    # Last resort at the minimum size: cutting a line short beats printing off the page.
    kept = lines[:max_lines]
    last = kept[-1]
    while last and _width(last + _ELLIPSIS, font, size) > width:
        last = last[:-1]
    kept[-1] = last.rstrip() + _ELLIPSIS
    return kept


def _fit(
    text: str,
    *,
    font: str,
    max_size: float,
    min_size: float,
    width: float,
    max_lines: int,
    url: bool = False,
    leading: float = 1.2,
) -> _TextBlock:
    """Largest size from max_size down to min_size at which `text` wraps into max_lines."""
    if url:
        tokens: list[str] = [t for t in _URL_BREAK_AFTER.split(text.strip()) if t]
        joiner = ""
    else:
        tokens = text.split()
        joiner = " "
    if not tokens:
        return _TextBlock((), font, min_size, min_size * leading)
    size = max_size
    while True:
        lines = _wrap(tokens, joiner, font, size, width)
        if len(lines) <= max_lines:
            return _TextBlock(tuple(lines), font, size, size * leading)
        if size - 1 < min_size:
            clipped = _truncate(lines, max_lines, font, size, width)
            return _TextBlock(tuple(clipped), font, size, size * leading, clipped=True)
        size -= 1


# --------------------------------------------------------------------------------------------
# A4 poster layout

_PAGE_W, _PAGE_H = A4
_MARGIN = 14 * mm
_TEXT_W = _PAGE_W - 2 * _MARGIN
_QR_QUIET_MODULES = 4
# At least 12 cm so a version-5 code has 3+ mm modules; the text budgets below leave room for
# that in the worst case, and short texts let the code grow to the maximum.
_QR_MIN = 120 * mm
_QR_MAX = 145 * mm
_GAP = 4 * mm


@dataclass(frozen=True)
class _PosterLayout:
    title: _TextBlock
    label: _TextBlock
    instruction: _TextBlock
    caption: _TextBlock
    url: _TextBlock
    footer: _TextBlock
    qr_side: float  # the dark-module area, quiet zone excluded
    qr_x: float
    qr_top: float
    title_top: float
    label_top: float
    instruction_top: float
    caption_top: float
    url_top: float
    footer_top: float


@dataclass(frozen=True)
class _Budget:
    """Largest size, smallest size and line limit for each text block."""

    title: tuple[float, float, int]
    label: tuple[float, float, int]
    instruction: tuple[float, float, int]
    caption: tuple[float, float, int]
    url: tuple[float, float, int]
    footer: tuple[float, float, int]


# The generous budget suits every realistic poster; the tight one only kicks in when extreme
# texts would squeeze the code below _QR_MIN, because the code matters more than the prose.
_BUDGETS = (
    _Budget(
        title=(30, 14, 3),
        label=(22, 12, 2),
        instruction=(16, 10, 2),
        caption=(12, 8, 2),
        url=(20, 10, 3),
        footer=(8, 6, 2),
    ),
    _Budget(
        title=(22, 10, 2),
        label=(16, 9, 1),
        instruction=(12, 8, 1),
        caption=(10, 7, 1),
        url=(14, 8, 2),
        footer=(7, 5, 1),
    ),
)


def _fit_budget(
    text: str,
    font: str,
    limits: tuple[float, float, int],
    *,
    leading: float = 1.2,
    url: bool = False,
) -> _TextBlock:
    max_size, min_size, max_lines = limits
    return _fit(
        text,
        font=font,
        max_size=max_size,
        min_size=min_size,
        width=_TEXT_W,
        max_lines=max_lines,
        leading=leading,
        url=url,
    )


# People copy the URL by hand: fewer, shorter lines are easier to copy, so the URL takes the
# fewest lines it can while staying readable from a step away, and only then grows in size.
_URL_READABLE = 14.0


def _fit_url(url: str, font: str, limits: tuple[float, float, int]) -> _TextBlock:
    max_size, _, max_lines = limits
    floor = min(_URL_READABLE, max_size)
    for lines in range(1, max_lines + 1):
        block = _fit(
            url,
            font=font,
            max_size=max_size,
            min_size=floor,
            width=_TEXT_W,
            max_lines=lines,
            url=True,
        )
        if not block.clipped:
            return block
    return _fit_budget(url, font, limits, url=True)


def _plan_with(
    budget: _Budget,
    modules: int,
    url: str,
    *,
    unit_name: str,
    label: str,
    instruction: str,
    url_caption: str,
    footer: str,
) -> _PosterLayout:
    title = _fit_budget(unit_name, _pick_font(unit_name, bold=True), budget.title, leading=1.15)
    label_block = _fit_budget(label, _pick_font(label, bold=False), budget.label, leading=1.15)
    instr = _fit_budget(instruction, _pick_font(instruction, bold=True), budget.instruction)
    caption = _fit_budget(url_caption, _pick_font(url_caption, bold=False), budget.caption)
    url_block = _fit_url(url, _pick_mono(url), budget.url)
    foot = _fit_budget(footer, _pick_font(footer, bold=False), budget.footer)

    title_top = _PAGE_H - _MARGIN
    label_top = title_top - title.height - 2 * mm
    header_bottom = label_top - label_block.height

    footer_top = _MARGIN + foot.height
    url_top = footer_top + (_GAP if foot.lines else 0) + url_block.height
    caption_top = url_top + 1.5 * mm + caption.height
    instruction_top = caption_top + _GAP + instr.height

    # The quiet zone must stay free of ink; the page is white, so the blank band between the
    # header and the instruction serves as quiet zone and the code takes what is left.
    room = header_bottom - instruction_top
    scale = modules / (modules + 2 * _QR_QUIET_MODULES)
    qr_side = min(_QR_MAX, room * scale, _TEXT_W * scale)
    return _PosterLayout(
        title=title,
        label=label_block,
        instruction=instr,
        caption=caption,
        url=url_block,
        footer=foot,
        qr_side=qr_side,
        qr_x=(_PAGE_W - qr_side) / 2,
        qr_top=instruction_top + room / 2 + qr_side / 2,
        title_top=title_top,
        label_top=label_top,
        instruction_top=instruction_top,
        caption_top=caption_top,
        url_top=url_top,
        footer_top=footer_top,
    )


def _plan_poster(
    url: str, *, unit_name: str, label: str, instruction: str, url_caption: str, footer: str
) -> _PosterLayout:
    modules = len(_encode(url)[1])
    layout: _PosterLayout | None = None
    for budget in _BUDGETS:
        layout = _plan_with(
            budget,
            modules,
            url,
            unit_name=unit_name,
            label=label,
            instruction=instruction,
            url_caption=url_caption,
            footer=footer,
        )
        if layout.qr_side >= _QR_MIN:
            break
    assert layout is not None
    return layout


def _draw_block(canvas: Canvas, block: _TextBlock, top: float) -> None:
    canvas.setFont(block.font, block.size)
    # Baseline sits ~0.8 em below the top of each line box, matching the fonts' ascent.
    y = top - block.size * 0.8 - (block.leading - block.size) / 2
    for line in block.lines:
        canvas.drawCentredString(_PAGE_W / 2, y, line)
        y -= block.leading


def _draw_qr(canvas: Canvas, matrix: Matrix, x: float, top: float, side: float) -> None:
    module = side / len(matrix)
    canvas.saveState()
    # Work in module units with y pointing down so every rectangle has small integer
    # coordinates: the content stream stays tiny and exactly reproducible.
    canvas.translate(x, top)
    canvas.scale(module, -module)
    path = canvas.beginPath()
    for run_x, run_y, length in _dark_runs(matrix):
        path.rect(run_x, run_y, length, 1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def render_pdf(
    url: str,
    *,
    unit_name: str,
    label: str,
    instruction: str,
    url_caption: str,
    footer: str = "",
) -> bytes:
    """Printable portrait A4 poster: unit name, counter label, a vector QR code at least 12 cm
    wide, a scan instruction, the URL as text for people who cannot scan, optional footer."""
    matrix = _encode(url)[1]
    layout = _plan_poster(
        url,
        unit_name=unit_name,
        label=label,
        instruction=instruction,
        url_caption=url_caption,
        footer=footer,
    )
    out = io.BytesIO()
    # invariant=1 pins creation date and document ID, so the same input gives the same bytes
    # and the PDF can be cached and compared.
    body_font = _pick_font("", bold=False)
    # The initial font is otherwise Helvetica, which would be referenced without being embedded.
    canvas = Canvas(
        out,
        pagesize=A4,
        invariant=1,
        pageCompression=1,
        lang="id-ID",
        initialFontName=body_font,
        initialFontSize=12,
    )
    canvas.setTitle(f"{unit_name} – {label}" if label else unit_name)
    canvas.setSubject(url)
    canvas.setCreator("lapor-frontdoor")
    canvas.setFillColorRGB(0, 0, 0)
    _draw_block(canvas, layout.title, layout.title_top)
    _draw_block(canvas, layout.label, layout.label_top)
    _draw_qr(canvas, matrix, layout.qr_x, layout.qr_top, layout.qr_side)
    _draw_block(canvas, layout.instruction, layout.instruction_top)
    _draw_block(canvas, layout.caption, layout.caption_top)
    _draw_block(canvas, layout.url, layout.url_top)
    if layout.footer.lines:
        canvas.setFillColorRGB(0.25, 0.25, 0.25)
        _draw_block(canvas, layout.footer, layout.footer_top)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


# What `render` makes, with the media type a download of it is served as.
FORMATS = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}


def render(fmt: str, url: str, *, unit_name: str, label: str) -> bytes:
    """One poster in one of FORMATS: the printable A4 sheet (pdf) or the bare code (png, svg)
    for an agency's own layout. What `poster print` writes and the admin pages download."""
    if fmt == "pdf":
        return render_pdf(url, **poster_texts(unit_name, label))
    if fmt == "png":
        return render_png(url)
    if fmt == "svg":
        return render_svg(url)
    raise ValueError(f"unknown poster format {fmt!r}")


def poster_texts(unit_name: str, label: str) -> dict[str, str]:
    """The printed words of a poster. Bahasa Indonesia only: the poster hangs in an Indonesian
    office, and the form it leads to offers English."""
    return {
        "unit_name": unit_name,
        "label": label,
        "instruction": "Pindai kode ini dengan kamera ponsel untuk menyampaikan pengaduan",
        "url_caption": "Tidak bisa memindai? Buka alamat ini:",
        "footer": "SP4N-LAPOR! · Laporan langsung diterima admin koordinator",
    }
