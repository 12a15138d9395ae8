"""The citizen's pages: `/` (find an agency), `/q/{code}` and `/u/{slug}` (form and submit),
`/t/{code}` (receipt and status, with the photos sent)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from lapor.complaints import disclosure, tracking
from lapor.complaints.conversation import WEB, ChannelMessage, reporter_may_write
from lapor.complaints.organisation import Invalid, find_units, read_slug, reportable_units
from lapor.complaints.progress import current_answer, pending_question, progress
from lapor.complaints.records import Poster, Report, Unit
from lapor.complaints.reports import TEXT_MAX, TEXT_MIN, Channel, FieldError, Kind
from lapor.complaints.workflow import (
    Action,
    Refusal,
    WorkflowError,
    available_actions,
    read_rating,
    read_reason,
    read_seen_version,
)
from lapor.intake import Entry
from lapor.store.errors import IdempotencyConflict
from lapor.store.photos import ProcessedPhoto
from lapor.web import i18n
from lapor.web.files import attachment_response, photo_response
from lapor.web.forms import FormAbandoned, FormTooLarge, ReportForm, read_report_form
from lapor.web.i18n import N_
from lapor.web.labels import form_errors, kind_hint, kind_label
from lapor.web.private_links import private_secret
from lapor.web.report_form import FormAgain, check_report_form
from lapor.web.services import Services, client_address, same_origin, services
from lapor.web.signing import FormToken, FormTokenError, PosterCodeError, UnitFormToken
from lapor.web.slotted import SlottedPage

NO_STORE = {"cache-control": "no-store"}


def _code(request: Request) -> str:
    """The poster code in the path, spelled as we print it whatever way it was typed (case,
    look-alike letters, hyphens), so the form posts back to one URL and is cached once; a
    code that cannot be read is left as it came, to be refused."""
    code: str = request.path_params["code"]
    try:
        return services(request).signing.canonical_poster_code(code)
    except PosterCodeError:
        return code


async def _poster_from_code(svc: Services, code: str) -> tuple[Poster | None, int, str | None]:
    """The poster a code names, the version printed in it, and why it is refused if it is."""
    try:
        poster_id, version = svc.signing.read_poster_code(code)
    except PosterCodeError as exc:
        return None, 0, exc.reason
    poster = await svc.store.poster_for_form(poster_id)
    if poster is None:
        return None, version, "unknown_poster"
    return poster, version, None


NATIONAL_SITE = "https://www.lapor.go.id"
NATIONAL_SMS = "1708"


def _channels(svc: Services) -> dict[str, Any]:
    """The other official ways to report, for a citizen this page cannot serve: the national
    site and SMS number, and this deployment's own SMS number when it takes text messages."""
    sms = svc.settings.sms
    own = sms.enabled and sms.sender and sms.sender != NATIONAL_SMS
    return {
        "national_site": NATIONAL_SITE,
        "national_sms": NATIONAL_SMS,
        "own_sms": (sms.keywords[0], sms.sender) if own else None,
    }


def _refused(request: Request, svc: Services, reason: str) -> Response:
    if reason != "unknown_unit":
        svc.metrics.rejected_codes.labels(reason).inc()
    status = 410 if reason == "revoked" else 404
    return svc.templates.response(
        request,
        "citizen/invalid.html",
        {"reason": reason, **_channels(svc)},
        status_code=status,
        headers=NO_STORE,
    )


@dataclass(frozen=True)
class _Target:
    """Where a citizen's form sends its report: the poster they scanned, or the unit they
    chose by name on `/` (no poster). The form, its checks and its receipt are the same."""

    action: str  # the form's own URL: "/q/{code}" or "/u/{slug}"
    unit_name: str
    heading: str  # the poster's label, or the unit's name
    from_poster: bool
    cache_key: tuple[Any, ...]  # what the blank form depends on, besides the language


def _poster_target(poster: Poster, code: str) -> _Target:
    return _Target(
        f"/q/{code}",
        poster.unit_name,
        poster.label,
        True,
        ("poster", poster.id, poster.version, poster.label, poster.unit_name, code),
    )


def _unit_target(unit: Unit) -> _Target:
    return _Target(
        f"/u/{unit.slug}", unit.name, unit.name, False, ("unit", unit.id, unit.slug, unit.name)
    )


def _form_context(
    svc: Services,
    target: _Target,
    *,
    token: str,
    form: ReportForm | None = None,
    held: list[tuple[str, ProcessedPhoto]] | None = None,
    errors: list[FieldError] | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "target": target,
        "action": target.action,
        "token": token,
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
    return context


def _form_page(
    request: Request,
    svc: Services,
    target: _Target,
    *,
    token: str,
    form: ReportForm | None = None,
    held: list[tuple[str, ProcessedPhoto]] | None = None,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    context = _form_context(svc, target, token=token, form=form, held=held, errors=errors)
    return svc.templates.response(
        request, "citizen/form.html", context, status_code=status_code, headers=NO_STORE
    )


_TOKEN_SLOT = "\x00form-token\x00"  # survives autoescaping unchanged, never in real text
_BLANK_FORM_CACHE_SIZE = 5_000
_BLANK_FORM_HEADERS = {**NO_STORE, "vary": "Accept-Encoding"}


def _blank_form(request: Request, svc: Services, target: _Target, token: str) -> Response:
    """The empty form, rendered and compressed once per poster (or unit) and language; only the
    token differs between two citizens. The busiest page of the product: most of its cost was
    Jinja, then gzip (web/slotted.py)."""
    key = (*target.cache_key, i18n.current_language())
    # Its own dict: starting afresh when full must not drop the other pages' entries.
    forms: dict[Any, SlottedPage] = svc.page_cache.setdefault("blank_forms", {})
    page = forms.get(key)
    if page is None:
        html = svc.templates.render(
            "citizen/form.html",
            {"request": request, **_form_context(svc, target, token=_TOKEN_SLOT)},
        )
        before, slot, after = html.partition(_TOKEN_SLOT)
        if not slot or _TOKEN_SLOT in after:
            raise RuntimeError("citizen/form.html must print the form token exactly once")
        page = SlottedPage(before, after)
        if len(forms) >= _BLANK_FORM_CACHE_SIZE:
            forms.clear()
        forms[key] = page
    if "gzip" in request.headers.get("accept-encoding", ""):
        return HTMLResponse(
            page.gzipped(token), headers={**_BLANK_FORM_HEADERS, "content-encoding": "gzip"}
        )
    return HTMLResponse(page.plain(token), headers=_BLANK_FORM_HEADERS)


_UNITS_SHOWN = 30


async def home(request: Request) -> Response:
    """Report without a poster: search the agencies by name (a plain GET form), then open
    the chosen one's form."""
    svc = services(request)
    query = request.query_params.get("q", "")[:100]
    units = await svc.store.list_units()
    coordinators = await svc.store.coordinator_units()
    reportable = reportable_units(units, (u.id for u in coordinators))
    names = {u.id: u.name for u in units}
    found = find_units(reportable, query)
    return svc.templates.response(
        request,
        "citizen/home.html",
        {
            "query": query,
            "found": [(u, names.get(u.parent_id or 0)) for u in found[:_UNITS_SHOWN]],
            "more": max(0, len(found) - _UNITS_SHOWN),
            **_channels(svc),
        },
    )


async def poster_form(request: Request) -> Response:
    svc = services(request)
    code = _code(request)
    poster, version, reason = await _poster_from_code(svc, code)
    if poster is None:
        return _refused(request, svc, reason or "unknown_poster")
    if version != poster.version:
        return _refused(request, svc, "revoked")
    # no-store: a cached form would hand two citizens the same idempotency key.
    token = svc.signing.new_form_token(poster.id, poster.version)
    return _blank_form(request, svc, _poster_target(poster, code), token)


async def _reportable_unit(svc: Services, raw: str) -> Unit | None:
    """The unit `/u/{slug}` names, if a citizen may report to it (as `/` lists it)."""
    try:
        slug = read_slug(raw)
    except Invalid:
        return None
    if slug != raw:
        return None
    unit = await svc.store.unit_by_slug(slug)
    if unit is None:
        return None
    coordinators = await svc.store.coordinator_units()
    return unit if reportable_units([unit], (u.id for u in coordinators)) else None


async def unit_form(request: Request) -> Response:
    svc = services(request)
    unit = await _reportable_unit(svc, request.path_params["slug"])
    if unit is None:
        return _refused(request, svc, "unknown_unit")
    token = svc.signing.new_unit_form_token(unit.id)
    return _blank_form(request, svc, _unit_target(unit), token)


async def _read_form(request: Request, svc: Services) -> ReportForm | Response:
    settings = svc.settings
    try:
        return await read_report_form(
            request, max_photos=settings.max_photos, max_photo_bytes=settings.max_photo_bytes
        )
    except FormTooLarge:
        return svc.templates.response(
            request,
            "citizen/invalid.html",
            {"reason": "too_large", **_channels(svc)},
            status_code=413,
            headers=NO_STORE,
        )
    except FormAbandoned:
        return Response(status_code=400)


def _again(
    request: Request,
    svc: Services,
    target: _Target,
    form: ReportForm,
    new_token: Callable[[], str],
    token: FormToken | UnitFormToken | None,
) -> FormAgain:
    """The form shown again with errors. A fresh token only when the old one is unusable;
    otherwise the same one, so the idempotency key stays."""

    def again(
        errors: list[FieldError], status: int, held: list[tuple[str, ProcessedPhoto]] | None
    ) -> Response:
        return _form_page(
            request,
            svc,
            target,
            token=form.token if token is not None else new_token(),
            form=form,
            held=held,
            errors=errors,
            status_code=status,
        )

    return again


async def _take(
    request: Request,
    svc: Services,
    target: _Target,
    form: ReportForm,
    token: FormToken | UnitFormToken,
    entry: Entry,
    again: FormAgain,
) -> Response:
    """A form whose token checked out: the same checks, submission and receipt for a poster's
    form and a unit's."""

    def conflict(tracking_code: str) -> Response:
        return svc.templates.response(
            request,
            "citizen/conflict.html",
            {"tracking_code": tracking.format_code(tracking_code), "form_url": target.action},
            status_code=409,
            headers=NO_STORE,
        )

    checked = await check_report_form(request, svc, form, token.nonce, again)
    if isinstance(checked, Response):
        return checked
    try:
        result = await svc.intake.submit(
            checked.submission,
            entry,
            key=token.nonce,
            language=i18n.current_language(),
            photos=checked.photos,
        )
    except IdempotencyConflict as exc:
        return conflict(exc.tracking_code)
    # Post/Redirect/Get: reloading the receipt never re-sends the form.
    secret = await private_secret(
        svc, result.report_id, token.idempotency_key, result.reporter_secret_hash
    )
    target_url = f"/t/{tracking.format_code(result.tracking_code)}/{secret}?sent=1"
    return RedirectResponse(target_url, status_code=303, headers=NO_STORE)


async def poster_submit(request: Request) -> Response:
    svc = services(request)
    code = _code(request)
    poster, version, reason = await _poster_from_code(svc, code)
    if poster is None:
        return _refused(request, svc, reason or "unknown_poster")
    form = await _read_form(request, svc)
    if isinstance(form, Response):
        return form
    target = _poster_target(poster, code)

    def new_token() -> str:
        return svc.signing.new_form_token(poster.id, poster.version)

    try:
        token = svc.signing.read_form_token(form.token, svc.settings.form_token_max_age)
    except FormTokenError as exc:
        if poster.version != version:
            return _refused(request, svc, "revoked")
        return _again(request, svc, target, form, new_token, None)(
            [FieldError("form", exc.reason)], 400, None
        )
    # The token, not the URL, decides which poster this report belongs to. A form opened
    # before a poster was revoked is still accepted: it was issued while the poster was valid.
    if token.poster_id != poster.id or token.poster_version != version:
        return _again(request, svc, target, form, new_token, None)(
            [FieldError("form", "invalid")], 400, None
        )
    entry = Entry(Channel.POSTER, poster.unit_id, poster_id=poster.id)
    again = _again(request, svc, target, form, new_token, token)
    return await _take(request, svc, target, form, token, entry, again)


async def unit_submit(request: Request) -> Response:
    """The unit's form without a poster: protected as the poster's is (a signed token bound to
    the unit, the honeypot, the per-form and per-address limits), with channel "web"."""
    svc = services(request)
    unit = await _reportable_unit(svc, request.path_params["slug"])
    if unit is None:
        return _refused(request, svc, "unknown_unit")
    form = await _read_form(request, svc)
    if isinstance(form, Response):
        return form
    target = _unit_target(unit)

    def new_token() -> str:
        return svc.signing.new_unit_form_token(unit.id)

    try:
        token = svc.signing.read_unit_form_token(form.token, svc.settings.form_token_max_age)
    except FormTokenError as exc:
        return _again(request, svc, target, form, new_token, None)(
            [FieldError("form", exc.reason)], 400, None
        )
    if token.unit_id != unit.id:
        return _again(request, svc, target, form, new_token, None)(
            [FieldError("form", "invalid")], 400, None
        )
    again = _again(request, svc, target, form, new_token, token)
    return await _take(request, svc, target, form, token, Entry(Channel.WEB, unit.id), again)


async def status_lookup(request: Request) -> Response:
    svc = services(request)
    raw = request.query_params.get("code", "")
    if raw:
        return await _status(request, svc, raw)
    return svc.templates.response(request, "citizen/lookup.html", {"problem": None, "typed": ""})


async def status_page(request: Request) -> Response:
    return await _status(request, services(request), request.path_params["code"])


REPORTER_REFUSALS = {
    Refusal.STALE: N_("The report changed while this page was open. Here it is as it is now."),
    Refusal.WRONG_STATUS: N_("This cannot be done at this point of the report."),
    Refusal.REASON_TOO_SHORT: N_("Write at least 10 characters."),
    Refusal.REASON_TOO_LONG: N_("Write at most 2000 characters."),
    Refusal.RATING_REQUIRED: N_("Choose a rating from 1 to 5."),
}


async def status_attachment(request: Request) -> Response:
    """A photo or letter the unit sent with its answer: public like the answer itself."""
    svc = services(request)
    if not await svc.limits.hit(
        svc.settings.track_limit_per_address, "track", client_address(request)
    ):
        svc.metrics.rate_limited.labels("track").inc()
        return Response(status_code=429)
    code = tracking.normalize(request.path_params["code"])
    report = await svc.store.report_by_tracking_code(code) if code else None
    if report is None:
        return Response(status_code=404)
    return await attachment_response(
        svc.photos, report, request.path_params["attachment_id"], cache="public, max-age=3600"
    )


async def _report_photo(request: Request, secret: str | None) -> Response:
    """A photo the reporter sent, as small as the page shows it: to the reporter every one
    (through the private link), to the public only those the public may see."""
    svc = services(request)
    if not await svc.limits.hit(
        svc.settings.track_limit_per_address, "track", client_address(request)
    ):
        svc.metrics.rate_limited.labels("track").inc()
        return Response(status_code=429)
    code = tracking.normalize(request.path_params["code"])
    report = await svc.store.report_by_tracking_code(code) if code else None
    if report is None or (
        secret is not None
        and not svc.signing.reporter_secret_ok(
            report.idempotency_key, report.reporter_secret_hash, secret
        )
    ):
        return Response(status_code=404)
    if secret is None:
        content = disclosure.for_public(report)
        cache = "public, max-age=3600"
    else:
        content = disclosure.for_reporter(report)
        cache = "private, max-age=3600"
    position = request.path_params["position"]
    found = next((p for p in content.photos if p.position == position), None)
    small = request.query_params.get("size") == "small"
    return await photo_response(svc.photos, found, cache=cache, small=small)


async def status_photo(request: Request) -> Response:
    return await _report_photo(request, None)


async def private_photo(request: Request) -> Response:
    return await _report_photo(request, request.path_params["secret"])


async def status_private(request: Request) -> Response:
    return await _status(
        request,
        services(request),
        request.path_params["code"],
        secret=request.path_params["secret"],
    )


async def _reporters_report(request: Request, svc: Services) -> Report | Response:
    """The report a POST through the private link acts on, or its refusal: 403 from another
    site, 404 when the code or the secret does not match (the secret is the permission)."""
    if not same_origin(request):
        return Response(status_code=403)
    code = tracking.normalize(request.path_params["code"])
    report = await svc.store.report_by_tracking_code(code) if code else None
    if report is None or not svc.signing.reporter_secret_ok(
        report.idempotency_key, report.reporter_secret_hash, request.path_params["secret"]
    ):
        return svc.templates.response(
            request, "citizen/lookup.html", {"problem": "unknown", "typed": ""}, status_code=404
        )
    return report


def reporter_action(action: Action) -> Callable[[Request], Awaitable[Response]]:
    """Reply or accept through the private link: the secret in the URL is the permission."""

    async def view(request: Request) -> Response:
        svc = services(request)
        report = await _reporters_report(request, svc)
        if isinstance(report, Response):
            return report
        secret = request.path_params["secret"]
        form = await request.form(max_files=0, max_fields=10, max_part_size=20_000)
        seen = read_seen_version(str(form.get("version", "")))
        typed = str(form.get("text", ""))[:5000]
        try:
            if action is Action.REPLY:
                await svc.store.reporter_acts(
                    report.id,
                    seen_version=seen,
                    action=action,
                    text=read_reason(typed),
                )
            else:
                await svc.store.reporter_acts(
                    report.id,
                    seen_version=seen,
                    action=action,
                    rating=read_rating(str(form.get("rating", ""))),
                )
        except WorkflowError as exc:
            status = 409 if exc.refusal in (Refusal.STALE, Refusal.WRONG_STATUS) else 400
            message = REPORTER_REFUSALS.get(exc.refusal, N_("Check the form."))
            return await _status(
                request,
                svc,
                request.path_params["code"],
                secret=secret,
                refusal=i18n.gettext(message),
                typed=typed,
                status_code=status,
            )
        svc.mail.wake()
        canonical = tracking.format_code(report.tracking_code)
        return RedirectResponse(f"/t/{canonical}/{secret}", status_code=303)

    view.__name__ = f"reporter_{action.value}"
    return view


reporter_reply = reporter_action(Action.REPLY)
reporter_accept = reporter_action(Action.ACCEPT)


async def reporter_message(request: Request) -> Response:
    """The reporter's answer to staff's mail, through the private link: on the report's
    conversation, the people who hold the report told; the status and its deadline stay."""
    svc = services(request)
    report = await _reporters_report(request, svc)
    if isinstance(report, Response):
        return report
    secret = request.path_params["secret"]
    form = await request.form(max_files=0, max_fields=10, max_part_size=20_000)
    typed = str(form.get("text", ""))[:5000]
    # Each message mails the people holding the report: limited as submissions are.
    if not await svc.limits.hit(
        svc.settings.submit_limit_per_address, "submit-addr", client_address(request)
    ):
        svc.metrics.rate_limited.labels("submit_address").inc()
        return await _status(
            request,
            svc,
            request.path_params["code"],
            secret=secret,
            refusal=i18n.gettext(
                N_("Too many messages from this connection just now. Wait a minute and send again.")
            ),
            typed=typed,
            status_code=429,
        )
    messages = await svc.store.reporter_conversation(report.id)
    try:
        if not reporter_may_write(report.status, messages):
            raise WorkflowError(Refusal.WRONG_STATUS)
        text = read_reason(typed)
    except WorkflowError as exc:
        status = 409 if exc.refusal is Refusal.WRONG_STATUS else 400
        return await _status(
            request,
            svc,
            request.path_params["code"],
            secret=secret,
            refusal=i18n.gettext(REPORTER_REFUSALS.get(exc.refusal, N_("Check the form."))),
            typed=typed,
            status_code=status,
        )
    await svc.store.reporter_message(report.id, channel=WEB, text=text, key=None)
    svc.mail.wake()
    canonical = tracking.format_code(report.tracking_code)
    return RedirectResponse(f"/t/{canonical}/{secret}#conversation", status_code=303)


async def _status(
    request: Request,
    svc: Services,
    raw: str,
    *,
    secret: str | None = None,
    refusal: str | None = None,
    typed: str = "",
    status_code: int = 200,
) -> Response:
    if not await svc.limits.hit(
        svc.settings.track_limit_per_address, "track", client_address(request)
    ):
        svc.metrics.rate_limited.labels("track").inc()
        return svc.templates.response(
            request,
            "citizen/lookup.html",
            {"problem": "rate_limited", "typed": raw[:40]},
            status_code=429,
        )
    problem = tracking.explain(raw)
    code = tracking.normalize(raw) if problem == "ok" else None
    if code is None:
        return svc.templates.response(
            request, "citizen/lookup.html", {"problem": problem, "typed": raw[:40]}, status_code=404
        )
    canonical = tracking.format_code(code)
    if raw != canonical and request.method == "GET":
        query = "?sent=1" if request.query_params.get("sent") else ""
        private = f"/{secret}" if secret else ""
        return RedirectResponse(f"/t/{canonical}{private}{query}", status_code=301)
    report = await svc.store.report_by_tracking_code(code)
    if report is None and secret is None and await svc.store.kiosks.code_is_waiting(code):
        return svc.templates.response(
            request,
            "citizen/lookup.html",
            {"problem": "waiting", "typed": canonical},
            headers={"cache-control": "no-store"},
        )
    if report is None or (
        secret is not None
        and not svc.signing.reporter_secret_ok(
            report.idempotency_key, report.reporter_secret_hash, secret
        )
    ):
        # A wrong secret looks exactly like an unknown code: nothing to probe.
        return svc.templates.response(
            request,
            "citizen/lookup.html",
            {"problem": "unknown", "typed": canonical},
            status_code=404,
        )
    actions = [a.value for a in available_actions("reporter", report.status)] if secret else []
    messages: tuple[ChannelMessage, ...] = ()
    if secret:
        content = disclosure.for_reporter(report, await svc.store.sent_text(report.id))
        messages = await svc.store.reporter_conversation(report.id)
    else:
        content = disclosure.for_public(report)
    return svc.templates.response(
        request,
        "citizen/status.html",
        {
            "report": report,
            "progress": progress(
                report, svc.settings.calendar, svc.settings.deadline_rules, svc.settings.timezone
            ),
            "answer": current_answer(report),
            "question": pending_question(report),
            "content": content,
            "photo_base": f"/t/{canonical}{f'/{secret}' if secret else ''}/photos/",
            "code": canonical,
            "sent": bool(request.query_params.get("sent")),
            "status_url": f"{svc.settings.base_url}/t/{canonical}",
            "private_url": f"{svc.settings.base_url}/t/{canonical}/{secret}" if secret else None,
            "secret": secret,
            "actions": actions,
            # Staff's mails and the reporter's answers, on the private page alone.
            "timeline": sorted([*report.events, *messages], key=lambda item: item.at),
            "may_write": bool(secret) and reporter_may_write(report.status, messages),
            "refusal": refusal,
            "typed": typed,
        },
        status_code=status_code,
        # The private page must not leak its URL to the links it contains.
        headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
    )
