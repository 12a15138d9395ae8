"""SIGTERM to a real `lapor serve`: readiness says 503 for the drain, then the server stops
taking connections, finishes the submission in flight (its receipt is sent), stops its jobs
and exits within the bound the settings state."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from lapor.web.signing import Signing
from tests.conftest import free_port

RUN = [sys.executable, "-m", "lapor"]
KEY = "graceful-stop-test-key-0123456789"
DRAIN = 2
STOP = 20


async def _status(base: str, path: str) -> int | None:
    """The status of a GET on a connection of its own; None when it is refused."""
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            return (await client.get(path)).status_code
    except httpx.TransportError:
        return None


async def test_sigterm_drains_finishes_the_submission_in_flight_and_exits(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(
        LAPOR_DATA_DIR=str(tmp_path / "data"),
        LAPOR_BASE_URL=base,
        LAPOR_SECRET_KEYS=KEY,
        LAPOR_DRAIN_SECONDS=str(DRAIN),
        LAPOR_STOP_SECONDS=str(STOP),
    )
    subprocess.run([*RUN, "unit", "add", "prov", "--name", "Provinsi"], env=env, check=True)
    subprocess.run([*RUN, "poster", "add", "prov", "--label", "Loket"], env=env, check=True)
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [*RUN, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        for _ in range(300):
            if await _status(base, "/healthz/ready") == 200:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(log.read_text())
        signing = Signing([KEY])
        body = urlencode(
            {
                "token": signing.new_form_token(1, 1),
                "kind": "pengaduan",
                "identity": "anonim",
                "text": "Laporan yang dikirim pelan-pelan dari jaringan 2G saat server berhenti.",
            }
        ).encode()
        # A citizen on a slow network: the headers and half the body are in when SIGTERM comes.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"POST /q/{signing.poster_code(1, 1)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body[:40]
        )
        await writer.drain()
        await asyncio.sleep(0.3)
        server.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        await asyncio.sleep(0.5)

        # Draining: the load balancer is told to go elsewhere, the process still answers.
        assert await _status(base, "/healthz/ready") == 503
        assert await _status(base, "/healthz") == 503
        assert await _status(base, "/healthz/live") == 200

        # After the drain the server takes no new connection, the slow one still in flight.
        while time.monotonic() - stopped_at < DRAIN + 1:
            await asyncio.sleep(0.1)
        assert await _status(base, "/healthz/live") is None
        writer.write(body[40:])
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        status_line = answer.split(b"\r\n", 1)[0]
        assert status_line == b"HTTP/1.1 303 See Other", answer[:300]
        location = next(
            line.split(b": ", 1)[1].decode()
            for line in answer.split(b"\r\n")
            if line.lower().startswith(b"location:")
        )
        tracking_code = location.split("/")[2].replace("-", "")

        returncode = await asyncio.to_thread(server.wait, DRAIN + STOP + 15)
        took = time.monotonic() - stopped_at
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # uvicorn hands SIGTERM back to itself once stopped: the exit a service manager expects.
    assert returncode == -signal.SIGTERM, log.read_text()
    assert took < DRAIN + STOP + 10
    with sqlite3.connect(tmp_path / "data" / "lapor.db") as conn:
        stored = {row[0] for row in conn.execute("SELECT tracking_code FROM reports")}
        held = conn.execute("SELECT count(*) FROM outbox WHERE status = 'sending'").fetchone()
    assert tracking_code in stored
    assert held == (0,)
    text = log.read_text()
    assert '"draining"' in text or " draining " in text
    assert "job job=stop" in text
