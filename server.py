"""Composition root: every service, route and middleware is wired here, in plain sight.

`python server.py COMMAND` (or the installed `lapor COMMAND`) runs the operator commands in
cli.py; `serve` runs this app under uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from functools import partial
from http import HTTPStatus
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
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
from lapor.openness import views as openness_views
from lapor.settings import Settings
from lapor.store.db import Database
from lapor.store.export_files import FileExportStorage
from lapor.store.export_pieces import DatabaseExportStorage
from lapor.store.export_storage import ExportStorage
from lapor.store.migrate import head, known_revisions, migrate
from lapor.store.photo_blobs import DatabasePhotoStore
from lapor.store.photo_files import FilePhotoStore
from lapor.store.photos import PhotoStore
from lapor.store.store import Store
from lapor.web import health, i18n, labels, logs
from lapor.web.front import Front
from lapor.web.metrics import Metrics
from lapor.web.middleware import BodySizeLimit, VersionedStaticFiles
from lapor.web.ratelimit import RateLimits
from lapor.web.security import headers_for
from lapor.web.services import Services, services
from lapor.web.signing import Signing
from lapor.web.spreadsheets import XLSX_MEDIA_TYPE
from lapor.web.templating import STATIC_DIR, Templates
from lapor.widget import loader as widget_loader
from lapor.widget import routes as widget_routes
from lapor.widget import views as widget_views

log = logging.getLogger("lapor")


# What the background jobs get to finish what they hold once the server has stopped listening
# (LAPOR_STOP_SECONDS says the whole bound): the mail sender its message in hand, which a
# thread is sending and which no cancellation could stop anyway.
JOB_STOP_SECONDS = 10.0


def drain_on_signals(lifecycle: health.Lifecycle, drain_seconds: float) -> Callable[[], None]:
    """Put ourselves in front of uvicorn's SIGTERM and SIGINT handlers: the first signal marks
    the process draining (`/healthz/ready` answers 503) and hands the signal on to uvicorn
    `drain_seconds` later, which then stops listening, finishes the requests in flight and
    runs the lifespan's shutdown. A second signal is handed on at once. Returns what puts
    uvicorn's handlers back. In each worker's own main thread, as uvicorn's are."""
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}

    def hand_on(sig: int, frame: FrameType | None) -> None:
        prior = previous[sig]
        if callable(prior):
            prior(sig, frame)

    def on_signal(sig: int, frame: FrameType | None) -> None:
        if lifecycle.draining or drain_seconds <= 0:
            lifecycle.draining = True
            hand_on(sig, frame)
            return
        lifecycle.draining = True
        log.info("draining", extra={"facts": {"signal": signal.Signals(sig).name}})
        # From a signal handler, only call_soon_threadsafe is safe to touch the loop with.
        loop.call_soon_threadsafe(loop.call_later, drain_seconds, hand_on, sig, None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, on_signal)

    def restore() -> None:
        for sig, prior in previous.items():
            if signal.getsignal(sig) is on_signal:
                signal.signal(sig, prior)

    return restore


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
        headers.update(headers_for(services(request).settings.https))
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
        # The readiness check under its first name, for the monitoring that already polls it.
        Route("/healthz", health.ready, name="healthz"),
        Route("/healthz/live", health.live, name="healthz_live"),
        Route("/healthz/ready", health.ready, name="healthz_ready"),
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


def in_database(settings: Settings, database: Database) -> bool:
    """Whether the files people hand in or fetch (photos, letters, exports) are kept in the
    database (LAPOR_PHOTO_STORAGE): by default on PostgreSQL, where every machine of a
    deployment must see them, and not on SQLite, one machine's."""
    storage = settings.photo_storage or ("files" if database.is_sqlite else "database")
    return storage == "database"


def photo_store(settings: Settings, database: Database) -> PhotoStore:
    """Where photos are kept: in the database, so that every machine on one PostgreSQL serves
    every photo; or in the data directory, one machine's."""
    limits = {
        "max_bytes": settings.max_photo_bytes,
        "max_pixels": settings.max_photo_pixels,
        "max_side": settings.photo_max_side,
    }
    files = FilePhotoStore(settings.photo_dir, **limits)
    if in_database(settings, database):
        return DatabasePhotoStore(database, files, **limits)
    return files


def export_storage(settings: Settings, database: Database) -> ExportStorage:
    """Where finished XLSX exports are kept until they expire, by the same rule as photos: a
    download reaching any machine finds the file the job wrote on another."""
    files = FileExportStorage(settings.data_dir / "exports")
    if in_database(settings, database):
        return DatabaseExportStorage(database, files)
    return files


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    run_background_tasks: bool = True,
    handle_signals: bool = False,
    freeze_heap: bool = False,
) -> Starlette:
    """`handle_signals`: drain on SIGTERM as `lapor serve` does (app_factory); tests that run
    the app in their own process leave the signals alone. `freeze_heap`: once started, keep
    what start-up built out of the garbage collector's walks (`gc.freeze`), as `lapor serve`
    does; a test process that starts many apps would keep every one of them."""
    settings = settings or Settings.load()
    database = database or Database(settings.database_url)
    store = Store(database)
    metrics = Metrics(scrapers=settings.metrics_allow, token=settings.metrics_token)
    photos = photo_store(settings, database)
    signing = Signing(settings.signing_keys())
    mail = MailSender(
        store,
        signing=signing,
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
        lease=settings.job_lease,
    )
    svc = Services(
        settings=settings,
        store=store,
        signing=signing,
        photos=photos,
        export_files=export_storage(settings, database),
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
            note_report=lambda report_id: logs.note(report_id=report_id),
        ),
    )
    lifecycle = health.Lifecycle(head=head(), known=known_revisions())

    # The webhook stores WhatsApp messages; this runner makes them reports through the
    # channel, once each sender has been quiet for a moment.
    whatsapp_inbox = WhatsAppInbox(
        store,
        settings.whatsapp,
        partial(whatsapp_channel.make_reports, svc),
        lease=settings.job_lease,
    )
    svc.wake_whatsapp = whatsapp_inbox.wake
    exports = export_jobs.ExportRunner(store, settings, svc.export_files)
    workflow_timer = workflow.timer(store, settings)

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
        restore_signals = (
            drain_on_signals(lifecycle, settings.drain_seconds)
            if handle_signals and threading.current_thread() is threading.main_thread()
            else None
        )
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
            tasks.append(asyncio.create_task(workflow_timer.run(), name="workflow-timer"))
            tasks.append(
                asyncio.create_task(openness_views.warm_figures(svc), name="public-figures")
            )
        if freeze_heap:
            # What start-up built (modules, templates, catalogs, compiled statements) lives as
            # long as the process. Out of the collector's sight, a full collection under load
            # walks only what requests made: a submission's p99 at 64 connections went from
            # 140 to 86 ms (bench/load.py).
            gc.freeze()
        try:
            yield
        finally:
            lifecycle.draining = True
            # The mail sender finishes the message in hand and claims no more; what it still
            # holds when its time is up is handed back as it is cancelled (jobs/mail.py).
            mail.stop()
            stopping = time.monotonic()
            senders = [task for task in tasks if task.get_name() == "mail-sender"]
            if senders:
                await asyncio.wait(senders, timeout=JOB_STOP_SECONDS)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await svc.limits.close()
            await database.close()
            if restore_signals is not None:
                restore_signals()
            logs.job_run("stop", stopping)

    # Outermost first: the front (log line, metrics, headers, language) sees every answer, error
    # pages too.
    middleware = [
        Middleware(
            Front, metrics=metrics, https=settings.https, default_language=settings.default_language
        ),
        # Files that are compressed archives already (an export) go as they are: compressing
        # them again costs the CPU of a second zip for nothing, and loses their length.
        Middleware(
            GZipMiddleware,
            minimum_size=512,
            exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, XLSX_MEDIA_TYPE),
        ),
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
    app.state.lifecycle = lifecycle
    app.state.exports = exports
    app.state.whatsapp_inbox = whatsapp_inbox
    app.state.workflow_timer = workflow_timer
    return app


def _count_report(metrics: Metrics, channel: Channel, created: bool) -> None:
    counter = metrics.submissions if created else metrics.duplicate_submissions
    counter.labels(channel.value).inc()


def app_factory() -> Starlette:
    """What uvicorn workers import (`lapor.server:app_factory`, factory=True)."""
    return create_app(handle_signals=True, freeze_heap=True)


def main(argv: list[str] | None = None) -> int:
    from lapor.cli import run

    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
