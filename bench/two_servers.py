"""Two machines on one PostgreSQL and one Redis: submissions through one server against two,
and how soon a poster revoked through one machine is refused by the other.

Starts two `lapor serve` processes on free 127.0.0.1 ports, each with its own data directory
(as two machines would have), on one PostgreSQL database of their own (`lapor_bench_two`,
dropped and made again beside --database-url's) and one Redis (--redis-url) for the rate
limits, which they share. The submit limits are raised out of the way; every request still
counts against them in Redis, as in production. Seeded through the operator CLI (bench/load.py's
RealServer): a unit, an administrator, a poster.

1. Throughput. Text-only submissions (POST /q/{code}, each with its own form token, bench/load.py's
   wrk script) with --connections in all, in --rounds alternating runs of:
     one   one wrk process, every connection on server A (B idle beside it);
     two   two wrk processes at once, half the connections and half the wrk threads each, one
           on A and one on B; their requests/s summed.
   Printed: requests/s, p50/p99 (for `two`, each process's and the higher of the two), the
   servers' CPU per request and in all (cores), the share of the machine's CPU time that was
   busy (anyone's), and the ratio two/one in the same run.
   After every run each 303's tracking code is looked up in `reports` (no acknowledged report
   lost, none doubled).
   On one machine both servers share its cores with wrk and PostgreSQL: the ratio says whether
   anything serialises across the servers (the database, Redis), not what a second machine adds.

2. Revocation. --revocations times: `lapor poster add`, GET /q/{code} answered 200 by A and by
   B (so B holds the poster in its look-up cache), the poster revoked through A's admin pages
   (signed in as the administrator: the confirmation page, then its POST), A's refusal checked
   at once, then B polled every --poll seconds until it refuses the form (404/410). Printed:
   for each, the seconds from A's answer until B's last request still served was sent and
   until its first refusal was answered (B changed its mind in between: the poll's step plus a
   request); then min/median/max of the refusals, against the bound docs/security.md states
   (LOOKUP_CACHE_SECONDS in store/cache.py), with one poll's step of slack. B read the poster
   just before the revocation, so each figure is close to the worst case.

    python bench/two_servers.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/two_servers.py --duration 5 --rounds 1 --revocations 3
"""

from __future__ import annotations

import argparse
import contextlib
import html.parser
import http.cookiejar
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import (  # noqa: E402
    RealServer,
    Result,
    check_submissions,
    cli,
    cpu_seconds,
    mint_tokens,
    psql,
    run_wrk,
    server_errors,
    stop,
)

DATABASE = "lapor_bench_two"
ADMIN_EMAIL = "admin@bench.test"
ADMIN_PASSWORD = "bench-password-123456"
HEADERS = {"Accept-Language": "id-ID,id;q=0.9", "Accept-Encoding": "gzip"}


# -- the two machines ----------------------------------------------------------------------------
def machines(workdir: Path, admin_url: str, redis_url: str) -> tuple[RealServer, RealServer]:
    """A makes the database; B is pointed at it: two data directories, one database."""
    a = RealServer(workdir / "a", admin_url, DATABASE)
    b = RealServer(workdir / "b", None, DATABASE)
    b.database_url = b.env["LAPOR_DATABASE_URL"] = a.database_url
    for server in (a, b):
        server.workdir.mkdir(parents=True)
        server.env["LAPOR_REDIS_URL"] = redis_url
    return a, b


def seed(a: RealServer) -> tuple[int, str]:
    poster_id, form_path = a.seed()
    cli(
        a.env,
        "user",
        "add",
        ADMIN_EMAIL,
        "--role",
        "admin",
        "--unit",
        "bench",
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    return poster_id, form_path


def base(server: RealServer) -> str:
    return f"http://127.0.0.1:{server.port}"


# -- 1. throughput -------------------------------------------------------------------------------
class Throughput:
    def __init__(
        self, args: argparse.Namespace, workdir: Path, servers: list[RealServer], poster_id: int
    ) -> None:
        self.args = args
        self.workdir = workdir
        self.servers = servers
        self.poster_id = poster_id
        self.rate = 3000.0  # submissions/s the first warm-up's tokens are minted for
        self.ok = True  # every run's acknowledged reports found, none doubled

    def tokens(self, seconds: float, share: float) -> list[str]:
        return mint_tokens(self.poster_id, int(self.rate * share * seconds) + 100)

    def load(
        self, label: str, targets: list[RealServer], form_path: str, seconds: float
    ) -> list[Result]:
        """One wrk process per target server at once, the connections and threads split."""
        share = 1 / len(targets)
        connections = self.args.connections // len(targets)
        threads = max(1, self.args.threads // len(targets))
        jobs = []
        for i, server in enumerate(targets):
            workdir = self.workdir / f"wrk-{label.replace(' #', '-')}-{i}"
            workdir.mkdir(exist_ok=True)
            jobs.append(
                (
                    "submit",
                    base(server) + form_path,
                    connections,
                    seconds,
                    threads,
                    HEADERS,
                    self.tokens(seconds, share),
                    workdir,
                )
            )
        with ThreadPoolExecutor(len(jobs)) as pool:
            return list(pool.map(lambda job: run_wrk(*job), jobs))

    def measure(self, label: str, targets: list[RealServer], form_path: str) -> Measured:
        a = self.servers[0]
        before_rows = a.report_rows()
        warm = self.load(label, targets, form_path, self.args.warmup)
        warm_rps = sum(r.status.get(303, 0) for r in warm) / self.args.warmup
        # The measured run gets 2.5 times the warm-up's pace in tokens, as bench/load.py does: a
        # shortage would show as "tokens exhausted", never as a silent duplicate.
        self.rate = max(warm_rps * 2.5, 500)
        cpu_before = [cpu_seconds(s.proc.pid) for s in self.servers if s.proc]
        machine_before = machine_cpu()
        runs = self.load(label, targets, form_path, self.args.duration)
        machine_after = machine_cpu()
        cpu_after = [cpu_seconds(s.proc.pid) for s in self.servers if s.proc]
        measured = Measured(label, runs)
        requests = sum(r.requests for r in runs)
        if all(cpu_before) and all(cpu_after) and requests:
            total = sum(x[0] - y[0] for x, y in zip(cpu_after, cpu_before, strict=True) if x and y)
            measured.cpu_ms = total / requests * 1000
        busy, spent = machine_after[0] - machine_before[0], machine_after[1] - machine_before[1]
        measured.busy = busy / spent if spent else None
        measured.check, ok = check_submissions(a, before_rows, [*warm, *runs])
        self.ok = self.ok and ok
        return measured


@dataclass
class Measured:
    label: str
    runs: list[Result]
    cpu_ms: float | None = None  # both servers' CPU per request
    busy: float | None = None  # share of the machine's CPU time (all cores) not idle
    check: str = ""

    @property
    def rps(self) -> float:
        return sum(r.rps for r in self.runs)


def machine_cpu() -> tuple[float, float]:
    """Jiffies of every core since boot: (busy, all), from /proc/stat. Idle and waiting on the
    disk count as not busy."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return float(sum(fields[:8]) - idle), float(sum(fields[:8]))


def fmt(measured: Measured, baseline: float | None) -> list[str]:
    runs, rps = measured.runs, measured.rps
    p50 = max(r.p50_ms for r in runs)
    p99 = max(r.p99_ms for r in runs)
    ratio = f"{rps / baseline:>7.2f}x" if baseline else f"{'1.00x':>8}"
    other = {s: n for r in runs for s, n in r.status.items() if s != 303}
    notes = []
    if other:
        notes.append("other statuses " + ", ".join(f"{s}×{n}" for s, n in sorted(other.items())))
    if any(r.errors.get(k) for r in runs for k in r.errors):
        notes.append(f"socket errors {[r.errors for r in runs]}")
    if any(r.exhausted for r in runs):
        notes.append("TOKENS EXHAUSTED")
    cpu = measured.cpu_ms
    cpu_text = f"{cpu:>8.2f}" if cpu is not None else f"{'-':>8}"
    cores = f"{cpu * rps / 1000:>6.2f}" if cpu is not None else f"{'-':>6}"
    busy = f"{measured.busy:>5.0%}" if measured.busy is not None else f"{'-':>5}"
    conns = sum(r.connections for r in runs)
    lines = [
        f"{measured.label:<10} {conns:>5} {rps:>9.0f} {p50:>8.1f} {p99:>8.1f} {cpu_text} "
        f"{cores} {busy} {ratio}  " + "; ".join(notes)
    ]
    if len(runs) > 1:
        for name, r in zip("AB", runs, strict=False):
            lines.append(
                f"  {name:<8} {r.connections:>5} {r.rps:>9.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f}"
            )
    return lines


# -- 2. revocation -------------------------------------------------------------------------------
class _Csrf(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if tag == "input" and fields.get("name") == "csrf":
            self.token = fields.get("value") or ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Admin:
    """The administrator at A's admin pages, as a browser: a session cookie, the form's csrf."""

    def __init__(self, server: RealServer) -> None:
        self.base = base(server)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        status, _ = self.request("/admin/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        if status != 303:
            raise SystemExit(f"signing in on A answered {status}")

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def revoke_poster(self, poster_id: int) -> None:
        path = f"/admin/posters/{poster_id}/revoke"
        status, page = self.request(path)
        parser = _Csrf()
        parser.feed(page)
        if status != 200 or not parser.token:
            raise SystemExit(f"the revocation's confirmation page on A answered {status}")
        status, _ = self.request(path, {"csrf": parser.token})
        if status != 303:
            raise SystemExit(f"revoking poster {poster_id} on A answered {status}")


def form_status(url: str) -> int:
    request = urllib.request.Request(url, headers=HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def revocation(
    a: RealServer, b: RealServer, admin: Admin, n: int, poll: float
) -> tuple[float, float]:
    """Seconds from A's answer to the revocation until B's last request still served the form
    was sent, and until B's first refusal was answered: B changed its mind between the two."""
    out = cli(a.env, "poster", "add", "bench", "--label", f"Loket revokasi {n}")
    lines = out.strip().splitlines()
    poster_id = int(lines[0].split()[1])
    path = urllib.parse.urlsplit(lines[-1].strip()).path
    for name, server in (("A", a), ("B", b)):
        status = form_status(base(server) + path)
        if status != 200:
            raise SystemExit(f"{name} answered {status} for the new poster's form")
    admin.revoke_poster(poster_id)
    revoked = time.monotonic()
    status = form_status(base(a) + path)
    if status not in (404, 410):
        raise SystemExit(f"A still answers {status} right after revoking poster {poster_id}")
    deadline, served = revoked + 60, revoked
    while time.monotonic() < deadline:
        sent = time.monotonic()
        if form_status(base(b) + path) in (404, 410):
            return served - revoked, time.monotonic() - revoked
        served = sent
        time.sleep(poll)
    raise SystemExit(f"B still serves revoked poster {poster_id} after 60 s")


# -- the run -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LAPOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help=f"a PostgreSQL server and a database to connect to for DROP/CREATE DATABASE "
        f"{DATABASE} (default $LAPOR_TEST_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis both servers count rate limits in (default $LAPOR_TEST_REDIS_URL)",
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="connections in all (default 32)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads in all (default 2)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating one/two runs (default 3)"
    )
    parser.add_argument("--revocations", type=int, default=5, help="posters revoked (default 5)")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between B's form checks")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and database")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    if args.connections < 2 or args.threads < 2:
        parser.error("--connections and --threads must be at least 2, to split between two")

    from lapor.store.cache import LOOKUP_CACHE_SECONDS

    workdir = Path(tempfile.mkdtemp(prefix="lapor-bench-two-"))
    servers: list[RealServer] = []
    ok = True
    try:
        a, b = machines(workdir, args.database_url, args.redis_url)
        poster_id, form_path = seed(a)
        for server in (a, b):
            server.start()
            servers.append(server)
        print(
            f"# two servers, {os.cpu_count()} CPUs, load average "
            f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} before the run; PostgreSQL "
            f"{a.database_url}, Redis {args.redis_url}; wrk, {args.connections} connections "
            f"and {args.threads} threads in all, {args.duration} s per run after "
            f"{args.warmup} s warm-up",
            flush=True,
        )

        # 1. throughput
        bench = Throughput(args, workdir, [a, b], poster_id)
        print(
            f"\n{'runs':<10} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'CPU ms':>8} {'cores':>6} {'busy':>5} {'vs one':>8}\n(CPU ms: both servers' "
            f"CPU per request; cores: their CPU seconds per second; busy: the machine's CPU "
            f"time not idle, all cores, whoever spent it)"
        )
        totals: dict[str, list[tuple[int, float]]] = {"one": [], "two": []}
        checks: list[str] = []
        baseline: float | None = None
        for round_ in range(1, args.rounds + 1):
            for label, targets in (("one", [a]), ("two", [a, b])):
                measured = bench.measure(f"{label} #{round_}", targets, form_path)
                if label == "one":
                    baseline = measured.rps
                for line in fmt(measured, None if label == "one" else baseline):
                    print(line, flush=True)
                runs = measured.runs
                totals[label].append((sum(r.requests for r in runs), max(r.seconds for r in runs)))
                checks.append(f"{measured.label}: {measured.check}")
        one = sum(n for n, _ in totals["one"]) / sum(s for _, s in totals["one"])
        two = sum(n for n, _ in totals["two"]) / sum(s for _, s in totals["two"])
        print(
            f"over {args.rounds} round(s): one {one:.0f} req/s, two {two:.0f} req/s, "
            f"two/one {two / one:.2f}x"
        )
        print("no acknowledged report lost (every run, warm-up included):")
        for line in checks:
            print("  " + line)
        ok = bench.ok

        # 2. revocation
        admin = Admin(a)
        seconds, last_served = [], []
        for n in range(1, args.revocations + 1):
            served, refused = revocation(a, b, admin, n, args.poll)
            seconds.append(refused)
            last_served.append(served)
            print(
                f"  revocation {n}: B still served the form to a request sent after "
                f"{served:.2f} s, refused it after {refused:.2f} s",
                flush=True,
            )
        median = statistics.median(seconds)
        bound = LOOKUP_CACHE_SECONDS
        # B changed its mind after its last served request was sent and before its first
        # refusal was answered: over the bound only if it served a request sent after it.
        if max(seconds) <= bound:
            verdict = "within it"
        elif max(last_served) <= bound:
            verdict = "within it, to the poll's step (B served nothing sent after the bound)"
        else:
            verdict = "OVER it: B served a request sent after the bound"
        print(
            f"a poster revoked through A, refused by A at once and by B after: min "
            f"{min(seconds):.2f} s, median {median:.2f} s, max {max(seconds):.2f} s "
            f"(polled every {args.poll * 1000:.0f} ms); bound {bound:g} s: "
            f"max {max(seconds) / bound:.2f}x the bound, {verdict}"
        )
        ok = ok and max(last_served) <= bound
        for name, server in (("A", a), ("B", b)):
            print(f"server {name}: {server_errors(server.log)}")
        if args.keep:
            print(f"data kept in {workdir}, database {DATABASE}")
    finally:
        for server in servers:
            if server.proc is not None:
                stop(server.proc)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            with contextlib.suppress(SystemExit):
                psql(args.database_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
