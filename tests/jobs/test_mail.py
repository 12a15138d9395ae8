"""The outbox sender against a real SMTP server (aiosmtpd) and the .eml fallback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from lapor.complaints.records import OutboxMessage
from lapor.jobs.mail import MAX_ATTEMPTS, MailSender, SmtpTarget, message_id
from lapor.store.store import Store
from lapor.web.signing import Signing
from tests.conftest import TEST_KEY, AppHarness, MakeHarness, World, free_port
from tests.store.test_store import new_report


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def sender_for(harness: AppHarness, smtp_url: str) -> MailSender:
    svc = harness.app.state.services
    return MailSender(
        svc.store,
        base_url=harness.settings.base_url,
        smtp_url=smtp_url,
        mail_from="lapor@kalselprov.go.id",
        mail_dir=harness.settings.mail_dir,
    )


async def test_new_report_mails_the_coordinator_once(
    make_harness: MakeHarness, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    async with make_harness() as harness:
        await harness.submit(identity="rahasia", name="Nama Rahasia", phone="081234567890")
        sender = sender_for(harness, f"smtp://127.0.0.1:{port}")
        assert await sender.send_due() == 1
        assert await sender.send_due() == 0  # sent means sent: never twice
        [envelope] = mailbox.messages
        assert envelope.rcpt_tos == ["koor@prov.go.id"]
        mail = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert "Dinas Kependudukan" in str(mail["Subject"])
        body = mail.get_body().get_content()  # type: ignore[union-attr]
        assert "https://lapor.example.go.id/admin/reports/" in body
        assert "Nama Rahasia" not in body  # identity never travels by mail
        [message] = await harness.app.state.services.store.list_outbox()
        assert message.status == "sent"


async def test_refused_address_fails_permanently_and_can_be_resent(
    make_harness: MakeHarness, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.refuse.add("koor@prov.go.id")
    async with make_harness() as harness:
        store = harness.app.state.services.store
        await harness.submit()
        sender = sender_for(harness, f"smtp://127.0.0.1:{port}")
        await sender.send_due()
        [failed] = await store.list_outbox("failed")
        assert "550" in (failed.last_error or "")
        # An admin sees it and, once the address is fixed, sends it again.
        await harness.login("admin@prov.go.id")
        page = await harness.client.get("/admin/outbox?status=failed")
        assert "koor@prov.go.id" in page.text
        mailbox.refuse.clear()
        csrf = await harness.csrf("/admin/outbox?status=failed")
        response = await harness.client.post(
            f"/admin/outbox/{failed.id}/resend", data={"csrf": csrf}
        )
        assert response.status_code == 303
        assert await sender.send_due() == 1
        assert len(mailbox.messages) == 1


async def test_unreachable_server_is_retried_with_backoff_then_gives_up(
    make_harness: MakeHarness,
) -> None:
    async with make_harness() as harness:
        store = harness.app.state.services.store
        await harness.submit()
        sender = sender_for(harness, f"smtp://127.0.0.1:{free_port()}")
        await sender.send_due()
        [waiting] = await store.list_outbox("pending")
        assert waiting.attempts == 1 and waiting.last_error
        assert await sender.send_due() == 0  # not due again until the backoff has passed
        from sqlalchemy import update

        from lapor.store import schema
        from lapor.store.store import now

        def due_now(conn: Any) -> None:
            conn.execute(
                update(schema.outbox).values(next_attempt_at=now(), attempts=MAX_ATTEMPTS - 1)
            )

        await store.db.write(due_now)
        await sender.send_due()
        [failed] = await store.list_outbox("failed")
        assert "gave up" in (failed.last_error or "")


async def test_without_smtp_messages_become_eml_files(harness: AppHarness) -> None:
    await harness.submit()
    sender = sender_for(harness, "")
    assert await sender.send_due() == 1
    [path] = list(Path(harness.settings.mail_dir).glob("*.eml"))
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["To"] == "koor@prov.go.id"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://mail.example.go.id", ("mail.example.go.id", 25, None, False, False)),
        (
            "smtps://u%40x:p%3Ass@mail.example.go.id",
            ("mail.example.go.id", 465, "u@x", True, False),
        ),
        (
            "smtp://mail.example.go.id:587?starttls=1",
            ("mail.example.go.id", 587, None, False, True),
        ),
    ],
)
def test_smtp_url(url: str, expected: tuple[Any, ...]) -> None:
    target = SmtpTarget.parse(url)
    assert (
        target.host,
        target.port,
        target.username,
        target.implicit_tls,
        target.starttls,
    ) == expected


def test_bad_smtp_url() -> None:
    with pytest.raises(ValueError, match="LAPOR_SMTP_URL"):
        SmtpTarget.parse("http://mail.example.go.id")


def test_staff_mail_is_in_indonesian_whatever_the_request_language() -> None:
    from datetime import date

    from lapor.complaints import tracking
    from lapor.complaints.notices import ChangeNotice, Notice
    from lapor.complaints.reports import Channel, Kind, Status
    from lapor.jobs.mail import compose_change_mail, compose_new_report_mail
    from lapor.web import i18n

    code = tracking.new_tracking_code()
    with i18n.using("en"):
        subject, body = compose_new_report_mail("https://lapor.example")(
            Notice(
                7,
                code,
                Kind.COMPLAINT,
                "Antrean panjang.",
                Channel.STAFF,
                "Dinas",
                None,
                "Prov",
                date(2026, 12, 1),
            )
        )
        forwarded = compose_change_mail("https://lapor.example")(
            ChangeNotice(
                7, code, "Antrean", Status.FORWARDED, "Dinas", None, "en", date(2026, 12, 8)
            )
        )
        answered = compose_change_mail("https://lapor.example")(
            ChangeNotice(7, code, "Antrean", Status.FOLLOWED_UP, None, "Sudah.", "en", None)
        )
    assert subject.startswith("[LAPOR] Pengaduan baru") and "Dicatat" in body
    assert "Batas tindak lanjut: 2026-12-08" in forwarded[1]
    assert "https://lapor.example/admin/reports/7" in body
    # The reporter, who wrote in English, is answered in English.
    assert answered[0].startswith("Your report")


def test_a_widget_report_mail_names_the_widget_and_the_page_it_came_from() -> None:
    from datetime import date

    from lapor.complaints import tracking
    from lapor.complaints.notices import Notice
    from lapor.complaints.reports import Channel, Kind
    from lapor.jobs.mail import compose_new_report_mail

    compose = compose_new_report_mail("https://lapor.example")

    def notice(page_url: str | None) -> Notice:
        return Notice(
            8,
            tracking.new_tracking_code(),
            Kind.COMPLAINT,
            "Obat kosong.",
            Channel.WIDGET,
            "Dinas",
            None,
            "Prov",
            date(2026, 12, 1),
            widget_id=3,
            page_url=page_url,
        )

    _, body = compose(notice("https://dinkes.example.go.id/layanan"))
    assert "Pintu masuk: Widget situs web #3" in body.splitlines()
    assert "Dikirim dari halaman: https://dinkes.example.go.id/layanan" in body.splitlines()
    # A claim the store did not keep (another site's page) is not put in the mail either.
    _, body = compose(notice(None))
    assert "Pintu masuk: Widget situs web #3" in body.splitlines()
    assert "Dikirim dari halaman" not in body


async def test_the_words_are_composed_when_sent_and_kept_on_the_row(
    make_harness: MakeHarness, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    async with make_harness() as harness:
        await harness.submit()
        store = harness.app.state.services.store
        [queued] = await store.list_outbox()
        assert queued.subject is None and queued.notice is not None  # facts only, so far
        [shown] = await harness.outbox()
        assert await sender_for(harness, f"smtp://127.0.0.1:{port}").send_due() == 1
        [sent] = await store.list_outbox()
        assert (sent.subject, sent.body) == (shown.subject, shown.body)
        mail = message_from_bytes(
            mailbox.messages[0].original_content or b"", policy=policy.default
        )
        assert str(mail["Subject"]) == sent.subject


async def test_a_row_queued_before_notices_were_kept_is_sent_as_it_is(
    make_harness: MakeHarness, smtp: tuple[Mailbox, int]
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from lapor.store import schema

    mailbox, port = smtp
    async with make_harness() as harness:
        at = datetime.now(UTC)
        row = dict(
            to_address="koor@prov.go.id",
            subject="[LAPOR] Tersimpan sebelumnya",
            body="Isi lama.\n",
            status="pending",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
        await harness.app.state.services.store.db.write(
            lambda conn: conn.execute(insert(schema.outbox).values(**row))
        )
        assert await sender_for(harness, f"smtp://127.0.0.1:{port}").send_due() == 1
        mail = message_from_bytes(
            mailbox.messages[0].original_content or b"", policy=policy.default
        )
        assert str(mail["Subject"]) == "[LAPOR] Tersimpan sebelumnya"
        assert mail.get_body().get_content().strip() == "Isi lama."  # type: ignore[union-attr]


async def test_a_long_report_is_quoted_in_the_mail_and_no_more_of_it_is_kept(
    make_harness: MakeHarness, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    # Numbered, so that what lies past the excerpt appears nowhere in it: 3,849 characters.
    text = " ".join(f"Antrean loket nomor {n} panjang." for n in range(120))
    async with make_harness() as harness:
        await harness.submit(text=text)
        [queued] = await harness.app.state.services.store.list_outbox()
        assert queued.notice is not None
        assert queued.notice.text == text[:400] + " …"  # the outbox keeps the excerpt only
        assert await sender_for(harness, f"smtp://127.0.0.1:{port}").send_due() == 1
        mail = message_from_bytes(
            mailbox.messages[0].original_content or b"", policy=policy.default
        )
        # The body's long line is wrapped for the wire; read it as one.
        body = " ".join(mail.get_body().get_content().split())  # type: ignore[union-attr]
        assert text[:400] + " …" in body
        assert "nomor 119" not in body


async def test_a_message_that_cannot_be_put_into_words_fails_alone(
    make_harness: MakeHarness, smtp: tuple[Mailbox, int]
) -> None:
    """A notice this release cannot read (written by a later one) or cannot compose fails its
    own row, for good and with the reason; the messages behind it are still sent, and the
    admin's outbox page still lists them all."""
    from datetime import UTC, date, datetime

    from sqlalchemy import insert

    from lapor.complaints.notices import ChangeNotice
    from lapor.complaints.reports import Status
    from lapor.store import schema
    from lapor.store.outbox import facts

    mailbox, port = smtp
    async with make_harness() as harness:
        at = datetime.now(UTC)
        common = dict(
            subject=None,
            body=None,
            notice=None,
            status="pending",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
        uncomposable = ChangeNotice(
            1, "ABCDE12345", None, Status.FOLLOWED_UP, None, "Jawaban", "xx", date(2026, 12, 9)
        )
        rows = [
            {**common, "to_address": "a@prov.go.id", "notice": '{"notice": "sms_receipt"}'},
            {**common, "to_address": "b@prov.go.id", "notice": facts(uncomposable)},
            {**common, "to_address": "c@prov.go.id", "subject": "[LAPOR] Lama", "body": "Isi.\n"},
        ]
        await harness.app.state.services.store.db.write(
            lambda conn: conn.execute(insert(schema.outbox), rows)
        )
        assert await sender_for(harness, f"smtp://127.0.0.1:{port}").send_due() == 3
        [sent] = mailbox.messages
        assert sent.rcpt_tos == ["c@prov.go.id"]
        outcome = {
            m.to_address: (m.status, m.last_error or "")
            for m in await harness.app.state.services.store.list_outbox()
        }
        assert outcome["a@prov.go.id"][0] == "failed"
        assert "cannot be read" in outcome["a@prov.go.id"][1]
        assert outcome["b@prov.go.id"][0] == "failed"
        assert "cannot be composed" in outcome["b@prov.go.id"][1]
        assert outcome["c@prov.go.id"][0] == "sent"

        await harness.login("admin@prov.go.id")
        page = await harness.client.get("/admin/outbox")
        assert page.status_code == 200
        for address in ("a@prov.go.id", "b@prov.go.id", "c@prov.go.id"):
            assert address in page.text


async def test_a_stored_address_that_reads_as_two_is_never_sent_to_both(
    make_harness: MakeHarness, smtp: tuple[Mailbox, int]
) -> None:
    """An address kept from before they were checked ("budi@example.id,postmaster") fails
    for good; the header is built from one address object, never pasted in."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from lapor.store import schema

    mailbox, port = smtp
    async with make_harness() as harness:
        at = datetime.now(UTC)
        row = dict(
            to_address="budi@example.id,postmaster",
            subject="[LAPOR] Pertanyaan",
            body="Isi.\n",
            status="pending",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
        store = harness.app.state.services.store
        await store.db.write(lambda conn: conn.execute(insert(schema.outbox).values(**row)))
        assert await sender_for(harness, f"smtp://127.0.0.1:{port}").send_due() == 1
        assert mailbox.messages == []
        [message] = await store.list_outbox()
        assert message.status == "failed" and "not one address" in (message.last_error or "")


class SlowMailbox(Mailbox):
    """A mail server that takes its time to accept a message: the sender is mid-delivery."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.receiving = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.loop is not None:  # a test waiting for the sender to be mid-delivery
            self.loop.call_soon_threadsafe(self.receiving.set)
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SlowMailbox, int]]:
    mailbox = SlowMailbox(delay=1.5)
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


async def test_a_stopped_sender_finishes_the_message_in_hand_and_claims_no_more(
    make_harness: MakeHarness, slow_smtp: tuple[SlowMailbox, int]
) -> None:
    mailbox, port = slow_smtp
    mailbox.loop = asyncio.get_running_loop()
    async with make_harness() as harness:
        await harness.submit()
        await harness.submit(text="Laporan kedua tentang antrean yang sangat panjang sekali.")
        sender = sender_for(harness, f"smtp://127.0.0.1:{port}")
        running = asyncio.create_task(sender.run(interval=0.1))
        await asyncio.wait_for(mailbox.receiving.wait(), timeout=10)
        sender.stop()
        await asyncio.wait_for(running, timeout=10)  # run() returns: nothing to cancel
        statuses = sorted(m.status for m in await harness.app.state.services.store.list_outbox())
        assert statuses == ["pending", "sent"]
        assert len(mailbox.messages) == 1


async def test_a_sender_cancelled_mid_delivery_hands_its_claim_back(
    make_harness: MakeHarness, slow_smtp: tuple[SlowMailbox, int]
) -> None:
    mailbox, port = slow_smtp
    mailbox.loop = asyncio.get_running_loop()
    async with make_harness() as harness:
        store = harness.app.state.services.store
        await harness.submit()
        sender = sender_for(harness, f"smtp://127.0.0.1:{port}")
        sending = asyncio.create_task(sender.send_due())
        await asyncio.wait_for(mailbox.receiving.wait(), timeout=10)
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        [held] = await store.list_outbox()
        assert held.status == "sending"
        # Another sender takes it at once, not when the ten-minute lease would have run out.
        [taken] = await store.claim_outbox(1, timedelta(minutes=10))
        assert taken.id == held.id and taken.claim_token != held.claim_token
        await asyncio.sleep(mailbox.delay)  # let the first thread's conversation end


async def test_staffs_message_goes_in_the_reporters_language_with_a_link_to_answer(
    make_harness: MakeHarness, smtp: tuple[Mailbox, int]
) -> None:
    from lapor.complaints import tracking
    from lapor.complaints.notices import ChangeNotice
    from lapor.web import i18n

    mailbox, port = smtp
    async with make_harness() as harness:
        harness.client.cookies.set(i18n.LANGUAGE_COOKIE, "en")
        answer = await harness.submit(identity="named", name="Ann", email="ann@example.org")
        private = answer.headers["location"].removesuffix("?sent=1")
        svc = harness.app.state.services
        [report_id] = {m.report_id for m in await svc.store.list_outbox()}
        words = "Which counter were you queueing at?"
        response = await harness.act("koor@prov.go.id", report_id, "reply", message=words)
        assert response.status_code == 303
        # A sender without the keys (another process, a tool) still sends it, with the
        # public page in place of the private link it cannot make.
        assert await sender_for(harness, f"smtp://127.0.0.1:{port}").send_due() == 2
        [mail] = [
            message_from_bytes(m.original_content or b"", policy=policy.default)
            for m in mailbox.messages
            if m.rcpt_tos == ["ann@example.org"]
        ]
        body = mail.get_body().get_content()  # type: ignore[union-attr]
        code = tracking.format_code(private.split("/")[2])
        assert str(mail["Subject"]) == f"A message about your report {code}"
        assert words in body and "keeps its status" in body
        assert f"https://lapor.example.go.id/t/{code}" in body.split() and private not in body
        [row] = [m for m in await svc.store.list_outbox() if isinstance(m.notice, ChangeNotice)]
        assert row.notice.language == "en"


# -- claims across machines: a dead sender's message moves, a slow live one's stays ------------
LEASE = timedelta(seconds=1)


def sender_on(store: Store, port: int, tmp_path: Path) -> MailSender:
    return MailSender(
        store,
        base_url="https://lapor.example.go.id",
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from="lapor@kalselprov.go.id",
        mail_dir=tmp_path / "mail",
        lease=LEASE,
    )


async def one_mail(store: Store) -> None:
    world = await World(store, Signing([TEST_KEY])).standard()
    await store.submit_report(new_report(world.units["dinas"].id, "one-mail"))


async def test_a_dead_senders_message_is_taken_over_within_the_lease(
    store: Store, smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    mailbox, port = smtp
    await one_mail(store)
    # A sender on another machine claimed it, then was killed: it never renews nor finishes.
    [dead] = await store.claim_outbox(1, LEASE)
    sender = sender_on(store, port, tmp_path)
    assert await sender.send_due() == 0  # its claim still runs
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await sender.send_due():
        assert loop.time() - started < 2 * LEASE.total_seconds()
        await asyncio.sleep(0.05)
    [envelope] = mailbox.messages
    [message] = await store.list_outbox()
    assert message.status == "sent" and message.attempts == 2
    # Back from the dead, the first sender's outcome is refused: the taker's stands.
    assert not await store.finish_outbox(dead, status="pending", error="lost")
    assert [m.status for m in await store.list_outbox()] == ["sent"]
    mail = message_from_bytes(envelope.original_content or b"", policy=policy.default)
    assert mail["Message-ID"] == message_id(message, "https://lapor.example.go.id")


async def test_a_live_sender_keeps_its_claim_through_a_send_longer_than_the_lease(
    store: Store, tmp_path: Path
) -> None:
    mailbox = SlowMailbox(delay=3 * LEASE.total_seconds())
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await one_mail(store)
        slow, other = sender_on(store, port, tmp_path), sender_on(store, port, tmp_path)
        sending = asyncio.create_task(slow.send_due())
        while [m.status for m in await store.list_outbox()] != ["sending"]:
            await asyncio.sleep(0.01)
        tries = 0
        while not sending.done():
            assert await other.send_due() == 0  # the message stays with the live sender
            tries += 1
            await asyncio.sleep(0.2)
        assert await sending == 1
    finally:
        controller.stop()
    assert tries >= 10  # asked all through the three leases the send took
    assert len(mailbox.messages) == 1
    [message] = await store.list_outbox()
    assert message.status == "sent" and message.attempts == 1


def test_the_message_id_is_the_rows_whichever_machine_sends_it() -> None:
    queued = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    row = OutboxMessage(
        41, "koor@prov.go.id", "s", "b", "sending", 1, None, queued, None, 7, "t" * 32, None
    )
    first = message_id(row, "https://lapor.kalselprov.go.id")
    assert first == f"<outbox-41-{int(queued.timestamp())}@lapor.kalselprov.go.id>"
    # Claimed again by another machine after a crash: another token and try, the same id.
    again = replace(row, claim_token="u" * 32, attempts=2)
    assert message_id(again, "https://lapor.kalselprov.go.id") == first
    # Another deployment's row 41 is another message.
    assert message_id(row, "https://lapor.kaltimprov.go.id") != first
