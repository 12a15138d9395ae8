"""The WhatsApp channel as deployed: `lapor serve` in its own process with its background
jobs, Meta's signed webhooks over the network, and the Graph API stand-in receiving the
receipt, with the photo the citizen sent fetched from it. Nothing here calls the jobs by
hand: the webhook wakes the runner, which waits for the sender's quiet time."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.browser.conftest import LaporServer
from tests.channels.graph import Graph, graph_api
from tests.conftest import jpeg_bytes

APP_SECRET = "served-app-secret-0123456789"
ACCESS_TOKEN = "EAAG-served-token"
PHONE_NUMBER_ID = "1065"
WAIT = 30.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LaporServer, Graph]]:
    with graph_api(ACCESS_TOKEN, PHONE_NUMBER_ID) as graph:
        server = LaporServer(
            tmp_path / "data",
            overrides={
                "LAPOR_WHATSAPP_APP_SECRET": APP_SECRET,
                "LAPOR_WHATSAPP_VERIFY_TOKEN": "served-verify-token-0123",
                "LAPOR_WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
                "LAPOR_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                "LAPOR_WHATSAPP_GRAPH_URL": graph.url,
                "LAPOR_WHATSAPP_GATHER_SECONDS": "1",
            },
        )
        server.seed()
        server.start()
        try:
            yield server, graph
        finally:
            server.stop()


def deliver(server: LaporServer, payload: Mapping[str, object], secret: str = APP_SECRET) -> int:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{server.base_url}/channels/whatsapp",
        data=body,
        headers={"content-type": "application/json", "x-hub-signature-256": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def messages(*found: Mapping[str, object]) -> dict[str, object]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "628115001708", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Budi"}, "wa_id": "6281299998888"}],
        "messages": list(found),
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def test_a_whatsapp_text_and_photo_become_one_report_and_the_receipt_goes_back(
    served: tuple[LaporServer, Graph],
) -> None:
    server, graph = served
    graph.media["555"] = jpeg_bytes(320, 240)
    now = str(int(time.time()))
    text = {
        "from": "6281299998888",
        "id": "wamid.served-1",
        "timestamp": now,
        "type": "text",
        "text": {"body": "Lampu penerangan jalan di Jl. Ahmad Yani km 5 mati semua"},
    }
    photo = {
        "from": "6281299998888",
        "id": "wamid.served-2",
        "timestamp": now,
        "type": "image",
        "image": {"id": "555", "mime_type": "image/jpeg"},
    }
    assert deliver(server, messages(text), secret="forged-secret-0000000000") == 403
    assert deliver(server, messages(text)) == 200
    assert deliver(server, messages(photo)) == 200
    assert deliver(server, messages(text)) == 200  # Meta's retry
    deadline = time.monotonic() + WAIT
    while not graph.texts() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert graph.texts(), f"no receipt reached the Graph API\n{server.log()}"
    [receipt] = graph.texts()
    found = re.search(r"/t/([0-9A-Z]{5}-[0-9A-Z]{5})", receipt)
    assert found is not None, receipt
    with urllib.request.urlopen(f"{server.base_url}/t/{found[1]}", timeout=10) as page:
        assert page.status == 200
    [(channel, phone, name)] = server.query(
        "SELECT channel, reporter_phone, reporter_name FROM reports"
    )
    assert (channel, phone, name) == ("whatsapp", "+6281299998888", "Budi")
    assert server.query("SELECT count(*) FROM report_photos") == [(1,)]
    assert graph.media_fetches == ["555"]
    sql = "SELECT status, provider_id FROM outbox WHERE to_address LIKE 'whatsapp:%'"
    while server.query(sql)[0][0] != "sent" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.query(sql) == [("sent", graph.sent[0]["_wamid"])]
