"""Poster rendering time: PNG, SVG, the A4 PDF and a unit's 20 counters in one PDF from
web/posters.py, cached and uncached, as ratios to a bare `qrcode` PNG of the same text
measured in the same run.

"uncached" clears the module's QR-matrix cache before every render (what the first print of a
poster costs); "cached" renders a URL whose matrix is already cached (what a second format of
the same poster costs). For the PDF, "cold" also forgets the registered TrueType fonts, as in a
fresh process: that cost is paid once per process, not per poster.

    python bench/posters.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A 30-character base URL, for which issue 18 promises a version-3 code at error correction M.
BASE_URL = "https://lapor.kab-contoh.go.id"
ORGANISATION = "Pemerintah Kabupaten Contoh"
COUNTERS = 20
UNIT = "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Contoh"
LABEL = "Loket 3 – Perekaman KTP"


def measure(
    fn: Callable[[], object], before: Callable[[], None] | None, seconds: float, minimum: int = 5
) -> float:
    """Median milliseconds of one call, over at least `minimum` calls and about `seconds`."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(samples) < minimum or time.perf_counter() < deadline:
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
        if len(samples) >= 10_000:
            break
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="ms per render of the QR posters (PNG, SVG, PDF), cached and uncached, "
        "against a bare qrcode PNG measured in the same run."
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=1.0,
        help="time spent per measurement (default 1.0; at least 5 calls)",
    )
    args = parser.parse_args(argv)

    import qrcode
    import qrcode.constants

    from lapor.web import posters
    from lapor.web.signing import Signing

    signing = Signing(["bench-secret-key-0123456789abcdef"])
    url = signing.poster_url(BASE_URL, 1234, 7)
    qr = posters.qr_text(url)  # what the code carries: the URL uppercased
    sheet = posters.Sheet(
        url=url,
        unit_name=UNIT,
        label=LABEL,
        organisation=ORGANISATION,
        poster_id=1234,
        version=7,
        printed_on=date(2026, 12, 2),
    )
    # A unit's every counter in one PDF, as `poster print --unit` and the unit's page print it.
    counters = [
        dataclasses.replace(
            sheet, poster_id=n, label=f"Loket {n}", url=signing.poster_url(BASE_URL, n, 1)
        )
        for n in range(1, COUNTERS + 1)
    ]
    # The module caches QR matrices; find the cache whatever it is called today.
    caches = [
        getattr(posters, name)
        for name in ("_encode", "qr_matrix", "_matrix")
        if hasattr(getattr(posters, name, None), "cache_clear")
    ]
    if not caches:
        raise SystemExit("web/posters.py has no lru_cache'd matrix function to clear")
    fonts = getattr(posters, "_font", None)

    def clear_matrix() -> None:
        for cache in caches:
            cache.cache_clear()

    def clear_all() -> None:
        clear_matrix()
        if fonts is not None and hasattr(fonts, "cache_clear"):
            fonts.cache_clear()

    def bare_png() -> bytes:
        # qrcode's own one-liner at the same settings: error correction M, 10 px, border 4.
        image = qrcode.make(
            qr, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4
        )
        out = io.BytesIO()
        image.save(out)
        return out.getvalue()

    def png() -> bytes:
        return posters.render("png", sheet)

    def svg() -> bytes:
        return posters.render("svg", sheet)

    def pdf() -> bytes:
        return posters.render("a4", sheet)

    def unit_pdf() -> bytes:
        return posters.render_sheets("a4", counters)

    # Warm up imports, font registration and caches once, outside every measurement.
    sizes = {"bare": len(bare_png()), "png": len(png()), "svg": len(svg()), "pdf": len(pdf())}
    sizes["unit"] = len(unit_pdf())
    version = posters.qr_version(qr)

    rows: list[tuple[str, str, float, int]] = []
    base = measure(bare_png, None, args.seconds)
    rows.append(("bare qrcode PNG (baseline)", "-", base, sizes["bare"]))
    for name, fn, kind in (
        ("render png", png, "png"),
        ("render svg", svg, "svg"),
        ("render a4 PDF", pdf, "pdf"),
    ):
        rows.append((name, "uncached", measure(fn, clear_matrix, args.seconds), sizes[kind]))
        rows.append((name, "cached", measure(fn, None, args.seconds), sizes[kind]))
    rows.append(
        ("render a4 PDF", "cold (fonts too)", measure(pdf, clear_all, args.seconds), sizes["pdf"])
    )
    rows.append(
        (
            f"render_sheets, {COUNTERS} pages",
            "uncached",
            measure(unit_pdf, clear_matrix, args.seconds),
            sizes["unit"],
        )
    )

    print(
        f"# poster rendering, QR text of {len(qr)} characters ({qr}), QR version {version}, "
        f"median of ≥ 5 calls / {args.seconds:g} s each"
    )
    print(f"{'what':<28} {'matrix':<17} {'ms':>8} {'vs bare':>8} {'bytes':>8}")
    for name, mode, ms, size in rows:
        print(f"{name:<28} {mode:<17} {ms:>8.2f} {ms / base:>7.2f}× {size:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
