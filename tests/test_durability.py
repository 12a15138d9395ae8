"""A receipt is a promise: every report acknowledged with a 303 survives SIGKILL of the server."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from lapor.web.signing import Signing
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
KEY = "durability-test-key-0123456789"


async def test_acknowledged_reports_survive_a_killed_server(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(
        LAPOR_DATA_DIR=str(tmp_path / "data"),
        LAPOR_BASE_URL=base,
        LAPOR_SECRET_KEYS=KEY,
        LAPOR_SUBMIT_LIMIT_PER_ADDRESS="100000/minute",
    )
    run = [sys.executable, "-m", "lapor"]
    subprocess.run(
        [*run, "unit", "add", "prov", "--name", "Provinsi"],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*run, "poster", "add", "prov", "--label", "Loket"],
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [*run, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    signing = Signing([KEY])
    code = signing.poster_code(1, 1)
    acknowledged: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("server did not start")

            async def submit(i: int) -> None:
                token = signing.new_form_token(1, 1)
                data = {
                    "token": token,
                    "kind": "pengaduan",
                    "identity": "anonim",
                    "text": f"Laporan nomor {i} yang harus tetap tersimpan.",
                }
                try:
                    response = await client.post(f"/q/{code}", data=data)
                except httpx.TransportError:
                    return
                if response.status_code == 303:
                    acknowledged.append(response.headers["location"][3:14].replace("-", ""))

            async def killer() -> None:
                # Kill mid-stream, while submissions are still arriving.
                while len(acknowledged) < 40:
                    await asyncio.sleep(0.005)
                server.send_signal(signal.SIGKILL)

            await asyncio.gather(killer(), *(submit(i) for i in range(200)))
    finally:
        server.kill()
        server.wait(timeout=10)
    assert len(acknowledged) >= 40
    with sqlite3.connect(tmp_path / "data" / "lapor.db") as conn:
        stored = {row[0] for row in conn.execute("SELECT tracking_code FROM reports")}
    # Opening the file replayed the WAL of the killed server; every receipt is in it.
    assert set(acknowledged) <= stored
