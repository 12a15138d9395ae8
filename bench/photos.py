"""Photos in PostgreSQL against photos on disk: submitting with one photo, and serving a photo
and its small copy, from the real server on the same PostgreSQL, printed as ratios.

For each storage (`LAPOR_PHOTO_STORAGE=files`, then `database`; and SQLite with files, today's
one-machine default, as a reference) it starts `lapor serve` on a fresh database (bench/load.py's
RealServer: seeded through the operator CLI, rate limits out of the way), then from an asyncio
client on 127.0.0.1, at `--connections` at once:

    submit   POST /q/{code}                 multipart, one phone-sized JPEG, its own form token
    first    GET  /t/{code}/{secret}/photos/0            each kept photo once (1600 px, ~450 KB)
    photo    GET  the same, --requests times over them    (the process may remember them)
    small    GET  /t/{code}/{secret}/photos/0?size=small  its small copy (made before timing)

Each submission re-encodes its photo (most of its cost, the same for both storages), so the
submit ratio shows what keeping the bytes in a table costs on top; the serving ratios show what
reading them from PostgreSQL costs against a file read. The client shares the machine's cores
with the server and the database: only the ratios within one run mean anything.

    python bench/photos.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/photos.py --submissions 100 --requests 1000 --connections 8
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from load import RealServer, mint_tokens, server_errors, stop  # noqa: E402


def phone_photo(seed: int) -> bytes:
    """A 3000×2250 JPEG with detail in it (a flat picture would re-encode to nothing), about
    what a phone sends once the browser has not scaled it."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.effect_noise((750, 563), 60).convert("RGB").resize((3000, 2250))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(3000), rng.randrange(2250)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + rng.randrange(50, 600), y + rng.randrange(50, 400)), colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


WHAT = ("submit", "first", "photo", "small")


@dataclass
class Timing:
    name: str
    seconds: list[float]
    wall: float
    failures: int

    @property
    def rps(self) -> float:
        return len(self.seconds) / self.wall if self.wall else 0.0

    def p(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def run_all(name: str, jobs: list[object], connections: int, send: object) -> Timing:
    """Every job through `send`, `connections` at a time."""
    import httpx

    queue: asyncio.Queue[object] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    seconds: list[float] = []
    failures = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            job = queue.get_nowait()
            started = time.perf_counter()
            ok = await send(client, job)  # type: ignore[operator]
            seconds.append(time.perf_counter() - started)
            failures += 0 if ok else 1

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        wall = time.perf_counter() - started
    return Timing(name, seconds, wall, failures)


async def measure(
    server: RealServer, poster_path: str, poster_id: int, args: argparse.Namespace
) -> dict[str, Timing]:
    import httpx

    base = f"http://127.0.0.1:{server.port}"
    photos = [phone_photo(seed) for seed in range(8)]
    tokens = mint_tokens(poster_id, args.submissions + args.warmup)
    receipts: list[str] = []

    async def submit(client: httpx.AsyncClient, job: object) -> bool:
        token, photo = job  # type: ignore[misc]
        response = await client.post(
            base + poster_path,
            data={
                "token": token,
                "kind": "pengaduan",
                "identity": "anonim",
                "text": "Jalan berlubang di depan pasar, sudah tiga minggu belum diperbaiki.",
            },
            files=[("photos", ("foto.jpg", photo, "image/jpeg"))],
        )
        if response.status_code != 303:
            return False
        receipts.append(response.headers["location"].removesuffix("?sent=1"))
        return True

    warm = [(tokens.pop(), photos[i % len(photos)]) for i in range(args.warmup)]
    await run_all("warm-up", list(warm), args.connections, submit)
    receipts.clear()
    jobs = [(token, photos[i % len(photos)]) for i, token in enumerate(tokens)]
    results = {"submit": await run_all("submit", list(jobs), args.connections, submit)}

    async def get(client: httpx.AsyncClient, job: object) -> bool:
        response = await client.get(f"{base}{job}")
        return response.status_code == 200 and response.headers["content-type"] == "image/jpeg"

    full = [f"{receipts[i % len(receipts)]}/photos/0" for i in range(args.requests)]
    small = [f"{receipts[i % len(receipts)]}/photos/0?size=small" for i in range(args.requests)]
    # Each photo once, as the first visitor of its page asks for it: from the database, not
    # from the process's memory of photos it served (store/photo_blobs.py).
    results["first"] = await run_all("first", sorted(set(full)), args.connections, get)
    # Every small copy made once before timing: the figure is serving, not making.
    await run_all("make small copies", sorted(set(small)), args.connections, get)
    random.Random(1).shuffle(full)
    random.Random(2).shuffle(small)
    results["photo"] = await run_all("photo", list(full), args.connections, get)
    results["small"] = await run_all("small", list(small), args.connections, get)
    return results


def run_storage(
    label: str, storage: str, database_url: str | None, args: argparse.Namespace, workdir: Path
) -> dict[str, Timing]:
    own = workdir / label.replace(" ", "-")
    own.mkdir()
    server = RealServer(own, database_url, args.bench_database)
    server.env["LAPOR_PHOTO_STORAGE"] = storage
    poster_id, poster_path = server.seed()
    server.start()
    try:
        results = asyncio.run(measure(server, poster_path, poster_id, args))
    finally:
        assert server.proc is not None
        stop(server.proc)
    kept = list((server.data_dir / "photos").rglob("*.jpg"))
    on_disk = sum(1 for p in kept if not {"pending", "thumbs"} & set(p.parts))
    print(f"  {label}: {server_errors(server.log)}; kept photo files on disk: {on_disk}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LAPOR_TEST_DATABASE_URL", ""),
        help="PostgreSQL to create the bench database on (default: $LAPOR_TEST_DATABASE_URL)",
    )
    parser.add_argument("--bench-database", default="lapor_bench_photos")
    parser.add_argument("--submissions", type=int, default=80)
    parser.add_argument("--warmup", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1500, help="GETs of each kind")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-sqlite", action="store_true", help="leave out the SQLite row")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url postgresql://... is needed (or LAPOR_TEST_DATABASE_URL)")
    rows: list[tuple[str, dict[str, Timing]]] = []
    with tempfile.TemporaryDirectory(prefix="lapor-bench-photos-") as tmp:
        workdir = Path(tmp)
        print(
            f"{args.submissions} submissions with one photo, {args.requests} GETs of a photo "
            f"and of a small copy, {args.connections} at a time"
        )
        rows.append(
            ("PG, files", run_storage("PG files", "files", args.database_url, args, workdir))
        )
        rows.append(
            (
                "PG, database",
                run_storage("PG database", "database", args.database_url, args, workdir),
            )
        )
        if not args.no_sqlite:
            rows.append(
                ("SQLite, files", run_storage("SQLite files", "files", None, args, workdir))
            )
    base = rows[0][1]
    print()
    print(
        f"{'storage':<15}{'what':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'fail':>6}"
        f"{'vs PG files':>13}"
    )
    for label, results in rows:
        for what in WHAT:
            timing = results[what]
            ratio = timing.rps / base[what].rps if base[what].rps else 0.0
            print(
                f"{label:<15}{what:<8}{timing.rps:>9.1f}{timing.p(0.5):>9.1f}{timing.p(0.99):>9.1f}"
                f"{timing.failures:>6}{ratio:>12.0%}"
            )
    database = dict(rows)["PG, database"]
    print()
    for what in WHAT:
        ratio = database[what].rps / base[what].rps if base[what].rps else 0.0
        median = statistics.median(database[what].seconds) / statistics.median(base[what].seconds)
        print(
            f"{what}: photos in PostgreSQL give {ratio:.0%} of the throughput of files on the same "
            f"PostgreSQL, median latency x{median:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
