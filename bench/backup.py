"""The time to back up and restore a million reports on SQLite, against a plain file copy.

    .venv/bin/python bench/backup.py                    # 1,000,000 reports, 1,000 photos
    .venv/bin/python bench/backup.py --reports 100000 --photos 0

The reports are bench/gen_reports.py's, kept in /tmp/lapor-bench-inbox/sqlite for the next runs
(the same data bench/inbox.py reads; made once, about 70 s on an idle machine). The benchmark
works on a copy of that data directory: `--photos` report photos are added to the copy (rows in
report_photos and JPEG-sized files under photos/, as intake keeps them).

Then, `--rounds` times (the best of each is shown), in the same run:

- **copy**, the baseline: the bytes a backup holds, copied as plain files (shutil.copyfile of
  lapor.db, then of every photo file): what `cp -r` of a stopped server's directory costs;
- **backup**: store.backup.write_backup, what `lapor backup` runs (the online backup API in one
  step, the photos the snapshot names, hashing everything, the manifest);
- **restore**: store.backup.restore_backup into an empty directory, what `lapor restore` runs
  (copying with every file checked against the manifest, then moved into place).

Both are called in-process: the command's own start (Python and imports, about a second) is
left out, the same for every size. Each row shows seconds, seconds per 100,000 reports and the
ratio to the copy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import gen_reports  # noqa: E402

from lapor.store import backup  # noqa: E402
from lapor.store.migrate import known_revisions  # noqa: E402

PHOTO_BYTES = 120_000  # a phone photo after re-encoding at 1600 px (store/photos.py)


def source(reports: int, data_dir: Path) -> Path:
    """gen_reports' database with `reports` reports, made once and kept."""
    database = data_dir / "lapor.db"
    if database.exists():
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            (found,) = conn.execute("SELECT count(*) FROM reports").fetchone()
        except sqlite3.Error:
            found = -1
        finally:
            conn.close()
        if found == reports:
            print(f"# reusing the {reports:,} reports in {database}", flush=True)
            return database
    summary = gen_reports.generate(
        f"sqlite:///{database}",
        reports=reports,
        replace=True,
        log=lambda line: print("# " + line, flush=True),
    )
    (data_dir / "gen-summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return database


def add_photos(data_dir: Path, count: int) -> None:
    """`count` photos on the first reports, as intake keeps them: a row and a file each."""
    conn = sqlite3.connect(data_dir / "lapor.db")
    try:
        rows = []
        for i in range(count):
            name = f"{i:032x}.jpg"
            path = data_dir / "photos" / name[:2] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(PHOTO_BYTES))
            rows.append((i + 1, 0, name, "image/jpeg", 1600, 1200, PHOTO_BYTES, 0))
        conn.executemany(
            "INSERT INTO report_photos (report_id, position, filename, content_type, width, "
            "height, size_bytes, withheld) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.commit()
    finally:
        conn.close()


def plain_copy(data_dir: Path, target: Path) -> None:
    target.mkdir()
    shutil.copyfile(data_dir / "lapor.db", target / "lapor.db")
    photos = data_dir / "photos"
    if photos.exists():
        for path in photos.rglob("*.jpg"):
            copied = target / path.relative_to(data_dir)
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copied)
    # The backup fsyncs what it wrote; a fair copy does too.
    os.sync()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--photos", type=int, default=1000, help="photo files (default 1,000)")
    parser.add_argument("--rounds", type=int, default=2, help="the best of this many (2)")
    parser.add_argument(
        "--data-dir",
        default=str(gen_reports.DEFAULT_DIR / "sqlite"),
        help="where the generated reports are kept (default %(default)s)",
    )
    args = parser.parse_args(argv)
    database = source(args.reports, Path(args.data_dir))
    with tempfile.TemporaryDirectory(prefix="lapor-bench-backup-") as scratch:
        work = Path(scratch)
        data_dir = work / "data"
        data_dir.mkdir()
        shutil.copyfile(database, data_dir / "lapor.db")
        (data_dir / "secret.key").write_text("bench-backup-key-0123456789abcdef\n")
        add_photos(data_dir, args.photos)
        size = (data_dir / "lapor.db").stat().st_size
        print(
            f"# {args.reports:,} reports: lapor.db {size / 1e6:,.0f} MB, {args.photos:,} photos "
            f"of {PHOTO_BYTES / 1000:.0f} KB ({args.photos * PHOTO_BYTES / 1e6:,.0f} MB); "
            f"best of {args.rounds}",
            flush=True,
        )

        def run(name: str, round_: int) -> None:
            out = work / f"{name}-{round_}"
            if name == "copy":
                plain_copy(data_dir, out)
            elif name == "backup":
                backup.write_backup(
                    out,
                    database=data_dir / "lapor.db",
                    photo_path=lambda n: data_dir / "photos" / n[:2] / n,
                    data_dir=data_dir,
                    kept_files=("secret.key",),
                    versions={"lapor": "bench"},
                )
            else:
                backup.restore_backup(
                    work / f"backup-{round_}",
                    data_dir=out,
                    database=out / "lapor.db",
                    known_revisions=known_revisions(),
                )

        best: dict[str, float] = {}
        for round_ in range(args.rounds):
            for name in ("copy", "backup", "restore"):
                took = timed(lambda: run(name, round_))  # noqa: B023
                best[name] = min(took, best.get(name, took))
                print(f"# round {round_ + 1}: {name} {took:.2f} s", flush=True)
            for name in ("copy", "backup", "restore"):
                shutil.rmtree(work / f"{name}-{round_}")
        per = args.reports / 100_000
        print(f"{'':8} {'s':>8} {'s/100k':>8} {'vs copy':>8}")
        for name in ("copy", "backup", "restore"):
            print(
                f"{name:8} {best[name]:8.2f} {best[name] / per:8.3f} "
                f"{best[name] / best['copy']:7.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
