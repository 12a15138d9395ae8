"""The staff workspace at /admin: sign-in, the coordinator's inbox, a report's page, the outbox.

Every view checks the session and the role itself; templates only decide what to draw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from admin import auth
from complaints import tracking
from complaints.access import Scope, can_see_identity, scope_of
from complaints.deadlines import follow_up_due
from complaints.inbox import (
    MAX_ID,
    InboxQuery,
    next_cursor,
    read_inbox_query,
    received_window,
)
from complaints.reports import Channel, Kind, Status
from complaints.workflow import (
    Action,
    Refusal,
    WorkflowError,
    available_actions,
    read_answer,
    read_forwarding,
    read_reason,
    read_seen_version,
)
from settings import Settings
from store.records import NotFound, StaffSession
from web.i18n import N_, gettext
from web.services import client_address, services

View = Callable[[Request, StaffSession], Awaitable[Response]]
NO_STORE = {"cache-control": "no-store"}


def staff_only(*roles: str) -> Callable[[View], Callable[[Request], Awaitable[Response]]]:
    """Signed-in staff with one of `roles` (any staff when empty); others go to the login page
    or get 403. State-changing requests must also carry the session's CSRF token."""

    def decorate(view: View) -> Callable[[Request], Awaitable[Response]]:
        @wraps(view)
        async def endpoint(request: Request) -> Response:
            session = await auth.current_session(request)
            if session is None:
                if request.method != "GET":
                    raise HTTPException(403)
                return RedirectResponse(f"/admin/login?next={request.url.path}", status_code=303)
            if roles and session.user.role not in roles:
                raise HTTPException(403)
            if request.method == "POST":
                form = await request.form(max_files=0, max_fields=20)
                if not auth.csrf_ok(request, session, form.get("csrf")):  # type: ignore[arg-type]
                    raise HTTPException(403, "CSRF check failed")
            return await view(request, session)

        return endpoint

    return decorate


def _safe_next(target: str | None) -> str:
    # Only our own paths: a crafted ?next= must not send staff to another site after login.
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


async def login(request: Request) -> Response:
    svc = services(request)
    context: dict[str, Any] = {"error": None, "email": "",
                               "next": _safe_next(request.query_params.get("next"))}
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
    address = client_address(request)
    settings = svc.settings
    # Every attempt is counted before the password is checked: counting only failures, after
    # the slow argon2 check, let guesses sent in parallel all slip under the limit.
    account_ok = await svc.limits.hit(settings.login_limit_per_account, "login-acct", email)
    address_ok = await svc.limits.hit(settings.login_limit_per_address, "login-addr", address)
    if not (account_ok and address_ok):
        svc.metrics.rate_limited.labels("login").inc()
        context["error"] = "throttled"
        return svc.templates.response(request, "admin/login.html", context, status_code=429,
                                      headers=NO_STORE)
    user = await svc.store.user_by_email(email) if email else None
    ok = await asyncio.to_thread(auth.verify_password,
                                 user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        context["error"] = "invalid"
        return svc.templates.response(request, "admin/login.html", context, status_code=400,
                                      headers=NO_STORE)
    token = auth.new_session_token()
    await svc.store.create_session(user.id, auth.token_hash(token), settings.session_max_age)
    response = RedirectResponse(context["next"], status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, token, max_age=settings.session_max_age,
                        httponly=True, samesite="lax", secure=settings.https, path="/")
    return response


@staff_only()
async def logout(request: Request, session: StaffSession) -> Response:
    token = request.cookies.get(auth.SESSION_COOKIE, "")
    await services(request).store.delete_session(auth.token_hash(token))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


def _id(request: Request, name: str) -> int:
    value: int = request.path_params[name]
    if value > MAX_ID:
        raise HTTPException(404)
    return value


def staff_scope(session: StaffSession) -> Scope:
    return scope_of(session.user.role, session.unit.id, session.unit.path)


PAGE_SIZE = 50
FILTER_ERRORS = {
    "status": N_("Unknown status."),
    "kind": N_("Unknown kind of report."),
    "channel": N_("Unknown entry point."),
    "unit": N_("Unknown unit."),
    "due": N_("Unknown deadline filter."),
    "within": N_("The number of working days must be between 1 and 60."),
    "from": N_("The start date must look like 2026-03-17."),
    "to": N_("The end date must look like 2026-03-17 and not be before the start date."),
    "q": N_("Search for words of at least 2 letters or digits."),
    "sort": N_("Unknown sort order."),
    "after": N_("That page link is damaged: showing the first page."),
}


def request_query(request: Request) -> tuple[InboxQuery, list[str]]:
    """The inbox query in the request's query string, and the names of unreadable filters."""
    return read_inbox_query({key: request.query_params.getlist(key)
                             for key in request.query_params})


def query_bounds(query: InboxQuery, settings: Settings) -> dict[str, Any]:
    """The dates the store needs to apply `query` today: the day itself, the end of "due
    soon" in working days, and the received window in UTC."""
    today = local_today(settings.timezone)
    return {"today": today,
            "soon_until": settings.calendar.add_working_days(today, query.within_days),
            "received_window": received_window(query, settings.timezone)}


def csv_download(rows: AsyncIterator[str], filename: str) -> StreamingResponse:
    """A CSV file streamed as it is written, opening correctly in Excel."""

    async def body() -> AsyncIterator[str]:
        yield "\ufeff"  # the byte-order mark makes Excel read UTF-8
        async for chunk in rows:
            yield chunk

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        **NO_STORE, "content-disposition": f'attachment; filename="{filename}"'})


@staff_only()
async def inbox(request: Request, session: StaffSession) -> Response:
    """The inbox: filters, search, counts per status. An htmx request (the filter form as it
    changes) gets only the results block; without JavaScript the same form reloads the page."""
    svc = services(request)
    role = session.user.role
    query, errors = request_query(request)
    unrouted = request.query_params.get("view") == "unrouted" and role == "admin"
    scope = staff_scope(session)
    settings = svc.settings
    bounds = query_bounds(query, settings)
    today = bounds["today"]
    page, counts, units = await asyncio.gather(
        svc.store.inbox(scope, query, **bounds, limit=PAGE_SIZE + 1, unrouted=unrouted),
        svc.store.status_counts(scope),
        svc.store.units_in_scope(scope))
    more = len(page.items) > PAGE_SIZE
    items = page.items[:PAGE_SIZE]
    calendar = settings.calendar
    extra = [("view", "unrouted")] if unrouted else []
    headers = {**NO_STORE, "vary": "HX-Request"}
    context = {
        "session": session, "items": items, "unrouted": unrouted, "query": query,
        "errors": [gettext(FILTER_ERRORS[e]) for e in errors], "counts": counts,
        "total": sum(counts.values()), "units": units,
        "statuses": list(Status), "kinds": list(Kind), "channels": list(Channel),
        "next_page": (urlencode(query.params(after=next_cursor(items[-1], query)) + extra)
                      if more else None),
        # A search that looked at the newest stretch of reports only (store.inbox): the link
        # searches the next, older one.
        "older_page": (urlencode(query.params(after=page.rest) + extra)
                       if page.rest is not None and not more else None),
        "export_query": urlencode(query.first_page().params()),
        "status_link": lambda status: urlencode([("status", status.value), *extra]),
        "format_code": tracking.format_code,
        "days_left": lambda due: calendar.working_days_left(today, due),
    }
    status_code = 400 if errors else 200
    if request.headers.get("hx-request") == "true":
        return svc.templates.response(request, "admin/inbox.html", context, block="results",
                                      status_code=status_code, headers=headers)
    return svc.templates.response(request, "admin/inbox.html", context,
                                  status_code=status_code, headers=headers)


async def _visible_report(request: Request, session: StaffSession) -> Any:
    report = await services(request).store.report_for_staff(_id(request, "report_id"),
                                                             staff_scope(session))
    if report is None:
        # 404, not 403: whether another unit's report exists is not the caller's business.
        raise HTTPException(404)
    return report


REFUSALS = {
    Refusal.NOT_YOUR_ROLE: N_("Your role cannot do this."),
    Refusal.WRONG_STATUS: N_("This cannot be done in the report's current status."),
    Refusal.STALE: N_("Someone else changed this report while you had it open. Here is the "
                      "report as it is now: check it and try again."),
    Refusal.TITLE_REQUIRED: N_("Give the report a short title."),
    Refusal.TITLE_TOO_LONG: N_("The title can have at most 200 characters."),
    Refusal.NOTE_TOO_LONG: N_("The note can have at most 2000 characters."),
    Refusal.UNIT_REQUIRED: N_("Choose the unit that must act."),
    Refusal.UNIT_OUTSIDE: N_("That unit is not in your part of the organisation."),
    Refusal.ANSWER_TOO_SHORT: N_("Write the answer the reporter will read (at least 10 "
                                 "characters)."),
    Refusal.ANSWER_TOO_LONG: N_("The answer can have at most 4000 characters."),
    Refusal.REASON_TOO_SHORT: N_("Write a sentence the reporter will understand (at least 10 "
                                 "characters)."),
    Refusal.REASON_TOO_LONG: N_("Keep it to at most 2000 characters."),
    Refusal.ORIGINAL_UNKNOWN: N_("No other report in your part of the organisation has that "
                                 "tracking code."),
}


async def _report_page(request: Request, session: StaffSession, *,
                       refusal: Refusal | None = None, status_code: int = 200,
                       typed: dict[str, str] | None = None) -> Response:
    svc = services(request)
    report = await _visible_report(request, session)
    role = session.user.role
    actions = available_actions(role, report.status)
    units = (await svc.store.units_in_scope(staff_scope(session))
             if Action.FORWARD in actions else [])
    today = local_today(svc.settings.timezone)
    return svc.templates.response(
        request, "admin/report.html",
        {"session": session, "report": report,
         "show_identity": can_see_identity(role, report.identity),
         "code": tracking.format_code(report.tracking_code),
         "days_left": svc.settings.calendar.working_days_left(today, report.verify_due),
         "follow_up_days_left": (svc.settings.calendar.working_days_left(
             today, report.follow_up_due) if report.follow_up_due else None),
         "actions": [a.value for a in actions], "units": units,
         "refusal": gettext(REFUSALS[refusal]) if refusal else None,
         "typed": typed or {}},
        status_code=status_code, headers=NO_STORE)


@staff_only()
async def report_detail(request: Request, session: StaffSession) -> Response:
    return await _report_page(request, session)


def _seen_version(form: Any) -> int:
    return read_seen_version(str(form.get("version", "")))


def _refused(refusal: Refusal) -> int:
    return 409 if refusal in (Refusal.STALE, Refusal.WRONG_STATUS) else 400


async def _act(request: Request, session: StaffSession, typed: dict[str, str],
               change: Callable[[], Awaitable[object]]) -> Response:
    """Run one workflow change; a refusal shows the report again with what was typed, success
    goes back to the report (Post/Redirect/Get) and wakes the mail sender."""
    try:
        await change()
    except WorkflowError as exc:
        return await _report_page(request, session, refusal=exc.refusal,
                                  status_code=_refused(exc.refusal), typed=typed)
    except NotFound:
        raise HTTPException(404) from None
    services(request).mail.wake()
    return RedirectResponse(f"/admin/reports/{request.path_params['report_id']}",
                            status_code=303)


@staff_only("coordinator")
async def forward(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form(max_files=0, max_fields=20)
    typed = {k: str(form.get(k, ""))[:5000] for k in ("title", "note", "unit")}
    units = {u.id for u in await svc.store.units_in_scope(staff_scope(session))}
    settings = svc.settings

    async def change() -> None:
        forwarding = read_forwarding(typed["title"], typed["note"], typed["unit"], units)
        await svc.store.forward_report(
            _id(request, "report_id"), seen_version=_seen_version(form), actor=session.user,
            scope=staff_scope(session), forwarding=forwarding,
            follow_up_due=follow_up_due(datetime.now(UTC), settings.calendar,
                                        settings.deadline_rules, settings.timezone),
            compose_mail=request.app.state.compose_change_mail)

    return await _act(request, session, typed, change)


def decision(action: Action) -> Callable[[Request], Awaitable[Response]]:
    """Tunda, bukan wewenang, archive: one view each, the same shape."""

    @staff_only("coordinator")
    async def view(request: Request, session: StaffSession) -> Response:
        svc = services(request)
        form = await request.form(max_files=0, max_fields=20)
        typed = {f"{action.value}_reason": str(form.get("reason", ""))[:5000],
                 "duplicate_of": str(form.get("duplicate_of", ""))[:40]}
        raw_original = typed["duplicate_of"].strip()

        async def change() -> None:
            original = None
            if action is Action.ARCHIVE and raw_original:
                original = tracking.normalize(raw_original)
                if original is None:
                    raise WorkflowError(Refusal.ORIGINAL_UNKNOWN)
            await svc.store.decide(
                _id(request, "report_id"), seen_version=_seen_version(form),
                actor=session.user, scope=staff_scope(session), action=action,
                reason=read_reason(typed[f"{action.value}_reason"]), duplicate_of=original,
                compose_mail=request.app.state.compose_change_mail)

        return await _act(request, session, typed, change)

    view.__name__ = f"decide_{action.value}"
    return view


postpone = decision(Action.POSTPONE)
not_authority = decision(Action.NOT_AUTHORITY)
archive = decision(Action.ARCHIVE)


@staff_only("officer")
async def follow_up(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    form = await request.form(max_files=0, max_fields=20)
    typed = {"answer": str(form.get("answer", ""))[:20000]}

    async def change() -> None:
        await svc.store.follow_up_report(
            _id(request, "report_id"), seen_version=_seen_version(form), actor=session.user,
            scope=staff_scope(session), answer=read_answer(typed["answer"]),
            compose_mail=request.app.state.compose_change_mail)

    return await _act(request, session, typed, change)


def local_today(tz: ZoneInfo) -> date:
    return datetime.now(tz).date()


@staff_only()
async def report_photo(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    report = await _visible_report(request, session)
    position = request.path_params["position"]
    photo = next((p for p in report.photos if p.position == position), None)
    if photo is None or not svc.photos.valid_name(photo.filename):
        raise HTTPException(404)
    return FileResponse(svc.photos.path(photo.filename), media_type=photo.content_type,
                        headers={"cache-control": "private, max-age=3600"})


@staff_only("admin")
async def outbox(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    status = request.query_params.get("status") or None
    if status not in (None, "pending", "sending", "sent", "failed"):
        status = None
    messages = await svc.store.list_outbox(status)
    return svc.templates.response(request, "admin/outbox.html",
                                  {"session": session, "messages": messages, "status": status},
                                  headers=NO_STORE)


@staff_only("admin")
async def outbox_resend(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    try:
        await svc.store.resend_outbox(_id(request, "message_id"))
    except NotFound:
        raise HTTPException(404) from None
    svc.mail.wake()
    return RedirectResponse("/admin/outbox?status=failed", status_code=303)


@staff_only()
async def password(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    context: dict[str, Any] = {"session": session, "error": None, "done": False}
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=20)
        current = str(form.get("current", ""))
        new = str(form.get("new", ""))
        user = await svc.store.user_by_email(session.user.email)
        if user is None or not await asyncio.to_thread(auth.verify_password,
                                                       user.password_hash, current):
            context["error"] = "wrong_current"
        elif len(new) < auth.MIN_PASSWORD_LENGTH:
            context["error"] = "too_short"
        elif len(new) > 200:
            context["error"] = "too_long"
        elif new != str(form.get("repeat", "")):
            context["error"] = "mismatch"
        else:
            await svc.store.set_password_hash(user.id, await asyncio.to_thread(
                auth.hash_password, new))
            # Whoever knew the old password may hold a session: end all but this one.
            token = request.cookies.get(auth.SESSION_COOKIE, "")
            await svc.store.delete_other_sessions(user.id, auth.token_hash(token))
            context["done"] = True
        status = 400 if context["error"] else 200
        return svc.templates.response(request, "admin/password.html", context,
                                      status_code=status, headers=NO_STORE)
    return svc.templates.response(request, "admin/password.html", context, headers=NO_STORE)
