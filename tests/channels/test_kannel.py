"""A text message through a real Kannel: bearerbox with a fake SMSC, smsbox with the groups
`lapor sms kannel-config` prints, and `lapor serve`, all on loopback ports of their own. The
message fakesmsc sends becomes a report, and fakesmsc receives the receipt, whose tracking code
opens the report's status page; a question asked on the report's page reaches fakesmsc, the
reporter's SMS answer lands on the report, and Kannel's delivery reports mark the messages;
and a WhatsApp receipt that may no longer go by WhatsApp goes by SMS through the same
gateway. Skipped without Kannel (Debian's kannel and kannel-extras), unless
LAPOR_REQUIRE_SERVICES=1."""

from __future__ import annotations

import hashlib
import hmac
import http.cookiejar
import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from lapor.complaints import tracking
from tests.browser.conftest import COORDINATOR, LaporServer
from tests.conftest import free_port, require_service

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
SECRET = "kannel-test-secret-0123456789"
WAIT = 30.0


@dataclass
class Gateway:
    server: LaporServer
    smsc_port: int
    workdir: Path
    processes: list[subprocess.Popen[bytes]]

    def send(self, sender: str, receiver: str, text: str, kind: str = "text") -> Path:
        """fakesmsc delivers one message and stays to print what comes back."""
        out = self.workdir / f"fakesmsc-{len(self.processes)}.out"
        with out.open("wb") as log:
            self.processes.append(
                subprocess.Popen(
                    [
                        FAKESMSC,
                        "-H",
                        "127.0.0.1",
                        "-r",
                        str(self.smsc_port),
                        "-m",
                        "1",
                        f"{sender} {receiver} {kind} {text}",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return out

    def logs(self) -> str:
        return (
            "\n".join(
                f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                for p in sorted(self.workdir.glob("*.log")) + sorted(self.workdir.glob("*.out"))
            )
            + f"\n== lapor\n{self.server.log()}"
        )


def _wait_for_port(port: int, deadline: float) -> None:
    import socket

    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture
def gateway(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Gateway]:
    """The gateway and a served lapor; settings of lapor's beyond the SMS ones as the
    fixture's indirect parameter."""
    if not all(shutil.which(b) for b in (BEARERBOX, SMSBOX, FAKESMSC)):
        require_service("Kannel is not installed (apt-get install kannel kannel-extras)")
    admin_port, box_port, smsc_port, sendsms_port = (free_port() for _ in range(4))
    server = LaporServer(
        tmp_path / "data",
        overrides={
            "LAPOR_SMS_SECRET": SECRET,
            "LAPOR_SMS_KEYWORDS": "LAPOR,LAPOR PAMAN",
            "LAPOR_SMS_SENDER": "1708",
            "LAPOR_SMS_SENDSMS_URL": f"http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms",
            "LAPOR_SMS_SENDSMS_USER": "lapor",
            "LAPOR_SMS_SENDSMS_PASSWORD": "sendsms-test-password",
            **getattr(request, "param", {}),
        },
    )
    server.seed()
    ours = server.cli("sms", "kannel-config")
    conf = tmp_path / "kannel.conf"
    conf.write_text(
        "\n".join(
            [
                "group = core",
                f"admin-port = {admin_port}",
                "admin-interface = 127.0.0.1",
                "admin-password = test-admin",
                f"smsbox-port = {box_port}",
                "smsbox-interface = 127.0.0.1",
                "box-allow-ip = 127.0.0.1",
                f'log-file = "{tmp_path / "bearerbox.log"}"',
                "log-level = 1",
                "",
                "group = smsc",
                "smsc = fake",
                "smsc-id = fake",
                f"port = {smsc_port}",
                "connect-allow-ip = 127.0.0.1",
                "",
                "group = smsbox",
                "bearerbox-host = 127.0.0.1",
                f"bearerbox-port = {box_port}",
                f"sendsms-port = {sendsms_port}",
                "sendsms-interface = 127.0.0.1",
                f'log-file = "{tmp_path / "smsbox.log"}"',
                "log-level = 1",
                "",
                ours,
            ]
        )
    )
    processes: list[subprocess.Popen[bytes]] = []
    gw = Gateway(server, smsc_port, tmp_path, processes)
    try:
        server.start()
        deadline = time.monotonic() + WAIT
        for name, binary in (("bearerbox", BEARERBOX), ("smsbox", SMSBOX)):
            with (tmp_path / f"{name}.out").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [binary, str(conf)],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            _wait_for_port(box_port if name == "bearerbox" else sendsms_port, deadline)
        _wait_for_port(smsc_port, deadline)
        yield gw
    except TimeoutError as exc:
        pytest.fail(f"{exc}\n{gw.logs()}", pytrace=False)
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        server.stop()


def _reply(out: Path, deadline: float) -> str | None:
    while time.monotonic() < deadline:
        for line in out.read_text(errors="replace").splitlines():
            if "Got message" in line:
                return line
        time.sleep(0.2)
    return None


def test_a_text_through_kannel_becomes_a_report_and_its_receipt_comes_back(
    gateway: Gateway,
) -> None:
    out = gateway.send("081234567890", "1708", "Lapor Paman jalan berlubang di depan pasar")
    reply = _reply(out, time.monotonic() + WAIT)
    assert reply is not None, f"no receipt reached fakesmsc\n{gateway.logs()}"
    # fakesmsc prints what it got as <sender receiver type text>.
    assert "<1708 +6281234567890 text " in reply, reply
    found = re.search(r"/t/([0-9A-Z]{5}-[0-9A-Z]{5})", reply)
    assert found is not None, reply
    with urllib.request.urlopen(f"{gateway.server.base_url}/t/{found[1]}", timeout=10) as page:
        assert page.status == 200
    [(text, channel, phone)] = gateway.server.query(
        "SELECT text, channel, reporter_phone FROM reports"
    )
    assert (text, channel, phone) == ("jalan berlubang di depan pasar", "sms", "+6281234567890")
    # Kannel took it (202) before it reached fakesmsc; the outbox records that right after.
    deadline = time.monotonic() + WAIT
    sql = "SELECT status FROM outbox WHERE to_address LIKE 'sms:%'"
    while gateway.server.query(sql) != [("sent",)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gateway.server.query(sql) == [("sent",)]


def test_a_ucs2_text_through_kannel_keeps_its_letters(gateway: Gateway) -> None:
    # What a phone sends when one character leaves the GSM alphabet: UTF-16BE, which fakesmsc
    # takes URL-encoded.
    text = "LAPOR Jalan ke Pasar Lama rusak 🙁 sejak bulan lalu"
    encoded = "".join(f"%{b:02x}" for b in text.encode("utf-16-be"))
    gateway.send("081234567891", "1708", encoded, kind="ucs2")
    deadline = time.monotonic() + WAIT
    stored: list[tuple[object, ...]] = []
    while not stored and time.monotonic() < deadline:
        stored = gateway.server.query("SELECT text FROM reports")
        time.sleep(0.2)
    assert stored == [("Jalan ke Pasar Lama rusak 🙁 sejak bulan lalu",)], gateway.logs()


WHATSAPP_SECRET = "kannel-whatsapp-secret-0123456789"


@pytest.mark.parametrize(
    "gateway",
    [
        {
            "LAPOR_WHATSAPP_APP_SECRET": WHATSAPP_SECRET,
            "LAPOR_WHATSAPP_VERIFY_TOKEN": "kannel-verify-token-0123",
            "LAPOR_WHATSAPP_ACCESS_TOKEN": "EAAG-unused",
            "LAPOR_WHATSAPP_PHONE_NUMBER_ID": "1065",
            "LAPOR_WHATSAPP_GATHER_SECONDS": "1",
            # No template: outside WhatsApp's window the receipt goes by SMS. The Graph API
            # is never called on the way, so it may point at nothing.
            "LAPOR_WHATSAPP_GRAPH_URL": "http://127.0.0.1:9/v21.0",
        }
    ],
    indirect=True,
)
def test_outside_whatsapps_window_without_a_template_the_receipt_goes_by_sms(
    gateway: Gateway,
) -> None:
    # fakesmsc stays connected after its message and prints every one it receives.
    out = gateway.send("081234567890", "1708", "LAPOR jalan berlubang di depan pasar")
    sent = int(time.time()) - 30 * 3600  # Meta delivers it late: the window has closed
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "628115001708", "phone_number_id": "1065"},
        "messages": [
            {
                "from": "6281299998888",
                "id": "wamid.kannel-1",
                "timestamp": str(sent),
                "type": "text",
                "text": {"body": "Saluran air di Jl. Veteran tersumbat dan meluap"},
            }
        ],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()
    signature = "sha256=" + hmac.new(WHATSAPP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{gateway.server.base_url}/channels/whatsapp",
        data=body,
        headers={"content-type": "application/json", "x-hub-signature-256": signature},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    deadline = time.monotonic() + WAIT
    line = None
    while line is None and time.monotonic() < deadline:
        got = [x for x in out.read_text(errors="replace").splitlines() if "Got message" in x]
        line = next((x for x in got if "+6281299998888" in x), None)
        time.sleep(0.2)
    assert line is not None, f"no SMS receipt for the WhatsApp report\n{gateway.logs()}"
    assert re.search(r"/t/[0-9A-Z]{5}-[0-9A-Z]{5}", line), line
    sql = "SELECT status, subject FROM outbox WHERE to_address LIKE 'whatsapp:%'"
    while gateway.server.query(sql) != [("sent", "SMS")] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gateway.server.query(sql) == [("sent", "SMS")]


def _replies(out: Path, count: int, deadline: float) -> list[str]:
    """The first `count` messages fakesmsc got back (fewer when the time is up)."""
    got: list[str] = []
    while time.monotonic() < deadline:
        got = [
            line for line in out.read_text(errors="replace").splitlines() if "Got message" in line
        ]
        if len(got) >= count:
            return got[:count]
        time.sleep(0.2)
    return got


class Staff:
    """The coordinator at the report's page of the real server, as a browser without
    JavaScript: signed in with a cookie, posting the page's own forms."""

    def __init__(self, server: LaporServer) -> None:
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def post(self, path: str, fields: dict[str, str]) -> int:
        request = urllib.request.Request(
            self.server.base_url + path,
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Origin": self.server.base_url},
        )
        with self.opener.open(request, timeout=10) as response:
            return int(response.status)

    def page(self, path: str) -> BeautifulSoup:
        with self.opener.open(self.server.base_url + path, timeout=10) as response:
            return BeautifulSoup(response.read().decode(), "html.parser")

    def form(self, path: str, action: str) -> dict[str, str]:
        form = self.page(path).find("form", action=action)
        assert form is not None, f"no form {action} on {path}"
        return {str(i["name"]): str(i.get("value", "")) for i in form.find_all("input")}


def test_a_question_reaches_the_phone_and_the_sms_answer_lands_on_the_report(
    gateway: Gateway,
) -> None:
    server = gateway.server
    first = gateway.send("081234567890", "1708", "LAPOR lampu jalan mati di gang tiga")
    assert _replies(first, 1, time.monotonic() + WAIT), f"no receipt\n{gateway.logs()}"
    [(report_id, code)] = server.query("SELECT id, tracking_code FROM reports")

    staff = Staff(server)
    signed_in = staff.post(
        "/admin/login", {"email": COORDINATOR, "password": server.coordinator_password}
    )
    assert signed_in == 200  # followed to the inbox
    page = f"/admin/reports/{report_id}"
    question = "Gang tiga di kelurahan mana, dan sejak kapan lampunya mati?"
    fields = staff.form(page, f"{page}/postpone")
    assert staff.post(f"{page}/postpone", {**fields, "reason": question}) == 200
    # Two segments: fakesmsc prints each part with its concatenation header, URL-encoded.
    parts = _replies(first, 3, time.monotonic() + WAIT)[1:]
    assert len(parts) == 2 and all("<1708 +6281234567890 udh " in p for p in parts), parts
    asked = "".join(urllib.parse.unquote_plus(p.split(" data ", 1)[1].rstrip(">")) for p in parts)
    assert question in asked and tracking.format_code(code) in asked, asked

    # fakesmsc serves one phone at a time: the reporter's next message comes from a new one.
    process = gateway.processes[-1]
    process.terminate()
    process.wait(timeout=10)
    answer = "Kelurahan Sungai Miai, sudah seminggu"
    gateway.send("081234567890", "1708", answer)
    sql = "SELECT status FROM reports"
    deadline = time.monotonic() + WAIT
    while server.query(sql) != [("masuk",)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.query(sql) == [("masuk",)], gateway.logs()
    notes = server.query("SELECT note FROM report_events WHERE kind = 'reporter_reply'")
    assert notes == [(answer,)]

    # The coordinator's page shows the whole conversation, each message with its delivery.
    conversation = staff.page(page).find(id="conversation")
    assert conversation is not None
    said = [li.get_text(" ", strip=True) for li in conversation.select("li.message")]
    assert len(said) == 4, said
    assert "lampu jalan mati" in said[0] and answer in said[3]
    assert tracking.format_code(code) in said[1] and question in said[2]
    # Kannel's delivery report (the dlr-url the outbox gave it) marked the receipt delivered.
    receipt = conversation.select("li.message-out")[0]
    assert receipt.select_one(".delivery-delivered") is not None, said
