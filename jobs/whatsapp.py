"""WhatsApp through the Graph API: the words of a reply for WhatsApp, its delivery by the
outbox sender (free text inside the 24-hour customer-service window, the approved template
or an SMS outside it), fetching a photo a citizen sent, and the runner that hands each
sender's gathered messages to the channel once the sender has been quiet for a moment.

The Cloud API's shapes, as Meta documents them: `POST {graph}/{phone-number-id}/messages`
with `{"messaging_product": "whatsapp", "to": ..., "type": "text", "text": {"body": ...}}`
(or `"type": "template"`) answers `{"messaging_product": "whatsapp", "contacts": [...],
"messages": [{"id": "wamid..."}]}`; `GET {graph}/{media-id}` answers `{"url": ...,
"mime_type": ..., "file_size": ...}`, and the URL is fetched with the same bearer token;
errors are `{"error": {"message", "type", "code", "fbtrace_id"}}`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from lapor.complaints import tracking
from lapor.complaints.notices import AnyNotice, ChangeNotice, SmsNotice
from lapor.complaints.reports import TEXT_MAX, Status
from lapor.complaints.sms import ANONYMOUS_WORD
from lapor.complaints.whatsapp import in_service_window
from lapor.jobs.leases import renewing
from lapor.jobs.sms import compose_change_sms, compose_sms, send_sms
from lapor.settings import SmsSettings, WhatsAppSettings
from lapor.store.store import Store, now
from lapor.store.whatsapp import Claimed
from lapor.web import i18n
from lapor.web.labels import status_label

log = logging.getLogger(__name__)

TIMEOUT = 15
# What the outbox page shows as a WhatsApp row's subject: how it went out.
SUBJECT = "WhatsApp"
# The language of the approved template (docs/whatsapp.md): one template, in Indonesian.
TEMPLATE_LANGUAGE = "id"
# Graph error codes: 131047, more than 24 hours since the customer last wrote (send the
# template); 131026, the number cannot receive it (not on WhatsApp, old app); 100, a
# parameter we sent is invalid. Others (rate limits, an expired token, Meta's outages) are
# worth another try once the operator or Meta fixed them.
OUTSIDE_WINDOW = 131047
UNDELIVERABLE = frozenset({131026, 100})
# How long a claimed batch whose photos could not be fetched waits, and how often before it
# becomes a report without them. (A batch being made into a report is claimed for
# LAPOR_JOB_LEASE_SECONDS, renewed meanwhile: jobs/leases.py.)
RETRY = timedelta(minutes=1)
MEDIA_TRIES = 5
# Inbound messages are kept this long once handled (docs/whatsapp.md): Meta retries a
# delivery for up to seven days, and a retry must still be recognised.
KEEP = timedelta(days=30)
SWEEP_SECONDS = 3600


def compose_whatsapp(base_url: str, keyword: str) -> Callable[[AnyNotice], tuple[str, str]]:
    """The words of a notice on WhatsApp, in the report's language. No segments to count: a
    whole sentence and the link. A change the reporter must know (a question, the answer, a
    closing, staff's own words) says how to answer on WhatsApp; a notice that has no WhatsApp
    words of its own gets its SMS words."""
    sms = compose_sms(base_url, keyword)

    def compose(notice: AnyNotice) -> tuple[str, str]:
        if isinstance(notice, ChangeNotice):
            return SUBJECT, _change_words(base_url, notice)
        if not isinstance(notice, SmsNotice):
            raise TypeError(f"no WhatsApp words for {type(notice).__name__}")
        with i18n.using(notice.language):
            if notice.reply == "receipt" and notice.tracking_code:
                code = tracking.format_code(notice.tracking_code)
                lines = [
                    i18n.gettext(
                        "Your report was received. Tracking code: %(code)s. Follow it here: "
                        "%(url)s",
                        code=code,
                        url=f"{base_url}/t/{code}",
                    )
                ]
                if notice.cut:
                    lines.append(
                        i18n.gettext("Your text was cut at %(limit)s characters.", limit=TEXT_MAX)
                    )
                return SUBJECT, "\n\n".join(lines)
            if notice.reply == "help":
                return SUBJECT, i18n.gettext(
                    "To report, write what happened, where and when in one message (at least "
                    "15 characters); photos and a location may follow right after it. Start "
                    "with %(anonymous)s to stay anonymous.",
                    anonymous=ANONYMOUS_WORD,
                )
        _, body = sms(notice)
        return SUBJECT, body

    return compose


def _change_words(base_url: str, notice: ChangeNotice) -> str:
    code = tracking.format_code(notice.tracking_code)
    url = f"{base_url}/t/{code}"
    text = (notice.text or "").strip()
    with i18n.using(notice.language):
        if notice.event == "staff_message":
            return f"{code}: {text}\n\n" + i18n.gettext("Reply to this message to answer.")
        if notice.status is Status.POSTPONED:
            head = i18n.gettext("Report %(code)s needs more from you:", code=code)
            ask = i18n.gettext("Reply to this message with your answer, or open %(url)s", url=url)
            return f"{head}\n\n{text}\n\n{ask}"
        if notice.status is Status.FOLLOWED_UP:
            head = i18n.gettext("Report %(code)s was answered:", code=code)
            return f"{head}\n\n{text}\n\n" + i18n.gettext("Accept or reply: %(url)s", url=url)
        if notice.status in (Status.NOT_AUTHORITY, Status.ARCHIVED, Status.CLOSED):
            head = i18n.gettext("Report %(code)s was closed:", code=code)
            return f"{head}\n\n{text}\n\n{url}"
        return i18n.gettext(
            "Report %(code)s: %(status)s. %(url)s",
            code=code,
            status=status_label(notice.status),
            url=url,
        )


class GraphError(Exception):
    """The Graph API refused, or could not be reached (`code` None)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code in UNDELIVERABLE


def _request(
    wa: WhatsAppSettings, url: str, payload: dict[str, Any] | None = None, limit: int = 1_000_000
) -> bytes:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("authorization", f"Bearer {wa.access_token}")
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raw = exc.read(4000)
        exc.close()
        raise _graph_error(exc.code, raw) from None
    except OSError as exc:
        raise GraphError(f"Graph API unreachable: {type(exc).__name__}: {exc}") from None
    if len(body) > limit:
        raise GraphError(f"answer larger than {limit} bytes", code=100)
    return body


def _graph_error(status: int, raw: bytes) -> GraphError:
    """Graph's `{"error": {"message", "type", "code", "fbtrace_id"}}`, never the token."""
    try:
        error = json.loads(raw)["error"]
        code = int(error["code"])
        message = str(error.get("message", ""))[:300]
        trace = str(error.get("fbtrace_id", ""))[:40]
    except (ValueError, KeyError, TypeError):
        return GraphError(f"Graph API answered {status}")
    return GraphError(f"Graph API answered {status}: {code} {message} (fbtrace_id {trace})", code)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        found = json.loads(raw)
    except ValueError:
        raise GraphError("Graph API answered something that is not JSON") from None
    if not isinstance(found, dict):
        raise GraphError("Graph API answered something that is not an object")
    return found


def _to(number: str) -> str:
    # The Cloud API takes the number with its country code and without the plus.
    return number.removeprefix("+")


def post_message(wa: WhatsAppSettings, payload: dict[str, Any]) -> str:
    """Send one message (blocking; run it in a thread); the wamid Meta gave it."""
    if not (wa.access_token and wa.phone_number_id):
        raise GraphError("LAPOR_WHATSAPP_ACCESS_TOKEN or LAPOR_WHATSAPP_PHONE_NUMBER_ID is not set")
    url = f"{wa.graph_url}/{wa.phone_number_id}/messages"
    answer = _json(_request(wa, url, {"messaging_product": "whatsapp", **payload}))
    messages = answer.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise GraphError("Graph API answered without a message id")
    wamid = messages[0].get("id")
    if not isinstance(wamid, str) or not wamid:
        raise GraphError("Graph API answered without a message id")
    return wamid


def text_payload(to: str, body: str) -> dict[str, Any]:
    return {
        "recipient_type": "individual",
        "to": _to(to),
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }


def template_payload(to: str, template: str, parameters: list[str]) -> dict[str, Any]:
    return {
        "recipient_type": "individual",
        "to": _to(to),
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": TEMPLATE_LANGUAGE},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
            ],
        },
    }


def fetch_media(wa: WhatsAppSettings, media_id: str, max_bytes: int) -> bytes:
    """A file a citizen sent (blocking): its URL from the media endpoint, then the file from
    that URL, both with the access token. Refused when larger than `max_bytes`."""
    if not wa.access_token:
        raise GraphError("LAPOR_WHATSAPP_ACCESS_TOKEN is not set")
    info = _json(_request(wa, f"{wa.graph_url}/{media_id}"))
    url = info.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise GraphError("the media endpoint gave no URL")
    size = info.get("file_size")
    if isinstance(size, int) and size > max_bytes:
        raise GraphError(f"the photo has {size} bytes, more than {max_bytes}", code=100)
    return _request(wa, url, limit=max_bytes)


class WhatsAppRefused(Exception):
    """Cannot be delivered, and trying again will not help: the outbox fails it for good."""


@dataclass(frozen=True)
class Sent:
    provider_id: str | None  # the wamid; None when it went out by SMS
    subject: str  # how it went out, for the outbox page


@dataclass(frozen=True)
class WhatsAppSender:
    """The outbox's way out for rows addressed `whatsapp:+62...` (jobs/mail.py hands them here)."""

    store: Store
    whatsapp: WhatsAppSettings
    sms: SmsSettings
    base_url: str

    async def deliver(self, number: str, body: str, notice: AnyNotice | None) -> Sent:
        """Free text while the number's 24-hour window is open (from its last message to us);
        else the approved template with the tracking code and the link, else an SMS when the
        deployment sends them. Meta's own verdict that the window closed counts too."""
        last = await self.store.whatsapp_last_inbound(number)
        if in_service_window(last, now()):
            try:
                wamid = await asyncio.to_thread(
                    post_message, self.whatsapp, text_payload(number, body)
                )
            except GraphError as exc:
                if exc.code != OUTSIDE_WINDOW:
                    raise self._refused(exc) from None
            else:
                return Sent(wamid, SUBJECT)
        code = notice.tracking_code if isinstance(notice, SmsNotice | ChangeNotice) else None
        if self.whatsapp.template and code:
            shown = tracking.format_code(code)
            payload = template_payload(
                number, self.whatsapp.template, [shown, f"{self.base_url}/t/{shown}"]
            )
            try:
                wamid = await asyncio.to_thread(post_message, self.whatsapp, payload)
            except GraphError as exc:
                raise self._refused(exc) from None
            return Sent(wamid, f"{SUBJECT} ({self.whatsapp.template})")
        if self.sms.sendsms_url and isinstance(notice, SmsNotice | ChangeNotice):
            if isinstance(notice, ChangeNotice):
                _, words = compose_change_sms(self.base_url)(notice)
            else:
                _, words = compose_sms(self.base_url, self.sms.keywords[0])(notice)
            await asyncio.to_thread(send_sms, self.sms, number, words)
            return Sent(None, "SMS")
        raise WhatsAppRefused(
            "outside the 24-hour window, and neither LAPOR_WHATSAPP_TEMPLATE (with a tracking "
            "code to tell) nor SMS is set up"
        )

    @staticmethod
    def _refused(exc: GraphError) -> Exception:
        return WhatsAppRefused(str(exc)) if exc.permanent else exc


# Handed a claimed batch, makes its report or help reply (channels/whatsapp.py).
BatchHandler = Callable[[Claimed], Awaitable[None]]


class WhatsAppInbox:
    """Turns stored messages into reports, one sender's batch at a time, once the sender has
    been quiet for LAPOR_WHATSAPP_GATHER_SECONDS: the webhook only stores and answers."""

    def __init__(
        self,
        store: Store,
        settings: WhatsAppSettings,
        handle: BatchHandler,
        lease: timedelta = timedelta(seconds=30),
    ) -> None:
        self.store = store
        self.settings = settings
        self.handle = handle
        self.lease = lease
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def process_due(self, limit: int = 50) -> int:
        """Handle up to `limit` due batches; how many were handled."""
        done = 0
        quiet = timedelta(seconds=self.settings.gather_seconds)
        while done < limit:
            claimed = await self.store.claim_whatsapp(quiet, self.lease)
            if claimed is None:
                break
            async with renewing(
                partial(self.store.renew_whatsapp, claimed, self.lease),
                self.lease,
                f"the WhatsApp messages of batch {claimed.ids[0]}",
            ):
                await self.handle(claimed)
            done += 1
        return done

    async def run(self, interval: float = 5.0) -> None:
        # Woken by the webhook, then again after the quiet time its batch must wait.
        swept = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.process_due()
                if loop.time() - swept > SWEEP_SECONDS:
                    await self.store.forget_whatsapp(KEEP)
                    swept = loop.time()
            except Exception:
                log.exception("WhatsApp inbox round failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=min(interval, max(1, self.settings.gather_seconds))
                )
            if self._wake.is_set():
                # A message just came: its batch is due once its sender has been quiet.
                await asyncio.sleep(self.settings.gather_seconds + 0.1)
