"""Text messages from an SMS gateway (Kannel's sms-service, playSMS's sms_custom, a provider's
webhook): the gateway is checked, the message read into a report for the submission core,
and the gateway answered at once with nothing for the citizen. The receipt, like the help
reply, is an outbox row (jobs/sms.py sends it), so it is retried and recorded, and a gateway
that calls twice for one message makes one report and one receipt."""

from __future__ import annotations

import hmac
import time
from ipaddress import ip_address
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from lapor.complaints.conversation import Command, address, command, named_codes
from lapor.complaints.notices import SmsNotice
from lapor.complaints.reports import (
    TEXT_MAX,
    Channel,
    Identity,
    Kind,
    Submission,
    clean_text,
    normalize_phone,
)
from lapor.complaints.sms import idempotency_key, parse, squash
from lapor.intake import Entry
from lapor.store.errors import IdempotencyConflict
from lapor.web.services import Services, client_address, services

# Retries of a message without the gateway's id or time are one report within this window.
DEDUP_WINDOW_SECONDS = 600
# A help reply goes once per message: the gateway's retry of a message without a keyword is
# not answered again. Counted in the rate limits' storage (Redis when set), not the database:
# no report rests on it.
HELP_ONCE = "1/day"


class _Count:
    """An inbound message's outcome, counted for SMS and for every channel alike."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.outcome = ""

    def labels(self, outcome: str) -> _Count:
        self.outcome = outcome
        return self

    def inc(self) -> None:
        self.svc.metrics.sms_inbound.labels(self.outcome).inc()
        self.svc.metrics.channel_messages.labels("sms", "in", self.outcome).inc()


def _answer(status: int, text: str) -> Response:
    # Short and plain: a gateway logs it, nobody reads it on a phone (max-messages = 0).
    return PlainTextResponse(text, status_code=status, headers={"cache-control": "no-store"})


def _gateway_allowed(svc: Services, request: Request, secret: str) -> bool:
    sms = svc.settings.sms
    if not hmac.compare_digest(secret.encode(), sms.secret.encode()):
        return False
    if not sms.allow:
        return True
    try:
        address = ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in sms.allow)


def _ucs2_text(request: Request) -> str | None:
    """The text of a UCS-2 message as Kannel passes it (coding=2): URL-encoded UTF-16BE
    bytes, which read as UTF-8 would be noise. None when the query has no such text."""
    query: bytes = request.scope.get("query_string", b"")
    raw = query.decode("latin-1")
    for name, value in parse_qsl(raw, keep_blank_values=True, encoding="latin-1"):
        if name == "text":
            text: str = value.encode("latin-1").decode("utf-16-be", errors="replace")
            return text
    return None


async def inbound(request: Request) -> Response:
    """GET (Kannel's get-url) or POST (a form body: post-url, playSMS, webhooks) with
    `secret`, `from`, `to`, `text` and optionally `time`, `smsc` and `id`."""
    svc = services(request)
    sms = svc.settings.sms
    if not sms.enabled:
        return _answer(404, "not found")
    params = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    count = _Count(svc)
    secret = params.get("secret") or request.headers.get("x-lapor-secret", "")
    if not _gateway_allowed(svc, request, secret):
        count.labels("refused").inc()
        return _answer(403, "forbidden")
    sender = normalize_phone(params.get("from", ""))
    if sender is None:
        count.labels("invalid").inc()
        return _answer(400, "no sender number")
    reply_to = address("sms", sender)
    _, blocked = await svc.store.number_rules(reply_to)
    if blocked:
        # 200: the gateway has nothing to retry. Nothing is stored, nothing goes back.
        count.labels("blocked").inc()
        return _answer(200, "blocked")
    text = params.get("text", "")
    if params.get("coding") == "2" and request.method == "GET":
        text = _ucs2_text(request) or text
    key = idempotency_key(
        sender=sender,
        text=text,
        message_id=params.get("id", ""),
        smsc=params.get("smsc", ""),
        gateway_time=params.get("time", ""),
        received_epoch=time.time(),
        window_seconds=DEDUP_WINDOW_SECONDS,
    )
    # Tested here, counted once a message made a report or a help reply; a gateway's retry
    # of a stored message is answered as such, never refused for the number's limit.
    if not await svc.limits.allows(sms.limit_per_number, "sms", sender) and not (
        await svc.store.submitted(key)
    ):
        svc.metrics.rate_limited.labels("sms_per_number").inc()
        count.labels("rate_limited").inc()
        return _answer(429, "too many messages from this number")
    language = svc.settings.default_language
    asked = command(text)
    if asked is not None:
        # STOP/BERHENTI and MULAI: the rule holds at once, the confirmation goes once per
        # message (the only thing a stopped number is still sent).
        await svc.store.set_stopped(reply_to, asked is Command.STOP)
        if await svc.limits.hit(HELP_ONCE, "sms_help", key):
            reply = "stopped" if asked is Command.STOP else "resumed"
            await svc.store.queue_to(reply_to, SmsNotice(reply, language))
            svc.mail.wake()
            await svc.limits.hit(sms.limit_per_number, "sms", sender)
        count.labels(asked.value).inc()
        return _answer(200, asked.value)
    units = await svc.store.list_units()
    words = {squash(u.sms_word): u.id for u in units if u.sms_word}
    parsed = parse(text, sms.keywords, words)
    if parsed is None and clean_text(text):
        # No keyword: the reporter's answer to their report (the one the message names, or
        # the one waiting for them), when there is one. A retry of an answer stored before
        # finds the report no longer waiting, and is answered as the retry it is.
        if await svc.store.message_seen(key):
            count.labels("duplicate").inc()
            return _answer(200, "duplicate")
        report_id = await svc.store.answered_report(reply_to, named_codes(text))
        if report_id is not None:
            stored, answered = await svc.store.reporter_message(
                report_id, channel="sms", text=clean_text(text)[:TEXT_MAX], key=key
            )
            if stored:
                svc.mail.wake()
                await svc.limits.hit(sms.limit_per_number, "sms", sender)
            outcome = "answer" if answered else "message" if stored else "duplicate"
            count.labels(outcome).inc()
            return _answer(200, outcome)
    if parsed is None:
        if not await svc.limits.hit(HELP_ONCE, "sms_help", key):
            count.labels("duplicate").inc()
            return _answer(200, "help sent")
        # Stored before we answer, like a report: the help reply is not lost either.
        await svc.store.queue_to(
            address("sms", sender), SmsNotice("help", language, keyword=sms.keywords[0])
        )
        svc.mail.wake()
        await svc.limits.hit(sms.limit_per_number, "sms", sender)
        count.labels("help").inc()
        return _answer(200, "help sent")
    roots = sorted(u.id for u in units if u.parent_id is None)
    if not roots:
        count.labels("no_unit").inc()
        return _answer(503, "no unit to take reports")
    unit_id = words[parsed.unit_word] if parsed.unit_word else roots[0]
    identity = Identity.ANONYMOUS if parsed.anonymous else Identity.NAMED
    submission = Submission(
        Kind.COMPLAINT,
        parsed.text,
        None,
        identity,
        None,
        None if parsed.anonymous else sender,
        None,
    )
    entry = Entry(Channel.SMS, unit_id, reply_address=address("sms", sender), text_cut=parsed.cut)
    try:
        result = await svc.intake.submit(submission, entry, key=key, language=language)
    except IdempotencyConflict:
        # The gateway's id named another message before: that one was stored, and this
        # delivery is answered as its retry rather than refused into a resend loop.
        count.labels("duplicate").inc()
        return _answer(200, "duplicate")
    if result.created:
        await svc.limits.hit(sms.limit_per_number, "sms", sender)
    count.labels("stored" if result.created else "duplicate").inc()
    return _answer(200, "stored" if result.created else "duplicate")


# Kannel's delivery report types (dlr-mask in jobs/sms.py): 1 reached the phone, 2 did not,
# 16 the SMSC refused it. 4 and 8 (queued, accepted by the SMSC) say nothing new.
_DELIVERED = {"1": True, "2": False, "16": False}


async def delivery(request: Request) -> Response:
    """Kannel's dlr-url, which the outbox gave with each message: `secret`, `outbox` (the
    outbox row) and `type`. Updates the message on the report's conversation."""
    svc = services(request)
    if not svc.settings.sms.enabled:
        return _answer(404, "not found")
    params = request.query_params
    secret = params.get("secret") or request.headers.get("x-lapor-secret", "")
    if not _gateway_allowed(svc, request, secret):
        svc.metrics.channel_messages.labels("sms", "out", "refused").inc()
        return _answer(403, "forbidden")
    raw = params.get("outbox", "")
    kind = params.get("type", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 18):
        return _answer(400, "no outbox message")
    if kind not in _DELIVERED:
        return _answer(200, "noted")
    delivered = _DELIVERED[kind]
    if not await svc.store.delivery_report(int(raw), delivered=delivered):
        return _answer(200, "unknown message")
    outcome = "delivered" if delivered else "undelivered"
    svc.metrics.channel_messages.labels("sms", "out", outcome).inc()
    return _answer(200, outcome)
