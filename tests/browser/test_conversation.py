"""The conversation on a report's page in Chromium: a report that came by SMS shows the
reporter's message and our receipt on the timeline, and the coordinator writes to the reporter
from the page: swapped in place with JavaScript (a refusal too), a plain form without it. And
on the poster's form, a phone-only reporter chooses WhatsApp for our messages."""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LaporServer
from tests.browser.test_citizen import expect, fill_report, open_form, receipt_code, story
from tests.browser.test_workflow import sign_in
from tests.conftest import free_port

pytestmark = pytest.mark.browser

SECRET = "browser-sms-secret-0123456789"


@pytest.fixture(scope="module")
def sms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaporServer]:
    server = LaporServer(
        tmp_path_factory.mktemp("lapor-sms") / "data",
        overrides={
            "LAPOR_SMS_SECRET": SECRET,
            # Nothing listens there: replies wait in the outbox, as while a gateway is down.
            "LAPOR_SMS_SENDSMS_URL": f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms",
        },
    )
    server.seed()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def text_in(server: LaporServer, sender: str, text: str) -> int:
    """A message as the gateway hands it over; the id of the report it made."""
    query = urllib.parse.urlencode({"secret": SECRET, "from": sender, "text": text})
    with urllib.request.urlopen(f"{server.base_url}/channels/sms?{query}", timeout=10) as answer:
        assert answer.read() == b"stored"
    [(report_id,)] = server.query("SELECT max(id) FROM reports")
    return int(report_id)


def test_the_conversation_and_a_reply_with_javascript(
    sms_server: LaporServer, make_page: Callable[..., Any], tmp_path: Path
) -> None:
    report_id = text_in(sms_server, "081299998888", "LAPOR jembatan kayu di RT 4 patah")
    page = make_page(javascript=True)
    sign_in(page, sms_server, sms_server.coordinator, sms_server.coordinator_password)
    page.goto(f"{sms_server.base_url}/admin/reports/{report_id}")
    conversation = page.locator("#conversation")
    expect(conversation.locator("li.message-in")).to_have_count(1)
    expect(conversation.locator("li.message-in")).to_contain_text("SMS dari pelapor")
    expect(conversation.locator("li.message-in")).to_contain_text("jembatan kayu di RT 4 patah")
    expect(conversation.locator("li.message-out")).to_contain_text("Kode lacak")

    # Too long for two SMS once a letter leaves the GSM alphabet: the reason in place, what
    # was typed kept.
    typed = "Jembatan akan diperbaiki minggu depan 🙏 " * 4
    page.click("#message > summary")  # folded beside the report until wanted
    page.fill("#reply-message", typed)
    page.click("#reply-form button[type=submit]")
    expect(page.locator("#reply-problem")).to_contain_text("Terlalu panjang untuk SMS")
    expect(page.locator("#reply-message")).to_have_value(typed)

    words = "Petugas kami meninjau jembatan itu besok pagi."
    page.fill("#reply-message", words)
    page.click("#reply-form button[type=submit]")
    sent = page.locator("#conversation li.message-out", has_text=words)
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text(sms_server.coordinator)
    expect(sent).to_contain_text("SMS ke pelapor")
    expect(page.locator("#reply-problem")).to_have_count(0)
    expect(page.locator("#reply-message")).to_have_value("")
    # Swapped in place: the page itself was not reloaded.
    assert page.url.endswith(f"/admin/reports/{report_id}")


def test_a_reply_without_javascript(sms_server: LaporServer, make_page: Callable[..., Any]) -> None:
    report_id = text_in(sms_server, "081277776666", "LAPOR ANONIM pungutan di loket parkir")
    page = make_page(javascript=False)
    sign_in(page, sms_server, sms_server.coordinator, sms_server.coordinator_password)
    page.goto(f"{sms_server.base_url}/admin/reports/{report_id}")
    # Anonymous: the number is nowhere on the page, yet the reporter can be answered.
    assert "77776666" not in page.content()
    page.click("#message > summary")
    page.fill("#reply-message", "Terima kasih, laporan Anda kami periksa.")
    page.click("#reply-form button[type=submit]")
    page.wait_for_url(f"**/admin/reports/{report_id}?done=reply#conversation")
    expect(page.locator("#done")).to_contain_text("Pesan sedang dikirim ke pelapor")
    expect(page.locator("#conversation li.message-out").last).to_contain_text(
        "Terima kasih, laporan Anda kami periksa."
    )


@pytest.fixture(scope="module")
def two_channel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaporServer]:
    server = LaporServer(
        tmp_path_factory.mktemp("lapor-phone-channels") / "data",
        overrides={
            "LAPOR_SMS_SECRET": SECRET,
            # Nothing listens at either: replies wait in the outbox, as while both are down.
            "LAPOR_SMS_SENDSMS_URL": f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms",
            "LAPOR_WHATSAPP_APP_SECRET": "browser-whatsapp-secret-0123456789",
            "LAPOR_WHATSAPP_VERIFY_TOKEN": "browser-verify-token-0123",
            "LAPOR_WHATSAPP_ACCESS_TOKEN": "EAAG-unused",
            "LAPOR_WHATSAPP_PHONE_NUMBER_ID": "1065",
            "LAPOR_WHATSAPP_TEMPLATE": "lapor_kabar",
            "LAPOR_WHATSAPP_GRAPH_URL": f"http://127.0.0.1:{free_port()}/v21.0",
        },
    )
    server.seed()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_phone_only_reporter_chooses_whatsapp_on_the_form(
    two_channel_server: LaporServer, make_page: Callable[..., Any], javascript: bool
) -> None:
    page = make_page(javascript=javascript)
    open_form(page, two_channel_server.poster_url)
    number = "0812 7777 " + ("1111" if javascript else "2222")
    fill_report(page, story("Lampu jalan di depan sekolah mati."), identity="named", name="Siti")
    page.fill("#phone", number)
    expect(page.locator("#phone-hint")).to_contain_text("SMS atau WhatsApp")
    expect(page.locator("input[name=notify_by][value=sms]")).to_be_checked()
    page.check("input[name=notify_by][value=whatsapp]")
    page.click("button.send")
    code = receipt_code(page)
    rows = two_channel_server.query(
        "SELECT o.to_address FROM outbox o JOIN reports r ON r.id = o.report_id"
        " WHERE replace(r.tracking_code, '-', '') = ? AND o.to_address NOT LIKE '%@%'",
        code.replace("-", ""),
    )
    assert rows == [("whatsapp:+62" + number.replace(" ", "")[1:],)]
    assert page.problems == []


def mail_to(server: LaporServer, address: str, timeout: float = 15.0) -> str:
    """The body of the first mail the server's sender wrote to `address` (.eml files)."""
    import time
    from email import message_from_bytes, policy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted((server.data_dir / "mail").glob("*.eml")):
            mail = message_from_bytes(path.read_bytes(), policy=policy.default)
            if str(mail["To"]) == address:
                return str(mail.get_body().get_content())  # type: ignore[union-attr]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} within {timeout} s")


def test_a_message_by_email_and_the_answer_on_the_private_page(
    lapor_server: LaporServer, make_page: Callable[..., Any]
) -> None:
    address = f"warga-{free_port()}@example.id"
    citizen = make_page(javascript=False)
    open_form(citizen, lapor_server.poster_url)
    fill_report(
        citizen,
        story("Lampu penerangan di parkiran kantor kecamatan mati sejak seminggu."),
        identity="named",
        name="Dewi",
    )
    citizen.fill("#email", address)
    citizen.click("button.send")
    code = receipt_code(citizen)

    page = make_page(javascript=True)
    sign_in(page, lapor_server, lapor_server.coordinator, lapor_server.coordinator_password)
    page.click(f"table.inbox a:text('{code}')")
    report_url = page.url
    status = page.locator("dl.facts dd").first.inner_text()
    page.click("#message > summary")
    expect(page.locator("label[for=reply-message]")).to_contain_text("lewat email")
    words = "Di lantai berapa parkiran yang lampunya mati?"
    page.fill("#reply-message", words)
    page.click("#reply-form button[type=submit]")
    sent = page.locator("#conversation li.message-out", has_text=words)
    expect(sent).to_contain_text("Email ke pelapor")
    expect(page.locator("#reply-message")).to_have_value("")
    assert page.url == report_url  # swapped in place

    # The mail carries the private link; the reporter answers there, the case goes on.
    body = mail_to(lapor_server, address)
    assert words in body
    [link] = [w for w in body.split() if w.startswith(f"{lapor_server.base_url}/t/{code}/")]
    citizen.goto(link)
    expect(citizen.locator("#conversation")).to_contain_text(words)
    answer = "Lantai dasar, dekat pintu keluar motor."
    citizen.fill("#message-text", answer)
    citizen.click("#message-form button[type=submit]")
    expect(citizen.locator("#conversation")).to_contain_text(answer)
    expect(citizen.locator("#message-text")).to_have_value("")

    page.reload()
    expect(page.locator("#conversation li.message-in", has_text=answer)).to_contain_text(
        "halaman pribadinya"
    )
    assert page.locator("dl.facts dd").first.inner_text() == status  # nothing moved
    expect(page.locator("form[action$='/forward']")).to_be_visible()
    assert page.problems == [] and citizen.problems == []
