"""The staff workspace at /admin: sign-in, the coordinator's inbox, a report's page, the outbox.

Every view checks the session and the role itself; templates only decide what to draw."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin import auth, signin
from lapor.admin.access import path_id, staff_only, staff_scope
from lapor.admin.queries import filter_errors, local_today, query_bounds, request_query
from lapor.admin.refusals import REFUSALS
from lapor.admin.responses import HTMX_VARY, NO_STORE, wants_partial
from lapor.complaints import national, tracking
from lapor.complaints.access import Scope, can_see_identity, sees_redacted
from lapor.complaints.categories import CATEGORIES, CATEGORY_CODES
from lapor.complaints.conversation import (
    REPLY_MAX,
    ReplyError,
    ReplyRefusal,
    read_reply,
    reply_channel,
)
from lapor.complaints.deadlines import escalation_due
from lapor.complaints.inbox import (
    next_cursor,
)
from lapor.complaints.progress import progress
from lapor.complaints.publication import (
    ListHold,
    may_be_listed,
    personal_data,
    read_withhold_reason,
)
from lapor.complaints.records import Event, HandOver, Report, StaffSession, Unit
from lapor.complaints.reminders import UNRESOLVED
from lapor.complaints.reports import Channel, Identity, Kind, Status
from lapor.complaints.workflow import (
    Action,
    Bulk,
    Edit,
    Refusal,
    WorkflowError,
    available_actions,
    available_edits,
    bulk_actions,
    edit_allowed,
    read_answer,
    read_bulk,
    read_classification,
    read_extension,
    read_forwarding,
    read_note,
    read_reason,
    read_redaction,
    read_seen_version,
    read_selection,
    read_unit_choice,
)
from lapor.store.errors import NotFound
from lapor.store.photos import PhotoError, ProcessedPhoto
from lapor.web.files import attachment_response, photo_response
from lapor.web.i18n import N_, current_language, gettext
from lapor.web.labels import personal_data_label
from lapor.web.services import Services, client_address, services
from lapor.web.templating import unit_options_version


def _safe_next(target: str | None) -> str:
    # Only our own paths: a crafted ?next= must not send staff to another site after login.
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


async def login(request: Request) -> Response:
    svc = services(request)
    context: dict[str, Any] = {
        "error": None,
        "email": "",
        "next": _safe_next(request.query_params.get("next")),
    }
    if request.method == "GET":
        if await auth.current_session(request):
            return RedirectResponse("/admin", status_code=303)
        return svc.templates.response(request, "admin/login.html", context, headers=NO_STORE)
    if not auth.same_origin(request):
        raise HTTPException(403)
    form = await request.form(max_files=0, max_fields=10)
    email = str(form.get("email", ""))[:254].strip().lower()
    password = str(form.get("password", ""))[:200]
    context.update(email=email, next=_safe_next(str(form.get("next", ""))))
    settings = svc.settings
    user = await svc.store.user_by_email(email) if email else None
    attempt = await signin.count_attempt(
        svc,
        email=email,
        user_id=user.id if user else None,
        address=client_address(request),
        device_cookie=request.cookies.get(signin.DEVICE_COOKIE),
    )
    if attempt.refused is not None:
        svc.metrics.rate_limited.labels("login").inc()
        context["error"] = attempt.refused
        return svc.templates.response(
            request, "admin/login.html", context, status_code=429, headers=NO_STORE
        )
    ok = await asyncio.to_thread(
        auth.verify_password, user.password_hash if user else None, password
    )
    if not ok or user is None or not user.active:
        context["error"] = "invalid"
        return svc.templates.response(
            request, "admin/login.html", context, status_code=400, headers=NO_STORE
        )
    await attempt.succeeded(svc)
    token = auth.new_session_token()
    await svc.store.create_session(user.id, auth.token_hash(token), settings.session_max_age)
    response = RedirectResponse(context["next"], status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        max_age=settings.session_max_age,
        httponly=True,
        samesite="lax",
        secure=settings.https,
        path="/",
    )
    # Kept after sign-out: it names the browser, not a session, and lets its owner in while
    # strangers' guesses fill the account's ceiling.
    response.set_cookie(
        signin.DEVICE_COOKIE,
        svc.signing.staff_device(user.id, attempt.device_nonce),
        max_age=signin.DEVICE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.https,
        path="/admin",
    )
    return response


@staff_only()
async def logout(request: Request, session: StaffSession) -> Response:
    token = request.cookies.get(auth.SESSION_COOKIE, "")
    await services(request).store.delete_session(auth.token_hash(token))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


PAGE_SIZE = 50


@staff_only()
async def inbox(request: Request, session: StaffSession) -> Response:
    """The inbox: filters, search, counts per status. An htmx request (the filter form as it
    changes) gets only the results block; without JavaScript the same form reloads the page."""
    svc = services(request)
    role = session.user.role
    query, errors = request_query(request)
    unrouted = request.query_params.get("view") == "unrouted" and role == "admin"
    scope = staff_scope(session)
    opened = await _report_named_by_code(svc, query.text, scope)
    if opened is not None:
        # A citizen on the phone reads out their code: it opens the report, however typed.
        if wants_partial(request):
            return Response(headers={**NO_STORE, "vary": HTMX_VARY, "hx-redirect": opened})
        return RedirectResponse(opened, status_code=303, headers={"vary": HTMX_VARY})
    settings = svc.settings
    bounds = query_bounds(query, settings)
    today = bounds["today"]
    bulk = [b.value for b in bulk_actions(role)] if not unrouted else []
    page, counts, units, people = await asyncio.gather(
        svc.store.inbox(scope, query, **bounds, limit=PAGE_SIZE + 1, unrouted=unrouted),
        svc.store.status_counts(scope),
        svc.store.units_in_scope(scope),
        svc.store.unit_staff(session.unit.id, _ASSIGNABLE[role]) if bulk else _nobody(),
    )
    more = len(page.items) > PAGE_SIZE
    items = page.items[:PAGE_SIZE]
    calendar = settings.calendar
    extra = [("view", "unrouted")] if unrouted else []
    back = urlencode(query.params() + extra)
    headers = {**NO_STORE, "vary": HTMX_VARY}
    context = {
        "session": session,
        "items": items,
        "unrouted": unrouted,
        "query": query,
        "errors": filter_errors(errors),
        "counts": counts,
        "total": sum(counts.values()),
        "units": units,
        "statuses": list(Status),
        "kinds": list(Kind),
        "channels": list(Channel),
        "next_page": (
            urlencode(query.params(after=next_cursor(items[-1], query)) + extra) if more else None
        ),
        # A search that looked at the newest stretch of reports only (store.inbox): the link
        # searches the next, older one.
        "older_page": (
            urlencode(query.params(after=page.rest) + extra)
            if page.rest is not None and not more
            else None
        ),
        "export_query": urlencode(query.first_page().params()),
        "status_link": lambda status: urlencode([("status", status.value), *extra]),
        "format_code": tracking.group,
        "days_left": lambda due: calendar.working_days_left(today, due),
        "bulk": bulk,
        "people": people,
        "categories": CATEGORIES,
        "back": back,
        **_unit_filter(units, query.unit_id, back),
    }
    status_code = 400 if errors else 200
    if wants_partial(request):
        return svc.templates.response(
            request,
            "admin/inbox.html",
            context,
            block="results",
            status_code=status_code,
            headers=headers,
        )
    return svc.templates.response(
        request, "admin/inbox.html", context, status_code=status_code, headers=headers
    )


# Up to this many units the inbox's unit filter lists them all. Above it (a province: 500
# units, 40 KB of <option>s on every page) the filter shows the chosen unit only; htmx loads
# the whole list from a cacheable URL when the picker is first touched, and without
# JavaScript a link opens a page with the list.
UNIT_FILTER_INLINE = 60


def _unit_filter(units: list[Unit], chosen: int | None, back: str) -> dict[str, Any]:
    if len(units) <= UNIT_FILTER_INLINE:
        return {"unit_options_url": None, "chosen_unit": None}
    params = {"v": unit_options_version(units, current_language())}
    if chosen is not None:
        params["selected"] = str(chosen)
    return {
        "unit_options_url": "/admin/unit-options?" + urlencode(params),
        "unit_filter_url": "/admin/unit-filter" + (f"?{back}" if back else ""),
        "chosen_unit": next((u for u in units if u.id == chosen), None),
    }


@staff_only()
async def unit_options(request: Request, session: StaffSession) -> Response:
    """The unit filter's <option>s, swapped into the inbox's picker by htmx. The URL names
    the version of the caller's unit list (and language) it was made for, so the browser may
    keep it: a renamed or added unit, or another language, gives another URL."""
    svc = services(request)
    units = await svc.store.units_in_scope(staff_scope(session))
    selected = request.query_params.get("selected", "")[:20]
    current = request.query_params.get("v") == unit_options_version(units, current_language())
    body = svc.templates.render("admin/_unit_options.html", {"units": units, "selected": selected})
    # Private: the list is the caller's own part of the organisation.
    cache = "private, max-age=86400" if current else "no-store"
    return Response(body, media_type="text/html; charset=utf-8", headers={"cache-control": cache})


@staff_only()
async def unit_filter(request: Request, session: StaffSession) -> Response:
    """The unit filter without JavaScript: the list of units on a page of its own, sent back
    to the inbox with the other filters as they were."""
    svc = services(request)
    query, _ = request_query(request)
    unrouted = request.query_params.get("view") == "unrouted" and session.user.role == "admin"
    extra = [("view", "unrouted")] if unrouted else []
    params = query.first_page().params() + extra
    units = await svc.store.units_in_scope(staff_scope(session))
    return svc.templates.response(
        request,
        "admin/unit_filter.html",
        {
            "session": session,
            "units": units,
            "back": urlencode(params),
            "carried": [(k, v) for k, v in params if k != "unit"],
            "selected": "" if query.unit_id is None else str(query.unit_id),
        },
        headers=NO_STORE,
    )


async def _report_named_by_code(svc: Services, text: str, scope: Scope) -> str | None:
    """The page of the report whose tracking code, or national tracking ID (SP4N-LAPOR!),
    `text` is, if `scope` reaches it. Outside the scope the words are searched as any others:
    another unit's reports stay unseen."""
    code = tracking.normalize(text) if text else None
    report_id = await svc.store.report_id_for_staff(code, scope) if code else None
    if report_id is None and text:
        try:
            national_id = national.read_national_id(text)
        except ValueError:
            national_id = None
        if national_id is not None:
            report_id = await svc.store.report_id_for_national_id(national_id, scope)
    return None if report_id is None else f"/admin/reports/{report_id}"


async def _visible_report(request: Request, session: StaffSession) -> Report:
    report = await services(request).store.report_for_staff(
        path_id(request, "report_id"), staff_scope(session)
    )
    if report is None:
        # 404, not 403: whether another unit's report exists is not the caller's business.
        raise HTTPException(404)
    return as_seen_by(report, session.user.role)


def as_seen_by(report: Report, role: str) -> Report:
    """The report without what a redaction took away from `role`: withheld photos and the
    original text kept in the audit log."""
    if sees_redacted(role):
        return report
    return dataclasses.replace(
        report,
        photos=tuple(p for p in report.photos if not p.withheld),
        events=tuple(
            dataclasses.replace(e, note=None) if e.kind == "redacted" else e for e in report.events
        ),
    )


@dataclasses.dataclass(frozen=True)
class Listing:
    """The report and the public list of answered reports, as its coordinator is shown it."""

    may: bool  # its identity and status let it on the list
    confidential: bool
    answered: bool
    hold: ListHold | None
    reason: str | None
    flags: str  # what still looks like personal data, in words; "" when nothing does


def _listing(report: Report) -> Listing:
    answer = next((e.note for e in reversed(report.events) if e.kind == "followed_up"), None)
    found = personal_data(report.text, answer)
    return Listing(
        may_be_listed(report.identity, report.status),
        report.identity is Identity.CONFIDENTIAL,
        answer is not None,
        ListHold(report.list_hold) if report.list_hold else None,
        report.list_hold_reason,
        ", ".join(personal_data_label(p) for p in found),
    )


def _unit_note(report: Report) -> Event | None:
    """The coordinator's note that went with the last forwarding: the unit's first thing to
    read, so it is shown beside the report rather than left in the timeline."""
    for index in range(len(report.events) - 1, -1, -1):
        event = report.events[index]
        if event.kind == "forwarded":
            following = report.events[index + 1 : index + 2]
            if following and following[0].kind == "internal_note" and following[0].at == event.at:
                return following[0]
            return None
    return None


# What the page says after a change went through (?done=, set by _act's redirect).
DONE_MESSAGES = {
    "forward": N_("Forwarded: the unit's people are told by e-mail, and its deadline runs."),
    "follow-up": N_("The answer is sent: the reporter is told, and can accept it or reply."),
    "postpone": N_("The question is sent to the reporter; the report waits for their answer."),
    "not-authority": N_("Closed as not this organisation's authority; the reporter is told."),
    "archive": N_("Archived; the reporter is told."),
    "reroute": N_("Returned to the coordinator."),
    "classify": N_("Saved."),
    "redact": N_("The redaction is saved."),
    "note": N_("The note is added."),
    "assign": N_("Saved."),
    "extend": N_("The unit has more time; the new deadline is below."),
    "public-list": N_("Saved."),
    "reply": N_(
        "The message is on its way to the reporter; the timeline shows when it is delivered."
    ),
}


def _done_message(raw: str) -> str | None:
    message = DONE_MESSAGES.get(raw)
    return gettext(message) if message else None


async def _report_page(
    request: Request,
    session: StaffSession,
    *,
    refusal: Refusal | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    reply_problem: str | None = None,
    national_problem: str | None = None,
) -> Response:
    svc = services(request)
    report = await _visible_report(request, session)
    role = session.user.role
    actions = available_actions(role, report.status)
    edits = available_edits(role, report.status)
    scope = staff_scope(session)
    units = await svc.store.units_in_scope(scope) if Action.FORWARD in actions else []
    people = (
        await svc.store.assignable_people(report.id, session.user, scope)
        if Edit.ASSIGN in edits
        else []
    )
    answers = []
    handover_units = (
        [u for u in await svc.store.coordinator_units() if u.id != report.routed_unit_id]
        if Action.NOT_AUTHORITY in actions
        else []
    )
    typed = dict(typed or {})
    # While it waits for verification, the coordinator is shown what may be the same report.
    similar = await svc.store.similar_reports(report, scope) if Action.ARCHIVE in actions else []
    picked_original = request.query_params.get("duplicate_of", "")[:20]
    if picked_original and "duplicate_of" not in typed:
        typed["duplicate_of"] = picked_original
    if Action.FOLLOW_UP in actions:
        # An officer's session unit is the unit the report was forwarded to.
        answers = await svc.store.templates_for(session.unit, report.category)
        picked = request.query_params.get("template", "")
        chosen = next((a for a in answers if str(a.id) == picked), None)
        if chosen is not None and "answer" not in typed:
            typed["answer"] = chosen.body
    today = local_today(svc.settings.timezone)
    rules = svc.settings.deadline_rules
    report = await _with_words(svc, report)
    channel = reply_channel(report.reply_channel, report.reporter_email)
    may_reply = channel is not None and role in REPLIERS
    national_ctx = _national_section(svc, report, role, national_problem)
    return svc.templates.response(
        request,
        "admin/report.html",
        {
            "session": session,
            "report": report,
            "show_identity": can_see_identity(role, report.identity),
            "code": tracking.format_code(report.tracking_code),
            "days_left": svc.settings.calendar.working_days_left(today, report.verify_due),
            "progress": progress(report, svc.settings.calendar, rules, svc.settings.timezone),
            "follow_up_days_left": (
                svc.settings.calendar.working_days_left(today, report.follow_up_due)
                if report.follow_up_due
                else None
            ),
            "actions": [a.value for a in actions],
            "units": units,
            "flagged_days": (
                rules.escalate_after_calendar_days
                if report.status in UNRESOLVED
                and escalation_due(report.received_at, rules, svc.settings.timezone) <= today
                else None
            ),
            "edits": [e.value for e in edits],
            "people": people,
            "categories": CATEGORIES,
            "assignee": next((p for p in people if p.id == report.assigned_user_id), None),
            "refusal": gettext(REFUSALS[refusal]) if refusal else None,
            "typed": typed,
            "answers": answers,
            "handover_units": handover_units,
            "similar": similar,
            "format_code": tracking.group,
            # The conversation on the reporter's channel, in the timeline by time.
            "timeline": sorted([*report.events, *report.messages], key=lambda item: item.at),
            "may_reply": may_reply,
            "no_reply_reason": (
                gettext(NO_CONTACT[report.identity is Identity.ANONYMOUS])
                if role in REPLIERS and channel is None
                else None
            ),
            "report_channel": channel,
            "reply_problem": reply_problem,
            "reply_max": REPLY_MAX.get(channel or "", 0),
            "has_actions": bool(
                actions or edits or role in REPLIERS or national_ctx["national_section"]
            ),
            "listing": _listing(report) if Edit.PUBLISH in edits else None,
            "unit_note": _unit_note(report),
            "done": _done_message(request.query_params.get("done", "")),
            # The national portal's section: its button where the report can go there, that
            # it is on its way, or, to those who may send it, that it must be verified first.
            **national_ctx,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def _national_section(
    svc: Services, report: Report, role: str, problem: str | None
) -> dict[str, Any]:
    on = svc.settings.national.enabled and not report.national_id
    waiting = on and any(e.kind == "national_queued" for e in report.events)
    sender = on and national.may_send(role) and not waiting
    verified = report.status in national.VERIFIED
    return {
        "national_section": bool(problem) or waiting or sender,
        "may_send_national": sender and verified,
        "national_waiting": waiting,
        "national_problem": problem,
    }


async def _with_words(svc: Services, report: Report) -> Report:
    """The conversation's outgoing messages not sent yet, in the words they will go out in:
    the outbox composes them as it does for its own page."""
    waiting = [m.outbox_id for m in report.messages if m.text is None and m.outbox_id]
    if not waiting:
        return report
    words = {m.id: svc.mail.written(m).body for m in await svc.store.outbox_messages(waiting)}
    messages = tuple(
        dataclasses.replace(m, text=words.get(m.outbox_id)) if m.text is None and m.outbox_id else m
        for m in report.messages
    )
    return dataclasses.replace(report, messages=messages)


@staff_only()
async def report_detail(request: Request, session: StaffSession) -> Response:
    return await _report_page(request, session)


# Who may write to the reporter: the people who work the report, not those who watch it.
REPLIERS = ("coordinator", "officer")
REPLY_PROBLEMS = {
    ReplyRefusal.EMPTY: N_("Write the message for the reporter."),
    ReplyRefusal.TOO_LONG: N_(
        "Too long for a text message: keep it to two SMS (about 300 letters, fewer with "
        "letters outside the basic alphabet)."
    ),
    ReplyRefusal.NO_CHANNEL: N_("This reporter left no number or e-mail address to write to."),
}
# Why the page offers no message to the reporter (keyed by: reported anonymously).
NO_CONTACT = {
    True: N_("No message to the reporter: they reported anonymously, so no contact is kept."),
    False: N_("No message to the reporter: they left no phone number or e-mail address."),
}


@staff_only(*REPLIERS)
async def reply(request: Request, session: StaffSession) -> Response:
    """Staff's message to the reporter on the reporter's channel, through the outbox. A plain
    form posts and comes back to the report; htmx swaps the conversation alone, and gets a
    refusal with 200 (htmx swaps nothing else) and the sentence in the block."""
    svc = services(request)
    report = await _visible_report(request, session)
    form = await request.form()
    typed = str(form.get("message", ""))[:5000]
    try:
        text = read_reply(typed, reply_channel(report.reply_channel, report.reporter_email))
        await svc.store.queue_reply(
            report.id, actor=session.user, scope=staff_scope(session), text=text
        )
    except ReplyError as exc:
        return await _report_page(
            request,
            session,
            status_code=200 if wants_partial(request) else 400,
            typed={"message": typed},
            reply_problem=gettext(REPLY_PROBLEMS[exc.refusal]),
        )
    except NotFound:
        raise HTTPException(404) from None
    svc.mail.wake()
    # Without JavaScript the page says it went (htmx swaps the form and the timeline alone).
    return RedirectResponse(f"/admin/reports/{report.id}?done=reply#conversation", status_code=303)


NATIONAL_REFUSALS = {
    national.Refusal.NOT_VERIFIED: N_(
        "Only a verified report (forwarded, answered or closed) goes to the national portal."
    ),
    national.Refusal.ALREADY_SENT: N_("This report already has a national tracking ID."),
    national.Refusal.ALREADY_QUEUED: N_(
        "This report is already on its way to the national portal; a failed delivery is "
        "resent from the outbox."
    ),
}


@staff_only("coordinator", "admin")
async def send_national(request: Request, session: StaffSession) -> Response:
    """Send the report to the national portal SP4N-LAPOR!: one delivery through the outbox.
    Coordinators of the report's scope and admins; the store checks the scope."""
    svc = services(request)
    if not svc.settings.national.enabled:
        raise HTTPException(404)
    try:
        await svc.store.send_to_national(
            path_id(request, "report_id"), actor=session.user, scope=staff_scope(session)
        )
    except national.NationalError as exc:
        return await _report_page(
            request,
            session,
            status_code=409,
            national_problem=gettext(NATIONAL_REFUSALS[exc.refusal]),
        )
    except NotFound:
        raise HTTPException(404) from None
    svc.mail.wake()
    return RedirectResponse(f"/admin/reports/{request.path_params['report_id']}#national", 303)


def _seen_version(form: Any) -> int:
    return read_seen_version(str(form.get("version", "")))


def _refused(refusal: Refusal) -> int:
    return 409 if refusal in (Refusal.STALE, Refusal.WRONG_STATUS) else 400


async def _act(
    request: Request,
    session: StaffSession,
    typed: dict[str, str],
    change: Callable[[], Awaitable[object]],
) -> Response:
    """Run one workflow change; a refusal shows the report again with what was typed, success
    goes back to the report (Post/Redirect/Get), or to the inbox when the change returned
    True (the report left the caller's reach), and wakes the mail sender."""
    try:
        left = await change()
    except WorkflowError as exc:
        return await _report_page(
            request, session, refusal=exc.refusal, status_code=_refused(exc.refusal), typed=typed
        )
    except NotFound:
        raise HTTPException(404) from None
    services(request).mail.wake()
    if left is True:
        return RedirectResponse("/admin", status_code=303)
    done = request.url.path.rsplit("/", 1)[-1]
    return RedirectResponse(
        f"/admin/reports/{request.path_params['report_id']}?done={done}", status_code=303
    )


@staff_only("coordinator")
async def forward(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form()
    typed = {k: str(form.get(k, ""))[:5000] for k in ("title", "category", "tags", "note", "unit")}
    units = {u.id for u in await svc.store.units_in_scope(staff_scope(session))}

    async def change() -> None:
        classification = read_classification(
            typed["title"], typed["category"], typed["tags"], CATEGORY_CODES
        )
        forwarding = read_forwarding(classification, typed["note"], typed["unit"], units)
        await svc.store.forward_report(
            path_id(request, "report_id"),
            seen_version=_seen_version(form),
            actor=session.user,
            scope=staff_scope(session),
            forwarding=forwarding,
            follow_up_due=await svc.follow_up_due(forwarding.unit_id, datetime.now(UTC)),
        )

    return await _act(request, session, typed, change)


def decision(action: Action) -> Callable[[Request], Awaitable[Response]]:
    """Tunda, bukan wewenang, archive: one view each, the same shape."""

    @staff_only("coordinator")
    async def view(request: Request, session: StaffSession) -> Response:
        svc = services(request)
        form = await request.form()
        typed = {
            f"{action.value}_reason": str(form.get("reason", ""))[:5000],
            "duplicate_of": str(form.get("duplicate_of", ""))[:40],
            "hand_to": str(form.get("hand_to", ""))[:20].strip(),
        }
        raw_original = typed["duplicate_of"].strip()

        async def change() -> bool:
            original = None
            if action is Action.ARCHIVE and raw_original:
                original = tracking.normalize(raw_original)
                if original is None:
                    raise WorkflowError(Refusal.ORIGINAL_UNKNOWN)
            reason = read_reason(typed[f"{action.value}_reason"])
            hand_to = None
            if action is Action.NOT_AUTHORITY and typed["hand_to"]:
                unit_id = read_unit_choice(
                    typed["hand_to"], {u.id for u in await svc.store.coordinator_units()}
                )
                hand_to = HandOver(unit_id, await svc.intake.verify_due(unit_id, datetime.now(UTC)))
            await svc.store.decide(
                path_id(request, "report_id"),
                seen_version=_seen_version(form),
                actor=session.user,
                scope=staff_scope(session),
                action=action,
                reason=reason,
                duplicate_of=original,
                hand_to=hand_to,
            )
            return hand_to is not None

        return await _act(request, session, typed, change)

    view.__name__ = f"decide_{action.value}"
    return view


postpone = decision(Action.POSTPONE)
not_authority = decision(Action.NOT_AUTHORITY)
archive = decision(Action.ARCHIVE)


ATTACHMENTS_MAX = 3
# The parser may see a few more files than we keep, so "at most 3" is a sentence, not a 400.
_PARSED_FILES = 10


@staff_only("officer", max_files=_PARSED_FILES)
async def follow_up(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form()
    typed = {"answer": str(form.get("answer", ""))[:20000]}
    uploads = [f for f in form.getlist("attachments") if isinstance(f, UploadFile) and f.filename]

    async def change() -> None:
        answer = read_answer(typed["answer"])
        files = await read_attachments(svc, uploads)
        await svc.photos.commit([f.name for f in files])
        await svc.store.follow_up_report(
            path_id(request, "report_id"),
            seen_version=_seen_version(form),
            actor=session.user,
            scope=staff_scope(session),
            answer=answer,
            attachments=[f.as_new_photo() for f in files],
        )

    try:
        return await _act(request, session, typed, change)
    finally:
        await form.close()


async def read_attachments(svc: Any, uploads: list[UploadFile]) -> list[ProcessedPhoto]:
    """Photos (re-encoded, no EXIF, as the citizen's) and PDF letters for an answer."""
    if len(uploads) > ATTACHMENTS_MAX:
        raise WorkflowError(Refusal.TOO_MANY_ATTACHMENTS)
    files = []
    for upload in uploads:
        data = await upload.read(svc.settings.max_photo_bytes + 1)
        try:
            if data.startswith(b"%PDF-"):
                files.append(await svc.photos.process_document(data))
            else:
                files.append(await svc.photos.process(data))
        except PhotoError:
            raise WorkflowError(Refusal.ATTACHMENT_INVALID) from None
    return files


@staff_only("coordinator")
async def classify(request: Request, session: StaffSession) -> Response:
    """Title, category and tags, changed after verification (or before it, on their own)."""
    svc = services(request)
    form = await request.form()
    typed = {f"classify_{k}": str(form.get(k, ""))[:5000] for k in ("title", "category", "tags")}

    async def change() -> None:
        await svc.store.classify_report(
            path_id(request, "report_id"),
            seen_version=_seen_version(form),
            actor=session.user,
            scope=staff_scope(session),
            classification=read_classification(
                typed["classify_title"],
                typed["classify_category"],
                typed["classify_tags"],
                CATEGORY_CODES,
            ),
        )

    return await _act(request, session, typed, change)


@staff_only("coordinator")
async def redact(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form()
    typed = {"redacted_text": str(form.get("text", ""))[:20000]}
    withheld = [str(v) for v in form.getlist("withhold")]

    async def change() -> None:
        report = await _visible_report(request, session)
        redaction = read_redaction(
            typed["redacted_text"], withheld, {p.position for p in report.photos}
        )
        await svc.store.redact_report(
            report.id,
            seen_version=_seen_version(form),
            actor=session.user,
            scope=staff_scope(session),
            redaction=redaction,
        )

    return await _act(request, session, typed, change)


@staff_only("coordinator")
async def public_list(request: Request, session: StaffSession) -> Response:
    """Keep the report off the public list of answered reports (with a reason), or let it on
    (also after looking at a text that seemed to hold personal data)."""
    svc = services(request)
    form = await request.form()
    action = str(form.get("action", ""))
    typed = {"withhold_reason": str(form.get("reason", ""))[:2000]}

    async def change() -> None:
        report = await _visible_report(request, session)
        refusal = edit_allowed(Edit.PUBLISH, session.user.role, report.status)
        if refusal is not None:
            raise WorkflowError(refusal)
        if action not in ("withhold", "publish"):
            raise HTTPException(400)
        if action == "withhold":
            reason = read_withhold_reason(typed["withhold_reason"])
            await svc.store.set_list_hold(
                report.id,
                actor=session.user,
                scope=staff_scope(session),
                hold=ListHold.WITHHELD,
                reason=reason,
            )
        else:
            await svc.store.set_list_hold(
                report.id, actor=session.user, scope=staff_scope(session), hold=None
            )

    return await _act(request, session, typed, change)


@staff_only("coordinator", "officer")
async def note(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form()
    typed = {"internal_note": str(form.get("note", ""))[:5000]}

    async def change() -> None:
        await svc.store.add_note(
            path_id(request, "report_id"),
            actor=session.user,
            scope=staff_scope(session),
            note=read_note(typed["internal_note"]),
        )

    return await _act(request, session, typed, change)


def read_person(raw: str) -> int | None:
    """A user id from the assignment form; empty means "nobody in particular"."""
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise WorkflowError(Refusal.ASSIGNEE_OUTSIDE)
    return int(raw)


@staff_only("coordinator", "officer")
async def assign(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form()
    typed = {"assignee": str(form.get("assignee", ""))[:40]}

    async def change() -> None:
        await svc.store.assign_report(
            path_id(request, "report_id"),
            seen_version=_seen_version(form),
            actor=session.user,
            scope=staff_scope(session),
            assignee_id=read_person(typed["assignee"].strip()),
        )

    return await _act(request, session, typed, change)


@staff_only("coordinator")
async def extend(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form()
    typed = {
        "extend_days": str(form.get("days", ""))[:10].strip(),
        "extend_reason": str(form.get("reason", ""))[:5000],
    }
    calendar = svc.settings.calendar

    async def change() -> None:
        days, reason = read_extension(typed["extend_days"], typed["extend_reason"])
        await svc.store.extend_follow_up(
            path_id(request, "report_id"),
            seen_version=_seen_version(form),
            actor=session.user,
            scope=staff_scope(session),
            reason=reason,
            new_due=lambda due: calendar.add_working_days(due, days),
        )

    return await _act(request, session, typed, change)


@staff_only("officer")
async def reroute(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form()
    typed = {"reroute_reason": str(form.get("reason", ""))[:5000]}

    async def change() -> None:
        report = await _visible_report(request, session)
        await svc.store.reroute_report(
            report.id,
            seen_version=_seen_version(form),
            actor=session.user,
            scope=staff_scope(session),
            reason=read_reason(typed["reroute_reason"]),
            verify_due=await svc.intake.verify_due(report.unit_id, datetime.now(UTC)),
        )

    return await _act(request, session, typed, change)


async def _nobody() -> list[Any]:
    return []


# Who a bulk "assign" offers: the people of the caller's own unit it could go to (the store
# still checks each report, as on the report's own page).
_ASSIGNABLE = {"coordinator": ("coordinator", "officer"), "officer": ("officer",)}


@staff_only("coordinator", "officer")
async def bulk(request: Request, session: StaffSession) -> Response:
    """One action on the reports ticked in the inbox, each applied (or refused) on its own:
    a report someone changed since the list was shown is refused as stale, not overwritten."""
    svc = services(request)
    form = await request.form()
    typed = {
        k: str(form.get(k, ""))[:5000]
        for k in ("action", "title", "category", "tags", "unit", "reason", "assignee")
    }
    back = str(form.get("back", ""))[:4000]
    scope = staff_scope(session)
    user = session.user
    try:
        action = read_bulk(typed["action"], user.role)
        selection = read_selection([str(v) for v in form.getlist("report")])
        change: Callable[[int, int], Awaitable[object]]
        if action is Bulk.FORWARD and "unit" not in form:
            # The inbox's form only picks the reports and the action: the title, category and
            # the unit picker (a province's 500 units, 40 KB) are on a page of their own.
            return await _bulk_forward_page(request, session, selection, back, typed)
        if action is Bulk.FORWARD:
            units = {u.id for u in await svc.store.units_in_scope(scope)}
            try:
                forwarding = read_forwarding(
                    read_classification(
                        typed["title"], typed["category"], typed["tags"], CATEGORY_CODES
                    ),
                    "",
                    typed["unit"],
                    units,
                )
            except WorkflowError as exc:
                return await _bulk_forward_page(
                    request, session, selection, back, typed, refusal=exc.refusal
                )
            due = await svc.follow_up_due(forwarding.unit_id, datetime.now(UTC))

            def change(report_id: int, version: int) -> Awaitable[object]:
                return svc.store.forward_report(
                    report_id,
                    seen_version=version,
                    actor=user,
                    scope=scope,
                    forwarding=forwarding,
                    follow_up_due=due,
                )
        elif action is Bulk.ARCHIVE:
            reason = read_reason(typed["reason"])

            def change(report_id: int, version: int) -> Awaitable[object]:
                return svc.store.decide(
                    report_id,
                    seen_version=version,
                    actor=user,
                    scope=scope,
                    action=Action.ARCHIVE,
                    reason=reason,
                    duplicate_of=None,
                )
        else:
            assignee = read_person(typed["assignee"].strip())

            def change(report_id: int, version: int) -> Awaitable[object]:
                return svc.store.assign_report(
                    report_id, seen_version=version, actor=user, scope=scope, assignee_id=assignee
                )
    except WorkflowError as exc:
        return svc.templates.response(
            request,
            "admin/bulk.html",
            {
                "session": session,
                "refusal": gettext(REFUSALS[exc.refusal]),
                "done": [],
                "refused": [],
                "back": back,
            },
            status_code=400,
            headers=NO_STORE,
        )
    done: list[int] = []
    refused: list[tuple[int, str]] = []
    for report_id, version in selection:
        try:
            await change(report_id, version)
            done.append(report_id)
        except WorkflowError as exc:
            refused.append((report_id, gettext(REFUSALS[exc.refusal])))
        except NotFound:
            refused.append((report_id, gettext(N_("You cannot see this report."))))
    svc.mail.wake()
    codes = await svc.store.tracking_codes([r for r, _ in selection], scope)
    return svc.templates.response(
        request,
        "admin/bulk.html",
        {
            "session": session,
            "refusal": None,
            "action": action.value,
            "back": back,
            "done": [(r, codes.get(r)) for r in done],
            "refused": [(r, codes.get(r), why) for r, why in refused],
            "format_code": tracking.group,
        },
        status_code=200 if done or not refused else 409,
        headers=NO_STORE,
    )


async def _bulk_forward_page(
    request: Request,
    session: StaffSession,
    selection: list[tuple[int, int]],
    back: str,
    typed: dict[str, str],
    *,
    refusal: Refusal | None = None,
) -> Response:
    """The second step of a bulk "verify and forward": the selected reports (their versions
    as the inbox showed them, so a report changed meanwhile is still refused), the title,
    category and tags, and the unit to forward them to. Nothing changes until it is sent."""
    svc = services(request)
    scope = staff_scope(session)
    units, codes = await asyncio.gather(
        svc.store.units_in_scope(scope), svc.store.tracking_codes([r for r, _ in selection], scope)
    )
    return svc.templates.response(
        request,
        "admin/bulk_forward.html",
        {
            "session": session,
            "back": back,
            "typed": typed,
            "units": units,
            "categories": CATEGORIES,
            "format_code": tracking.group,
            "selection": [(r, v, codes.get(r)) for r, v in selection],
            "refusal": gettext(REFUSALS[refusal]) if refusal else None,
        },
        status_code=_refused(refusal) if refusal else 200,
        headers=NO_STORE,
    )


@staff_only()
async def report_attachment(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    report = await _visible_report(request, session)
    return await attachment_response(
        svc.photos, report, request.path_params["attachment_id"], cache="private, max-age=3600"
    )


@staff_only()
async def report_photo(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    report = await _visible_report(request, session)
    position = request.path_params["position"]
    photo = next((p for p in report.photos if p.position == position), None)
    return await photo_response(svc.photos, photo, cache="private, max-age=3600")


@staff_only("admin")
async def outbox(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    status = request.query_params.get("status") or None
    if status not in (None, "pending", "sending", "sent", "failed"):
        status = None
    messages = [svc.mail.written(m) for m in await svc.store.list_outbox(status)]
    return svc.templates.response(
        request,
        "admin/outbox.html",
        {"session": session, "messages": messages, "status": status},
        headers=NO_STORE,
    )


@staff_only("admin")
async def outbox_resend(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    try:
        await svc.store.resend_outbox(path_id(request, "message_id"))
    except NotFound:
        raise HTTPException(404) from None
    svc.mail.wake()
    return RedirectResponse("/admin/outbox?status=failed", status_code=303)


@staff_only()
async def password(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    context: dict[str, Any] = {"session": session, "error": None, "done": False}
    if request.method == "POST":
        form = await request.form()
        current = str(form.get("current", ""))
        new = str(form.get("new", ""))
        # Counted before the check, as signing in is: a stolen session must not be a way to
        # guess the password it lacks, one request after another.
        if not await svc.limits.hit(
            svc.settings.login_limit_per_account_address, "password-acct", str(session.user.id)
        ):
            svc.metrics.rate_limited.labels("password").inc()
            context["error"] = "throttled"
            return svc.templates.response(
                request, "admin/password.html", context, status_code=429, headers=NO_STORE
            )
        user = await svc.store.user_by_email(session.user.email)
        if user is None or not await asyncio.to_thread(
            auth.verify_password, user.password_hash, current
        ):
            context["error"] = "wrong_current"
        elif len(new) < auth.MIN_PASSWORD_LENGTH:
            context["error"] = "too_short"
        elif len(new) > 200:
            context["error"] = "too_long"
        elif new != str(form.get("repeat", "")):
            context["error"] = "mismatch"
        else:
            await svc.store.set_password_hash(
                user.id, await asyncio.to_thread(auth.hash_password, new)
            )
            # Whoever knew the old password may hold a session: end all but this one.
            token = request.cookies.get(auth.SESSION_COOKIE, "")
            await svc.store.delete_other_sessions(user.id, auth.token_hash(token))
            context["done"] = True
        status = 400 if context["error"] else 200
        return svc.templates.response(
            request, "admin/password.html", context, status_code=status, headers=NO_STORE
        )
    return svc.templates.response(request, "admin/password.html", context, headers=NO_STORE)
