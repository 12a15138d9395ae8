"""WhatsApp Business (Cloud API) webhooks at `/channels/whatsapp`, the URL operators register
with Meta: GET answers Meta's verification, POST takes its events once their signature
(`X-Hub-Signature-256`, HMAC-SHA256 of the raw body with the app secret) is right. Messages
are stored by their id before Meta is answered, so its retries (for days) are one row; the
delivery statuses of our replies go onto their outbox rows.

The reports are made a moment later (jobs/whatsapp.py's runner calls `make_reports`): a
citizen who sends a text and then two photos gets one report with both, its photos fetched
through the Graph API and re-encoded like every photo, and its receipt through the outbox.

Why a handler of our own rather than `pywa`: what we need of WhatsApp is one signature check,
one payload's shape and three Graph calls, all here in plain sight; pywa brings its own web
framework integrations, HTTP client and callback model, while this channel must store before
it answers (pywa's handlers run on the request) and reuse our outbox, limits and photo
pipeline, which it would sit beside rather than under."""

from __future__ import annotations

import asyncio
import hmac
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from lapor.complaints.conversation import Command, address, command, named_codes
from lapor.complaints.notices import SmsNotice
from lapor.complaints.reports import TEXT_MAX, Channel, Identity, Kind, Submission, clean_text
from lapor.complaints.signatures import body_signature_ok
from lapor.complaints.sms import parse, squash
from lapor.complaints.whatsapp import (
    Inbound,
    NotAWebhook,
    idempotency_key,
    parse_text,
    read_event,
)
from lapor.intake import Entry
from lapor.jobs.whatsapp import MEDIA_TRIES, RETRY, GraphError, fetch_media
from lapor.settings import Settings
from lapor.store.errors import IdempotencyConflict
from lapor.store.photos import PhotoError, ProcessedPhoto
from lapor.store.whatsapp import Claimed
from lapor.web.json_body import parse_object
from lapor.web.services import Services, services

log = logging.getLogger(__name__)

# The body of the template to have approved (Indonesian, category Utility), with the two
# parameters jobs/whatsapp.py sends: the tracking code and the status link.
TEMPLATE_BODY = "Ada kabar tentang laporan Anda dengan kode lacak {{1}}. Baca selengkapnya di {{2}}"

# Meta's webhook bodies are a few kilobytes; it batches at most a handful of changes.
MAX_BODY = 256_000
# Messages that say nothing to answer: an emoji reaction (to our receipt, say), a message type
# Meta itself could not show us. A batch of them alone is let be, without the help reply.
SILENT = frozenset({"reaction", "unsupported", "system"})
# Help replies to one number: enough to teach, too few to play ping-pong with an auto-reply.
HELP_LIMIT = "3/hour"


def _answer(status: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status, headers={"cache-control": "no-store"})


async def _raw_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def webhook(request: Request) -> Response:
    svc = services(request)
    wa = svc.settings.whatsapp
    if not wa.enabled:
        return _answer(404, "not found")
    refused = svc.metrics.whatsapp_refused
    if request.method == "GET":
        # Meta's verification: hub.mode=subscribe, our verify token, and a challenge to echo.
        params = request.query_params
        token = params.get("hub.verify_token", "")
        if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            token.encode(), wa.verify_token.encode()
        ):
            refused.labels("verify_token").inc()
            return _answer(403, "forbidden")
        challenge = params.get("hub.challenge", "")
        if not challenge or len(challenge) > 256:
            refused.labels("verify_token").inc()
            return _answer(400, "no challenge")
        return _answer(200, challenge)
    raw = await _raw_body(request)
    if raw is None:
        refused.labels("too_large").inc()
        return _answer(413, "too large")
    signature = request.headers.get("x-hub-signature-256")
    if not signature:
        refused.labels("signature_missing").inc()
        return _answer(403, "forbidden")
    if not body_signature_ok(wa.app_secret, raw, signature):
        refused.labels("signature_wrong").inc()
        return _answer(403, "forbidden")
    payload = parse_object(raw)
    try:
        if payload is None:
            raise NotAWebhook("not a JSON object")
        event = read_event(payload, wa.phone_number_id)
    except NotAWebhook:
        refused.labels("not_a_webhook").inc()
        return _answer(400, "not a WhatsApp webhook")
    count = svc.metrics.whatsapp_inbound
    if event.unreadable:
        count.labels("unreadable").inc(event.unreadable)
    if event.statuses:
        await svc.store.record_whatsapp_statuses(event.statuses)
        for status in event.statuses:
            svc.metrics.whatsapp_deliveries.labels(status.status).inc()
    if event.messages:
        known = await svc.store.whatsapp_known([m.wamid for m in event.messages])
        keep: list[Inbound] = []
        for message in event.messages:
            if message.wamid in known or any(k.wamid == message.wamid for k in keep):
                count.labels("duplicate").inc()
            elif not await svc.limits.hit(wa.limit_per_number, "whatsapp", message.phone):
                # Acknowledged all the same: Meta would retry a refusal for days.
                svc.metrics.rate_limited.labels("whatsapp_per_number").inc()
                count.labels("rate_limited").inc()
            else:
                keep.append(message)
        if keep:
            # Stored before Meta hears 200: a crash after this is a retry we recognise.
            new = await svc.store.record_whatsapp(keep)
            count.labels("stored").inc(new)
            count.labels("duplicate").inc(len(keep) - new)
            svc.wake_whatsapp()
    return _answer(200, "ok")


async def _photos(svc: Services, claimed: Claimed) -> list[ProcessedPhoto] | None:
    """The batch's images, fetched and re-encoded (metadata stripped); None when the Graph
    API could not be reached and the batch should be tried again. A file that is no photo we
    take is left out, as the web form would refuse it."""
    wa = svc.settings.whatsapp
    photos: list[ProcessedPhoto] = []
    for message in claimed.messages:
        if message.media_id is None or len(photos) >= svc.settings.max_photos:
            continue
        try:
            data = await asyncio.to_thread(
                fetch_media, wa, message.media_id, svc.settings.max_photo_bytes
            )
            photos.append(await svc.photos.process(data))
        except PhotoError as exc:
            log.info("WhatsApp photo %s left out: %s", message.wamid, exc.code)
        except GraphError as exc:
            if exc.code is None and claimed.attempts < MEDIA_TRIES:
                await svc.store.release_whatsapp(claimed, error=str(exc), delay=RETRY)
                return None
            log.warning("WhatsApp photo %s left out: %s", message.wamid, exc)
    return photos


async def make_reports(svc: Services, claimed: Claimed) -> None:
    """One sender's gathered messages: a report with their text, photos and location, and its
    receipt; or the help reply when they hold no report (a greeting, a photo alone)."""
    settings = svc.settings
    count = svc.metrics.whatsapp_inbound
    units = await svc.store.list_units()
    words = {squash(u.sms_word): u.id for u in units if u.sms_word}
    texts = [m.text for m in claimed.messages if m.text]
    language = settings.default_language
    reply_to = address("whatsapp", claimed.phone)
    _, blocked = await svc.store.number_rules(reply_to)
    if blocked:
        # Stored (Meta must hear 200), but it makes nothing and nothing goes back.
        await svc.store.finish_whatsapp(claimed, status="ignored", error="blocked")
        count.labels("blocked").inc()
        return
    message = "\n".join(t for t in (clean_text(x) for x in texts) if t)
    asked = command(message)
    if asked is not None:
        # STOP/BERHENTI and MULAI, as by SMS: the rule holds at once, and the confirmation is
        # the one message a stopped number is still sent.
        await svc.store.set_stopped(reply_to, asked is Command.STOP)
        reply = "stopped" if asked is Command.STOP else "resumed"
        await svc.store.queue_to(reply_to, SmsNotice(reply, language))
        await svc.store.finish_whatsapp(claimed, status="help")
        svc.mail.wake()
        count.labels(asked.value).inc()
        return
    if message and parse(message, settings.sms.keywords) is None:
        # Not led by a keyword: the reporter's answer to their report (the one it names, or
        # the one waiting for them), when there is one; else a new report as ever.
        report_id = await svc.store.answered_report(reply_to, named_codes(message))
        if report_id is not None:
            # Photos sent with the answer are the reporter's too: they join the report,
            # durable on disk before the row that names them.
            photos = await _photos(svc, claimed)
            if photos is None:
                count.labels("media_retry").inc()
                return
            if photos:
                await svc.photos.commit([p.name for p in photos])
            stored, answered = await svc.store.reporter_message(
                report_id,
                channel="whatsapp",
                text=message[:TEXT_MAX],
                key=idempotency_key(claimed.messages[0].wamid),
                photos=[p.as_new_photo() for p in photos],
            )
            await svc.store.finish_whatsapp(claimed, status="report", report_id=report_id)
            if stored:
                svc.mail.wake()
            count.labels("answer" if answered else "message" if stored else "duplicate").inc()
            return
    parsed = parse_text(texts, settings.sms.keywords, words)
    if parsed is None:
        if all(m.kind in SILENT for m in claimed.messages) or not await svc.limits.hit(
            HELP_LIMIT, "whatsapp_help", claimed.phone
        ):
            await svc.store.finish_whatsapp(claimed, status="ignored")
            count.labels("ignored").inc()
            return
        # Once per batch: a greeting and a sticker are one help reply.
        await svc.store.queue_to(address("whatsapp", claimed.phone), SmsNotice("help", language))
        await svc.store.finish_whatsapp(claimed, status="help")
        svc.mail.wake()
        count.labels("help").inc()
        return
    roots = sorted(u.id for u in units if u.parent_id is None)
    if not roots:
        await svc.store.release_whatsapp(claimed, error="no unit to take reports", delay=RETRY)
        count.labels("no_unit").inc()
        return
    photos = await _photos(svc, claimed)
    if photos is None:
        count.labels("media_retry").inc()
        return
    unit_id = words[parsed.unit_word] if parsed.unit_word else roots[0]
    anonymous = parsed.anonymous
    names = [m.profile_name for m in claimed.messages if m.profile_name]
    locations = [m.location for m in claimed.messages if m.location]
    submission = Submission(
        Kind.COMPLAINT,
        parsed.text,
        locations[-1] if locations else None,
        Identity.ANONYMOUS if anonymous else Identity.NAMED,
        None if anonymous or not names else names[-1],
        None if anonymous else claimed.phone,
        None,
    )
    entry = Entry(
        Channel.WHATSAPP,
        unit_id,
        reply_address=address("whatsapp", claimed.phone),
        text_cut=parsed.cut,
    )
    key = idempotency_key(claimed.messages[0].wamid)
    try:
        result = await svc.intake.submit(
            submission, entry, key=key, language=language, photos=photos
        )
    except IdempotencyConflict:
        # Tried before with other messages in the batch (one arrived while the first try
        # was under way): that report stands.
        await svc.store.finish_whatsapp(claimed, status="report", error="stored before")
        count.labels("duplicate").inc()
        return
    await svc.store.finish_whatsapp(claimed, status="report", report_id=result.report_id)
    count.labels("report" if result.created else "duplicate").inc()


def setup_text(settings: Settings) -> str:
    """What `lapor whatsapp setup` prints: what to enter in Meta's app dashboard, from the
    settings the channel reads, and which of them are still missing."""
    wa = settings.whatsapp

    def shown(value: str, name: str) -> str:
        return "(set)" if value else f"(EMPTY: set {name})"

    return "\n".join(
        [
            "Meta app > WhatsApp > Configuration > Webhook:",
            f"  Callback URL:  {settings.base_url}/channels/whatsapp",
            f"  Verify token:  the value of LAPOR_WHATSAPP_VERIFY_TOKEN "
            f"{shown(wa.verify_token, 'LAPOR_WHATSAPP_VERIFY_TOKEN')}",
            "  Webhook fields: subscribe to `messages`",
            "",
            "Settings read:",
            f"  LAPOR_WHATSAPP_APP_SECRET = {shown(wa.app_secret, 'the app secret')}",
            f"  LAPOR_WHATSAPP_ACCESS_TOKEN = {shown(wa.access_token, 'a system user token')}",
            f"  LAPOR_WHATSAPP_PHONE_NUMBER_ID = {wa.phone_number_id or '(EMPTY)'}",
            f"  LAPOR_WHATSAPP_GRAPH_URL = {wa.graph_url}",
            "  LAPOR_WHATSAPP_TEMPLATE = "
            + (wa.template or "(EMPTY: outside the 24-hour window, SMS or nothing)"),
            "",
            "The template to have approved (category Utility, language Indonesian `id`):",
            f"  {TEMPLATE_BODY}",
            "  {{1}} the tracking code, e.g. R4YZ6-X81N2",
            f"  {{{{2}}}} the status link, e.g. {settings.base_url}/t/R4YZ6-X81N2",
            "",
            "WhatsApp is " + ("on." if wa.enabled else "OFF: /channels/whatsapp answers 404."),
            "",
        ]
    )
