"""The administrator's widget pages: `lapor widget add/list/revoke` in the browser. A unit's
widgets with the snippet to paste (both forms: data-key, and the key in the URL for sites that
strip data attributes), the lines a strict Content-Security-Policy needs, a copy button, and
revocation after a confirmation page. Admins only, like the other organisation pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.requests import Request
from starlette.responses import Response

from lapor.admin import registry
from lapor.admin.registry import Confirmed, Listing, Managed, Question, redirect_done
from lapor.complaints import origins as origin_rules
from lapor.complaints.records import StaffSession, Unit, Widget
from lapor.store.errors import NotFound
from lapor.web.i18n import N_, gettext
from lapor.web.services import Services, services
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


async def _listing(svc: Services, units: Sequence[Unit], shown_unit: Unit | None) -> Listing:
    widgets = await svc.store.list_widgets(shown_unit.id if shown_unit else None)
    base_url = svc.settings.base_url

    def code(widget: Widget) -> object:
        return snippet(base_url, svc.signing.widget_key(widget.id, widget.version))

    return Listing(
        {"widgets": widgets, "snippet": code, "max_origins": origin_rules.MAX_ORIGINS},
        {w.id: w.unit_name for w in widgets},
    )


async def _add(
    request: Request, session: StaffSession, typed: Mapping[str, str]
) -> Response | dict[str, str]:
    svc = services(request)
    errors: dict[str, str] = {}
    unit = await registry.unit_typed(svc, typed, errors)
    origins: list[str] = []
    try:
        origins = origin_rules.read_origins(typed["origins"].splitlines())
    except origin_rules.InvalidOrigin as exc:
        errors["origins"] = _origin_error(exc)
    if not errors:
        assert unit is not None
        try:
            widget = await svc.store.add_widget(unit.id, origins)
        except NotFound:  # deleted meanwhile
            errors["unit"] = gettext(registry.UNIT_CHOICE)
    if errors:
        return errors
    return redirect_done(
        f"/admin/widgets?unit={widget.unit_id}", "widget_added", widget.id, f"#widget-{widget.id}"
    )


WIDGETS = Managed(
    path="/admin/widgets",
    template="admin/widgets.html",
    done=DONE,
    listing=_listing,
    fields=("unit", "origins"),
    limit=4000,
    add=_add,
)


def _back(widget: Widget) -> str:
    return f"/admin/widgets?unit={widget.unit_id}"


async def _revoke(request: Request, session: StaffSession, widget: Widget) -> Response:
    await registry.revocation(services(request).store.revoke_widget(widget.id))
    return redirect_done(_back(widget), "widget_revoked", widget.id, f"#widget-{widget.id}")


REVOKE = Confirmed[Widget](
    param="widget_id",
    find=lambda svc, widget_id: svc.store.widget(widget_id),
    back=_back,
    act=_revoke,
    ask=lambda widget: Question(
        title=gettext("Revoke the widget of %(unit)s?", unit=widget.unit_name),
        message=gettext(
            "Its button stays on the sites until the snippet is "
            "removed, but the form no longer opens on any of them: "
            "citizens see a short notice instead. Reports already "
            "sent are kept. This cannot be undone; add a new widget "
            "for a new snippet."
        ),
        button=gettext("Revoke the widget"),
    ),
)

widget_list = registry.list_view(WIDGETS)
widget_add = registry.add_view(WIDGETS)
widget_revoke = registry.confirmed_view(REVOKE)
