"""Prometheus metrics in a registry of the app's own (tests build many apps in one process)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.requests import Request
from starlette.responses import Response

Network = IPv4Network | IPv6Network
LOOPBACK: tuple[Network, ...] = (ip_network("127.0.0.1/32"), ip_network("::1/128"))


class Metrics:
    def __init__(self, *, scrapers: Sequence[Network] = LOOPBACK, token: str = "") -> None:
        # Who may read /metrics (settings LAPOR_METRICS_ALLOW and LAPOR_METRICS_TOKEN): the
        # figures say which refusals, limits and routes are busy, which is nobody else's
        # business.
        self._scrapers = tuple(scrapers)
        self._token = token
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "lapor_http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lapor_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.submissions = Counter(
            "lapor_reports_submitted_total",
            "Reports stored, by the channel they came through",
            ["channel"],
            registry=self.registry,
        )
        self.duplicate_submissions = Counter(
            "lapor_reports_resubmitted_total",
            "Submissions answered with an already stored report (retries, double clicks)",
            ["channel"],
            registry=self.registry,
        )
        self.rejected_codes = Counter(
            "lapor_poster_codes_rejected_total",
            "Poster codes refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        # By limit: login, password, submit_form, submit_address, honeypot, track, kiosk_pair,
        # and per kiosk kiosk_reports and kiosk_feedback (a credential sending faster than a
        # person at the tablet could: kiosk/views.py).
        self.rate_limited = Counter(
            "lapor_rate_limited_total",
            "Requests refused by a rate limit",
            ["limit"],
            registry=self.registry,
        )
        self.sms_inbound = Counter(
            "lapor_sms_inbound_total",
            "Text messages from the SMS gateway, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        # WhatsApp's webhook: messages by outcome (stored, duplicate, rate_limited, unreadable;
        # then, made into reports by the runner: report, help, ignored, media_retry, no_unit,
        # and of the conversation: answer, message, stop, start, blocked),
        # requests
        # refused by reason (signature_missing, signature_wrong, not_a_webhook, too_large,
        # verify_token), and what Meta reported of our messages (sent, delivered, read, failed).
        self.whatsapp_inbound = Counter(
            "lapor_whatsapp_inbound_total",
            "WhatsApp messages from the webhook, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.whatsapp_refused = Counter(
            "lapor_whatsapp_refused_total",
            "WhatsApp webhook requests refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.whatsapp_deliveries = Counter(
            "lapor_whatsapp_deliveries_total",
            "Delivery statuses Meta reported for our WhatsApp messages, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        # Every channel a reporter talks on (sms, whatsapp): inbound by outcome (stored,
        # answer, help, stop, blocked, refused, ...), outbound by outcome (sent, retry, failed,
        # suppressed, delivered, undelivered).
        self.channel_messages = Counter(
            "lapor_channel_messages_total",
            "Messages on the reporters' channels, by channel, direction and outcome",
            ["channel", "direction", "outcome"],
            registry=self.registry,
        )
        self.mail = Counter(
            "lapor_mail_total",
            "Outbox messages handled, by outcome",
            ["outcome"],
            registry=self.registry,
        )

    def may_scrape(self, request: Request) -> bool:
        if self._token:
            scheme, _, presented = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                presented.strip().encode(), self._token.encode()
            ):
                return True
        # The client as uvicorn saw it, X-Forwarded-For applied from trusted proxies only: a
        # request through the public proxy carries the citizen's address, not the proxy's.
        host = request.client.host if request.client else ""
        try:
            address = ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._scrapers)

    async def endpoint(self, request: Request) -> Response:
        if not self.may_scrape(request):
            # As if there were nothing here: the page is not for the public.
            return Response(status_code=404, headers={"cache-control": "no-store"})
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Several workers: each writes its own files; one scrape must add them all up,
            # whichever worker happens to answer it.
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(
            generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8"
        )
