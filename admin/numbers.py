"""The admins' block list of numbers (/admin/numbers): a number on it makes nothing by SMS (or
WhatsApp) and is sent nothing. The same list as `lapor sms block/unblock/blocked`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin.access import staff_only
from lapor.admin.responses import NO_STORE
from lapor.complaints.conversation import CHANNELS, address, channel_of, number_of
from lapor.complaints.records import StaffSession
from lapor.complaints.reports import clean_text, normalize_phone
from lapor.web.i18n import N_, gettext
from lapor.web.services import services

NOTE_MAX = 200
PROBLEMS = {
    "number": N_("Write a phone number, such as 0812 3456 7890 or +62 812 3456 7890."),
    "note": N_("The note can have at most 200 characters."),
    "channel": N_("Choose SMS or WhatsApp."),
}


async def _page(
    request: Request,
    session: StaffSession,
    *,
    problem: str | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    rows = [
        {"address": a, "channel": channel_of(a) or "", "number": number_of(a), "at": at, "note": n}
        for a, at, n in await svc.store.blocked_numbers()
    ]
    return svc.templates.response(
        request,
        "admin/numbers.html",
        {
            "session": session,
            "blocked": rows,
            "channels": CHANNELS,
            "problem": gettext(PROBLEMS[problem]) if problem else None,
            "typed": typed or {},
            "done": request.query_params.get("done", "")[:16],
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@staff_only("admin")
async def numbers(request: Request, session: StaffSession) -> Response:
    return await _page(request, session)


@staff_only("admin")
async def block(request: Request, session: StaffSession) -> Response:
    form = await request.form()
    typed = {k: str(form.get(k, ""))[:500] for k in ("number", "note", "channel")}
    number = normalize_phone(typed["number"])
    note = clean_text(typed["note"]).replace("\n", " ")
    channel = typed["channel"] or "sms"
    problem = (
        "number"
        if number is None
        else "note"
        if len(note) > NOTE_MAX
        else "channel"
        if channel not in CHANNELS
        else None
    )
    if problem is not None or number is None:
        return await _page(request, session, problem=problem, typed=typed, status_code=400)
    await services(request).store.set_blocked(address(channel, number), True, note)
    return RedirectResponse("/admin/numbers?done=blocked", status_code=303)


@staff_only("admin")
async def unblock(request: Request, session: StaffSession) -> Response:
    form = await request.form()
    raw = str(form.get("address", ""))[:100]
    channel = channel_of(raw)
    number = normalize_phone(number_of(raw)) if channel else None
    if channel is None or number is None:
        return await _page(request, session, problem="number", status_code=400)
    await services(request).store.set_blocked(address(channel, number), False)
    return RedirectResponse("/admin/numbers?done=unblocked", status_code=303)
