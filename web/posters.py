"""QR posters for service counters: the code itself as PNG/SVG, and printable PDF posters
(A4, A5, a table tent for counters), one page per poster, so a unit prints all its counters at
once.

Pure rendering: no HTTP, no database. Callers pass finished `Sheet`s (web/poster_print.py
makes them from the store and the settings).
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
import reportlab
from babel.dates import format_date
from PIL import Image
from qrcode.exceptions import DataOverflowError
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MAX_QR_VERSION",
    "PAPERS",
    "PosterTooDense",
    "Sheet",
    "display_url",
    "qr_matrix",
    "qr_text",
    "qr_version",
    "render",
    "render_png",
    "render_sheets",
    "render_svg",
]

# Kept low so the code scans at arm's length from a cheap phone. A poster's URL, uppercased
# (`qr_text`), is all in the alphanumeric mode: behind a 30-character base URL it is version 3
# (29 modules, over 3 mm each on the A4 poster). The limit leaves room for longer base URLs and
# ids; past it the operator is told to shorten LAPOR_BASE_URL.
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
# What a poster says

# The QR code's alphanumeric mode: 45 symbols, 5.5 bits a character instead of byte mode's 8.
_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def qr_text(url: str) -> str:
    """What a poster's QR code carries: its URL with scheme, host and the part from `/q/` on
    uppercased, so that all of it is in the QR code's alphanumeric mode (a 30-character base
    URL then fits version 3 at error correction M). Scheme and host are case-insensitive, and
    the server reads `/Q/` and the code in any case. A path the base URL has of its own keeps
    its case (the proxy in front may not be case-insensitive), at the cost of a byte segment."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    prefix, q, code = ("/" + path).rpartition("/q/")
    if not q or "." in code:  # a first-format code is base64url: case-sensitive
        return f"{scheme.upper()}://{host.upper()}{slash}{path}"
    return f"{scheme.upper()}://{host.upper()}{prefix}/Q/{code.upper()}"


def display_url(url: str) -> str:
    """The address printed for people who cannot scan: without `https://`, which browsers
    add themselves; an `http://` address keeps its scheme, or the browser would try https."""
    return url.removeprefix("https://")


@dataclass(frozen=True)
class Sheet:
    """One printed poster: everything on it, finished. web/poster_print.py makes these from a
    poster, its units and the settings; rendering needs nothing else."""

    url: str  # as `Signing.poster_url` makes it; the QR code carries `qr_text(url)`
    unit_name: str
    label: str
    organisation: str  # the top of the unit tree: the government the service belongs to
    poster_id: int
    version: int
    printed_on: date
    # Official channels besides this poster, as printed: the national ones first.
    channels: tuple[str, ...] = ("lapor.go.id", "SMS 1708")

    @property
    def audit_line(self) -> str:
        """Which print this is, for whoever finds it on a wall: poster, version, date."""
        day = format_date(self.printed_on, "d MMMM y", locale="id")
        return f"Poster {self.poster_id} · versi {self.version} · dicetak {day}"


# The printed words, Bahasa Indonesia only: the poster hangs in an Indonesian office, and the
# form it leads to offers English.
SERVICE = "LAPOR!"
SERVICE_NAME = "Layanan Aspirasi dan Pengaduan Online Rakyat"
HEADLINE = "Punya keluhan atau saran?"
SUBLINE = "Sampaikan lewat LAPOR!, layanan pengaduan resmi pemerintah."
PROMISES = ("Gratis", "Identitas dapat dirahasiakan", "Langsung diterima petugas")
STEPS = (
    ("Pindai", "Arahkan kamera ponsel ke kode QR ini."),
    ("Tulis", "Ceritakan apa yang terjadi, di mana dan kapan. Foto boleh dilampirkan."),
    ("Pantau", "Simpan kode lacak yang Anda terima untuk mengikuti tindak lanjutnya."),
)
URL_CAPTION = "Tidak bisa memindai? Ketik alamat ini di peramban:"
CHANNELS_CAPTION = "Saluran resmi lainnya"

# The red of the citizen's pages (static/citizen.css), a lighter red for accents and a tint.
_RED = (0x8B / 255, 0, 0)
_ACCENT = (0xC6 / 255, 0x28 / 255, 0x28 / 255)
_TINT = (0xFB / 255, 0xEB / 255, 0xEB / 255)
_INK = (0x1B / 255, 0x1B / 255, 0x1B / 255)
_MUTED = (0x55 / 255, 0x55 / 255, 0x55 / 255)
_PANEL = (0xF3 / 255, 0xF3 / 255, 0xF3 / 255)
_WHITE = (1, 1, 1)


# --------------------------------------------------------------------------------------------
# Drawing helpers

Colour = tuple[float, float, float]


def _block(
    text: str,
    *,
    bold: bool,
    max_size: float,
    min_size: float,
    width: float,
    max_lines: int,
    leading: float = 1.2,
) -> _TextBlock:
    return _fit(
        text,
        font=_pick_font(text, bold=bold),
        max_size=max_size,
        min_size=min_size,
        width=width,
        max_lines=max_lines,
        leading=leading,
    )


def _draw_text(
    canvas: Canvas,
    block: _TextBlock,
    x: float,
    top: float,
    colour: Colour,
    *,
    align: str = "left",
    width: float = 0,
) -> float:
    """Draw `block` with its first line box's top at `top`; return the bottom of the last."""
    canvas.setFillColorRGB(*colour)
    canvas.setFont(block.font, block.size)
    # Baseline sits ~0.8 em below the top of each line box, matching the fonts' ascent.
    y = top - block.size * 0.8 - (block.leading - block.size) / 2
    for line in block.lines:
        if align == "centre":
            canvas.drawCentredString(x + width / 2, y, line)
        elif align == "right":
            canvas.drawRightString(x + width, y, line)
        else:
            canvas.drawString(x, y, line)
        y -= block.leading
    return top - block.height


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


def _check(canvas: Canvas, cx: float, cy: float, r: float) -> None:
    """A white tick in a red disc: drawn, because the embedded fonts have no ✓."""
    canvas.setFillColorRGB(*_RED)
    canvas.circle(cx, cy, r, stroke=0, fill=1)
    canvas.setStrokeColorRGB(*_WHITE)
    canvas.setLineWidth(r * 0.32)
    canvas.setLineCap(1)
    canvas.setLineJoin(1)
    tick = canvas.beginPath()
    tick.moveTo(cx - r * 0.45, cy)
    tick.lineTo(cx - r * 0.1, cy - r * 0.38)
    tick.lineTo(cx + r * 0.5, cy + r * 0.4)
    canvas.drawPath(tick, stroke=1, fill=0)


def _balanced(block: _TextBlock, width: float) -> _TextBlock:
    """The same text in as many lines, as even as they go: narrower until one more line would
    be needed (a name of two lines should not leave one word on the second)."""
    if len(block.lines) < 2:
        return block
    text = " ".join(block.lines)
    narrow, wide = width / 2, width
    best = block
    for _ in range(12):
        middle = (narrow + wide) / 2
        lines = _wrap(text.split(), " ", block.font, block.size, middle)
        if len(lines) <= len(block.lines):
            best, wide = _TextBlock(tuple(lines), block.font, block.size, block.leading), middle
        else:
            narrow = middle
    return best


def _header(
    canvas: Canvas,
    sheet: Sheet,
    top: float,
    width: float,
    height: float,
    scale: float,
    pad: float,
) -> None:
    """The red band across the page: the service's name large, its full name, and whose
    service it is; `pad` lines it up with the page's margin."""
    x = 0.0
    canvas.setFillColorRGB(*_RED)
    canvas.rect(x, top - height, width, height, stroke=0, fill=1)
    canvas.setFillColorRGB(*_ACCENT)
    canvas.rect(x, top - height, width, 1.6 * mm * scale, stroke=0, fill=1)
    mark = 46 * scale
    canvas.setFillColorRGB(*_WHITE)
    canvas.setFont(_pick_font(SERVICE, bold=True), mark)
    baseline = top - height / 2 - mark * 0.1
    canvas.drawString(x + pad, baseline, SERVICE)
    mark_w = _width(SERVICE, _pick_font(SERVICE, bold=True), mark)
    name = _block(
        SERVICE_NAME,
        bold=False,
        max_size=10 * scale,
        min_size=7 * scale,
        width=mark_w * 1.25,
        max_lines=2,
        leading=1.15,
    )
    _draw_text(canvas, name, x + pad, baseline - 3 * mm * scale, _WHITE)
    # Whose service it is, right-aligned beside the mark.
    side_w = width - 2 * pad - mark_w - 10 * mm * scale
    org = _block(
        sheet.organisation,
        bold=True,
        max_size=15 * scale,
        min_size=8 * scale,
        width=side_w,
        max_lines=3,
        leading=1.15,
    )
    if not org.clipped:
        org = _balanced(org, side_w)
    caption = _block(
        "SP4N-LAPOR!", bold=False, max_size=9 * scale, min_size=7 * scale, width=side_w, max_lines=1
    )
    total = org.height + 1.5 * mm * scale + caption.height
    y = top - (height - total) / 2
    y = _draw_text(canvas, org, x + width - pad - side_w, y, _WHITE, align="right", width=side_w)
    _draw_text(
        canvas,
        caption,
        x + width - pad - side_w,
        y - 1.5 * mm * scale,
        _TINT,
        align="right",
        width=side_w,
    )


def _promises(canvas: Canvas, x: float, top: float, width: float, size: float) -> float:
    """The promise as ticked chips on one row (smaller type if they do not fit); the bottom."""
    font = _pick_font("".join(PROMISES), bold=True)
    while True:
        r = size * 0.55
        pad = size * 0.7
        widths = [_width(p, font, size) + 2 * r + 3 * pad for p in PROMISES]
        gap = size * 0.8
        if sum(widths) + gap * (len(widths) - 1) <= width or size <= 6:
            break
        size -= 0.5
    height = size * 2.1
    cx = x
    for promise, w in zip(PROMISES, widths, strict=True):
        canvas.setFillColorRGB(*_TINT)
        canvas.roundRect(cx, top - height, w, height, height / 2, stroke=0, fill=1)
        _check(canvas, cx + pad + r, top - height / 2, r)
        canvas.setFillColorRGB(*_RED)
        canvas.setFont(font, size)
        canvas.drawString(cx + 2 * pad + 2 * r, top - height / 2 - size * 0.35, promise)
        cx += w + gap
    return top - height


def _steps(
    canvas: Canvas, x: float, top: float, width: float, height: float, scale: float, size: float
) -> None:
    """1-2-3 down a column of `height`: a numbered red disc, a word, a sentence."""
    r = size * 1.05
    text_x = x + 2 * r + 4 * mm * scale
    text_w = width - (text_x - x)
    blocks = [
        (
            _block(
                title, bold=True, max_size=size * 1.15, min_size=size, width=text_w, max_lines=1
            ),
            _block(
                line,
                bold=False,
                max_size=size * 0.75,
                min_size=6 * scale,
                width=text_w,
                max_lines=4,
            ),
        )
        for title, line in STEPS
    ]
    used = sum(t.height + d.height for t, d in blocks)
    gap = max((height - used) / len(blocks), 2 * mm * scale)
    y = top - gap / 2
    for number, (title, line) in enumerate(blocks, start=1):
        canvas.setFillColorRGB(*_RED)
        cy = y - r
        canvas.circle(x + r, cy, r, stroke=0, fill=1)
        canvas.setFillColorRGB(*_WHITE)
        canvas.setFont(_pick_font("1", bold=True), size * 1.25)
        canvas.drawCentredString(x + r, cy - size * 0.45, str(number))
        below = _draw_text(canvas, title, text_x, y, _INK)
        y = _draw_text(canvas, line, text_x, below, _MUTED) - gap


@dataclass(frozen=True)
class _UrlBox:
    caption: _TextBlock | None
    url: _TextBlock
    pad: float
    gap: float

    @property
    def height(self) -> float:
        above = self.caption.height + self.gap if self.caption else 0.0
        return above + self.url.height + 1.6 * self.pad


def _url_box(url: str, width: float, scale: float, *, caption: bool) -> _UrlBox:
    """The address to type, in a monospaced face on a grey field, with its caption above."""
    shown = display_url(url)
    pad = 3 * mm * scale
    cap = (
        _block(
            URL_CAPTION,
            bold=False,
            max_size=10.5 * scale,
            min_size=7 * scale,
            width=width,
            max_lines=1,
        )
        if caption
        else None
    )
    block = _fit_url(shown, _pick_mono(shown), width - 2 * pad, 17 * scale, 8 * scale)
    return _UrlBox(cap, block, pad, 1.2 * mm * scale)


def _draw_url_box(canvas: Canvas, box: _UrlBox, x: float, top: float, width: float) -> None:
    y = top
    if box.caption:
        y = _draw_text(canvas, box.caption, x, y, _MUTED, align="centre", width=width) - box.gap
    box_h = box.url.height + 1.6 * box.pad
    canvas.setFillColorRGB(*_PANEL)
    canvas.roundRect(x, y - box_h, width, box_h, box.pad * 0.7, stroke=0, fill=1)
    _draw_text(
        canvas,
        box.url,
        x + box.pad,
        y - box.pad * 0.8,
        _INK,
        align="centre",
        width=width - 2 * box.pad,
    )


# People copy the URL by hand: fewer, shorter lines are easier to copy, so the URL takes the
# fewest lines it can while staying readable from a step away, and only then grows in size.
def _fit_url(url: str, font: str, width: float, max_size: float, min_size: float) -> _TextBlock:
    floor = min(max_size, max(min_size, max_size * 0.7))
    for lines in (1, 2):
        block = _fit(
            url,
            font=font,
            max_size=max_size,
            min_size=floor,
            width=width,
            max_lines=lines,
            url=True,
        )
        if not block.clipped:
            return block
    return _fit(
        url, font=font, max_size=max_size, min_size=min_size, width=width, max_lines=3, url=True
    )


@dataclass(frozen=True)
class _ChannelBand:
    caption: _TextBlock
    listing: _TextBlock
    pad: float

    @property
    def height(self) -> float:
        return self.caption.height + self.listing.height + 1.4 * self.pad + 0.2 * self.pad


def _channel_band(sheet: Sheet, width: float, scale: float, size: float = 13) -> _ChannelBand:
    """The other official channels: where else the same report can be made."""
    pad = 4 * mm * scale
    inner = width - 2 * pad
    caption = _block(
        CHANNELS_CAPTION,
        bold=True,
        max_size=9 * scale,
        min_size=7 * scale,
        width=inner,
        max_lines=1,
    )
    listing = _block(
        "  ·  ".join(sheet.channels),
        bold=True,
        max_size=size * scale,
        min_size=7 * scale,
        width=inner,
        max_lines=2,
    )
    return _ChannelBand(caption, listing, pad)


def _draw_channel_band(
    canvas: Canvas, band: _ChannelBand, x: float, top: float, width: float
) -> None:
    canvas.setFillColorRGB(*_PANEL)
    canvas.roundRect(x, top - band.height, width, band.height, band.pad * 0.5, stroke=0, fill=1)
    y = _draw_text(canvas, band.caption, x + band.pad, top - band.pad * 0.7, _RED)
    _draw_text(canvas, band.listing, x + band.pad, y - band.pad * 0.2, _INK)


def _footer(
    canvas: Canvas, sheet: Sheet, x: float, bottom: float, width: float, scale: float
) -> None:
    """Which print this is on the left (poster, version, date), whose on the right."""
    size = 7.5 * scale
    left = _block(
        sheet.audit_line,
        bold=False,
        max_size=size,
        min_size=5 * scale,
        width=width * 0.55,
        max_lines=1,
    )
    right = _block(
        f"Dikelola oleh {sheet.organisation}",
        bold=False,
        max_size=size,
        min_size=5 * scale,
        width=width * 0.43,
        max_lines=1,
    )
    _draw_text(canvas, left, x, bottom + left.height, _MUTED)
    _draw_text(canvas, right, x, bottom + right.height, _MUTED, align="right", width=width)


# --------------------------------------------------------------------------------------------
# Layouts: a portrait poster (A4, and A5 as the same page scaled) and a table tent


@dataclass(frozen=True)
class QrPlacement:
    """Where a page's QR code went: the dark-module area, quiet zone not included."""

    x: float
    top: float
    side: float


def _draw_code(
    canvas: Canvas, matrix: Matrix, x: float, top: float, room: float, bottom: float, most: float
) -> QrPlacement:
    """The code as large as fits between `top` and `bottom` (at most `most` wide), centred
    there, its four-module quiet zone inside a thin red frame."""
    quiet = 4 / len(matrix)
    side = min(most, (top - bottom) / (1 + 2 * quiet), room / (1 + 2 * quiet))
    frame = side * quiet
    qr_top = top - (top - bottom - side - 2 * frame) / 2 - frame
    canvas.setStrokeColorRGB(*_RED)
    canvas.setLineWidth(1.2)
    outer = side + 2 * frame
    canvas.roundRect(x, qr_top - side - frame, outer, outer, frame * 0.8, stroke=1, fill=0)
    _draw_qr(canvas, matrix, x + frame, qr_top, side)
    return QrPlacement(x + frame, qr_top, side)


def _portrait(canvas: Canvas, sheet: Sheet, matrix: Matrix) -> QrPlacement:
    """The poster on A4: band, unit, headline, promise, code beside the steps, address,
    other channels, which print it is."""
    scale = 1.0
    page_w, page_h = A4
    margin = 14 * mm
    width = page_w - 2 * margin
    header_h = 42 * mm
    _header(canvas, sheet, page_h, page_w, header_h, scale, margin)

    y = page_h - header_h - 7 * mm
    unit = _block(
        sheet.unit_name, bold=True, max_size=24, min_size=12, width=width, max_lines=2, leading=1.15
    )
    y = _draw_text(canvas, unit, margin, y, _INK)
    if sheet.label:
        label = _block(
            sheet.label,
            bold=False,
            max_size=16,
            min_size=10,
            width=width,
            max_lines=2,
            leading=1.15,
        )
        y = _draw_text(canvas, label, margin, y - 1 * mm, _MUTED)
    y -= 4 * mm
    canvas.setStrokeColorRGB(*_ACCENT)
    canvas.setLineWidth(1.4)
    canvas.line(margin, y, margin + 24 * mm, y)
    y -= 4 * mm
    headline = _block(HEADLINE, bold=True, max_size=26, min_size=14, width=width, max_lines=1)
    y = _draw_text(canvas, headline, margin, y, _RED)
    subline = _block(SUBLINE, bold=False, max_size=13, min_size=9, width=width, max_lines=2)
    y = _draw_text(canvas, subline, margin, y, _INK)
    y = _promises(canvas, margin, y - 3.5 * mm, width, 10.5)

    bottom = 7 * mm
    _footer(canvas, sheet, margin, bottom, width, scale)
    band = _channel_band(sheet, width, scale)
    band_top = bottom + 6 * mm + band.height
    _draw_channel_band(canvas, band, margin, band_top, width)
    box = _url_box(sheet.url, width, scale, caption=True)
    box_top = band_top + 5 * mm + box.height
    _draw_url_box(canvas, box, margin, box_top, width)

    placed = _draw_code(
        canvas, matrix, margin, y - 5 * mm, width * 0.645, box_top + 5 * mm, 100 * mm
    )
    frame = placed.x - margin
    steps_x = placed.x + placed.side + frame + 6 * mm
    _steps(
        canvas,
        steps_x,
        placed.top + frame,
        page_w - margin - steps_x,
        placed.side + 2 * frame,
        scale,
        15,
    )
    return placed


def _tent_panel(
    canvas: Canvas, sheet: Sheet, matrix: Matrix, width: float, height: float
) -> QrPlacement:
    """One face of the table tent, landscape, origin at its bottom left: band, code on the
    left, unit and steps on the right, the address across the foot."""
    scale = 0.72
    margin = 10 * mm
    header_h = 30 * mm
    _header(canvas, sheet, height, width, header_h, scale, margin)
    inner = width - 2 * margin

    bottom = 6 * mm
    _footer(canvas, sheet, margin, bottom, inner, scale)
    channels = _block(
        f"{CHANNELS_CAPTION}: " + "  ·  ".join(sheet.channels),
        bold=True,
        max_size=8.5,
        min_size=6,
        width=inner,
        max_lines=1,
    )
    channels_top = bottom + 4 * mm + channels.height
    _draw_text(canvas, channels, margin, channels_top, _INK, align="centre", width=inner)
    box = _url_box(sheet.url, inner, scale, caption=True)
    box_top = channels_top + 2.5 * mm + box.height
    _draw_url_box(canvas, box, margin, box_top, inner)

    top = height - header_h - 6 * mm
    placed = _draw_code(canvas, matrix, margin, top, inner * 0.45, box_top + 5 * mm, 75 * mm)
    frame = placed.x - margin
    right_x = placed.x + placed.side + frame + 7 * mm
    right_w = width - margin - right_x
    y = top
    unit = _block(
        sheet.unit_name,
        bold=True,
        max_size=15,
        min_size=9,
        width=right_w,
        max_lines=2,
        leading=1.15,
    )
    y = _draw_text(canvas, unit, right_x, y, _INK)
    if sheet.label:
        label = _block(
            sheet.label,
            bold=False,
            max_size=11,
            min_size=8,
            width=right_w,
            max_lines=2,
            leading=1.15,
        )
        y = _draw_text(canvas, label, right_x, y - 0.5 * mm, _MUTED)
    y -= 3 * mm
    headline = _block(HEADLINE, bold=True, max_size=15, min_size=9, width=right_w, max_lines=1)
    y = _draw_text(canvas, headline, right_x, y, _RED)
    subline = _block(SUBLINE, bold=False, max_size=9, min_size=7, width=right_w, max_lines=2)
    y = _draw_text(canvas, subline, right_x, y, _INK)
    y = _promises(canvas, right_x, y - 2 * mm, right_w, 7.5)
    _steps(canvas, right_x, y - 1 * mm, right_w, y - 1 * mm - (box_top + 5 * mm), scale, 9.5)
    return placed


def _tent(canvas: Canvas, sheet: Sheet, matrix: Matrix) -> QrPlacement:
    """A4 folded across the middle into a tent that stands on a counter: the same face on
    both halves, the upper one upside down so it reads from the other side."""
    page_w, page_h = A4
    half = page_h / 2
    placed = _tent_panel(canvas, sheet, matrix, page_w, half)
    canvas.saveState()
    canvas.translate(page_w, page_h)
    canvas.rotate(180)
    _tent_panel(canvas, sheet, matrix, page_w, half)
    canvas.restoreState()
    # Where to fold, in the margin only, so nothing is printed across the faces.
    canvas.setStrokeColorRGB(*_MUTED)
    canvas.setLineWidth(0.4)
    canvas.setDash(2, 2)
    canvas.line(0, half, 8 * mm, half)
    canvas.line(page_w - 8 * mm, half, page_w, half)
    canvas.setDash()
    return placed


# What `render` makes: paper sizes (PDF, one page per poster) and the bare code for an
# agency's own layout. "pdf" is the A4 poster under the name earlier releases used.
PAPERS = {"a4": A4, "a5": A5, "tent": A4}
FORMATS = {
    "a4": "application/pdf",
    "a5": "application/pdf",
    "tent": "application/pdf",
    "pdf": "application/pdf",
    "png": "image/png",
    "svg": "image/svg+xml",
}
EXTENSIONS = {fmt: media.rpartition("/")[2].removesuffix("+xml") for fmt, media in FORMATS.items()}


def _page(canvas: Canvas, paper: str, sheet: Sheet, matrix: Matrix) -> QrPlacement:
    if paper == "a4":
        return _portrait(canvas, sheet, matrix)
    if paper == "a5":
        # The same poster at 1/√2: A5 is A4 halved, every proportion kept.
        factor = A5[0] / A4[0]
        canvas.scale(factor, factor)
        placed = _portrait(canvas, sheet, matrix)
        return QrPlacement(placed.x * factor, placed.top * factor, placed.side * factor)
    return _tent(canvas, sheet, matrix)


def render_sheets(paper: str, sheets: Sequence[Sheet]) -> bytes:
    """One PDF, one page per poster, on `paper` (a key of PAPERS): every counter of a unit
    printed in one go. The author is the organisation whose service the posters offer."""
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}")
    if not sheets:
        raise ValueError("no posters to print")
    matrices = [_encode(qr_text(sheet.url))[1] for sheet in sheets]  # PosterTooDense first
    out = io.BytesIO()
    # invariant=1 pins creation date and document ID, so the same input gives the same bytes
    # and the PDF can be cached and compared.
    body_font = _pick_font("", bold=False)
    # The initial font is otherwise Helvetica, which would be referenced without being embedded.
    canvas = Canvas(
        out,
        pagesize=PAPERS[paper],
        invariant=1,
        pageCompression=1,
        lang="id-ID",
        initialFontName=body_font,
        initialFontSize=12,
    )
    first = sheets[0]
    organisations = {sheet.organisation for sheet in sheets}
    canvas.setAuthor(first.organisation if len(organisations) == 1 else SERVICE_NAME)
    if len(sheets) == 1:
        title = f"{SERVICE} {first.unit_name}" + (f" – {first.label}" if first.label else "")
        canvas.setSubject(first.url)
    else:
        title = f"{SERVICE} – {len(sheets)} poster – {first.organisation}"
        canvas.setSubject(" ".join(sheet.url for sheet in sheets))
    canvas.setTitle(title)
    canvas.setCreator(f"{SERVICE} {SERVICE_NAME}")
    canvas.setKeywords(["SP4N-LAPOR!", "pengaduan", "QR"])
    for sheet, matrix in zip(sheets, matrices, strict=True):
        _page(canvas, paper, sheet, matrix)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def render(fmt: str, sheet: Sheet) -> bytes:
    """One poster in one of FORMATS: a printable PDF (a4, a5, tent; pdf is a4) or the bare
    code (png, svg) for an agency's own layout. What `poster print` writes and the admin
    pages download."""
    if fmt == "png":
        return render_png(qr_text(sheet.url))
    if fmt == "svg":
        return render_svg(qr_text(sheet.url))
    if fmt not in FORMATS:
        raise ValueError(f"unknown poster format {fmt!r}")
    return render_sheets("a4" if fmt == "pdf" else fmt, [sheet])


def placement(paper: str, sheet: Sheet) -> QrPlacement:
    """Where the code lands on the page of `paper`, without keeping the PDF: for tests that
    check the code stays large and clear of everything else."""
    canvas = Canvas(
        io.BytesIO(), pagesize=PAPERS[paper], initialFontName=_pick_font("", bold=False)
    )
    return _page(canvas, paper, sheet, _encode(qr_text(sheet.url))[1])
