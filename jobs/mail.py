"""Mail through the outbox: rows are written in the same transaction as the report or change
they tell of, with the notice's facts (store/outbox.py); a background sender claims them,
composes the words here, in the reader's language, and delivers them (SMTP, or `.eml` files
when no server is set)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from lapor.complaints import national, tracking
from lapor.complaints.conversation import channel_of, number_of
from lapor.complaints.national import PortalRefused
from lapor.complaints.notices import (
    AnyNotice,
    ChangeComposer,
    ChangeNotice,
    MailComposer,
    Notice,
    ReminderComposer,
    ReminderNotice,
    SmsNotice,
    excerpt,
)
from lapor.complaints.records import OutboxMessage
from lapor.complaints.reminders import Reminder
from lapor.complaints.reports import Channel, Status
from lapor.jobs.leases import renewing
from lapor.jobs.national import NationalSender
from lapor.jobs.sms import compose_change_sms, compose_sms, send_sms
from lapor.jobs.whatsapp import WhatsAppRefused, WhatsAppSender, compose_whatsapp
from lapor.settings import SmsSettings
from lapor.store.store import Store, now
from lapor.web import i18n, logs
from lapor.web.labels import channel_label, kind_label, status_label
from lapor.web.private_links import secret_for
from lapor.web.signing import Signing

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# One message per claim, for LAPOR_JOB_LEASE_SECONDS, renewed while it is being sent
# (jobs/leases.py): a slow SMTP conversation keeps its claim, a dead machine's runs out within
# the lease. Should a live sender still lose it (its loop stuck past the lease), the claim
# token keeps it from overwriting the new claimant's outcome, and the mail's Message-ID is the
# same on both copies.
BATCH = 1


class Unwritable(Exception):
    """An outbox row whose words cannot be made: no subject and body kept, and a notice that
    cannot be read or composed."""


class PermanentFailure(Exception):
    """The server refused for good (unknown mailbox, rejected sender): retrying cannot help."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            # The URL may hold a password: name the setting, never repeat its value.
            raise ValueError("LAPOR_SMTP_URL must look like smtp://host:port or smtps://...")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        )


# Staff read the workspace in Bahasa Indonesia: their mails are in it too, whatever language
# the request that caused them came in. The words still go through the catalog.
STAFF_LANGUAGE = "id"


def _staff_link(base_url: str, report_id: int) -> str:
    return i18n.gettext("Open the report: %(url)s", url=f"{base_url}/admin/reports/{report_id}")


def compose_new_report_mail(base_url: str) -> MailComposer:
    """Mail to the coordinators (or, unrouted, the admins) about a new report. The reporter's
    identity is never put in a mail."""

    def compose(notice: Notice) -> tuple[str, str]:
        code = tracking.format_code(notice.tracking_code)
        with i18n.using(STAFF_LANGUAGE):
            kind = kind_label(notice.kind)
            if notice.routed_unit_name is None:
                subject = i18n.gettext(
                    "[LAPOR] Report without a coordinator %(code)s – %(unit)s",
                    code=code,
                    unit=notice.unit_name,
                )
                opening = i18n.gettext(
                    "A new report came in for %(unit)s, but there is no coordinator in that "
                    "unit or above it. Appoint one.",
                    unit=notice.unit_name,
                )
            else:
                subject = i18n.gettext(
                    "[LAPOR] New %(kind)s %(code)s – %(unit)s",
                    kind=kind,
                    code=code,
                    unit=notice.unit_name,
                )
                opening = i18n.gettext(
                    "A new %(kind)s came in for %(unit)s and waits for your verification.",
                    kind=kind,
                    unit=notice.unit_name,
                )
            quoted = excerpt(notice.text)
            entry = channel_label(notice.channel) + (
                f" – {notice.poster_label}" if notice.poster_label else ""
            )
            facts = [
                i18n.gettext("Tracking code: %(code)s", code=code),
                i18n.gettext("Verify by: %(day)s", day=notice.verify_due.isoformat()),
            ]
            if notice.channel is Channel.WIDGET:
                # Which agency site it came through, as the store kept it: the coordinator
                # knows where the citizen was reading. Without a kept page, the widget alone.
                facts.append(
                    i18n.gettext(
                        "Entry point: %(entry)s",
                        entry=entry
                        + (f" #{notice.widget_id}" if notice.widget_id is not None else ""),
                    )
                )
                if notice.page_url:
                    facts.append(i18n.gettext("Sent from the page: %(url)s", url=notice.page_url))
            else:
                facts.append(i18n.gettext("Entry point: %(entry)s", entry=entry))
            body = "\n".join(
                [opening, "", *facts, "", quoted, "", _staff_link(base_url, notice.report_id), ""]
            )
        return subject, body

    return compose


def compose_reminder_mail(base_url: str) -> ReminderComposer:
    """Reminders to the staff who must act, and to the coordinator when it is late."""

    def compose(notice: ReminderNotice) -> tuple[str, str]:
        code = tracking.format_code(notice.tracking_code)
        day = notice.due_on.isoformat() if notice.due_on else "-"
        with i18n.using(STAFF_LANGUAGE):
            title = f": {notice.title}" if notice.title else ""
            step = (
                i18n.gettext("follow-up")
                if notice.status is Status.FORWARDED
                else i18n.gettext("verification")
            )
            if notice.reminder is Reminder.DUE_SOON:
                subject = (
                    i18n.gettext(
                        "[LAPOR] Deadline for %(step)s %(code)s %(day)s",
                        step=step,
                        code=code,
                        day=day,
                    )
                    + title
                )
                opening = i18n.gettext(
                    "The %(step)s deadline of report %(code)s is %(day)s. "
                    "Please finish it before then.",
                    step=step,
                    code=code,
                    day=day,
                )
            elif notice.reminder is Reminder.OVERDUE:
                subject = (
                    i18n.gettext("[LAPOR] Late: %(step)s %(code)s", step=step, code=code) + title
                )
                opening = i18n.gettext(
                    "The %(step)s deadline of report %(code)s (%(day)s) "
                    "has passed and the report is still waiting.",
                    step=step,
                    code=code,
                    day=day,
                )
            else:
                subject = (
                    i18n.gettext("[LAPOR] Past the escalation limit: %(code)s", code=code) + title
                )
                opening = i18n.gettext(
                    "Report %(code)s, received %(day)s, is still unresolved past the "
                    "escalation limit. The reporter may take it to the Ombudsman.",
                    code=code,
                    day=day,
                )
            body = "\n".join(
                [
                    opening,
                    "",
                    i18n.gettext("Status: %(status)s", status=status_label(notice.status)),
                    "",
                    _staff_link(base_url, notice.report_id),
                    "",
                ]
            )
        return subject, body

    return compose


def _compose_staff_change(base_url: str, notice: ChangeNotice, code: str) -> tuple[str, str] | None:
    """The change mails staff receive; None for the ones to the reporter."""
    with i18n.using(STAFF_LANGUAGE):
        title = f": {notice.title}" if notice.title else ""
        due = notice.due.isoformat() if notice.due else "-"
        link = _staff_link(base_url, notice.report_id)
        if notice.event == "reporter_reply":
            subject = i18n.gettext("[LAPOR] The reporter replied %(code)s", code=code) + title
            lines = [
                i18n.gettext(
                    "The reporter replied to report %(code)s; it is waiting for "
                    "you again (%(status)s).",
                    code=code,
                    status=status_label(notice.status),
                ),
                "",
                notice.text or "",
            ]
        elif notice.event == "reporter_message":
            subject = (
                i18n.gettext("[LAPOR] A message from the reporter %(code)s", code=code) + title
            )
            lines = [
                i18n.gettext(
                    "The reporter of %(code)s sent a message (%(status)s); it is on the "
                    "report's timeline.",
                    code=code,
                    status=status_label(notice.status),
                ),
                "",
                notice.text or "",
            ]
        elif notice.event == "handed_over":
            subject = i18n.gettext("[LAPOR] Report handed over %(code)s", code=code) + title
            lines = [
                i18n.gettext(
                    "Report %(code)s was handed over to %(unit)s as not the "
                    "sender's authority, and waits for your verification.",
                    code=code,
                    unit=notice.unit_name,
                ),
                i18n.gettext("Verify by: %(day)s", day=due),
                "",
                i18n.gettext("Reason: %(reason)s", reason=notice.text or "-"),
            ]
        elif notice.event == "reroute":
            subject = i18n.gettext("[LAPOR] To be re-routed %(code)s", code=code) + title
            lines = [
                i18n.gettext(
                    "The unit returned report %(code)s as not its authority. "
                    "Verify it and forward it to the right unit.",
                    code=code,
                ),
                "",
                i18n.gettext("Reason: %(reason)s", reason=notice.text or "-"),
            ]
        elif notice.status is Status.FORWARDED:
            subject = i18n.gettext("[LAPOR] Disposition %(code)s", code=code) + title
            lines = [
                i18n.gettext(
                    "Report %(code)s was forwarded to %(unit)s for follow-up.",
                    code=code,
                    unit=notice.unit_name,
                ),
                i18n.gettext("Follow up by: %(day)s", day=due),
            ]
            if notice.text:
                lines += ["", i18n.gettext("Coordinator's note: %(note)s", note=notice.text)]
        else:
            return None
        return subject, "\n".join([*lines, "", link, ""])


# Where a mail's private link goes: the sender puts the reporter's link in at the moment it
# sends (MailSender._with_private_link), so the outbox row, which staff's pages and backups
# read, never holds the secret that lets its holder act as the reporter.
PRIVATE_LINK = "[[private-link]]"


def _compose_staff_message(notice: ChangeNotice, code: str) -> tuple[str, str]:
    """Staff's message to a reporter who left an e-mail address: their words, that nothing
    about the report changed, and the private link to answer on."""
    with i18n.using(notice.language):
        subject = i18n.gettext("A message about your report %(code)s", code=code)
        body = "\n\n".join(
            [
                i18n.gettext("The people handling your report %(code)s write:", code=code),
                notice.text or "",
                i18n.gettext(
                    "Your report keeps its status (%(status)s). To answer, open your private "
                    "page; do not share its address: %(url)s",
                    status=status_label(notice.status),
                    url=PRIVATE_LINK,
                ),
                i18n.gettext("Replies to this e-mail are not read."),
            ]
        )
    return subject, body + "\n"


def compose_change_mail(base_url: str) -> ChangeComposer:
    """Mail about a workflow change. Officers read Bahasa Indonesia; the reporter gets the
    language they wrote the report in. The reporter's identity is never put in a mail."""

    def compose(notice: ChangeNotice) -> tuple[str, str]:
        code = tracking.format_code(notice.tracking_code)
        staff = _compose_staff_change(base_url, notice, code)
        if staff is not None:
            return staff
        if notice.event == "staff_message":
            return _compose_staff_message(notice, code)
        with i18n.using(notice.language):
            subject, opening = {
                Status.FOLLOWED_UP: (
                    i18n.gettext("Your report %(code)s has been answered", code=code),
                    i18n.gettext("The unit has answered your report %(code)s:", code=code),
                ),
                Status.POSTPONED: (
                    i18n.gettext("Your report %(code)s needs more information", code=code),
                    i18n.gettext("To handle your report %(code)s the coordinator asks:", code=code),
                ),
            }.get(
                notice.status,
                (
                    i18n.gettext(
                        "Your report %(code)s: %(status)s",
                        code=code,
                        status=status_label(notice.status),
                    ),
                    i18n.gettext("The coordinator decided on your report %(code)s:", code=code),
                ),
            )
            body = (
                "\n\n".join(
                    [
                        opening,
                        notice.text or "",
                        i18n.gettext("Read the whole history: %(url)s", url=f"{base_url}/t/{code}"),
                    ]
                )
                + "\n"
            )
        return subject, body

    return compose


def compose_notice(
    base_url: str, sms_keyword: str = "LAPOR"
) -> Callable[[AnyNotice, str | None], tuple[str, str]]:
    """Subject and body of any notice the outbox carries, for the channel it goes by (None: a
    mail). One notice, two renderings: a change the reporter must know is a mail's words to a
    mailbox and a text message's (jobs/sms.py) to a number."""
    new_report = compose_new_report_mail(base_url)
    change = compose_change_mail(base_url)
    change_text = compose_change_sms(base_url)
    reminder = compose_reminder_mail(base_url)
    sms = compose_sms(base_url, sms_keyword)

    def compose(notice: AnyNotice, channel: str | None = None) -> tuple[str, str]:
        if isinstance(notice, Notice):
            return new_report(notice)
        if isinstance(notice, ChangeNotice):
            return change(notice) if channel is None else change_text(notice)
        if isinstance(notice, SmsNotice):
            return sms(notice)
        return reminder(notice)

    return compose


def message_id(message: OutboxMessage, base_url: str) -> str:
    """The same for every copy of an outbox row's mail, whichever machine sends it and however
    often: a mail server that accepted it before the sender crashed sees the resend as the
    same message (and a reader's mail program shows it once). The row's id and when it was
    queued name the mail within the deployment (a database started anew reuses ids, not
    their moments); the host of LAPOR_BASE_URL names the deployment, where the sender's
    domain may be shared by many (one agency's mail server for several services)."""
    host = urlsplit(base_url).hostname or "localhost"
    stamp = int(message.created_at.timestamp())
    return f"<outbox-{message.id}-{stamp}@{host}>"


# Replies that go out to a number that sent STOP: the confirmation of STOP (and of MULAI).
CONFIRMATIONS = frozenset({"stopped", "resumed"})


class Suppressed(Exception):
    """The number sent STOP or is blocked: the message is not sent, and never will be."""


class MailSender:
    def __init__(
        self,
        store: Store,
        *,
        base_url: str,
        smtp_url: str,
        mail_from: str,
        mail_dir: Path,
        on_outcome: Callable[[str], None] | None = None,
        sms: SmsSettings | None = None,
        whatsapp: WhatsAppSender | None = None,
        on_channel_outcome: Callable[[str, str], None] | None = None,
        national: NationalSender | None = None,
        signing: Signing | None = None,
        lease: timedelta = timedelta(seconds=30),
    ) -> None:
        self.store = store
        # The keys that make a reporter's private link, for the mails that carry it.
        self.signing = signing
        self.lease = lease
        self.sms = sms or SmsSettings()
        self._compose = compose_notice(base_url, self.sms.keywords[0])
        self._compose_whatsapp = compose_whatsapp(base_url, self.sms.keywords[0])
        self.whatsapp = whatsapp
        # Reports to the national portal SP4N-LAPOR! ("national:" rows); None: it is not set up.
        self.national = national
        self.base_url = base_url
        # How a message goes out on each channel: (address without its prefix, words, outbox
        # id). WhatsApp adds its own; a channel without one waits in the outbox.
        self.channel_senders: dict[str, Callable[[str, str, int], None]] = {"sms": self._send_sms}
        self.target = SmtpTarget.parse(smtp_url) if smtp_url else None
        self.mail_from = mail_from
        self.mail_dir = mail_dir
        self._wake = asyncio.Event()
        self._on_outcome = on_outcome
        self._on_channel_outcome = on_channel_outcome
        self._stopping = False
        self._started = time.monotonic()  # of the delivery in hand, for its log line

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the message in hand and claim no more: `run` returns (a graceful stop)."""
        self._stopping = True
        self._wake.set()

    def written(self, message: OutboxMessage) -> OutboxMessage:
        """The message with its subject and body: as kept on the row once it was tried (or
        when it was queued before notices were kept), else composed now from its notice. One
        that cannot be composed comes back without words (the outbox page lists it all the
        same; the sender fails it with the reason)."""
        try:
            return self._words(message)
        except Unwritable:
            return message

    def _words(self, message: OutboxMessage) -> OutboxMessage:
        if message.subject is not None and message.body is not None:
            return message
        if message.notice is None:
            raise Unwritable("its notice cannot be read")
        channel = channel_of(message.to_address)
        try:
            if channel == "whatsapp":
                subject, body = self._compose_whatsapp(message.notice)
            else:
                subject, body = self._compose(message.notice, channel)
        except Exception as exc:  # a notice this release cannot put into words
            raise Unwritable(f"its notice cannot be composed: {type(exc).__name__}: {exc}") from exc
        return replace(message, subject=subject, body=body)

    async def run(self, interval: float = 5.0) -> None:
        while not self._stopping:
            try:
                while await self.send_due():
                    pass
            except Exception:
                log.exception("mail sender round failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)

    async def send_due(self, limit: int = 20) -> int:
        """Send up to `limit` due messages, claiming them one at a time."""
        sent = 0
        while sent < limit and not self._stopping:
            messages = await self.store.claim_outbox(BATCH, self.lease)
            if not messages:
                break
            for message in messages:
                self._started = time.monotonic()
                try:
                    async with renewing(
                        partial(self.store.renew_outbox, message, self.lease),
                        self.lease,
                        f"outbox message {message.id}",
                    ):
                        await self._deliver(message)
                except asyncio.CancelledError:
                    # Stopped mid-delivery: hand the claim back so another sender takes the
                    # message at once instead of after the lease (which still ends it, should
                    # the database be gone already).
                    with contextlib.suppress(Exception):
                        await asyncio.shield(self.store.release_outbox(message))
                    raise
            sent += len(messages)
        return sent

    async def _deliver(self, message: OutboxMessage) -> None:
        # Composed once, at the first try, and kept by finish_outbox: every retry sends the
        # same words, and the outbox page shows what went out. A message that cannot be
        # composed fails alone and for good: retrying cannot give it words, and it must not
        # stop the messages behind it.
        try:
            message = self._words(message)
        except Unwritable as exc:
            log.error("outbox message %s failed: %s", message.id, exc)
            await self.store.finish_outbox(message, status="failed", error=str(exc)[:500])
            self._count("failed", message)
            return
        provider_id = None
        try:
            channel = channel_of(message.to_address)
            if national.is_national(message.to_address):
                # A report to the national portal: the same claim, retries and record; the
                # national tracking ID is the provider's id of it.
                if self.national is None:
                    raise PermanentFailure("the national portal is not set up (LAPOR_NATIONAL_URL)")
                provider_id = await self.national.deliver(message)
            elif channel is not None:
                # A text message: the same claim, retries and record, another way out.
                await self._check_number(message)
                number = number_of(message.to_address)
                if channel == "whatsapp":
                    if self.whatsapp is None:
                        raise PermanentFailure("WhatsApp is not set up")
                    sent = await self.whatsapp.deliver(number, message.body or "", message.notice)
                    # The outbox page says how it went out (text, template, SMS); the wamid
                    # is what Meta's delivery statuses name.
                    message = replace(message, subject=sent.subject)
                    provider_id = sent.provider_id
                else:
                    send = self.channel_senders.get(channel)
                    if send is None:
                        raise RuntimeError(f"no sender for the {channel} channel")
                    await asyncio.to_thread(send, number, message.body or "", message.id)
            else:
                mail = self._build(await self._with_private_link(message))
                await asyncio.to_thread(self._send, mail)
        except Suppressed as exc:
            await self.store.finish_outbox(message, status="failed", error=str(exc))
            self._count("suppressed", message)
        except (PermanentFailure, WhatsAppRefused, PortalRefused) as exc:
            await self.store.finish_outbox(message, status="failed", error=str(exc)[:500])
            self._count("failed", message)
        except Exception as exc:  # network down, 4xx, wrong SMTP password: try again later
            error = f"{type(exc).__name__}: {exc}"[:500]
            if message.attempts >= MAX_ATTEMPTS:
                await self.store.finish_outbox(
                    message,
                    status="failed",
                    error=f"gave up after {message.attempts} tries: " + error,
                )
                self._count("failed", message)
            else:
                delay = min(30 * 2 ** (message.attempts - 1), 3600)
                await self.store.finish_outbox(
                    message,
                    status="pending",
                    error=error,
                    retry_at=now() + timedelta(seconds=delay),
                )
                self._count("retry", message)
        else:
            await self.store.finish_outbox(message, status="sent", provider_id=provider_id)
            self._count("sent", message)

    async def _with_private_link(self, message: OutboxMessage) -> OutboxMessage:
        """The mail as it goes out: the reporter's private link in its place; the public
        page when this sender has no keys or the report is gone."""
        body = message.body or ""
        if PRIVATE_LINK not in body or not isinstance(message.notice, ChangeNotice):
            return message
        code = message.notice.tracking_code
        report = await self.store.report_by_tracking_code(code)
        url = f"{self.base_url}/t/{tracking.format_code(code)}"
        if report is not None and self.signing is not None:
            secret = await secret_for(
                self.signing,
                self.store,
                report.id,
                report.idempotency_key,
                report.reporter_secret_hash,
            )
            url += f"/{secret}"
        return replace(message, body=body.replace(PRIVATE_LINK, url))

    async def _check_number(self, message: OutboxMessage) -> None:
        stopped, blocked = await self.store.number_rules(message.to_address)
        if blocked:
            raise Suppressed("not sent: the number is blocked")
        confirmation = isinstance(message.notice, SmsNotice) and (
            message.notice.reply in CONFIRMATIONS
        )
        if stopped and not confirmation:
            raise Suppressed("not sent: the number sent STOP")

    def _send_sms(self, number: str, text: str, outbox_id: int) -> None:
        dlr = ""
        if self.sms.secret:
            # Kannel fills in %d, the delivery report's type (channels/sms.py delivery).
            secret = quote(self.sms.secret, safe="")
            dlr = (
                f"{self.base_url}/channels/sms/delivery?secret={secret}&outbox={outbox_id}&type=%d"
            )
        send_sms(self.sms, number, text, dlr)

    def _count(self, outcome: str, message: OutboxMessage) -> None:
        # Its ids and how it went, never its address or words (web/logs.py).
        channel = channel_of(message.to_address)
        logs.job_run(
            "outbox",
            self._started,
            outbox_id=message.id,
            report_id=message.report_id,
            way="national" if national.is_national(message.to_address) else channel or "mail",
            attempt=message.attempts,
            outcome=outcome,
        )
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        if channel is not None and self._on_channel_outcome is not None:
            self._on_channel_outcome(channel, outcome)

    def _build(self, message: OutboxMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.mail_from
        try:
            # One mailbox, built as an address object: a stored value that would read as two
            # recipients (from before addresses were checked) is refused, not sent to both.
            mail["To"] = Address(addr_spec=message.to_address)
        except (ValueError, IndexError) as exc:
            raise PermanentFailure(f"not one address: {message.to_address!r}") from exc
        mail["Subject"] = message.subject or ""
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message, self.base_url)
        mail.set_content(message.body or "")
        return mail

    def _send(self, mail: EmailMessage) -> None:
        if self.target is None:
            self._write_eml(mail)
            return
        target = self.target
        try:
            if target.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    target.host, target.port, timeout=30, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(target.host, target.port, timeout=30)
            with client:
                if target.starttls:
                    client.starttls(context=ssl.create_default_context())
                if target.username:
                    client.login(target.username, target.password or "")
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
            raise
        except smtplib.SMTPAuthenticationError:
            # Our credentials, not the message: once the operator fixes them, every message goes.
            raise
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise

    def _write_eml(self, mail: EmailMessage) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        msgid = str(mail["Message-ID"]).strip("<>").replace("@", "_").replace("/", "_")
        path = self.mail_dir / f"{msgid}.eml"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(bytes(mail))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
