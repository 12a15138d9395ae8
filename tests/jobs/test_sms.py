from __future__ import annotations

from dataclasses import replace

from lapor.complaints.notices import ChangeNotice, SmsNotice
from lapor.complaints.reports import Status
from lapor.complaints.sms import segments
from lapor.jobs.sms import MAX_SEGMENTS, compose_change_sms, compose_sms
from tests.channels.test_sms import NUMBER, SECRET, deliver
from tests.conftest import MakeHarness, free_port

CODE = "R4YZ6X81N2"


def test_receipt_fits_two_segments_with_code_and_link() -> None:
    for base in ("https://lapor.example.go.id", "https://pengaduan." + "a" * 60 + ".go.id"):
        for language in ("id", "en"):
            for cut in (False, True):
                _, body = compose_sms(base, "LAPOR")(
                    SmsNotice("receipt", language, tracking_code=CODE, cut=cut)
                )
                assert segments(body).count <= MAX_SEGMENTS, body
                assert f"{base}/t/R4YZ6-X81N2" in body
                assert ("4000" in body) is cut or len(base) > 60


def test_receipt_and_help_read_in_indonesian() -> None:
    compose = compose_sms("https://lapor.example.go.id", "LAPORPAMAN")
    _, receipt = compose(SmsNotice("receipt", "id", tracking_code=CODE))
    assert receipt.startswith("Laporan Anda diterima. Kode lacak: R4YZ6-X81N2")
    _, help_ = compose(SmsNotice("help", "id", keyword="LAPORPAMAN"))
    assert "kirim LAPORPAMAN" in help_ and "ANONIM" in help_
    assert segments(help_).count <= MAX_SEGMENTS


async def test_an_unreachable_gateway_is_retried_and_recorded(make_harness: MakeHarness) -> None:
    url = f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms"
    async with make_harness(
        sms_secret=SECRET, sms_sendsms_url=url, sms_sendsms_password="sendsms-test-pw"
    ) as h:
        assert (await deliver(h, "LAPOR jalan rusak", id="r")).status_code == 200
        svc = h.app.state.services
        await svc.mail.send_due()
        [row] = [m for m in await svc.store.list_outbox() if m.to_address == "sms:" + NUMBER]
        assert row.status == "pending" and row.attempts == 1
        assert "gateway unreachable" in (row.last_error or "")
        # The words were kept for the retry, and the password never reaches the record.
        assert row.body and "sendsms-test" not in (row.last_error or "")


async def test_without_a_sending_url_the_receipt_waits(make_harness: MakeHarness) -> None:
    async with make_harness(sms_secret=SECRET) as h:
        await deliver(h, "LAPOR jalan rusak", id="w")
        svc = h.app.state.services
        await svc.mail.send_due()
        [row] = [m for m in await svc.store.list_outbox() if m.to_address.startswith("sms:")]
        assert row.status == "pending" and "LAPOR_SMS_SENDSMS_URL" in (row.last_error or "")


def test_changes_for_the_reporter_fit_two_segments() -> None:
    compose = compose_change_sms("https://lapor.example.go.id")
    long = "Mohon jelaskan lokasi persisnya, jam kejadian, dan nama petugas yang bertugas. " * 20
    for status in (Status.POSTPONED, Status.FOLLOWED_UP, Status.ARCHIVED, Status.FORWARDED):
        for text in ("Di mana tepatnya?", long, "Lokasi persisnya di mana? 🙏 " * 10):
            notice = ChangeNotice(1, CODE, None, status, None, text, "id", None)
            _, body = compose(notice)
            assert segments(body).count <= MAX_SEGMENTS, body
            assert "R4YZ6-X81N2" in body
    _, asked = compose(ChangeNotice(1, CODE, None, Status.POSTPONED, None, long, "id", None))
    assert asked.startswith("Laporan R4YZ6-X81N2 memerlukan keterangan Anda: Mohon jelaskan")
    assert "..." in asked and "Balas SMS ini" in asked
    assert "https://lapor.example.go.id/t/R4YZ6-X81N2" in asked
    _, answered = compose(
        ChangeNotice(1, CODE, None, Status.FOLLOWED_UP, None, "Sudah diperbaiki.", "en", None)
    )
    assert answered.startswith("Report R4YZ6-X81N2 was answered: Sudah diperbaiki.")
    staff = ChangeNotice(1, CODE, None, Status.RECEIVED, None, "Terima kasih.", "id", None)
    _, said = compose(replace(staff, event="staff_message"))
    assert said == "R4YZ6-X81N2: Terima kasih. Balas SMS ini untuk menjawab."
