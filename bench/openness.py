"""Openness benchmark: the public pages over a million reports (issue 16 §3, "cacheable, fast
on a million reports").

Starts the real server (`lapor serve`, one worker, 127.0.0.1, a free port) on a database filled
by bench/gen_reports.py (generated on the first run and kept under /tmp/lapor-bench-openness,
since a million reports take minutes to make; answered reports carry an answer_text, so the
public list has content) and requests, one at a time over one keep-alive connection with no
login, as a visitor reading the public pages:

    /statistik                the province's figures: the server starts summing them as it
                              starts, so the first request waits for what is left of that
                              sum; later ones come from the 5-minute SharedCache, refreshed
                              behind the kept figures (cold, then warm)
    /statistik/{agency}       the busiest agency's figures, cold then warm
    /statistik.json           the province's figures as open data (the same cache entry)
    /jawaban                  the public list of answered reports, page 1
    /jawaban?page=50          a deep page (OFFSET)
    /jawaban?q=<common word>  a search finding about half of the list
    /jawaban?q=<rare word>    a search finding about a hundred

The cold requests are timed on their own, before any warm-up. Then a warm-up (--warmup) and
--rounds rounds with the URLs shuffled in each round; the baseline, measured in the same
rounds, is GET /healthz. Each URL gets p50/p95 and p95 / baseline p95. A URL whose warm p95 is
over --slow-ms (500) gets the SQL the store runs for it printed with its plan (SQLite:
EXPLAIN QUERY PLAN and each statement's time in this process).

    python bench/openness.py                                # SQLite, 1,000,000 reports
    python bench/openness.py --reports 200000 --rounds 10   # a quicker look
    python bench/openness.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import gen_reports  # noqa: E402
from inbox import Client, Probe, Server, Target, code_version, settle  # noqa: E402
from load import server_errors, stop  # noqa: E402

DEFAULT_DIR = Path("/tmp/lapor-bench-openness")
BASELINE = "baseline: GET /healthz"
ITEM = '<li class="answered"'
COUNT = re.compile(r'<p class="count" id="count">([^<]*)</p>')


class OpennessTarget(Target):
    def ready(self) -> bool:
        """A complete generation, made since gen_reports fills answer_text."""
        if not super().ready():
            return False
        try:
            answered = self.query(
                "SELECT count(*) FROM reports WHERE followed_up_at IS NOT NULL "
                "AND answer_text IS NOT NULL"
            )
        except (sqlite3.Error, SystemExit):  # a database from before migration 0023
            return False
        return int(answered[0][0]) > 0


def busiest_agency(target: Target) -> str:
    unit_id = target.query(
        "SELECT unit_id FROM report_counts WHERE unit_id NOT IN (0, 1) "
        "GROUP BY unit_id ORDER BY SUM(n) DESC LIMIT 1"
    )[0][0]
    return str(target.query(f"SELECT slug FROM units WHERE id = {int(unit_id)}")[0][0])


def timed(client: Client, path: str) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    status, fields, data = client.request("GET", path)
    spent = time.perf_counter() - started
    if fields.get("content-encoding") == "gzip":
        data = gzip.decompress(data)
    return spent, status, data


def describe(path: str, status: int, data: bytes) -> str:
    """What the page holds: the list's rows and count line, or the figures' size."""
    if not path.startswith("/jawaban"):
        return f"HTTP {status}, {len(data) / 1024:.0f} KB"
    text = data.decode()
    count = COUNT.search(text)
    shown = " ".join(count.group(1).split()) if count else "?"
    return f"HTTP {status}, {text.count(ITEM)} rows, '{shown}'"


async def explain_answers(target: Target, query: str, page: int) -> list[str]:
    """The statements store.publication.answered and .total run for the page, with their
    plans."""
    from sqlalchemy import create_engine, event

    from lapor.complaints.publication import PAGE_SIZE
    from lapor.store import publication

    if not target.is_sqlite:
        return ["  (plans are printed for SQLite only)"]
    engine = create_engine(target.url)
    captured: list[tuple[str, Any]] = []

    def listener(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, params))

    out: list[str] = []
    with engine.connect() as conn:
        event.listen(engine, "before_cursor_execute", listener)
        publication.answered(conn, query=query, page=page, size=PAGE_SIZE)
        publication.total(conn, query=query)
        event.remove(engine, "before_cursor_execute", listener)
        for statement, params in captured:
            times = []
            for _ in range(3):
                began = time.perf_counter()
                conn.exec_driver_sql(statement, params).all()
                times.append(time.perf_counter() - began)
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            out.append(
                f"  {statistics.median(times) * 1000:.0f} ms here: {' '.join(statement.split())}"
            )
            out.append(f"    params {params}")
            out += [f"    {row[-1]}" for row in plan]
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="postgresql://USER@HOST:PORT/DB to run on PostgreSQL (default: SQLite)",
    )
    parser.add_argument("--bench-database", default="lapor_bench_openness")
    parser.add_argument(
        "--data-dir",
        default=str(DEFAULT_DIR / "sqlite"),
        help="SQLite: the server's data dir, lapor.db inside (default %(default)s)",
    )
    parser.add_argument("--reports", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--regenerate", action="store_true", help="generate the data again")
    parser.add_argument("--seed", type=int, default=1, help="generator and shuffle seed")
    parser.add_argument("--rounds", type=int, default=20, help="measured requests per URL")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured requests per URL")
    parser.add_argument(
        "--slow-ms", type=float, default=500.0, help="warm p95 that gets a plan (default 500)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of every /jawaban URL"
    )
    args = parser.parse_args(argv)

    target = OpennessTarget(args)
    started = time.perf_counter()
    summary = target.prepare()
    workdir = target.data_dir / "run"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    server = Server(target, workdir)
    print("# " + asyncio.run(settle(target, server.env)), flush=True)
    measured = code_version()
    try:
        # inside the try: a server still starting when wait_http gives up is stopped too
        server.start()
        assert server.proc is not None
        agency = busiest_agency(target)
        words = gen_reports.SEARCH_WORDS
        common, rare = words["common"], words["rare"]
        answered = int(
            target.query(
                "SELECT count(*) FROM reports WHERE followed_up_at IS NOT NULL "
                "AND answer_text IS NOT NULL"
            )[0][0]
        )
        load_before = os.getloadavg()[0]
        print(
            f"# openness: {os.cpu_count()} CPUs, load average {load_before:.2f}, database "
            f"{target.name} ({target.url}), {args.reports:,} reports, {answered:,} answered"
            + (f" (generated in {summary['seconds']:.0f} s)" if summary.get("seconds") else "")
            + f"; per URL {args.warmup} warm-up + {args.rounds} measured requests, one at a "
            f"time, gzip; {measured}",
            flush=True,
        )
        client = Client(server.port)
        baseline = Probe(BASELINE, "/healthz")
        probes = [
            Probe("/statistik", "/statistik"),
            Probe(f"/statistik/{agency}", f"/statistik/{agency}"),
            Probe("/statistik.json", "/statistik.json"),
            Probe("/jawaban", "/jawaban"),
            Probe("/jawaban?page=50", "/jawaban?page=50"),
            Probe(f"/jawaban?q={common}", "/jawaban?q=" + urllib.parse.quote_plus(common)),
            Probe(f"/jawaban?q={rare}", "/jawaban?q=" + urllib.parse.quote_plus(rare)),
        ]
        every = [baseline, *probes]
        client.request("GET", "/healthz")
        # cold: the first request of each URL, before anything else asked for it
        print("\ncold (the first request of each URL, in this order):")
        cold: dict[str, float] = {}
        for probe in probes:
            spent, status, data = timed(client, probe.path)
            cold[probe.name] = spent
            print(
                f"  {probe.name:<32} {spent * 1000:>9.1f} ms  {describe(probe.path, status, data)}",
                flush=True,
            )
        for probe in every:
            for _ in range(args.warmup):
                client.request("GET", probe.path)
        rng = random.Random(args.seed)
        for _ in range(args.rounds):
            order = list(every)
            rng.shuffle(order)
            for probe in order:
                spent, status, data = timed(client, probe.path)
                probe.times.append(spent)
                probe.statuses[status] = probe.statuses.get(status, 0) + 1
                probe.nbytes = len(data)
        base95 = baseline.pct(95)
        print(
            f"\n{'url':<32} {'KB':>6} {'n':>3} {'cold ms':>9} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'×base':>7}"
        )
        for probe in every:
            bad = {s: n for s, n in probe.statuses.items() if s != 200}
            first = f"{cold[probe.name] * 1000:.1f}" if probe.name in cold else "-"
            print(
                f"{probe.name:<32} {probe.nbytes / 1024:>6.1f} {len(probe.times):>3} "
                f"{first:>9} {probe.pct(50):>8.1f} {probe.pct(95):>8.1f} "
                f"{probe.pct(95) / base95:>7.1f}" + (f"  HTTP {bad}" if bad else "")
            )
        print(
            f"\nload average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
            f"server: {server_errors(server.log)}",
            flush=True,
        )
        client.conn.close()
        slow = [
            p
            for p in probes
            if p.pct(95) > args.slow_ms or (args.explain and p.path.startswith("/jawaban"))
        ]
        for probe in slow:
            print(f"\n### {probe.name}: warm p95 {probe.pct(95):.0f} ms")
            if probe.path.startswith("/jawaban"):
                parsed = urllib.parse.parse_qs(urllib.parse.urlsplit(probe.path).query)
                query = parsed.get("q", [""])[0]
                page = int(parsed.get("page", ["1"])[0])
                print("\n".join(asyncio.run(explain_answers(target, query, page))), flush=True)
    finally:
        if server.proc is not None:
            stop(server.proc)
    print(f"\n# done in {time.perf_counter() - started:.0f} s; server log: {server.log}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
