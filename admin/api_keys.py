"""The administrator's Open311 API key pages: `lapor api-key add/list/revoke` in the browser.
One key per client (a FixMyStreet site, a city app), named after it: the name is what staff
see on the reports it files. A key is shown once, in the answer to the form that made it, and
only its hash is stored; revoking is for good. Admins only, like the other organisation pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.requests import Request
from starlette.responses import Response

from lapor.admin import registry
from lapor.admin.registry import Confirmed, Listing, Managed, Question, redirect_done
from lapor.admin.responses import NO_STORE
from lapor.complaints import open311 as rules
from lapor.complaints.records import ApiKey, StaffSession, Unit
from lapor.web.i18n import N_, gettext
from lapor.web.services import Services, services

DONE = {
    "api_key_revoked": N_("The API key of %(name)s has been revoked: it files no more reports."),
}


async def _listing(svc: Services, units: Sequence[Unit], shown_unit: Unit | None) -> Listing:
    keys = await svc.store.list_api_keys()
    return Listing(
        {
            "api_keys": keys,
            "name_max": rules.NAME_MAX,
            "endpoint": f"{svc.settings.base_url}/open311/v2",
        },
        {k.id: k.name for k in keys},
    )


async def _add(
    request: Request, session: StaffSession, typed: Mapping[str, str]
) -> Response | dict[str, str]:
    svc = services(request)
    try:
        name = rules.read_client_name(typed["name"])
    except ValueError:
        return {
            "name": gettext(
                "Give the client's name, 1 to %(max)s characters, such as the site or app "
                "that will file reports.",
                max=rules.NAME_MAX,
            )
        }
    key = rules.new_api_key()
    api_key = await svc.store.add_api_key(name, rules.api_key_hash(key))
    # The only readable copy of the key leaves in this response: never cached, never a URL.
    return svc.templates.response(
        request,
        "admin/api_key_shown.html",
        {
            "session": session,
            "api_key": api_key,
            "key": key,
            "endpoint": f"{svc.settings.base_url}/open311/v2",
        },
        headers=NO_STORE,
    )


API_KEYS = Managed(
    path="/admin/api-keys",
    template="admin/api_keys.html",
    done=DONE,
    listing=_listing,
    fields=("name",),
    limit=400,
    add=_add,
    by_unit=False,
)


def _back(api_key: ApiKey) -> str:
    return "/admin/api-keys"


async def _revoke(request: Request, session: StaffSession, api_key: ApiKey) -> Response:
    await registry.revocation(services(request).store.revoke_api_key(api_key.id))
    return redirect_done(_back(api_key), "api_key_revoked", api_key.id, f"#api-key-{api_key.id}")


REVOKE = Confirmed[ApiKey](
    param="key_id",
    find=lambda svc, key_id: svc.store.api_key(key_id),
    back=_back,
    act=_revoke,
    ask=lambda api_key: Question(
        title=gettext("Revoke the API key of %(name)s?", name=api_key.name),
        message=gettext(
            "The client can no longer file reports with it; it still reads the public "
            "listing, which needs no key. Reports it filed are kept. This cannot be undone: "
            "add a new key for the client if it needs one."
        ),
        button=gettext("Revoke the key"),
    ),
)

api_key_list = registry.list_view(API_KEYS)
api_key_add = registry.add_view(API_KEYS)
api_key_revoke = registry.confirmed_view(REVOKE)
