"""web/logs.py: the log of a real `lapor serve` has one line per request and per job run, with
the report's id, and nothing of what the citizen wrote or who they are."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from lapor.web.logs import JsonFormatter, PlainFormatter
from lapor.web.signing import Signing
from tests.conftest import free_port

RUN = [sys.executable, "-m", "lapor"]
KEY = "request-log-test-key-0123456789"
TEXT = "Pungutan liar di loket KTP oleh petugas berkacamata hitam setiap Senin pagi."
NAME = "Siti Nurhaliza Rahmawati"
PHONE = "081298765432"
EMAIL = "siti.pelapor@contoh.co.id"


async def test_a_submission_logs_its_ids_and_nothing_of_the_citizen(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(
        LAPOR_DATA_DIR=str(tmp_path / "data"),
        LAPOR_BASE_URL=base,
        LAPOR_SECRET_KEYS=KEY,
        LAPOR_LOG_FORMAT="json",
    )
    subprocess.run([*RUN, "unit", "add", "prov", "--name", "Provinsi"], env=env, check=True)
    subprocess.run([*RUN, "poster", "add", "prov", "--label", "Loket"], env=env, check=True)
    subprocess.run(
        [*RUN, "user", "add", "koor@prov.go.id", "--role", "coordinator", "--unit", "prov"],
        env=env,
        check=True,
        capture_output=True,
    )
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [*RUN, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    signing = Signing([KEY])
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            for _ in range(300):
                try:
                    if (await client.get("/healthz/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(log.read_text())
            response = await client.post(
                f"/q/{signing.poster_code(1, 1)}?utm={PHONE}",
                data={
                    "token": signing.new_form_token(1, 1),
                    "kind": "pengaduan",
                    "identity": "rahasia",
                    "name": NAME,
                    "phone": PHONE,
                    "email": EMAIL,
                    "text": TEXT,
                },
                headers={"x-request-id": "proxy-req-42"},
            )
            assert response.status_code == 303, response.text
            assert response.headers["x-request-id"] == "proxy-req-42"
            receipt = response.headers["location"].split("?")[0]
            assert (await client.get(receipt)).status_code == 200
            # The coordinator's notice, written as an .eml file.
            for _ in range(100):
                if list((tmp_path / "data" / "mail").glob("*.eml")):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    # Never what the citizen wrote, who they are, or the tracking code and secret of the link.
    tracking_code, secret = receipt.split("/")[2:4]
    for private in (
        TEXT[:30],
        "Pungutan",
        NAME,
        "Nurhaliza",
        PHONE,
        "98765432",
        EMAIL,
        "siti.pelapor",
        secret,
        tracking_code,
        tracking_code.replace("-", ""),
    ):
        assert private not in text, private

    requests = [line for line in lines if line["logger"] == "lapor.requests"]
    [submitted] = [line for line in requests if line["method"] == "POST"]
    assert submitted["route"] == "/q/{code}" and submitted["status"] == 303
    assert submitted["request_id"] == "proxy-req-42"
    assert isinstance(submitted["ms"], float)
    report_id = submitted["report_id"]
    [shown] = [line for line in requests if line["route"] == "/t/{code}/{secret}"]
    assert shown["status"] == 200 and len(shown["request_id"]) == 16
    jobs = [line for line in lines if line["logger"] == "lapor.jobs" and line["job"] == "outbox"]
    assert [j["outcome"] for j in jobs] == ["sent"]
    assert {j["report_id"] for j in jobs} == {report_id}
    assert all(j["way"] == "mail" for j in jobs)


def _record(**facts: Any) -> logging.LogRecord:
    record = logging.LogRecord("lapor.jobs", logging.INFO, __file__, 1, "job", None, None)
    record.facts = facts
    return record


def test_plain_lines_quote_what_has_spaces_and_json_lines_are_objects() -> None:
    record = _record(job="export", rows=3, error='no "space" left')
    plain = PlainFormatter().format(record)
    assert plain.endswith('INFO lapor.jobs job job=export rows=3 error="no \\"space\\" left"')
    assert json.loads(JsonFormatter().format(record))["rows"] == 3
