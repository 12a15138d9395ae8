"""`lapor backup` taken from a real server under load, restored into an empty data directory:
every report acknowledged before the backup began is in it, with its photo, and the restored
server serves them under the same keys."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from PIL import Image

from lapor.web.signing import Signing
from tests.conftest import free_port

RUN = [sys.executable, "-m", "lapor"]


def _env(data_dir: Path, base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    # No LAPOR_SECRET_KEYS: the key is the one generated into the data directory, which the
    # backup must carry for the restored server to accept the same posters and links.
    env.update(
        LAPOR_DATA_DIR=str(data_dir),
        LAPOR_BASE_URL=base,
        LAPOR_SUBMIT_LIMIT_PER_ADDRESS="100000/minute",
        LAPOR_SUBMIT_LIMIT_PER_FORM="100000/minute",
        LAPOR_TRACK_LIMIT_PER_ADDRESS="100000/minute",
    )
    return env


def _jpeg(seed: int) -> bytes:
    noise = random.Random(seed).randbytes(48 * 32 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (48, 32), noise).save(out, "JPEG")
    return out.getvalue()


@asynccontextmanager
async def serving(env: dict[str, str], port: int) -> AsyncIterator[httpx.AsyncClient]:
    server = subprocess.Popen(
        [*RUN, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            for _ in range(300):
                try:
                    if (await client.get("/healthz/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the server did not start")
            yield client
    finally:
        server.terminate()
        server.wait(timeout=30)


async def test_a_backup_taken_under_load_restores_every_acknowledged_report(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(tmp_path / "data", base)
    subprocess.run([*RUN, "unit", "add", "prov", "--name", "Provinsi"], env=env, check=True)
    poster = subprocess.run(
        [*RUN, "poster", "add", "prov", "--label", "Loket"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    poster_url = poster.stdout.strip().splitlines()[-1]
    signing = Signing([(tmp_path / "data" / "secret.key").read_text().strip()])
    code = signing.poster_code(1, 1)
    acknowledged: dict[str, tuple[str, bytes]] = {}  # tracking code: (receipt, upload)
    before_backup: set[str] = set()
    while_backing_up: list[int] = []
    backup_dir = tmp_path / "backup"

    async with serving(env, port) as client:

        async def submit(i: int) -> None:
            photo = _jpeg(i)
            response = await client.post(
                f"/q/{code}",
                data={
                    "token": signing.new_form_token(1, 1),
                    "kind": "pengaduan",
                    "identity": "anonim",
                    "text": f"Laporan nomor {i} dengan foto, yang harus ada di cadangan.",
                },
                files={"photos": (f"foto{i}.jpg", photo, "image/jpeg")},
            )
            assert response.status_code == 303, response.text
            path = response.headers["location"].split("?")[0]
            acknowledged[path.split("/")[2].replace("-", "")] = (path, photo)

        async def load(start: int, count: int) -> None:
            for i in range(start, start + count):
                await submit(i)

        async def back_up() -> None:
            while len(acknowledged) < 30:
                await asyncio.sleep(0.01)
            before_backup.update(acknowledged)
            process = await asyncio.create_subprocess_exec(
                *RUN,
                "backup",
                str(backup_dir),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await process.communicate()
            while_backing_up.append(len(acknowledged) - len(before_backup))
            assert process.returncode == 0, err.decode()
            assert b"into" in out

        # Four clients submitting all along, the backup in the middle of them.
        await asyncio.gather(back_up(), *(load(k * 1000, 30) for k in range(4)))

    assert len(before_backup) >= 30
    assert backup_dir.is_dir()
    # Submissions kept arriving while the backup ran (the test would prove nothing otherwise).
    assert while_backing_up[0] > 0

    restored = tmp_path / "restored"
    port2 = free_port()
    env2 = _env(restored, f"http://127.0.0.1:{port2}")
    done = subprocess.run(
        [*RUN, "restore", str(backup_dir)], env=env2, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout

    with sqlite3.connect(restored / "lapor.db") as conn:
        kept = {row[0] for row in conn.execute("SELECT tracking_code FROM reports")}
    assert before_backup <= kept
    # Every submission was answered by the end: the backup holds nothing else.
    assert kept <= set(acknowledged)

    async with serving(env2, port2) as client:
        # The same key: the poster printed before the backup opens its form on the restored
        # server.
        form = await client.get(poster_url.removeprefix(base))
        assert form.status_code == 200
        for tracking_code in kept:
            path, _ = acknowledged[tracking_code]
            page = await client.get(path)
            assert page.status_code == 200, tracking_code
            served = await client.get(f"{path}/photos/0")
            assert served.status_code == 200, tracking_code
            # The server keeps the photo re-encoded: compare with what the first server kept.
            first = _kept_photo(tmp_path / "data", tracking_code).read_bytes()
            assert hashlib.sha256(served.content).digest() == hashlib.sha256(first).digest()


def _kept_photo(data_dir: Path, tracking_code: str) -> Path:
    with sqlite3.connect(data_dir / "lapor.db") as conn:
        (name,) = conn.execute(
            "SELECT p.filename FROM report_photos p JOIN reports r ON r.id = p.report_id "
            "WHERE r.tracking_code = ?",
            (tracking_code,),
        ).fetchone()
    return data_dir / "photos" / str(name)[:2] / str(name)
