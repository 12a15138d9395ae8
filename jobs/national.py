"""Sending reports to the national portal SP4N-LAPOR! over HTTP: the outbox's way out for rows
addressed "national:<tracking code>" (jobs/mail.py hands them here, as it hands WhatsApp's to
jobs/whatsapp.py), with the outbox's claims, retries with backoff and resend.

The wire format is ours until the portal's own is granted (docs/national.md): `POST
{LAPOR_NATIONAL_URL}` with the report as a JSON object under the names of
LAPOR_NATIONAL_FIELDS, `Authorization: Bearer {LAPOR_NATIONAL_TOKEN}` and `Idempotency-Key:
lapor-<tracking code>`; the portal answers 200 or 201 with `{"tracking_id": "..."}`. A 4xx
other than 408 and 429 is a refusal for good; anything else is tried again."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lapor.complaints import national, tracking
from lapor.complaints.national import NationalPortal, PortalRefused
from lapor.complaints.records import OutboxMessage
from lapor.settings import NationalSettings
from lapor.store.store import Store

TIMEOUT = 20
# Worth another try: the portal timed out, or asks us to slow down.
RETRYABLE_4XX = frozenset({408, 425, 429})
ANSWER_MAX = 100_000


class PortalError(Exception):
    """The portal could not be reached or answered something a retry may change."""


@dataclass(frozen=True)
class HttpNationalPortal:
    """The national portal over HTTPS, as configured by LAPOR_NATIONAL_URL and its token."""

    settings: NationalSettings

    def send_report(self, payload: Mapping[str, Any], idempotency_key: str) -> str:
        request = urllib.request.Request(
            self.settings.url, data=json.dumps(payload).encode(), method="POST"
        )
        request.add_header("content-type", "application/json")
        request.add_header("accept", "application/json")
        request.add_header("idempotency-key", idempotency_key)
        if self.settings.token:
            request.add_header("authorization", f"Bearer {self.settings.token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                raw: bytes = response.read(ANSWER_MAX + 1)
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc.read(2000))
            exc.close()
            message = f"the portal answered {exc.code}{detail}"
            if 400 <= exc.code < 500 and exc.code not in RETRYABLE_4XX:
                raise PortalRefused(message) from None
            raise PortalError(message) from None
        except OSError as exc:
            raise PortalError(f"the portal is unreachable: {type(exc).__name__}: {exc}") from None
        return _tracking_id(raw)


def _error_detail(raw: bytes) -> str:
    """The portal's `{"error": "..."}`, never our token or the report."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return ""
    return f": {str(error)[:300]}" if error else ""


def _tracking_id(raw: bytes) -> str:
    if len(raw) > ANSWER_MAX:
        raise PortalError("the portal's answer is too large")
    try:
        found = json.loads(raw)
    except ValueError:
        raise PortalError("the portal answered something that is not JSON") from None
    value = found.get("tracking_id") if isinstance(found, dict) else None
    try:
        national_id = national.read_national_id(value) if isinstance(value, str) else None
    except ValueError:
        national_id = None
    if national_id is None:
        raise PortalError("the portal answered without a tracking_id")
    return national_id


class NationalSender:
    """The outbox's way out for "national:" rows: composes the report's JSON at each try (from
    the report as it is then: a redaction since the first try is honoured), sends it with the
    report's stable idempotency key, and keeps the national tracking ID on the report."""

    def __init__(
        self, store: Store, settings: NationalSettings, base_url: str, portal: NationalPortal
    ) -> None:
        self.store = store
        self.settings = settings
        self.base_url = base_url
        self.portal = portal

    async def deliver(self, message: OutboxMessage) -> str:
        """The report's national tracking ID once the portal has it."""
        if message.report_id is None:
            raise PortalRefused("the row names no report")
        report = await self.store.report_to_send_national(message.report_id)
        if report.national_id:
            return report.national_id  # came from the portal, or a retry after the answer
        code = tracking.format_code(report.tracking_code)
        body = national.payload(report, self.settings.fields, f"{self.base_url}/t/{code}")
        key = national.idempotency_key(report.tracking_code)
        national_id = await asyncio.to_thread(self.portal.send_report, body, key)
        await self.store.national_sent(report.id, national_id)
        return national_id
