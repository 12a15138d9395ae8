"""The administrator's widget pages: `lapor widget add/list/revoke` in the browser. A unit's
widgets with the snippet to paste (both forms: data-key, and the key in the URL for sites that
strip data attributes), the lines a strict Content-Security-Policy needs, a copy button, and
revocation after a confirmation page. A widget's own page changes its sites (the key, and so
the snippet, stays) and previews its button and form as a site shows them. Admins only, like
the other organisation pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lapor.admin import registry
from lapor.admin.access import path_id, staff_only
from lapor.admin.forms import read_typed
from lapor.admin.registry import ADMIN, Confirmed, Listing, Managed, Question, redirect_done
from lapor.admin.responses import NO_STORE
from lapor.complaints import origins as origin_rules
from lapor.complaints.records import StaffSession, Unit, Widget
from lapor.store.cache import LOOKUP_CACHE_SECONDS
from lapor.store.errors import NotFound, StoreError
from lapor.web.i18n import N_, gettext
from lapor.web.security import CONTENT_SECURITY_POLICY
from lapor.web.services import Services, services
from lapor.web.snippet import CHECK_MAX_AGE, snippet

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
    "widget_saved": N_("The sites of the widget of %(name)s have been saved."),
}
REVOKED = N_("This widget has been revoked: its sites can no longer be changed.")
# The preview page frames our own /w/{key}: its policy allows that one frame source.
PREVIEW_POLICY = f"{CONTENT_SECURITY_POLICY}; frame-src 'self'"


def _origins_typed(typed: str, errors: dict[str, str]) -> list[str]:
    """The sites typed one per line, normalised, or none with the sentence in `errors`: the
    same rules for adding a widget and for changing its sites."""
    try:
        return origin_rules.read_origins(typed.splitlines())
    except origin_rules.InvalidOrigin as exc:
        errors["origins"] = _origin_error(exc)
        return []


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
    origins = _origins_typed(typed["origins"], errors)
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


async def _widget(request: Request) -> Widget:
    widget = await services(request).store.widget(path_id(request, "widget_id"))
    if widget is None:
        raise HTTPException(404)
    return widget


async def _widget_page(
    request: Request,
    session: StaffSession,
    widget: Widget,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    return svc.templates.response(
        request,
        "admin/widget.html",
        {
            "session": session,
            "widget": widget,
            "errors": errors or {},
            "typed": typed or {},
            "max_origins": origin_rules.MAX_ORIGINS,
            "cache_seconds": round(LOOKUP_CACHE_SECONDS),
            "check_seconds": CHECK_MAX_AGE,
            "notice": registry.notice(DONE, request, {widget.id: widget.unit_name}),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@staff_only(ADMIN)
async def widget_detail(request: Request, session: StaffSession) -> Response:
    """A widget's sites, to change when an agency moves its site or adds one."""
    return await _widget_page(request, session, await _widget(request))


@staff_only(ADMIN)
async def widget_save(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    widget = await _widget(request)
    typed = read_typed(await request.form(), "origins", limit=WIDGETS.limit)
    errors: dict[str, str] = {}
    if not widget.active:
        errors["origins"] = gettext(REVOKED)
    origins = _origins_typed(typed["origins"], errors) if not errors else []
    if not errors:
        try:
            widget = await svc.store.set_widget_origins(widget.id, origins)
        except NotFound:
            raise HTTPException(404) from None
        except StoreError:  # revoked a moment ago
            errors["origins"] = gettext(REVOKED)
    if errors:
        return await _widget_page(
            request, session, widget, errors=errors, typed=typed, status_code=400
        )
    return redirect_done(f"/admin/widgets/{widget.id}", "widget_saved", widget.id)


@staff_only(ADMIN)
async def widget_preview(request: Request, session: StaffSession) -> Response:
    """The widget's button and its inline form as a site shows them, run by the real loader
    from this deployment's own origin: the frame knows it as a preview (widget.views), shows
    it so, disables its send button and refuses a POST."""
    svc = services(request)
    widget = await _widget(request)
    return svc.templates.response(
        request,
        "admin/widget_preview.html",
        {
            "session": session,
            "widget": widget,
            "key": svc.signing.widget_key(widget.id, widget.version),
        },
        headers={**NO_STORE, "content-security-policy": PREVIEW_POLICY, "x-frame-options": "DENY"},
    )
