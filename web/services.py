"""What the views need, built once by the composition root (server.py) and hung on app.state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from lapor.complaints.records import OutboxMessage
from lapor.intake import Intake
from lapor.settings import Settings
from lapor.store.export_storage import ExportStorage
from lapor.store.photos import PhotoStore
from lapor.store.store import Store
from lapor.web.metrics import Metrics
from lapor.web.ratelimit import RateLimits
from lapor.web.signing import Signing
from lapor.web.templating import Templates


def _nobody_to_wake() -> None:
    pass


class Outbox(Protocol):
    """The mail sender as the views see it (jobs/mail.py's MailSender, wired by server.py)."""

    def wake(self) -> None:
        """Send what a transaction just queued now, not at the sender's next round."""

    def written(self, message: OutboxMessage) -> OutboxMessage:
        """The message with the subject and body it is (or will be) sent with."""


@dataclass
class Services:
    settings: Settings
    store: Store
    signing: Signing
    photos: PhotoStore
    export_files: ExportStorage  # where finished XLSX exports are kept until they expire
    limits: RateLimits
    metrics: Metrics
    templates: Templates
    mail: Outbox
    intake: Intake
    # Pages whose HTML depends only on slowly changing data, rendered once (see citizen/views).
    page_cache: dict[Any, Any] = field(default_factory=dict)
    # Tells the WhatsApp runner (jobs/whatsapp.py) that the webhook stored messages.
    wake_whatsapp: Callable[[], None] = _nobody_to_wake

    async def follow_up_due(self, unit_id: int, forwarded: datetime) -> date:
        """The follow-up deadline of a report forwarded to `unit_id` at `forwarded`."""
        return self.settings.follow_up_due(await self.store.unit_deadlines(unit_id), forwarded)


def services(conn: HTTPConnection) -> Services:
    found: Services = conn.app.state.services
    return found


def same_origin(conn: HTTPConnection) -> bool:
    """Browsers send Origin on every cross-site POST; when present it must be ours."""
    origin = conn.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    ours = {urlsplit(services(conn).settings.base_url).netloc, conn.headers.get("host", "")}
    return urlsplit(origin).netloc in ours


def client_address(conn: HTTPConnection) -> str:
    # uvicorn has already applied X-Forwarded-For from the trusted proxies only.
    return conn.client.host if conn.client else "unknown"
