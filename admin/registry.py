"""One piece for every admin page that lists a kind of record, adds one and revokes one (units,
users, posters, widgets, kiosks). A kind says what is particular to it in a `Managed`: its
path and template, its list query, its add form reader and its `?done=` sentences; a change
that cannot be taken back says its store action and its question in a `Confirmed`. The views
here do the rest the same way for all: the admin-only check, the unit filter, the sentence
after a redirect (Post/Redirect/Get), the form that comes back with its errors (400), and the
confirmation step on a page of its own, which works without JavaScript.

The template extends admin/_managed.html, which draws the heading, the notice, the unit
filter and the add form around the kind's own table and fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin.access import path_id, staff_only
from lapor.admin.forms import pick_unit, read_number, read_typed
from lapor.admin.responses import NO_STORE
from lapor.complaints.records import StaffSession, Unit
from lapor.store.errors import NotFound, StoreError
from lapor.web.i18n import N_, gettext
from lapor.web.services import Services, services

ADMIN = "admin"
R = TypeVar("R")
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Listing:
    """What a kind's list query found: the template's own variables, and each record's name
    by id for the sentence after a redirect."""

    context: Mapping[str, Any]
    names: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Managed:
    path: str  # the page, and where its add form posts: "/admin/widgets"
    template: str  # extends admin/_managed.html
    done: Mapping[str, str]  # `?done=` -> sentence; %(name)s is the record's name
    # The list query, given every unit and the unit filter's choice (None: all units).
    listing: Callable[[Services, Sequence[Unit], Unit | None], Awaitable[Listing]]
    # The add form: the fields shown again when it comes back, and how long they may be.
    fields: tuple[str, ...]
    # Reads the typed fields and adds the record: the answer (a redirect, or a page shown
    # once), or the errors by field, translated, for the form to come back with.
    add: Callable[[Request, StaffSession, Mapping[str, str]], Awaitable[Response | dict[str, str]]]
    limit: int = 500
    by_unit: bool = True  # the list has a unit filter (?unit=)


@dataclass(frozen=True)
class Question:
    title: str
    message: str
    button: str


@dataclass(frozen=True)
class Confirmed(Generic[R]):
    """A change that cannot be taken back: the GET asks, the POST does it."""

    param: str  # the record id's name in the path
    find: Callable[[Services, int], Awaitable[R | None]]
    ask: Callable[[R], Question]
    back: Callable[[R], str]  # where Cancel goes
    # Does the change and answers; a record gone meanwhile (NotFound) is a 404.
    act: Callable[[Request, StaffSession, R], Awaitable[Response]]
    # A page instead of the question when the change may not be made at all.
    refuse: Callable[[Request, StaffSession, R], Awaitable[Response | None]] | None = None


UNIT_CHOICE = N_("Choose a unit from the list.")


async def unit_typed(
    svc: Services, typed: Mapping[str, str], errors: dict[str, str]
) -> Unit | None:
    """The unit an add form picked, or None with the sentence for its field in `errors`."""
    unit = pick_unit(await svc.store.list_units(), typed["unit"])
    if unit is None:
        errors["unit"] = gettext(UNIT_CHOICE)
    return unit


def redirect_done(path: str, what: str, record_id: int, anchor: str = "") -> RedirectResponse:
    """Post/Redirect/Get: `?done=` names what happened, so a reload changes nothing."""
    return RedirectResponse(
        f"{path}{'&' if '?' in path else '?'}done={what}&id={record_id}{anchor}", status_code=303
    )


async def revocation(change: Awaitable[object]) -> None:
    """A revocation that may have happened meanwhile: that is the outcome the admin asked
    for. A record gone altogether (NotFound) still answers 404."""
    try:
        await change
    except NotFound:
        raise
    except StoreError:
        pass


def notice(done: Mapping[str, str], request: Request, names: Mapping[int, str]) -> str | None:
    """The sentence for `?done=...&id=...` after a redirect; nothing for a made-up link."""
    what = request.query_params.get("done", "")
    if what not in done:
        return None
    if "%(name)s" not in done[what]:  # the record is gone: nothing to name
        return gettext(done[what])
    record = read_number(request.query_params.get("id"))
    name = names.get(record) if record is not None else None
    return gettext(done[what], name=name) if name is not None else None


async def page(
    kind: Managed,
    request: Request,
    session: StaffSession,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    units = await svc.store.list_units()
    shown_unit = pick_unit(units, request.query_params.get("unit", "")) if kind.by_unit else None
    listing = await kind.listing(svc, units, shown_unit)
    return svc.templates.response(
        request,
        kind.template,
        {
            "session": session,
            "path": kind.path,
            "by_unit": kind.by_unit,
            "units": units,
            "shown_unit": shown_unit,
            "errors": errors or {},
            "typed": typed or {},
            "refusal": refusal,
            "notice": notice(kind.done, request, listing.names),
            **listing.context,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def list_view(kind: Managed) -> Endpoint:
    @staff_only(ADMIN)
    async def endpoint(request: Request, session: StaffSession) -> Response:
        return await page(kind, request, session)

    return endpoint


def add_view(kind: Managed) -> Endpoint:
    @staff_only(ADMIN)
    async def endpoint(request: Request, session: StaffSession) -> Response:
        typed = read_typed(await request.form(), *kind.fields, limit=kind.limit)
        outcome = await kind.add(request, session, typed)
        if isinstance(outcome, Response):
            return outcome
        return await page(kind, request, session, errors=outcome, typed=typed, status_code=400)

    return endpoint


def confirmed_view(change: Confirmed[R]) -> Endpoint:
    @staff_only(ADMIN)
    async def endpoint(request: Request, session: StaffSession) -> Response:
        record = await change.find(services(request), path_id(request, change.param))
        if record is None:
            raise HTTPException(404)
        if change.refuse is not None:
            refused = await change.refuse(request, session, record)
            if refused is not None:
                return refused
        if request.method == "POST":
            try:
                return await change.act(request, session, record)
            except NotFound:
                raise HTTPException(404) from None
        question = change.ask(record)
        return confirmation_page(
            request,
            session,
            title=question.title,
            message=question.message,
            button=question.button,
            back=change.back(record),
        )

    return endpoint


def confirmation_page(
    request: Request,
    session: StaffSession,
    *,
    title: str,
    message: str,
    button: str,
    back: str,
    status_code: int = 200,
) -> Response:
    return services(request).templates.response(
        request,
        "admin/confirm.html",
        {
            "session": session,
            "title": title,
            "message": message,
            "button": button,
            "action": request.url.path,
            "back": back,
        },
        status_code=status_code,
        headers=NO_STORE,
    )
