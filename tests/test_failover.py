"""Two machines on one PostgreSQL: one is killed (SIGKILL) in the middle of an SMTP send, and
the other takes its outbox over within the lease. Every mail reaches the SMTP server, and the
one copy the server had accepted from the dead machine is sent again under the same
Message-ID, so it is recognisably the same mail (counted at the SMTP server)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from lapor.web.signing import Signing
from tests.conftest import free_port, postgres_url, require_service

KEY = "failover-test-key-0123456789"
BASE_URL = "https://lapor.example.go.id"
LEASE_SECONDS = 3
REPORTS = 24
KILL_AT = 3  # the first machine dies during its third mail


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A database of its own (the servers are separate processes, so a schema will not do)."""
    url = postgres_url()
    if url is None:
        require_service("LAPOR_TEST_DATABASE_URL is not set (.ci/run sets it)")
    name = "lapor_failover_" + uuid.uuid4().hex[:10]
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class Mailbox:
    """The SMTP server: every copy it accepts, by the machine that sent it (its envelope
    sender) and Message-ID. It kills the first machine in the middle of its KILL_AT-th mail,
    after taking the copy and before the 250 reaches it: the crash the Message-ID is for (the
    sender cannot know the mail went, so it must go again)."""

    def __init__(self) -> None:
        self.copies: list[tuple[str, str]] = []
        self.victim: subprocess.Popen[bytes] | None = None
        self.killed_on: str | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mail = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        machine = str(envelope.mail_from).partition("@")[0]
        with self.lock:
            self.copies.append((machine, str(mail["Message-ID"])))
            mine = sum(1 for m, _ in self.copies if m == "a")
            if machine == "a" and mine == KILL_AT and self.victim is not None:
                self.killed_on = str(mail["Message-ID"])
                self.victim.send_signal(signal.SIGKILL)
                self.victim.wait(timeout=10)  # dead before our 250 could reach it
                return "250 Message accepted"
        await asyncio.sleep(0.05)  # a real server's pace, so the queue takes a while
        return "250 Message accepted"


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "lapor", *args],
        env=env,
        input=stdin.encode() if stdin else None,
        check=True,
        capture_output=True,
        timeout=60,
    )


async def test_a_killed_machines_mail_is_sent_by_the_other_once(
    database_url: str, tmp_path: Path
) -> None:
    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    base = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    base.update(
        LAPOR_DATABASE_URL=database_url,
        LAPOR_BASE_URL=BASE_URL,
        LAPOR_SECRET_KEYS=KEY,
        LAPOR_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        LAPOR_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        LAPOR_SUBMIT_LIMIT_PER_ADDRESS="100000/minute",
    )
    machines: dict[str, tuple[dict[str, str], int]] = {}
    for name in ("a", "b"):
        env = dict(base, LAPOR_DATA_DIR=str(tmp_path / name), LAPOR_MAIL_FROM=f"{name}@lapor.test")
        machines[name] = (env, free_port())
    seed = machines["a"][0]
    run("unit", "add", "prov", "--name", "Provinsi", env=seed)
    run("poster", "add", "prov", "--label", "Loket", env=seed)
    run(
        *("user", "add", "koor@prov.go.id", "--role", "coordinator", "--unit", "prov"),
        "--password-stdin",
        env=seed,
        stdin="correct horse battery\n",
    )
    servers: dict[str, subprocess.Popen[bytes]] = {}
    for name, (env, port) in machines.items():
        with (tmp_path / f"{name}.log").open("wb") as log:
            servers[name] = subprocess.Popen(
                [sys.executable, "-m", "lapor", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    mailbox.victim = servers["a"]
    signing = Signing([KEY])
    code = signing.poster_code(1, 1)
    db = await asyncpg.connect(database_url)
    loop = asyncio.get_running_loop()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for name, (_, port) in machines.items():
                for _ in range(200):
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/healthz")).is_success:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError((tmp_path / f"{name}.log").read_text())
            acknowledged = 0
            for i in range(REPORTS):
                port = machines["ab"[i % 2]][1]
                data = {
                    "token": signing.new_form_token(1, 1),
                    "kind": "pengaduan",
                    "identity": "anonim",
                    "text": f"Laporan nomor {i}: antrean panjang di loket pelayanan.",
                }
                try:
                    answer = await client.post(f"http://127.0.0.1:{port}/q/{code}", data=data)
                except httpx.TransportError:
                    continue  # the first machine is gone: this citizen got no receipt
                acknowledged += answer.status_code == 303
        started = loop.time()
        while await db.fetchval("SELECT count(*) FROM outbox WHERE status <> 'sent'"):
            # Within the lease, the sender's poll, and the pace of the rest of the queue.
            assert loop.time() - started < 40, (tmp_path / "b.log").read_text()[-3000:]
            await asyncio.sleep(0.2)
        rows = await db.fetch(
            "SELECT id, floor(extract(epoch FROM created_at))::bigint AS stamp FROM outbox"
        )
    finally:
        await db.close()
        for server in servers.values():
            server.kill()
            server.wait(timeout=10)
        controller.stop()
    assert mailbox.killed_on is not None, "the first machine was to die mid-send"
    assert servers["a"].returncode == -signal.SIGKILL
    assert acknowledged >= REPORTS // 2 and len(rows) >= acknowledged
    expected = {f"<outbox-{r['id']}-{r['stamp']}@lapor.example.go.id>" for r in rows}
    counted = Counter(message_id for _, message_id in mailbox.copies)
    assert set(counted) == expected  # every mail arrived, and nothing else did
    # Exactly once, but for the mail the dead machine was sending: the server took that copy
    # before the crash, and the second one carries the same Message-ID.
    assert {m: n for m, n in counted.items() if n > 1} == {mailbox.killed_on: 2}
    assert ("b", mailbox.killed_on) in mailbox.copies
    assert re.fullmatch(r"<outbox-\d+-\d+@lapor\.example\.go\.id>", mailbox.killed_on)
