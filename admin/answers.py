"""Answer templates at /admin/answers: paragraphs staff pick and edit instead of typing them
again. A unit's templates serve the units below it; one with a category is offered only for
reports of that category."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin.access import staff_only, staff_scope
from lapor.admin.refusals import REFUSALS
from lapor.admin.responses import NO_STORE
from lapor.complaints.categories import CATEGORIES, CATEGORY_CODES
from lapor.complaints.records import StaffSession
from lapor.complaints.workflow import Refusal, WorkflowError, read_answer_template
from lapor.store.errors import NotFound
from lapor.web.i18n import N_, gettext
from lapor.web.services import services

MANAGERS = ("coordinator", "officer", "admin")
TEMPLATE_REFUSALS = {
    **REFUSALS,
    Refusal.UNIT_REQUIRED: N_("Choose the unit that keeps this template."),
    Refusal.CATEGORY_REQUIRED: N_("Unknown category."),
    Refusal.TITLE_REQUIRED: N_("Give the template a short name."),
    Refusal.TEMPLATE_TITLE_TOO_LONG: N_("The name can have at most 120 characters."),
}
FIELDS = ("unit", "category", "title", "body")


async def _page(
    request: Request,
    session: StaffSession,
    *,
    editing: Any = None,
    typed: dict[str, str] | None = None,
    refusal: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    units = await svc.store.units_in_scope(staff_scope(session))
    templates = await svc.store.answer_templates([u.id for u in units])
    if editing is not None and typed is None:
        typed = {
            "unit": str(editing.unit_id),
            "category": editing.category or "",
            "title": editing.title,
            "body": editing.body,
        }
    return svc.templates.response(
        request,
        "admin/answers.html",
        {
            "session": session,
            "templates": templates,
            "units": units,
            "categories": CATEGORIES,
            "editing": editing,
            "typed": typed or {},
            "refusal": gettext(TEMPLATE_REFUSALS[refusal]) if refusal else None,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def _template_id(request: Request) -> int:
    value: int = request.path_params["template_id"]
    if value > 2**62:
        raise HTTPException(404)
    return value


@staff_only(*MANAGERS)
async def answers(request: Request, session: StaffSession) -> Response:
    """The list with the form for a new template; the form posts back here."""
    if request.method == "POST":
        return await _save(request, session, None)
    return await _page(request, session)


@staff_only(*MANAGERS)
async def answer_edit(request: Request, session: StaffSession) -> Response:
    template_id = _template_id(request)
    if request.method == "POST":
        return await _save(request, session, template_id)
    svc = services(request)
    units = await svc.store.units_in_scope(staff_scope(session))
    editing = next(
        (a for a in await svc.store.answer_templates([u.id for u in units]) if a.id == template_id),
        None,
    )
    if editing is None:
        raise HTTPException(404)
    return await _page(request, session, editing=editing)


async def _save(request: Request, session: StaffSession, template_id: int | None) -> Response:
    svc = services(request)
    form = await request.form()
    typed = {name: str(form.get(name, ""))[:20000] for name in FIELDS}
    unit_ids = [u.id for u in await svc.store.units_in_scope(staff_scope(session))]
    try:
        draft = read_answer_template(
            typed["unit"],
            typed["category"],
            typed["title"],
            typed["body"],
            set(unit_ids),
            CATEGORY_CODES,
        )
        await svc.store.save_answer_template(template_id, draft, session.user, unit_ids)
    except WorkflowError as exc:
        editing = None
        if template_id is not None:
            editing = next(
                (a for a in await svc.store.answer_templates(unit_ids) if a.id == template_id), None
            )
            if editing is None:
                raise HTTPException(404) from None
        return await _page(
            request, session, editing=editing, typed=typed, refusal=exc.refusal, status_code=400
        )
    except NotFound:
        raise HTTPException(404) from None
    return RedirectResponse("/admin/answers", status_code=303)


@staff_only(*MANAGERS)
async def answer_delete(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    unit_ids = [u.id for u in await svc.store.units_in_scope(staff_scope(session))]
    try:
        await svc.store.delete_answer_template(_template_id(request), unit_ids)
    except NotFound:
        raise HTTPException(404) from None
    return RedirectResponse("/admin/answers", status_code=303)
