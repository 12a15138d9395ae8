"""The widget's form, inside the iframe the loader (widget.js) puts on an agency's page:
`/w/{key}` shows and receives it, `/w/{key}/sent/{code}/{secret}` is its receipt, and
`/w/{key}/check` tells the loader, before it draws anything, whether the page asking may show
the widget at all.

Every response is for one frame on one site: the loader says which (`?o=`, the host page's
origin), and the page names that origin in `frame-ancestors` only when it is registered for
the key; the browser then refuses to show it anywhere else. The list of origins is never
sent. A bad key, a revoked widget or an unregistered site gets a short notice in place of the
form, and the frame tells the webmaster why in one console line.

The deployment's own origin (settings.base_url) may frame every active widget as a preview
(the admin's /admin/widgets/{id}/preview): the form is shown as a site would show it, marked as
a preview, its send button disabled, and a POST from it is refused, so no report is made.

Inside a third-party frame cookies and storage are blocked or partitioned, so nothing here
uses them: the language travels in the URL (`?lang=`), the form's signed token carries the
idempotency key, exactly as on the poster's form. The form is checked by the same code as a
poster's (web.report_form) and the report stored by the same core (lapor.intake)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from lapor.complaints import tracking
from lapor.complaints.origins import InvalidOrigin, kept_page_url, normalize_origin, registered
from lapor.complaints.progress import progress
from lapor.complaints.records import Widget
from lapor.complaints.reports import TEXT_MAX, TEXT_MIN, Channel, FieldError, Kind
from lapor.intake import Entry
from lapor.store.errors import IdempotencyConflict
from lapor.store.photos import ProcessedPhoto
from lapor.web import i18n
from lapor.web.forms import FormAbandoned, FormTooLarge, ReportForm, read_report_form
from lapor.web.labels import form_errors, kind_hint, kind_label
from lapor.web.private_links import private_secret
from lapor.web.report_form import check_report_form
from lapor.web.security import frame_policy
from lapor.web.services import Services, services
from lapor.web.signing import FormTokenError, WidgetKeyError
from lapor.web.snippet import CHECK_MAX_AGE

NO_STORE = {"cache-control": "no-store"}
# The one console line the loader prints on the host page: for its webmaster, so in English.
CONSOLE = {
    "unknown": "this widget key is unknown; copy the snippet again from the LAPOR! admin",
    "revoked": "this widget has been revoked; ask the LAPOR! admin for a new snippet",
    "origin": "this site's origin is not registered for this widget key",
    "unknown_report": "this receipt does not belong to this widget",
}
# What /w/{key}/check answers a page whose origin may not show the widget: its console line
# (nothing for yes). The origin named is the asker's own, never one of the registered ones.
CHECK_REFUSED = {
    "unknown": CONSOLE["unknown"] + "; the button is not shown",
    "revoked": CONSOLE["revoked"] + "; the button is not shown",
    "origin": "%(origin)s is not registered for this widget key, so the button is not shown; "
    "the LAPOR! admin adds it to the widget's sites",
}

# What Sec-Fetch-Dest says for a frame's navigation; a top-level visit or a fetch is refused.
FRAME_DESTINATIONS = ("iframe", "frame")
# Every page shown inside the frame answers 200, errors included (a refused key, a form with
# mistakes, a conflict): Chromium prints "Failed to load resource" in the host page's console
# for a framed document with an error status, and the webmaster's console gets one line of
# ours at most, from the loader. What happened is still counted in /metrics.
SHOWN = 200


@dataclass(frozen=True)
class Frame:
    """A frame request that passed every check: the widget, its key and the host's origin."""

    widget: Widget
    key: str
    origin: str
    # Framed by the deployment's own origin, for the admin's preview: nothing may be sent.
    preview: bool = False

    def url(self, path: str = "", **params: str) -> str:
        query = {"o": self.origin, "lang": i18n.current_language(), **params}
        return f"/w/{self.key}{path}?{urlencode(query)}"


def _headers(origin: str | None) -> dict[str, str]:
    return {
        **NO_STORE,
        "content-security-policy": frame_policy(origin),
        # The frame's URL holds the key, and the receipt's the reporter's secret.
        "referrer-policy": "no-referrer",
    }


def _notice(
    request: Request,
    svc: Services,
    reason: str,
    origin: str | None,
    status_code: int,
    back_url: str = "",
) -> Response:
    """No form: a few words inside the frame (when the claimed origin may frame it at all),
    and the reason for the host's console. Counted like refused poster codes. `back_url`
    leads back to a fresh form, for a refusal of what was sent rather than of the frame."""
    svc.metrics.rejected_codes.labels(f"widget_{reason}").inc()
    here = request.url.path
    return svc.templates.response(
        request,
        "widget/notice.html",
        {
            "reason": reason,
            "host_origin": origin or "",
            "refused": CONSOLE.get(reason, ""),
            "back_url": back_url,
            "switch_url": lambda lang: f"{here}?{urlencode({'o': origin or '', 'lang': lang})}",
        },
        status_code=status_code if origin is None else SHOWN,
        headers=_headers(origin),
    )


def own_origin(svc: Services) -> str:
    """The deployment's own origin, which may frame any widget as a preview."""
    parts = urlsplit(svc.settings.base_url)
    return normalize_origin(f"{parts.scheme}://{parts.netloc}")


def _normalized(claimed: str) -> str | None:
    try:
        return normalize_origin(claimed)
    except InvalidOrigin:
        return None


async def _allowed(svc: Services, key: str, claimed: str) -> Frame | tuple[str, int]:
    """The frame `claimed` (an origin, as typed by the loader or sent by the browser) may
    show for `key`, or why not and the status that says it."""
    try:
        widget_id, version = svc.signing.read_widget_key(key)
    except WidgetKeyError:
        return "unknown", 404
    widget = await svc.store.widget_for_frame(widget_id)
    if widget is None:
        return "unknown", 404
    if widget.version != version or not widget.active:
        return "revoked", 410
    own = own_origin(svc)
    if _normalized(claimed) == own:
        # The deployment's own pages are no agency's site: always a preview, even should its
        # origin be listed.
        return Frame(widget, key, own, preview=True)
    origin = registered(claimed, widget.origins)
    if origin is None:
        return "origin", 403
    return Frame(widget, key, origin)


async def _frame(request: Request, svc: Services, key: str) -> Frame | Response:
    dest = request.headers.get("sec-fetch-dest")
    claimed = request.query_params.get("o", "")
    # citizen.js sends the frame's form by XMLHttpRequest (to show the upload's progress), a
    # request only our own pages can make: the browser says "empty" and "same-origin" for it.
    ours = dest == "empty" and request.headers.get("sec-fetch-site") == "same-origin"
    if dest is not None and dest not in FRAME_DESTINATIONS and not ours:
        # Opened as a page of its own (or fetched): this form exists only inside a frame.
        return _notice(request, svc, "not_framed", None, 403)
    allowed = await _allowed(svc, key, claimed)
    if isinstance(allowed, Frame):
        return allowed
    reason, status_code = allowed
    return _notice(request, svc, reason, _normalized(claimed), status_code)


async def frame_check(request: Request) -> Response:
    """May the page asking show this widget? Asked by the loader before it draws the button
    or an inline form, with CORS and without cookies: the answer depends on the request's
    Origin header alone (a same-origin request, which sends none, is the deployment's own
    page), is empty for yes and the webmaster's console line for no, and names no origin but
    the asker's. It tells nothing a frame request with `?o=` would not: the same checks."""
    svc = services(request)
    claimed = request.headers.get("origin", "")
    if not claimed and request.headers.get("sec-fetch-site") == "same-origin":
        claimed = own_origin(svc)
    allowed = await _allowed(svc, request.path_params["key"], claimed)
    why = ""
    if not isinstance(allowed, Frame):
        origin = _normalized(claimed)
        why = (CHECK_REFUSED[allowed[0]] % {"origin": origin or "this page's origin"})[:200]
    return PlainTextResponse(
        why,
        headers={
            "cache-control": f"public, max-age={CHECK_MAX_AGE}",
            "vary": "Origin",
            # Any page may ask; what it learns is about its own origin only.
            "access-control-allow-origin": "*",
            "cross-origin-resource-policy": "cross-origin",
        },
    )


def _form_page(
    request: Request,
    svc: Services,
    frame: Frame,
    *,
    token: str,
    form: ReportForm | None = None,
    page: str = "",
    held: list[tuple[str, ProcessedPhoto]] | None = None,
    errors: list[FieldError] | None = None,
) -> Response:
    context: dict[str, Any] = {
        "preview": frame.preview,
        "unit_name": frame.widget.unit_name,
        "host_origin": frame.origin,
        "action": frame.url(),
        "token": token,
        "hidden_fields": [("page", page)],
        "switch_action": lambda lang: frame.url(lang=lang),
        "values": form.values if form else {},
        "held_photos": held or [],
        **form_errors(errors or []),
        "kinds": [(k.value, kind_label(k), kind_hint(k)) for k in Kind],
        "text_min": TEXT_MIN,
        "text_max": TEXT_MAX,
        "max_photos": svc.settings.max_photos,
        "max_photo_mb": svc.settings.max_photo_bytes // 1_000_000,
        # citizen.js shrinks photos to the side the server keeps, and counts them as it does.
        "photo_max_side": svc.settings.photo_max_side,
    }
    return svc.templates.response(
        request, "widget/form.html", context, status_code=SHOWN, headers=_headers(frame.origin)
    )


async def frame_form(request: Request) -> Response:
    svc = services(request)
    frame = await _frame(request, svc, request.path_params["key"])
    if isinstance(frame, Response):
        return frame
    token = svc.signing.new_widget_form_token(frame.widget.id, frame.widget.version)
    # The loader now sends the page only in its "open" message (kept out of the frame's URL
    # and so out of access logs); `p` still serves a loader cached before that change.
    return _form_page(
        request, svc, frame, token=token, page=request.query_params.get("p", "")[:2000]
    )


async def frame_submit(request: Request) -> Response:
    svc = services(request)
    settings = svc.settings
    frame = await _frame(request, svc, request.path_params["key"])
    if isinstance(frame, Response):
        return frame
    widget = frame.widget
    if frame.preview:
        # The admin's preview shows the form with its button disabled; a POST made anyway
        # (another tool, a page edited in the browser) is refused before anything is read.
        return _notice(request, svc, "preview", frame.origin, 403, back_url=frame.url())
    try:
        form = await read_report_form(
            request, max_photos=settings.max_photos, max_photo_bytes=settings.max_photo_bytes
        )
    except FormTooLarge:
        return _notice(request, svc, "too_large", frame.origin, 413, back_url=frame.url())
    except FormAbandoned:
        return Response(status_code=400)

    def again(
        errors: list[FieldError], keep: bool, held: list[tuple[str, ProcessedPhoto]] | None = None
    ) -> Response:
        token = form.token if keep else svc.signing.new_widget_form_token(widget.id, widget.version)
        return _form_page(
            request, svc, frame, token=token, form=form, page=form.page, held=held, errors=errors
        )

    try:
        token = svc.signing.read_widget_form_token(form.token, settings.form_token_max_age)
    except FormTokenError as exc:
        return again([FieldError("form", exc.reason)], keep=False)
    if token.widget_id != widget.id or token.widget_version != widget.version:
        return again([FieldError("form", "invalid")], keep=False)

    def keep(
        errors: list[FieldError], status: int, held: list[tuple[str, ProcessedPhoto]] | None = None
    ) -> Response:
        # `status` is what the poster's form answers; a framed page answers SHOWN.
        return again(errors, True, held)

    def conflict(tracking_code: str) -> Response:
        return svc.templates.response(
            request,
            "widget/conflict.html",
            {
                "tracking_code": tracking.format_code(tracking_code),
                "host_origin": frame.origin,
                "again_url": frame.url(),
                "base_url": settings.base_url,
                "switch_url": lambda lang: frame.url(lang=lang),
            },
            status_code=SHOWN,
            headers=_headers(frame.origin),
        )

    checked = await check_report_form(request, svc, form, token.nonce, keep)
    if isinstance(checked, Response):
        return checked
    try:
        result = await svc.intake.submit(
            checked.submission,
            Entry(
                Channel.WIDGET,
                widget.unit_id,
                widget_id=widget.id,
                page_url=kept_page_url(form.page, widget.origins),
            ),
            key=token.nonce,
            language=i18n.current_language(),
            photos=checked.photos,
        )
    except IdempotencyConflict as exc:
        return conflict(exc.tracking_code)
    # Post/Redirect/Get inside the frame: the receipt is framed like the form.
    secret = await private_secret(
        svc, result.report_id, token.idempotency_key, result.reporter_secret_hash
    )
    code = tracking.format_code(result.tracking_code)
    return RedirectResponse(frame.url(f"/sent/{code}/{secret}"), status_code=303, headers=NO_STORE)


async def frame_receipt(request: Request) -> Response:
    svc = services(request)
    frame = await _frame(request, svc, request.path_params["key"])
    if isinstance(frame, Response):
        return frame
    code = tracking.normalize(request.path_params["code"])
    secret = request.path_params["secret"]
    report = await svc.store.report_by_tracking_code(code) if code else None
    if (
        report is None
        or report.widget_id != frame.widget.id
        or not svc.signing.reporter_secret_ok(
            report.idempotency_key, report.reporter_secret_hash, secret
        )
    ):
        return _notice(request, svc, "unknown_report", frame.origin, 404)
    canonical = tracking.format_code(report.tracking_code)
    base = svc.settings.base_url

    def switch(lang: str) -> str:
        return frame.url(f"/sent/{canonical}/{secret}", lang=lang)

    return svc.templates.response(
        request,
        "widget/sent.html",
        {
            "code": canonical,
            "report": report,
            # What happens next, as on the status page: the deadline that is running.
            "progress": progress(
                report, svc.settings.calendar, svc.settings.deadline_rules, svc.settings.timezone
            ),
            "host_origin": frame.origin,
            "unit_name": frame.widget.unit_name,
            "status_url": f"{base}/t/{canonical}",
            "private_url": f"{base}/t/{canonical}/{secret}",
            "again_url": frame.url(),
            "switch_url": switch,
        },
        headers=_headers(frame.origin),
    )


async def too_large(request: Request, key: str) -> Response:
    """A body over the server's limit, posted from the frame (the BodySizeLimit middleware
    answers before any route, so before the checks above): the same notice as the form's own
    refusal, in the frame's language, framed for the host only when it is registered, with a
    way back to a fresh form. The body was not read, so nothing typed can be shown again."""
    svc = services(request)
    frame = await _frame(request, svc, key)
    if isinstance(frame, Response):
        return frame
    return _notice(request, svc, "too_large", frame.origin, 413, back_url=frame.url())
