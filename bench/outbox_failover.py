"""Outbox recovery benchmark: two servers on one PostgreSQL with a queue of mail, one killed
(SIGKILL) in the middle of an SMTP send; the time until every mail has reached the SMTP server,
for each lease length (LAPOR_JOB_LEASE_SECONDS).

Each run makes a database of its own (`lapor_bench_outbox`, dropped and made again), seeds it
through the operator CLI (a unit, its coordinator, a poster), starts an aiosmtpd server in this
process (answering each mail after `--smtp-delay` seconds, a real server's pace) and two `lapor
serve` processes on free 127.0.0.1 ports, each with its own data directory (two machines), then
files `--mails` reports through both (each mails the coordinator). When the SMTP server has
taken a quarter of the mails it kills the first server in the middle of one of its mails (after
taking the copy, before its 250 reaches it: that mail must go again) and starts the clock; the
clock stops when every outbox row's Message-ID has reached the SMTP server ("all sent"), and
is read when the mail the killed server was sending reaches it again from the other ("its
mail": the lease running out, and the survivor's next look).

The baseline, measured in the same run: the same queue with nobody killed, from the same
quarter to the last mail. Each lease's row prints its recovery time, as a ratio to the baseline
and to the lease: what a dead machine costs is about one lease plus the sender's poll (5 s)
while the survivor drains the rest. Mails whose Message-ID arrived twice are counted (the one
in flight at the kill, sent again under the same Message-ID).

    python bench/outbox_failover.py
    python bench/outbox_failover.py --leases 5,30 --mails 400
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import cli, free_port, psql, wait_http, with_database  # noqa: E402

SECRET_KEY = "bench-outbox-failover-key-0123456789"
BASE_URL = "https://lapor.example.go.id"
DATABASE = "lapor_bench_outbox"


@dataclass
class Mailbox:
    """The SMTP server's handler: every copy by the machine that sent it and its Message-ID."""

    delay: float
    victim: subprocess.Popen[bytes] | None = None
    kill_after: int | None = None  # kill the victim during its mail once this many arrived
    killed_at: float | None = None
    killed_on: str | None = None  # the Message-ID of the mail the victim died sending
    copies: list[tuple[str, str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        machine = str(envelope.mail_from).partition("@")[0]
        with self.lock:
            self.copies.append((machine, str(mail["Message-ID"]), time.monotonic()))
            if (
                machine == "a"
                and self.victim is not None
                and self.killed_at is None
                and self.kill_after is not None
                and len(self.copies) >= self.kill_after
            ):
                self.victim.send_signal(signal.SIGKILL)
                self.victim.wait(timeout=10)
                self.killed_at = time.monotonic()
                self.killed_on = str(mail["Message-ID"])
        await asyncio.sleep(self.delay)
        return "250 Message accepted"

    def quarter_at(self, mails: int) -> float:
        with self.lock:
            return self.copies[mails // 4 - 1][2]


def queue_mails(url: str, count: int) -> None:
    """The queue, written before the servers start so that both find it there: rows with their
    words (as rows queued before notices were kept are sent as they are)."""
    psql(
        url,
        "INSERT INTO outbox (to_address, subject, body, status, attempts, next_attempt_at,"
        " created_at) SELECT 'koor@bench.test', 'Laporan ' || g, 'Laporan baru nomor ' || g,"
        f" 'pending', 0, now(), now() FROM generate_series(1, {count}) g",
    )


def expected_ids(url: str) -> set[str]:
    rows = psql(
        url, "SELECT id || '-' || floor(extract(epoch FROM created_at))::bigint FROM outbox"
    )
    host = urllib.parse.urlsplit(BASE_URL).hostname
    return {f"<outbox-{row}@{host}>" for row in rows.split()}


def one_run(
    admin_url: str, workdir: Path, lease: int, mails: int, delay: float, kill: bool
) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    psql(
        admin_url,
        f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)',
        f'CREATE DATABASE "{DATABASE}"',
    )
    url = with_database(admin_url, DATABASE)
    mailbox = Mailbox(delay)
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        envs: list[dict[str, str]] = []
        for name in ("a", "b"):
            env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
            env.update(
                LAPOR_DATABASE_URL=url,
                LAPOR_DATA_DIR=str(workdir / f"{lease}-{kill}-{name}"),
                LAPOR_BASE_URL=BASE_URL,
                LAPOR_SECRET_KEYS=SECRET_KEY,
                LAPOR_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
                LAPOR_MAIL_FROM=f"{name}@lapor.test",
                LAPOR_JOB_LEASE_SECONDS=str(lease),
                LAPOR_SUBMIT_LIMIT_PER_ADDRESS="1000000/minute",
                LAPOR_SUBMIT_LIMIT_PER_FORM="1000000/minute",
            )
            envs.append(env)
        cli(envs[0], "migrate")
        queue_mails(url, mails)
        expected = expected_ids(url)
        started: list[tuple[subprocess.Popen[bytes], int, Path]] = []
        for env in envs:
            port = free_port()
            log = Path(env["LAPOR_DATA_DIR"] + ".log")
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "lapor", "serve", "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            servers.append(proc)
            started.append((proc, port, log))
        if kill:
            mailbox.victim, mailbox.kill_after = servers[0], mails // 4
        for proc, port, log in started:
            if proc is not mailbox.victim or mailbox.killed_at is None:
                wait_http(f"http://127.0.0.1:{port}/healthz", proc, log)
        deadline = time.monotonic() + 10 * lease + 120
        while True:
            with mailbox.lock:
                arrived = {m for _, m, _ in mailbox.copies}
            if (
                expected <= arrived
                and psql(url, "SELECT count(*) FROM outbox WHERE status <> 'sent'").strip() == "0"
            ):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"lease {lease}: {len(expected - arrived)} mails never arrived")
            time.sleep(0.1)
        # Read once the database says every row is sent: each copy arrives before its 250,
        # so the last one is in by now.
        with mailbox.lock:
            last = max(at for _, _, at in mailbox.copies)
        start = mailbox.killed_at if kill else mailbox.quarter_at(mails)
        if kill and start is None:
            raise SystemExit("the first server sent too few mails to be killed mid-send")
        counted = Counter(m for _, m, _ in mailbox.copies)
        resent = [at for who, m, at in mailbox.copies if who == "b" and m == mailbox.killed_on]
        return {
            "seconds": last - (start or 0.0),
            "resent": resent[0] - (start or 0.0) if resent else None,
            "mails": len(expected),
            "twice": sum(1 for n in counted.values() if n > 1),
            "unknown": len(set(counted) - expected),
        }
    finally:
        for proc in servers:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        controller.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--leases", default="5,15,30", help="lease lengths in seconds, comma-separated"
    )
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--smtp-delay", type=float, default=0.02)
    args = parser.parse_args(argv)
    leases = [int(x) for x in args.leases.split(",")]
    with tempfile.TemporaryDirectory(prefix="lapor-bench-outbox-") as tmp:
        workdir = Path(tmp)
        print(
            f"# {args.mails} mails through two servers, "
            f"SMTP answering after {args.smtp_delay} s each"
        )
        base = one_run(
            args.database_url, workdir, max(leases), args.mails, args.smtp_delay, kill=False
        )
        print(
            f"baseline, nobody killed: the last three quarters in {base['seconds']:.1f} s "
            f"({base['mails']} mails, {base['twice']} twice)"
        )
        print(
            f"{'lease s':>8} {'its mail s':>11} {'vs lease':>9} {'all sent s':>11} "
            f"{'vs baseline':>12} {'mails':>6} {'twice':>6} {'unknown':>8}"
        )
        for lease in leases:
            run = one_run(args.database_url, workdir, lease, args.mails, args.smtp_delay, kill=True)
            print(
                f"{lease:>8} {run['resent']:>11.1f} {run['resent'] / lease:>8.2f}x "
                f"{run['seconds']:>11.1f} {run['seconds'] / base['seconds']:>11.1f}x "
                f"{run['mails']:>6} {run['twice']:>6} {run['unknown']:>8}"
            )
    psql(args.database_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
