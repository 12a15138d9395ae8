"""A unit's own SP4N-LAPOR! time limits (/admin/deadlines): coordinators set them for their
part of the organisation, admins for any unit. What a unit sets holds for the units below it
that set nothing; a unit that sets nothing follows the settings."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin.access import path_id, staff_only, staff_scope
from lapor.admin.responses import NO_STORE
from lapor.complaints.deadlines import UNIT_DAYS_MAX, UnitDeadlines, read_unit_days
from lapor.complaints.records import StaffSession
from lapor.store.errors import NotFound
from lapor.web.i18n import N_, gettext
from lapor.web.services import services

SETTERS = ("coordinator", "admin")


async def _page(
    request: Request,
    session: StaffSession,
    *,
    problem: str | None = None,
    unit_id: int | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    units = await svc.store.units_in_scope(staff_scope(session))
    by_id = {u.id: u for u in units}
    # Units are listed by path, so the first is the top of the caller's part of the tree;
    # what is in force above it comes from the store.
    top = units[0] if units else None
    above = (
        await svc.store.unit_deadlines(top.parent_id) if top and top.parent_id else UnitDeadlines()
    )
    rules = svc.settings.deadline_rules
    rows = []
    for unit in units:
        chain = [by_id[u] for u in unit.ancestor_ids if u in by_id]
        days = UnitDeadlines.resolve(
            [UnitDeadlines(u.verify_days, u.follow_up_days) for u in chain] + [above]
        )
        rows.append((unit, rules.for_unit(days)))
    return svc.templates.response(
        request,
        "admin/deadlines.html",
        {
            "session": session,
            "rows": rows,
            "max_days": UNIT_DAYS_MAX,
            "problem": gettext(problem) if problem else None,
            "problem_unit": unit_id,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@staff_only(*SETTERS)
async def deadlines(request: Request, session: StaffSession) -> Response:
    return await _page(request, session)


@staff_only(*SETTERS)
async def set_deadlines(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    unit_id = path_id(request, "unit_id")
    form = await request.form()
    try:
        days = UnitDeadlines(
            read_unit_days(str(form.get("verify_days", ""))[:10]),
            read_unit_days(str(form.get("follow_up_days", ""))[:10]),
        )
    except ValueError:
        return await _page(
            request,
            session,
            unit_id=unit_id,
            status_code=400,
            problem=N_(
                "Give whole working days from 1 to 30, or leave the field empty to follow the "
                "unit above."
            ),
        )
    try:
        await svc.store.set_unit_deadlines(unit_id, days, staff_scope(session))
    except NotFound:
        raise HTTPException(404) from None
    return RedirectResponse("/admin/deadlines", status_code=303)
