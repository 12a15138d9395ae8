"""The administrator's kiosk pages: `lapor kiosk add/pair/list/revoke` in the browser. Each
kiosk with its last heartbeat (online, queue, oldest queued report, app version, storage,
clock offset); a pairing code is shown once, in the answer to the form that made it, and is
never stored in a readable form. Admins only, like the other organisation pages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lapor.admin.access import path_id, staff_only
from lapor.admin.forms import pick_unit, read_number, read_typed
from lapor.admin.manage import ADMIN
from lapor.admin.registry import confirmation_page, redirect_done
from lapor.admin.responses import NO_STORE
from lapor.complaints import kiosk as rules
from lapor.complaints.records import Kiosk, StaffSession
from lapor.store.errors import NotFound, StoreError
from lapor.store.store import now
from lapor.web.i18n import N_, gettext
from lapor.web.services import services

DONE = {
    "kiosk_revoked": N_(
        "The kiosk “%(name)s” has been revoked: it shows “not active” at its next contact."
    )
}
# A kiosk silent for longer than this (three missed heartbeats) is shown as offline.
ONLINE_WITHIN = timedelta(minutes=3)


async def _page(
    request: Request,
    session: StaffSession,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    units = await svc.store.list_units()
    shown_unit = pick_unit(units, request.query_params.get("unit", ""))
    kiosks = await svc.store.kiosks.all([shown_unit.id] if shown_unit else None)
    notice = None
    done = request.query_params.get("done", "")
    record = read_number(request.query_params.get("id"))
    names = {k.id: k.name for k in kiosks}
    if done in DONE and record in names:
        notice = gettext(DONE[done], name=names[record])
    return svc.templates.response(
        request,
        "admin/kiosks.html",
        {
            "session": session,
            "units": units,
            "shown_unit": shown_unit,
            "kiosks": kiosks,
            "online_since": now() - ONLINE_WITHIN,
            "errors": errors or {},
            "typed": typed or {},
            "notice": notice,
            "name_max": rules.NAME_MAX,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def _code_shown(
    request: Request, session: StaffSession, kiosk: Kiosk, code: str, title: str
) -> Response:
    # The only readable copy of the code leaves in this response: never cached, never a URL.
    svc = services(request)
    return svc.templates.response(
        request,
        "admin/kiosk_code.html",
        {
            "session": session,
            "kiosk": kiosk,
            "code": code,
            "title": title,
            "kiosk_url": f"{svc.settings.base_url}/kiosk",
            "minutes": int(rules.PAIRING_LIFETIME.total_seconds() // 60),
        },
        headers=NO_STORE,
    )


@staff_only(ADMIN)
async def kiosk_list(request: Request, session: StaffSession) -> Response:
    return await _page(request, session)


@staff_only(ADMIN)
async def kiosk_add(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    typed = read_typed(await request.form(), "unit", "name", limit=400)
    errors: dict[str, str] = {}
    unit = pick_unit(await svc.store.list_units(), typed["unit"])
    if unit is None:
        errors["unit"] = gettext("Choose a unit from the list.")
    name = rules.read_kiosk_name(typed["name"])
    if name is None:
        errors["name"] = gettext(
            "Give the kiosk a name of 1 to %(max)s characters, such as where it stands.",
            max=rules.NAME_MAX,
        )
    if not errors:
        assert unit is not None and name is not None
        try:
            kiosk, code = await svc.store.kiosks.add(unit.id, name, now())
        except NotFound:
            errors["unit"] = gettext("Choose a unit from the list.")
    if errors:
        return await _page(request, session, errors=errors, typed=typed, status_code=400)
    return _code_shown(request, session, kiosk, code, gettext("Kiosk added"))


@staff_only(ADMIN)
async def kiosk_pair(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    try:
        kiosk, code = await svc.store.kiosks.new_pairing_code(path_id(request, "kiosk_id"), now())
    except NotFound:
        raise HTTPException(404) from None
    except StoreError:
        raise HTTPException(409) from None
    return _code_shown(request, session, kiosk, code, gettext("New pairing code"))


@staff_only(ADMIN)
async def kiosk_revoke(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    kiosk = await svc.store.kiosks.get(path_id(request, "kiosk_id"))
    if kiosk is None:
        raise HTTPException(404)
    back = f"/admin/kiosks?unit={kiosk.unit_id}"
    if request.method == "POST":
        try:
            await svc.store.kiosks.revoke(kiosk.id, now())
        except NotFound:
            raise HTTPException(404) from None
        except StoreError:
            pass  # revoked meanwhile: the outcome the admin asked for
        return redirect_done(back, "kiosk_revoked", kiosk.id, f"#kiosk-{kiosk.id}")
    message = gettext(
        "At its next contact the tablet shows “not active” and stops taking "
        "reports; its unused tracking codes are released. Reports already "
        "delivered are kept. This cannot be undone; add a new kiosk to use the "
        "tablet again."
    )
    if kiosk.queue_length:
        message += " " + gettext(
            "At its last heartbeat it still held %(count)s unsent "
            "report(s): they are delivered only after the tablet is "
            "paired to a new kiosk.",
            count=kiosk.queue_length,
        )
    return confirmation_page(
        request,
        session,
        title=gettext("Revoke the kiosk “%(name)s”?", name=kiosk.name),
        message=message,
        button=gettext("Revoke the kiosk"),
        back=back,
    )
