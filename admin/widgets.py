"""The administrator's widget pages: `lapor widget add/list/revoke` in the browser. A unit's
widgets with the snippet to paste (both forms: data-key, and the key in the URL for sites that
strip data attributes), the lines a strict Content-Security-Policy needs, a copy button, and
revocation after a confirmation page. Admins only, like the other organisation pages."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lapor.admin.access import path_id, staff_only
from lapor.admin.forms import pick_unit, read_number, read_typed
from lapor.admin.manage import ADMIN
from lapor.admin.registry import confirmation_page, redirect_done
from lapor.admin.responses import NO_STORE
from lapor.complaints import origins as origin_rules
from lapor.complaints.records import StaffSession, Widget
from lapor.store.errors import NotFound, StoreError
from lapor.web.i18n import N_, gettext
from lapor.web.services import services
from lapor.web.snippet import snippet

ORIGIN_ERRORS = {
    "scheme": N_(
        "“%(origin)s”: start with https:// or http:// (addresses such as javascript: are refused)."
    ),
    "host": N_("“%(origin)s”: this is not a valid host name."),
    "port": N_("“%(origin)s”: the port is not valid."),
    "path": N_(
        "“%(origin)s”: give only the scheme, host and port, such as "
        "https://dinkes.example.go.id, without a path."
    ),
    "wildcard": N_("“%(origin)s”: wildcards are not allowed; list every site."),
    "too_many": N_("At most %(max)s sites per widget."),
    "none": N_("Give at least one site, such as https://dinkes.example.go.id."),
}
DONE = {
    "widget_added": N_("Widget added for %(name)s: copy the snippet below into the site."),
    "widget_revoked": N_(
        "The widget of %(name)s has been revoked: its form no longer opens on any site."
    ),
}


def _origin_error(exc: origin_rules.InvalidOrigin) -> str:
    return gettext(
        ORIGIN_ERRORS[exc.problem.value],
        origin=exc.typed.strip()[:80],
        max=origin_rules.MAX_ORIGINS,
    )


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
    widgets = await svc.store.list_widgets(shown_unit.id if shown_unit else None)
    names = {w.id: w.unit_name for w in widgets}
    # `?done=...&id=...` after a redirect; nothing for a made-up link.
    notice = None
    done = request.query_params.get("done", "")
    record = read_number(request.query_params.get("id"))
    if done in DONE and record in names:
        notice = gettext(DONE[done], name=names[record])
    base_url = svc.settings.base_url

    def code(widget: Widget) -> object:
        return snippet(base_url, svc.signing.widget_key(widget.id, widget.version))

    return svc.templates.response(
        request,
        "admin/widgets.html",
        {
            "session": session,
            "units": units,
            "shown_unit": shown_unit,
            "widgets": widgets,
            "snippet": code,
            "errors": errors or {},
            "typed": typed or {},
            "notice": notice,
            "max_origins": origin_rules.MAX_ORIGINS,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@staff_only(ADMIN)
async def widget_list(request: Request, session: StaffSession) -> Response:
    return await _page(request, session)


@staff_only(ADMIN)
async def widget_add(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    typed = read_typed(await request.form(), "unit", "origins", limit=4000)
    errors: dict[str, str] = {}
    unit = pick_unit(await svc.store.list_units(), typed["unit"])
    if unit is None:
        errors["unit"] = gettext("Choose a unit from the list.")
    origins: list[str] = []
    try:
        origins = origin_rules.read_origins(typed["origins"].splitlines())
    except origin_rules.InvalidOrigin as exc:
        errors["origins"] = _origin_error(exc)
    if not errors:
        assert unit is not None
        try:
            widget = await svc.store.add_widget(unit.id, origins)
        except NotFound:
            errors["unit"] = gettext("Choose a unit from the list.")
    if errors:
        return await _page(request, session, errors=errors, typed=typed, status_code=400)
    return redirect_done(
        f"/admin/widgets?unit={widget.unit_id}", "widget_added", widget.id, f"#widget-{widget.id}"
    )


@staff_only(ADMIN)
async def widget_revoke(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    widget = await svc.store.widget(path_id(request, "widget_id"))
    if widget is None:
        raise HTTPException(404)
    back = f"/admin/widgets?unit={widget.unit_id}"
    if request.method == "POST":
        try:
            await svc.store.revoke_widget(widget.id)
        except NotFound:
            raise HTTPException(404) from None
        except StoreError:
            pass  # revoked meanwhile: the outcome the admin asked for
        return redirect_done(back, "widget_revoked", widget.id, f"#widget-{widget.id}")
    return confirmation_page(
        request,
        session,
        title=gettext("Revoke the widget of %(unit)s?", unit=widget.unit_name),
        message=gettext(
            "Its button stays on the sites until the snippet is "
            "removed, but the form no longer opens on any of them: "
            "citizens see a short notice instead. Reports already "
            "sent are kept. This cannot be undone; add a new widget "
            "for a new snippet."
        ),
        button=gettext("Revoke the widget"),
        back=back,
    )
