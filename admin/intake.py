"""Reports taken by staff (/admin/reports/new): a citizen came to the counter, phoned, or wrote
on WhatsApp, and a member of staff types the report in for them. It enters the same life as a
citizen's own report (channel "staff", how the citizen came recorded) and the citizen gets the
same receipt: a tracking code to read out or print, and their private link."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin.access import path_id as _id
from lapor.admin.access import staff_only, staff_scope
from lapor.admin.responses import NO_STORE
from lapor.complaints import national, tracking
from lapor.complaints.records import StaffSession
from lapor.complaints.reports import TAKEN_VIA, Channel, FieldError, Kind, validate_submission
from lapor.intake import Entry
from lapor.store.errors import IdempotencyConflict
from lapor.web import i18n
from lapor.web.labels import form_errors
from lapor.web.private_links import private_secret
from lapor.web.services import services

TAKERS = ("coordinator", "officer", "admin")
FIELDS = (
    "unit",
    "taken_via",
    "language",
    "kind",
    "text",
    "location",
    "identity",
    "name",
    "phone",
    "email",
    "notify_by",
    "national_id",
)
# A fresh key per blank form: sending the same form twice (a double click, a reload after a
# lost answer) stores one report and shows its receipt again.
_KEY = re.compile(r"^staff-[A-Za-z0-9_-]{20,40}$")
# The receipt holds the reporter's private link: only its taker sees it, and only while the
# citizen may still be at the counter or on the phone.
RECEIPT_HOURS = 12


def _blank_key() -> str:
    return "staff-" + secrets.token_urlsafe(24)


async def _form(
    request: Request,
    session: StaffSession,
    *,
    values: dict[str, str],
    errors: list[FieldError],
    status_code: int = 200,
) -> Response:
    svc = services(request)
    units = await svc.store.units_in_scope(staff_scope(session))
    return svc.templates.response(
        request,
        "admin/new_report.html",
        {
            "session": session,
            "units": units,
            "values": values,
            **form_errors(errors),
            "kinds": list(Kind),
            "taken_via": TAKEN_VIA,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@staff_only(*TAKERS)
async def new_report(request: Request, session: StaffSession) -> Response:
    if request.method == "GET":
        return await _form(
            request,
            session,
            errors=[],
            values={
                "key": _blank_key(),
                "unit": str(session.unit.id),
                "language": "id",
                "identity": "named",
                "kind": Kind.COMPLAINT.value,
                "taken_via": "counter",
            },
        )
    svc = services(request)
    form = await request.form()
    values = {name: str(form.get(name, ""))[:20000] for name in (*FIELDS, "key")}
    errors: list[FieldError] = []
    units = {u.id for u in await svc.store.units_in_scope(staff_scope(session))}
    unit = values["unit"]
    if not (unit.isascii() and unit.isdigit() and len(unit) < 19 and int(unit) in units):
        errors.append(FieldError("unit", "required"))
    if values["taken_via"] not in TAKEN_VIA:
        errors.append(FieldError("taken_via", "required"))
    if values["language"] not in i18n.LANGUAGES:
        errors.append(FieldError("language", "required"))
    if not _KEY.match(values["key"]):
        # A damaged form: a new key, so what is sent next cannot collide with another report.
        values["key"] = _blank_key()
        errors.append(FieldError("form", "invalid"))
    try:
        national_id = national.read_national_id(values["national_id"])
    except ValueError:
        national_id = None
        errors.append(FieldError("national_id", "invalid"))
    if national_id is not None and await svc.store.national_id_taken(national_id):
        errors.append(FieldError("national_id", "taken"))
    submission, field_errors = validate_submission(values)
    errors += field_errors
    if errors or submission is None:
        return await _form(request, session, values=values, errors=errors, status_code=400)
    try:
        result = await svc.intake.submit(
            submission,
            Entry(
                Channel.STAFF,
                int(unit),
                taken_via=values["taken_via"],
                taken_by=session.user.id,
                national_id=national_id,
            ),
            key=values["key"],
            language=values["language"],
        )
    except IdempotencyConflict:
        values["key"] = _blank_key()
        return await _form(
            request,
            session,
            values=values,
            errors=[FieldError("form", "resent_changed")],
            status_code=409,
        )
    return RedirectResponse(
        f"/admin/reports/{result.report_id}/receipt", status_code=303, headers=NO_STORE
    )


@staff_only(*TAKERS)
async def receipt(request: Request, session: StaffSession) -> Response:
    """What the citizen takes away, printable: shown to the member of staff who took the
    report, for the rest of the working day."""
    svc = services(request)
    report = await svc.store.report_for_staff(_id(request, "report_id"), staff_scope(session))
    taken = next((e for e in report.events if e.kind == "taken"), None) if report else None
    if (
        report is None
        or taken is None
        or taken.actor_email != session.user.email
        or taken.at < datetime.now(UTC) - timedelta(hours=RECEIPT_HOURS)
    ):
        raise HTTPException(404)
    code = tracking.format_code(report.tracking_code)
    base = svc.settings.base_url
    # A write on this GET only in the rare case that the key which made the link was removed
    # since the report was taken (web/private_links.py).
    secret = await private_secret(
        svc, report.id, report.idempotency_key, report.reporter_secret_hash
    )
    context: dict[str, Any] = {
        "session": session,
        "report": report,
        "code": code,
        "spoken": " – ".join(" ".join(part) for part in code.split("-")),
        "status_url": f"{base}/t/{code}",
        "private_url": f"{base}/t/{code}/{secret}",
    }
    with i18n.using(report.language):
        # The slip is in the citizen's language, whatever the staff member reads.
        context["slip"] = {
            "heading": i18n.gettext("Your report has been received"),
            "code_label": i18n.gettext("Your tracking code:"),
            "keep": i18n.gettext(
                "Save this code: take a screenshot, write it down or "
                "bookmark this page. Anyone with the code can see the "
                "status, never your name."
            ),
            "private": i18n.gettext(
                "Your private link, to reply to questions and accept the "
                "answer. Keep it to yourself:"
            ),
        }
    return svc.templates.response(
        request,
        "admin/receipt.html",
        context,
        headers={**NO_STORE, "referrer-policy": "no-referrer"},
    )
