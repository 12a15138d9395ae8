"""The administrator's kiosk pages: `lapor kiosk add/pair/list/revoke` in the browser. Each
kiosk with its last heartbeat (online, queue, oldest queued report, app version, storage,
clock offset); a pairing code is shown once, in the answer to the form that made it, and is
never stored in a readable form. Admins only, like the other organisation pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lapor.admin import registry
from lapor.admin.access import path_id, staff_only
from lapor.admin.registry import ADMIN, Confirmed, Listing, Managed, Question, redirect_done
from lapor.admin.responses import NO_STORE
from lapor.complaints import kiosk as rules
from lapor.complaints.records import Kiosk, StaffSession, Unit
from lapor.store.errors import NotFound, StoreError
from lapor.store.store import now
from lapor.web.i18n import N_, gettext
from lapor.web.services import Services, services

DONE = {
    "kiosk_revoked": N_(
        "The kiosk “%(name)s” has been revoked: it shows “not active” at its next contact."
    )
}
# A kiosk silent for longer than this (three missed heartbeats) is shown as offline.
ONLINE_WITHIN = timedelta(minutes=3)


async def _listing(svc: Services, units: Sequence[Unit], shown_unit: Unit | None) -> Listing:
    kiosks = await svc.store.kiosks.all([shown_unit.id] if shown_unit else None)
    return Listing(
        {"kiosks": kiosks, "online_since": now() - ONLINE_WITHIN, "name_max": rules.NAME_MAX},
        {k.id: k.name for k in kiosks},
    )


async def _guessing_seen(svc: Services) -> bool:
    """Whether strangers have filled the ceiling on six-digit guesses, so the code handed out
    now must be a ten-digit one (kiosk/views.py `pair`)."""
    return not await svc.limits.allows(svc.settings.kiosk_pair_limit, "kiosk-pair-all")


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
            "code": rules.spaced_pairing_code(code),
            "long_code": not rules.is_short_pairing_code(code),
            "title": title,
            "kiosk_url": f"{svc.settings.base_url}/kiosk",
            "minutes": int(rules.PAIRING_LIFETIME.total_seconds() // 60),
        },
        headers=NO_STORE,
    )


async def _add(
    request: Request, session: StaffSession, typed: Mapping[str, str]
) -> Response | dict[str, str]:
    svc = services(request)
    errors: dict[str, str] = {}
    unit = await registry.unit_typed(svc, typed, errors)
    name = rules.read_kiosk_name(typed["name"])
    if name is None:
        errors["name"] = gettext(
            "Give the kiosk a name of 1 to %(max)s characters, such as where it stands.",
            max=rules.NAME_MAX,
        )
    if not errors:
        assert unit is not None and name is not None
        try:
            kiosk, code = await svc.store.kiosks.add(
                unit.id, name, now(), long_code=await _guessing_seen(svc)
            )
        except NotFound:  # deleted meanwhile
            errors["unit"] = gettext(registry.UNIT_CHOICE)
    if errors:
        return errors
    return _code_shown(request, session, kiosk, code, gettext("Kiosk added"))


KIOSKS = Managed(
    path="/admin/kiosks",
    template="admin/kiosks.html",
    done=DONE,
    listing=_listing,
    fields=("unit", "name"),
    limit=400,
    add=_add,
)


@staff_only(ADMIN)
async def kiosk_pair(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    try:
        kiosk, code = await svc.store.kiosks.new_pairing_code(
            path_id(request, "kiosk_id"), now(), long_code=await _guessing_seen(svc)
        )
    except NotFound:
        raise HTTPException(404) from None
    except StoreError:
        raise HTTPException(409) from None
    return _code_shown(request, session, kiosk, code, gettext("New pairing code"))


def _back(kiosk: Kiosk) -> str:
    return f"/admin/kiosks?unit={kiosk.unit_id}"


async def _revoke(request: Request, session: StaffSession, kiosk: Kiosk) -> Response:
    await registry.revocation(services(request).store.kiosks.revoke(kiosk.id, now()))
    return redirect_done(_back(kiosk), "kiosk_revoked", kiosk.id, f"#kiosk-{kiosk.id}")


def _question(kiosk: Kiosk) -> Question:
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
    return Question(
        title=gettext("Revoke the kiosk “%(name)s”?", name=kiosk.name),
        message=message,
        button=gettext("Revoke the kiosk"),
    )


REVOKE = Confirmed[Kiosk](
    param="kiosk_id",
    find=lambda svc, kiosk_id: svc.store.kiosks.get(kiosk_id),
    ask=_question,
    back=_back,
    act=_revoke,
)

kiosk_list = registry.list_view(KIOSKS)
kiosk_add = registry.add_view(KIOSKS)
kiosk_revoke = registry.confirmed_view(REVOKE)
