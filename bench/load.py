"""Load benchmark: the citizen's form and a text-only submission against a bare Starlette endpoint.

Starts two servers on free 127.0.0.1 ports, both under uvicorn with uvloop and httptools and one
worker: bench/hello_app.py (the baseline) and the real server (`lapor serve`, seeded
through the operator CLI on a throw-away data dir, SQLite by default or PostgreSQL with
--database-url). Then, at each concurrency, after a short warm-up, it measures requests/s and
p50/p99 latency of

    hello    GET /            on the bare app
    form     GET /q/{code}    the citizen's form (a fresh signed form token per request)
    submit   POST /q/{code}   a text-only report, every request with its own form token

and prints each as a ratio to `hello` at the same concurrency, against the targets of issue 4:
form >= 50 % of bare, submit >= 25 % of bare with p99 < 100 ms at 64 connections.

After every submission run it checks that no acknowledged report was lost: every 303 the
generator received names a tracking code that is in `reports`, and the rows added equal the 303s
plus the requests still in flight when the generator stopped (wrk drops those without reading the
answer; the server commits them anyway, which is what a retry with the same token relies on).

The load generator is wrk (apt-get install wrk) with bench/load.lua, or a small asyncio client in
this file when wrk is missing (--generator python). Either way it shares the machine's cores with
the server, so only the ratios within one run mean anything.

    python bench/load.py                                  # SQLite, 16 and 64 connections, 10 s
    python bench/load.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/load.py --duration 5 --connections 16 --profile /tmp/prof   # needs py-spy
    python bench/profile_summary.py /tmp/prof/submit.txt --thread MainThread

Besides rps and latency, the table shows the server's CPU per request (all its threads, from
/proc) and the share of it on the event loop's thread: on 2 cores with the generator beside it,
CPU per request is the steadier figure when the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

SECRET_KEY = "bench-secret-key-0123456789abcdef"
SUBMIT_TEXT = "Antrean di loket perekaman KTP sangat panjang dan petugas datang terlambat."
SUBMIT_BODY_REST = "&" + urllib.parse.urlencode(
    {"kind": "pengaduan", "identity": "anonim", "text": SUBMIT_TEXT}
)
TARGETS = {"form": 0.50, "submit": 0.25}
SUBMIT_P99_TARGET_MS = 100.0


# -- results -------------------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    status: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    exhausted: int = 0
    locations: list[str] = field(default_factory=list)
    cpu_ms: float | None = None  # server CPU per request, all threads
    main_share: float | None = None  # part of it on the event loop's thread

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def cpu_seconds(pid: int) -> tuple[float, float] | None:
    """CPU seconds (user + system) of a server, all its threads, and of its event loops' threads
    alone. A server that answers from worker processes (`lapor serve --workers N`, granian) is
    measured in those workers, and its supervisor too."""
    tick = os.sysconf("SC_CLK_TCK")

    def read(path: str) -> float:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        # uvicorn's workers are its children; so is the multiprocessing helper it may start,
        # which answers nothing and costs nothing measurable.
        workers = children or [pid]
        total = sum(read(f"/proc/{p}/stat") for p in {pid, *workers})
        loops = sum(read(f"/proc/{p}/task/{p}/stat") for p in workers)
        return total, loops
    except (OSError, ValueError, IndexError):
        return None


# -- processes -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; log:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} not ready after {timeout} s; log:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown runs the lifespan exit
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lapor", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"`lapor {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


def psql(admin_url: str, *sql: str) -> str:
    parts = urllib.parse.urlsplit(admin_url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    command = [
        "psql",
        "-X",
        "-q",
        "-tA",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        urllib.parse.unquote(parts.username or "postgres"),
        "-d",
        parts.path.lstrip("/") or "postgres",
    ]
    for statement in sql:
        command += ["-c", statement]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"psql failed: {done.stderr.strip()}")
    return done.stdout


def with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


class RealServer:
    """The application, seeded through the operator CLI, exactly as an operator would."""

    def __init__(self, workdir: Path, database_url: str | None, bench_database: str) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log = workdir / "server.log"
        self.database_url = ""
        self.admin_url = database_url
        if database_url:
            psql(
                database_url,
                f'DROP DATABASE IF EXISTS "{bench_database}" WITH (FORCE)',
                f'CREATE DATABASE "{bench_database}"',
            )
            self.database_url = with_database(database_url, bench_database)
        self.env = dict(os.environ)
        self.env.update(
            {
                "LAPOR_DATA_DIR": str(self.data_dir),
                "LAPOR_BASE_URL": f"http://127.0.0.1:{self.port}",
                "LAPOR_SECRET_KEYS": SECRET_KEY,
                "LAPOR_DATABASE_URL": self.database_url,
                "LAPOR_SUBMIT_LIMIT_PER_ADDRESS": "1000000/minute",
                "LAPOR_SUBMIT_LIMIT_PER_FORM": "1000000/minute",
                "LAPOR_TRACK_LIMIT_PER_ADDRESS": "1000000/minute",
            }
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def seed(self) -> tuple[int, str]:
        cli(self.env, "unit", "add", "bench", "--name", "Dinas Kependudukan Bench")
        cli(
            self.env,
            "user",
            "add",
            "coordinator@bench.test",
            "--role",
            "coordinator",
            "--unit",
            "bench",
            "--password-stdin",
            stdin="bench-password-123456\n",
        )
        out = cli(self.env, "poster", "add", "bench", "--label", "Loket 3 – Perekaman KTP")
        lines = out.strip().splitlines()
        poster_id = int(lines[0].split()[1])  # "poster 1 added for bench: ..."
        url = lines[-1].strip()
        return poster_id, urllib.parse.urlsplit(url).path

    def start(self, http_server: str = "uvicorn", granian_path: str = "", workers: int = 1) -> None:
        command = [sys.executable, "-m", "lapor", "serve", "--port", str(self.port)]
        if workers > 1:
            command += ["--workers", str(workers)]
        env, cwd = self.env, ROOT
        if http_server == "granian":
            # The same app on granian (a Rust HTTP server for ASGI), for comparison only: it is
            # not a dependency, and `lapor serve` runs uvicorn (bench/README.md says why).
            command = [
                sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
                "--loop", "uvloop", "--log-level", "warning", "lapor.server:app_factory",
            ]  # fmt: skip
            env = dict(self.env)
            if granian_path:
                env["PYTHONPATH"] = granian_path
            cwd = self.workdir  # granian imports `lapor` as installed, not from the checkout
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_http(f"http://127.0.0.1:{self.port}/healthz", self.proc, self.log)

    def report_rows(self) -> int:
        return int(self._query("SELECT count(*) FROM reports").strip())

    def tracking_codes(self) -> set[str]:
        return set(self._query("SELECT tracking_code FROM reports").split())

    def _query(self, sql: str) -> str:
        if self.database_url:
            return psql(self.database_url, sql)
        conn = sqlite3.connect(f"file:{self.data_dir / 'lapor.db'}?mode=ro", uri=True, timeout=30)
        try:
            return "\n".join(str(row[0]) for row in conn.execute(sql))
        finally:
            conn.close()

    def wait_settled(self, timeout: float = 15) -> int:
        """Rows once the server has finished what was in flight when the generator stopped."""
        rows, deadline = self.report_rows(), time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.5)
            again = self.report_rows()
            if again == rows:
                return rows
            rows = again
        return rows


def commit_floor(directory: Path, commits: int = 200) -> float:
    """Seconds per fsync'd SQLite commit (WAL, synchronous=FULL) on the data dir's disk: the
    floor under submissions that group commit has to amortise."""
    path = directory / "floor.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        started = time.perf_counter()
        for _ in range(commits):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (v) VALUES (?)", ("x" * 300,))
            conn.execute("COMMIT")
        return (time.perf_counter() - started) / commits
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def server_errors(log: Path) -> str:
    """Tracebacks in the server log by final exception, and 5xx answers in its access log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    lines = text.splitlines()
    tracebacks = text.count("Traceback (most recent call last)")
    kinds: dict[str, int] = {}
    for line in lines:
        match = re.match(r"^([A-Za-z_][\w.]*(?:Error|Exception|Disconnect|Exit)\w*)(?::|$)", line)
        if match:
            kinds[match.group(1)] = kinds.get(match.group(1), 0) + 1
    five = sum(1 for line in lines if re.search(r'HTTP/1\.[01]" 5\d\d', line))
    detail = ", ".join(f"{name} ×{n}" for name, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    note = ""
    if kinds and set(kinds) <= {"starlette.requests.ClientDisconnect"}:
        note = " (requests the generator cut off when it stopped)"
    return (
        f"{tracebacks} tracebacks{f' ({detail}){note}' if detail else ''}, "
        f"{five} responses 5xx in the server log"
    )


def start_hello(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = workdir / "hello.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hello_app:app",
                "--app-dir",
                str(BENCH),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_http(f"http://127.0.0.1:{port}/", proc, log)
    return proc, port


# -- tokens --------------------------------------------------------------------------------------
def mint_tokens(poster_id: int, count: int) -> list[str]:
    from lapor.web.signing import Signing

    signing = Signing([SECRET_KEY])
    return [signing.new_form_token(poster_id, 1) for _ in range(count)]


# -- generator: wrk ------------------------------------------------------------------------------
def run_wrk(
    name: str,
    url: str,
    connections: int,
    seconds: float,
    threads: int,
    headers: dict[str, str],
    tokens: list[str] | None,
    workdir: Path,
) -> Result:
    env = dict(
        os.environ,
        LAPOR_BENCH_MODE="submit" if tokens is not None else "static",
        LAPOR_BENCH_THREADS=str(threads),
    )
    codes_file = workdir / "locations.txt"
    if tokens is not None:
        token_file = workdir / "tokens.txt"
        token_file.write_text("\n".join(tokens) + "\n")
        env.update(
            LAPOR_BENCH_TOKENS=str(token_file),
            LAPOR_BENCH_BODY=SUBMIT_BODY_REST,
            LAPOR_BENCH_CODES=str(codes_file),
        )
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{round(seconds)}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "load.lua"),
    ]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    done = subprocess.run(
        [*command, url], env=env, capture_output=True, text=True, timeout=seconds + 60
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("WRKJSON "))
    locations = codes_file.read_text().split() if tokens is not None else []
    return Result(
        name,
        connections,
        data["requests"],
        data["duration_us"] / 1e6,
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        {int(k): v for k, v in data["status"].items()},
        data["errors"],
        data["exhausted"],
        locations,
    )


# -- generator: asyncio (when wrk is missing) ----------------------------------------------------
async def _python_load(
    name: str,
    url: str,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    tokens: list[str] | None,
) -> Result:
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    static = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n".encode()
    token_iter = iter(tokens or ())
    latencies: list[float] = []
    status: dict[int, int] = {}
    locations: list[str] = []
    exhausted = 0
    deadline = time.perf_counter() + seconds

    def next_request() -> bytes:
        nonlocal exhausted
        if tokens is None:
            return static
        token = next(token_iter, None)
        if token is None:
            exhausted += 1
            token = ""
        body = f"token={token}{SUBMIT_BODY_REST}".encode()
        return (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            # Stop sending at the deadline but read every answer: nothing is left in flight.
            while time.perf_counter() < deadline:
                request = next_request()
                started = time.perf_counter()
                writer.write(request)
                head_bytes = await reader.readuntil(b"\r\n\r\n")
                lines = head_bytes.decode("latin-1").split("\r\n")
                code = int(lines[0].split()[1])
                fields = {}
                for line in lines[1:]:
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
                if fields.get("transfer-encoding") == "chunked":
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                        await reader.readexactly(size + 2)
                        if size == 0:
                            break
                else:
                    await reader.readexactly(int(fields.get("content-length", "0")))
                latencies.append(time.perf_counter() - started)
                status[code] = status.get(code, 0) + 1
                if code == 303:
                    locations.append(fields.get("location", ""))
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, math.ceil(p / 100 * len(latencies)) - 1)] * 1000

    return Result(
        name,
        connections,
        len(latencies),
        elapsed,
        pct(50),
        pct(99),
        status,
        {},
        exhausted,
        locations,
    )


def run_python(
    name: str,
    url: str,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    tokens: list[str] | None,
) -> Result:
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.run(_python_load(name, url, connections, seconds, headers, tokens))
    return asyncio.run(_python_load(name, url, connections, seconds, headers, tokens))


# -- profiling ---------------------------------------------------------------------------------
def start_profiler(
    args: argparse.Namespace, server: RealServer, name: str
) -> subprocess.Popen[bytes] | None:
    if not args.profile or server.proc is None:
        return None
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            args.py_spy,
            "record",
            "--format",
            "raw",
            "--threads",
            "--subprocesses",  # granian answers from a worker process
            "--nonblocking",
            "--rate",
            "200",
            "--duration",
            str(math.ceil(args.warmup + args.duration)),
            "--output",
            str(Path(args.profile) / f"{name}.txt"),
            "--pid",
            str(server.proc.pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profiler(profiler: subprocess.Popen[bytes] | None) -> None:
    if profiler is not None:
        try:
            profiler.wait(timeout=60)
        except subprocess.TimeoutExpired:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)


# -- the run -------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.use_wrk = args.generator == "wrk" or (
            args.generator == "auto" and shutil.which("wrk") is not None
        )

    def load(
        self,
        name: str,
        url: str,
        connections: int,
        seconds: float,
        headers: dict[str, str],
        tokens: list[str] | None = None,
    ) -> Result:
        if self.use_wrk:
            threads = max(1, min(self.args.threads, connections))
            return run_wrk(name, url, connections, seconds, threads, headers, tokens, self.workdir)
        return run_python(name, url, connections, seconds, headers, tokens)

    def measure(
        self,
        name: str,
        url: str,
        connections: int,
        headers: dict[str, str],
        pid: int,
        token_source: Callable[[float, Result | None], list[str]] | None = None,
    ) -> tuple[Result, Result]:
        warm_tokens = token_source(self.args.warmup, None) if token_source else None
        warm = self.load(name, url, connections, self.args.warmup, headers, warm_tokens)
        tokens = token_source(self.args.duration, warm) if token_source else None
        before = cpu_seconds(pid)
        result = self.load(name, url, connections, self.args.duration, headers, tokens)
        after = cpu_seconds(pid)
        if before and after and result.requests:
            total, main = after[0] - before[0], after[1] - before[1]
            result.cpu_ms = total / result.requests * 1000
            result.main_share = main / total if total else None
        return warm, result


def check_submissions(server: RealServer, before: int, runs: list[Result]) -> tuple[str, bool]:
    rows = server.wait_settled() - before
    acked = [loc for run in runs for loc in run.locations]
    n303 = sum(run.status.get(303, 0) for run in runs)
    from lapor.complaints import tracking

    codes = set()
    for location in acked:
        # /t/{code}/{secret}?sent=1: the receipt is the reporter's private page.
        raw = location.split("/t/", 1)[-1].split("?", 1)[0].split("/", 1)[0]
        codes.add(tracking.normalize(raw) or raw)
    missing = len(codes - server.tracking_codes())
    duplicates = len(acked) - len(codes)
    in_flight = rows - n303
    limit = sum(run.connections for run in runs)
    ok = missing == 0 and duplicates == 0 and len(acked) == n303 and 0 <= in_flight <= limit
    text = (
        f"{n303} × 303 received, {rows} rows added to reports, "
        f"{rows - n303} committed while unanswered at the generator's cut-off "
        f"(at most {limit}), {missing} acknowledged codes missing, "
        f"{duplicates} duplicate codes: {'OK' if ok else 'FAILED'}"
    )
    return text, ok


def fmt_row(result: Result, base: Result | None, target: float | None) -> str:
    ratio = result.rps / base.rps if base and base.rps else 1.0
    other = {s: n for s, n in result.status.items() if s not in (200, 303)}
    errors = sum(result.errors.values())
    notes = []
    if target is not None:
        ok = ratio >= target
        if result.name == "submit" and result.connections == 64:
            ok = ok and result.p99_ms < SUBMIT_P99_TARGET_MS
            notes.append(
                f"target ≥ {target:.0%}, p99 < {SUBMIT_P99_TARGET_MS:.0f} ms: "
                f"{'met' if ok else 'MISSED'}"
            )
        else:
            notes.append(f"target ≥ {target:.0%}: {'met' if ok else 'MISSED'}")
    if other:
        notes.append("other statuses " + ", ".join(f"{s}×{n}" for s, n in sorted(other.items())))
    if errors:
        notes.append(f"socket errors {result.errors}")
    if result.exhausted:
        notes.append(f"TOKENS EXHAUSTED ({result.exhausted} requests sent without one)")
    cpu = f"{result.cpu_ms:>8.3f}" if result.cpu_ms is not None else f"{'-':>8}"
    main = f"{result.main_share:>5.0%}" if result.main_share is not None else f"{'-':>5}"
    return (
        f"{result.name:<8} {result.connections:>5} {result.rps:>9.0f} {result.p50_ms:>8.2f} "
        f"{result.p99_ms:>8.2f} {ratio:>7.1%} {cpu} {main}  {'; '.join(notes)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Requests/s and latency of the form page and a text-only submission, as "
        "ratios to a bare Starlette endpoint measured in the same run."
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2,
        help="seconds of warm-up before each measurement (not counted)",
    )
    parser.add_argument(
        "--connections",
        default="16,64",
        help="comma-separated concurrent connections (default 16,64)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk when installed, else the asyncio client",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="run the real server on PostgreSQL: the URL of a server and a "
        "database to connect to for DROP/CREATE DATABASE of the bench's "
        "own database (see --bench-database); default SQLite",
    )
    parser.add_argument(
        "--bench-database",
        default="lapor_bench",
        help="PostgreSQL database dropped and recreated for the run",
    )
    parser.add_argument(
        "--no-gzip",
        action="store_true",
        help="do not send Accept-Encoding: gzip (browsers do, so the default does)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record the server with py-spy during the form and submission runs "
        "at the last concurrency; collapsed stacks go to DIR/form.txt and "
        "DIR/submit.txt (needs py-spy on PATH or --py-spy)",
    )
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "", help="py-spy binary")
    parser.add_argument(
        "--http-server",
        choices=("uvicorn", "granian"),
        default="uvicorn",
        help="run the real server under `lapor serve` (uvicorn, the default) or granian "
        "(pip install --target DIR granian, then --granian-path DIR)",
    )
    parser.add_argument("--granian-path", default="", help="where granian was installed")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes of the real server (the bare baseline keeps one); on SQLite "
        "they share one database file and take turns at its write lock",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args(argv)
    concurrencies = [int(c) for c in args.connections.split(",") if c.strip()]
    if args.generator == "wrk" and shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk), use --generator python")
    if args.profile and not args.py_spy:
        parser.error("--profile needs py-spy (pip install py-spy, or --py-spy PATH)")

    workdir = Path(tempfile.mkdtemp(prefix="lapor-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    bench = Bench(args, workdir)
    if bench.use_wrk:  # wrk takes whole seconds only
        args.duration, args.warmup = max(1, round(args.duration)), max(1, round(args.warmup))
    ok = True
    try:
        hello, hello_port = start_hello(workdir)
        procs.append(hello)
        server = RealServer(workdir, args.database_url or None, args.bench_database)
        poster_id, form_path = server.seed()
        server.start(args.http_server, args.granian_path, args.workers)
        assert server.proc is not None
        procs.append(server.proc)
        base = f"http://127.0.0.1:{server.port}"
        # Browser-like headers; the bare endpoint's answer is below GZip's minimum size anyway.
        headers = {"Accept-Language": "id-ID,id;q=0.9"}
        if not args.no_gzip:
            headers["Accept-Encoding"] = "gzip"
        backend = f"PostgreSQL ({server.database_url})" if server.database_url else "SQLite"
        generator = "wrk" if bench.use_wrk else "python asyncio client (in this process)"
        print(
            f"# load: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before "
            f"the run, database {backend}, HTTP server {args.http_server} with "
            f"{args.workers} worker{'s' if args.workers > 1 else ''}, "
            f"generator {generator}, {args.duration:g} s per "
            f"run after {args.warmup:g} s warm-up",
            flush=True,
        )
        floor = commit_floor(workdir)
        print(
            f"# one fsync'd SQLite commit on this disk: {floor * 1000:.2f} ms "
            f"({1 / floor:,.0f} commits/s without group commit)",
            flush=True,
        )

        results: list[Result] = []
        checks: list[str] = []
        for connections in concurrencies:
            _, hello_result = bench.measure(
                "hello", f"http://127.0.0.1:{hello_port}/", connections, headers, hello.pid
            )
            results.append(hello_result)
            last = connections == concurrencies[-1]
            profiler = start_profiler(args, server, "form") if last else None
            _, form_result = bench.measure(
                "form", base + form_path, connections, headers, server.proc.pid
            )
            stop_profiler(profiler)
            results.append(form_result)

            # Fresh tokens are minted before each run (about 40 µs each). The warm-up gets as
            # many as the bare endpoint could take; the measured run 2.5 times what the warm-up
            # used per second, so a token shortage (flagged below) cannot go unnoticed.
            def tokens_for(
                seconds: float, warm: Result | None, bound: float = hello_result.rps
            ) -> list[str]:
                rate = bound * 1.15
                if warm is not None and not warm.exhausted and warm.seconds:
                    rate = min(rate, max(warm.status.get(303, 0) / warm.seconds * 2.5, 500))
                return mint_tokens(poster_id, int(rate * seconds) + 100)

            before = server.report_rows()
            profiler = start_profiler(args, server, "submit") if last else None
            warm, submit_result = bench.measure(
                "submit", base + form_path, connections, headers, server.proc.pid, tokens_for
            )
            stop_profiler(profiler)
            results.append(submit_result)
            text, good = check_submissions(server, before, [warm, submit_result])
            checks.append(f"{connections:>3} connections: {text}")
            ok = ok and good

        print()
        print(
            f"{'what':<8} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>7} "
            f"{'CPU ms':>8} {'loop':>5}  (CPU ms: server CPU per request, all threads; "
            f"loop: share on the event loop's thread)"
        )
        for result in results:
            baseline = next(
                r for r in results if r.name == "hello" and r.connections == result.connections
            )
            print(fmt_row(result, baseline, TARGETS.get(result.name)))
        print()
        print("no acknowledged report lost (after each submission run, warm-up included):")
        for line in checks:
            print("  " + line)
        print(f"server: {server_errors(server.log)}")
        if args.profile:
            print(
                f"\npy-spy collapsed stacks of the server at {concurrencies[-1]} connections "
                f"(warm-up included): {args.profile}/form.txt, {args.profile}/submit.txt; "
                f"summarise with `python bench/profile_summary.py FILE`"
            )
        if args.keep:
            print(f"data kept in {workdir}")
    finally:
        for proc in reversed(procs):
            stop(proc)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            if args.database_url:
                with contextlib.suppress(SystemExit):
                    psql(
                        args.database_url,
                        f'DROP DATABASE IF EXISTS "{args.bench_database}" WITH (FORCE)',
                    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
