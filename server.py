"""Composition root: every service, route and middleware is wired here, in plain sight.

`python server.py COMMAND` (or the installed `lapor COMMAND`) runs the operator commands in
cli.py; `serve` runs this app under uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Scope

from lapor.admin import routes as admin_routes
from lapor.channels import routes as channel_routes
from lapor.channels import whatsapp as whatsapp_channel
from lapor.citizen import routes as citizen_routes
from lapor.complaints.reports import Channel
from lapor.intake import Intake
from lapor.jobs import exports as export_jobs
from lapor.jobs import photos as photo_jobs
from lapor.jobs import workflow
from lapor.jobs.mail import MailSender
from lapor.jobs.national import HttpNationalPortal, NationalSender
from lapor.jobs.whatsapp import WhatsAppInbox, WhatsAppSender
from lapor.kiosk import routes as kiosk_routes
from lapor.open311 import routes as open311_routes
from lapor.openness import routes as openness_routes
from lapor.settings import Settings
from lapor.store.db import Database
from lapor.store.migrate import migrate
from lapor.store.photo_blobs import DatabasePhotoStore
from lapor.store.photo_files import FilePhotoStore
from lapor.store.photos import PhotoStore
from lapor.store.store import Store
from lapor.web import i18n, labels
from lapor.web.metrics import Metrics, MetricsMiddleware
from lapor.web.middleware import BodySizeLimit, LanguageMiddleware, VersionedStaticFiles
from lapor.web.ratelimit import RateLimits
from lapor.web.security import SecurityHeadersMiddleware
from lapor.web.services import Services, services
from lapor.web.signing import Signing
from lapor.web.templating import STATIC_DIR, Templates
from lapor.widget import loader as widget_loader
from lapor.widget import routes as widget_routes
from lapor.widget import views as widget_views

log = logging.getLogger("lapor")


async def healthz(request: Request) -> Response:
    try:
        await asyncio.wait_for(services(request).store.ping(), timeout=5)
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("health check failed: %s", exc)
        return JSONResponse(
            {"status": "error", "database": "unreachable"},
            status_code=503,
            headers={"cache-control": "no-store"},
        )
    return JSONResponse({"status": "ok", "database": "ok"}, headers={"cache-control": "no-store"})


ERROR_TEXT = {
    400: (
        i18n.N_("The request could not be read"),
        i18n.N_("Go back and try again. If it keeps happening, scan the poster again."),
    ),
    403: (i18n.N_("Not allowed"), i18n.N_("You do not have access to this page.")),
    404: (i18n.N_("Page not found"), i18n.N_("Check the address, or scan the poster again.")),
    405: (i18n.N_("Not allowed"), i18n.N_("This address does not accept that request.")),
    500: (
        i18n.N_("Something went wrong"),
        i18n.N_("The error has been recorded. Please try again in a moment."),
    ),
}


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    title, message = ERROR_TEXT.get(status, ERROR_TEXT[400 if status < 500 else 500])
    message = i18n.gettext(message)
    if status == 400 and isinstance(exc, HTTPException) and exc.detail != HTTPStatus(status).phrase:
        # A 400 raised with a sentence already in the user's language says what was wrong.
        message = exc.detail
    headers = {"cache-control": "no-store"}
    if status >= 500:
        # Starlette answers 500s outside our middleware stack (and logs the error itself), so
        # the security headers are added here.
        headers.update(SecurityHeadersMiddleware.headers_for(services(request).settings.https))
    return services(request).templates.response(
        request,
        "errors/error.html",
        {"title": i18n.gettext(title), "message": message},
        status_code=status,
        headers=headers,
    )


async def body_too_large(scope: Scope) -> Response:
    """A body over the limit on the citizen's form: say so in their language. Posted from the
    widget's frame, the answer must be a page that frame may show (its frame-ancestors), or
    the citizen sees the browser's broken-frame box."""
    request = Request(scope)
    parts = scope["path"].split("/")
    response: Response
    if len(parts) == 3 and parts[1] == "w" and parts[2]:
        response = await widget_views.too_large(request, parts[2])
    else:
        response = services(request).templates.response(
            request,
            "citizen/invalid.html",
            {"reason": "too_large"},
            status_code=413,
            headers={"cache-control": "no-store"},
        )
    # The rest of the body is not read: the connection cannot carry another request.
    response.headers["connection"] = "close"
    return response


def routes(metrics: Metrics) -> list[Route | Mount]:
    """The whole URL table: each surface's own, then the composition root's. Public paths are a
    contract: posters and bookmarks carry them."""
    return [
        *citizen_routes.routes,
        *widget_routes.routes,
        *kiosk_routes.routes,
        *admin_routes.routes(),
        *channel_routes.routes,
        *openness_routes.routes,
        *open311_routes.routes,
        Route("/healthz", healthz, name="healthz"),
        Route("/metrics", metrics.endpoint, name="metrics"),
        Mount("/static", VersionedStaticFiles(directory=STATIC_DIR), name="static"),
    ]


def template_globals(settings: Settings) -> dict[str, Any]:
    return {
        "format_datetime": partial(i18n.format_datetime, tz=settings.timezone),
        "format_date": i18n.format_date,
        "format_month": i18n.format_month,
        "format_short_datetime": partial(i18n.format_short_datetime, tz=settings.timezone),
        "format_short_date": i18n.format_short_date,
        "format_number": i18n.format_number,
        "format_percent": i18n.format_percent,
        "format_rounded": i18n.format_rounded,
        "format_fixed": i18n.format_fixed,
        "status_label": labels.status_label,
        "kind_label": labels.kind_label,
        "channel_label": labels.channel_label,
        "role_label": labels.role_label,
        "category_label": labels.category_label,
        "taken_via_label": labels.taken_via_label,
        "event_label": labels.event_label,
        "message_label": labels.message_label,
        "outbox_delivery_label": labels.outbox_delivery_label,
        "message_channel_label": labels.message_channel_label,
        "outbox_address": labels.outbox_address,
        "transition_label": labels.transition_label,
        "outbox_status_label": labels.outbox_status_label,
        "delivery_label": labels.delivery_label,
        "rating_label": labels.rating_label,
        "days_left_label": labels.days_left_label,
        "clock_offset_label": labels.clock_offset_label,
        "base_url": settings.base_url,
        # Phone-only reporters are told by SMS (intake.py): the phone field says so.
        "phone_channels": settings.phone_channels,
    }


def photo_store(settings: Settings, database: Database) -> PhotoStore:
    """Where photos are kept (LAPOR_PHOTO_STORAGE): in the database, so that every machine
    on one PostgreSQL serves every photo; or in the data directory, one machine's."""
    limits = {
        "max_bytes": settings.max_photo_bytes,
        "max_pixels": settings.max_photo_pixels,
        "max_side": settings.photo_max_side,
    }
    files = FilePhotoStore(settings.photo_dir, **limits)
    storage = settings.photo_storage or ("files" if database.is_sqlite else "database")
    if storage == "database":
        return DatabasePhotoStore(database, files, **limits)
    return files


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    run_background_tasks: bool = True,
) -> Starlette:
    settings = settings or Settings.load()
    database = database or Database(settings.database_url)
    store = Store(database)
    metrics = Metrics(scrapers=settings.metrics_allow, token=settings.metrics_token)
    photos = photo_store(settings, database)
    mail = MailSender(
        store,
        base_url=settings.base_url,
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
        mail_dir=settings.mail_dir,
        on_outcome=lambda outcome: metrics.mail.labels(outcome).inc(),
        sms=settings.sms,
        whatsapp=WhatsAppSender(store, settings.whatsapp, settings.sms, settings.base_url),
        on_channel_outcome=lambda channel, outcome: metrics.channel_messages.labels(
            channel, "out", outcome
        ).inc(),
        national=(
            NationalSender(
                store, settings.national, settings.base_url, HttpNationalPortal(settings.national)
            )
            if settings.national.enabled
            else None
        ),
    )
    signing = Signing(settings.signing_keys())
    svc = Services(
        settings=settings,
        store=store,
        signing=signing,
        photos=photos,
        limits=RateLimits(settings.redis_url),
        metrics=metrics,
        templates=Templates(template_globals(settings)),
        mail=mail,
        # Every surface's reports go through this one core; it knows metrics and mail only as
        # the two callables it is handed.
        intake=Intake(
            store,
            settings,
            commit_photos=photos.commit,
            reporter_secret_hash=signing.reporter_secret_hash,
            count=partial(_count_report, metrics),
            wake_mail=mail.wake,
        ),
    )

    # The webhook stores WhatsApp messages; this runner makes them reports through the
    # channel, once each sender has been quiet for a moment.
    whatsapp_inbox = WhatsAppInbox(
        store, settings.whatsapp, partial(whatsapp_channel.make_reports, svc)
    )
    svc.wake_whatsapp = whatsapp_inbox.wake
    exports = export_jobs.ExportRunner(store, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await database.connect()
        await migrate(database)
        # Reports stored before their private links' digests were kept (migration 0012) get
        # them under the keys configured now; nothing to do on every later start.
        await store.fill_in_reporter_secrets(signing.reporter_secret_hashes)
        await photos.prepare()
        i18n.catalogs()
        widget_loader.loader()  # sentences from the catalogs; a broken source fails here
        # Load the holiday tables now rather than in the first citizen's request.
        settings.calendar.is_working_day(datetime.now(settings.timezone).date())
        tasks: list[asyncio.Task[None]] = []
        if run_background_tasks:
            tasks.append(asyncio.create_task(mail.run(), name="mail-sender"))
            tasks.append(
                asyncio.create_task(
                    photo_jobs.sweep_forever(photos, settings), name="photo-sweeper"
                )
            )
            tasks.append(asyncio.create_task(exports.run(), name="export-runner"))
            if settings.whatsapp.enabled:
                tasks.append(asyncio.create_task(whatsapp_inbox.run(), name="whatsapp-inbox"))
            tasks.append(
                asyncio.create_task(workflow.run_forever(store, settings), name="workflow-timer")
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await svc.limits.close()
            await database.close()

    # Outermost first: metrics see every response, headers go on error pages too.
    middleware = [
        Middleware(MetricsMiddleware, metrics=metrics),
        Middleware(SecurityHeadersMiddleware, https=settings.https),
        Middleware(LanguageMiddleware, default=settings.default_language),
        Middleware(GZipMiddleware, minimum_size=512),
        Middleware(
            BodySizeLimit,
            too_large=body_too_large,
            max_bytes=settings.max_photos * settings.max_photo_bytes + 1_000_000,
        ),
    ]
    app = Starlette(
        routes=routes(metrics),
        middleware=middleware,
        exception_handlers={HTTPException: http_error, Exception: http_error},
        lifespan=lifespan,
    )
    app.state.services = svc
    app.state.exports = exports
    app.state.whatsapp_inbox = whatsapp_inbox
    return app


def _count_report(metrics: Metrics, channel: Channel, created: bool) -> None:
    counter = metrics.submissions if created else metrics.duplicate_submissions
    counter.labels(channel.value).inc()


def app_factory() -> Starlette:
    """What uvicorn workers import (`lapor.server:app_factory`, factory=True)."""
    return create_app()


def main(argv: list[str] | None = None) -> int:
    from lapor.cli import run

    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
