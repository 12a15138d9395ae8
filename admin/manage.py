"""The administrator's pages for the organisation: the unit tree, staff accounts and QR
posters, what the operator commands (cli.py) do, in the browser.

Administrators only: every view checks the role itself (other staff get 403), whatever the
navigation shows. Every change is a POST carrying the session's CSRF token and answers with a
redirect (Post/Redirect/Get) whose `?done=` names what happened, so a reload changes nothing.
Two answers are pages instead of redirects: a generated password is shown once in the
response to the POST that made it, because it must never travel in a URL or be stored.
Destructive changes (revoke, deactivate, reset, delete) are confirmed on a page of their own,
which works without JavaScript."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin import auth, registry
from lapor.admin.access import path_id, staff_only
from lapor.admin.forms import pick_unit, read_typed
from lapor.admin.registry import ADMIN, Confirmed, Listing, Managed, Question, redirect_done
from lapor.admin.responses import NO_STORE
from lapor.complaints import organisation
from lapor.complaints import sms as sms_rules
from lapor.complaints.access import STAFF_ROLES
from lapor.complaints.records import Poster, StaffSession, Unit, User
from lapor.store.errors import Duplicate, InUse, NotFound
from lapor.web.i18n import N_, gettext
from lapor.web.services import Services, services

MAX_PASSWORD = 200

ERRORS = {
    "slug": N_(
        "Use 1 to 64 characters: lowercase letters a–z, digits and hyphens, starting "
        "with a letter or digit."
    ),
    "slug_taken": N_("Another unit already has this short name."),
    "name": N_("Give a name of 1 to 200 characters."),
    "parent": N_("Choose the parent unit from the list."),
    "email": N_("Enter an e-mail address such as nama@instansi.go.id."),
    "email_taken": N_("There is already an account with this e-mail address."),
    "role": N_("Choose a role from the list."),
    "unit": N_("Choose a unit from the list."),
    "password_short": N_("The password must have at least 10 characters."),
    "password_long": N_("The password can have at most 200 characters."),
    "label": N_("Give a label of 1 to 200 characters, such as the counter's name."),
    "self": N_("You cannot deactivate your own account. Ask another administrator."),
    "self_role": N_(
        "You cannot change your own role or unit: you could lock yourself out. Ask another "
        "administrator."
    ),
    "person_name": N_("A name can have at most 120 characters, without control characters."),
    "sms_word": N_("Use one word of letters and digits, at most 32, other than ANONIM."),
    "sms_word_taken": N_("Another unit already has this SMS word."),
    "in_use": N_(
        "This unit cannot be deleted: sub-units, accounts, posters, reports or "
        "answer templates still refer to it."
    ),
}
_PROBLEM_FIELDS = {
    organisation.Problem.SLUG: "slug",
    organisation.Problem.NAME: "name",
    organisation.Problem.EMAIL: "email",
    organisation.Problem.ROLE: "role",
    organisation.Problem.LABEL: "label",
    organisation.Problem.PERSON_NAME: "name",
}

# What the page a change redirects to says about it; %(name)s is the changed record's name.
DONE = {
    "unit_added": N_("Unit “%(name)s” added."),
    "unit_renamed": N_("Unit renamed to “%(name)s”."),
    "poster_relabelled": N_(
        "The poster is now labelled “%(name)s”. Prints already hanging keep working; print "
        "it again for the new label."
    ),
    "unit_sms_word": N_("The SMS word of “%(name)s” has been saved."),
    "unit_national": N_("Sending to the national portal has been saved for “%(name)s”."),
    "unit_deleted": N_("The unit has been deleted."),
    "user_added": N_("Account %(name)s added."),
    "user_saved": N_("The account of %(name)s has been saved."),
    "user_deactivated": N_("%(name)s can no longer sign in; their sessions have ended."),
    "user_reactivated": N_("%(name)s can sign in again."),
    "poster_added": N_("Poster “%(name)s” created: download it and print it."),
    "poster_revoked": N_(
        "Every earlier print of “%(name)s” has stopped working. Download the "
        "poster again and replace the prints."
    ),
}


# -- helpers -------------------------------------------------------------------------------
def _read(errors: dict[str, str], reader: Callable[[str], str], raw: str) -> str:
    try:
        return reader(raw)
    except organisation.Invalid as exc:
        errors[_PROBLEM_FIELDS[exc.problem]] = exc.problem.value
        return ""


def _errors(errors: Mapping[str, str]) -> dict[str, str]:
    return {field: gettext(ERRORS[code]) for field, code in errors.items()}


def _password_shown(
    request: Request, session: StaffSession, *, title: str, user: User, password: str
) -> Response:
    # The only copy of the password leaves in this response: never cached, never in a URL.
    return services(request).templates.response(
        request,
        "admin/password_shown.html",
        {"session": session, "title": title, "user": user, "password": password},
        headers=NO_STORE,
    )


# -- units ---------------------------------------------------------------------------------
async def _unit_listing(svc: Services, units: Sequence[Unit], shown: Unit | None) -> Listing:
    summaries = await svc.store.unit_summaries()
    return Listing({"summaries": summaries}, {s.unit.id: s.unit.name for s in summaries})


async def _unit_add(
    request: Request, session: StaffSession, typed: Mapping[str, str]
) -> Response | dict[str, str]:
    svc = services(request)
    errors: dict[str, str] = {}
    slug = _read(errors, organisation.read_slug, typed["slug"])
    name = _read(errors, organisation.read_name, typed["name"])
    parent = None
    if typed["parent"]:
        parent = pick_unit(await svc.store.list_units(), typed["parent"])
        if parent is None:
            errors["parent"] = "parent"
    if not errors:
        try:
            unit = await svc.store.add_unit(slug, name, parent.slug if parent else None)
        except Duplicate:
            errors["slug"] = "slug_taken"
        except NotFound:  # the parent was deleted meanwhile
            errors["parent"] = "parent"
    if errors:
        return _errors(errors)
    return redirect_done("/admin/units", "unit_added", unit.id, f"#unit-{unit.id}")


UNITS = Managed(
    path="/admin/units",
    template="admin/units.html",
    done=DONE,
    listing=_unit_listing,
    fields=("slug", "name", "parent"),
    add=_unit_add,
    by_unit=False,  # the list is the tree itself
)
unit_list = registry.list_view(UNITS)
unit_add = registry.add_view(UNITS)


async def _unit(request: Request) -> Unit:
    unit = await services(request).store.unit(path_id(request, "unit_id"))
    if unit is None:
        raise HTTPException(404)
    return unit


async def _unit_page(
    request: Request,
    session: StaffSession,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    unit = await _unit(request)
    summaries, users = await asyncio.gather(svc.store.unit_summaries(), svc.store.list_users())
    summary = next((s for s in summaries if s.unit.id == unit.id), None)
    if summary is None:  # deleted a moment ago
        raise HTTPException(404)
    parent = next((s.unit for s in summaries if s.unit.id == unit.parent_id), None)
    return svc.templates.response(
        request,
        "admin/unit.html",
        {
            "session": session,
            "unit": unit,
            "summary": summary,
            "parent": parent,
            "staff": [user for user, _ in users if user.unit_id == unit.id],
            # What "print every poster" puts in its PDF: the unit's and its sub-units'.
            "subtree_posters": sum(
                s.posters for s in summaries if s.unit.path.startswith(unit.path)
            ),
            "errors": _errors(errors or {}),
            "typed": typed or {},
            "refusal": gettext(ERRORS[refusal]) if refusal else None,
            "notice": registry.notice(DONE, request, {unit.id: unit.name}),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@staff_only(ADMIN)
async def unit_detail(request: Request, session: StaffSession) -> Response:
    return await _unit_page(request, session)


@staff_only(ADMIN)
async def unit_rename(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    typed = read_typed(await request.form(), "name")
    errors: dict[str, str] = {}
    name = _read(errors, organisation.read_name, typed["name"])
    if errors:
        return await _unit_page(request, session, errors=errors, typed=typed, status_code=400)
    try:
        unit = await svc.store.rename_unit(path_id(request, "unit_id"), name)
    except NotFound:
        raise HTTPException(404) from None
    return redirect_done(f"/admin/units/{unit.id}", "unit_renamed", unit.id)


@staff_only(ADMIN)
async def unit_sms_word(request: Request, session: StaffSession) -> Response:
    """The word after the SMS keyword that sends a report to this unit (docs/sms.md)."""
    svc = services(request)
    typed = read_typed(await request.form(), "sms_word")
    try:
        word = sms_rules.read_unit_word(typed["sms_word"])
    except ValueError:
        return await _unit_page(
            request, session, errors={"sms_word": "sms_word"}, typed=typed, status_code=400
        )
    unit = await _unit(request)
    try:
        await svc.store.set_unit_sms_word(unit.slug, word)
    except Duplicate:
        return await _unit_page(
            request, session, errors={"sms_word": "sms_word_taken"}, typed=typed, status_code=400
        )
    except NotFound:
        raise HTTPException(404) from None
    return redirect_done(f"/admin/units/{unit.id}", "unit_sms_word", unit.id)


@staff_only(ADMIN)
async def unit_national(request: Request, session: StaffSession) -> Response:
    """Whether every verified report of this unit and the units under it goes to the national
    portal SP4N-LAPOR! by itself (docs/national.md); a checkbox, so absent means no."""
    svc = services(request)
    form = await request.form()
    sends = form.get("sends_national") == "1"
    try:
        unit = await svc.store.set_unit_sends_national(path_id(request, "unit_id"), sends)
    except NotFound:
        raise HTTPException(404) from None
    return redirect_done(f"/admin/units/{unit.id}", "unit_national", unit.id)


async def _unit_in_use(request: Request, session: StaffSession, unit: Unit) -> Response | None:
    summaries = await services(request).store.unit_summaries()
    summary = next((s for s in summaries if s.unit.id == unit.id), None)
    if summary is not None and not summary.empty:
        # No question asked that could only be answered with a refusal.
        return await _unit_page(request, session, refusal="in_use", status_code=409)
    return None


async def _unit_delete(request: Request, session: StaffSession, unit: Unit) -> Response:
    try:
        await services(request).store.delete_unit(unit.id)
    except InUse:  # in use since the check
        return await _unit_page(request, session, refusal="in_use", status_code=409)
    return RedirectResponse("/admin/units?done=unit_deleted", status_code=303)


unit_delete = registry.confirmed_view(
    Confirmed[Unit](
        param="unit_id",
        find=lambda svc, unit_id: svc.store.unit(unit_id),
        refuse=_unit_in_use,
        act=_unit_delete,
        back=lambda unit: f"/admin/units/{unit.id}",
        ask=lambda unit: Question(
            title=gettext("Delete unit “%(name)s”?", name=unit.name),
            message=gettext(
                "The unit has no sub-units, accounts or posters. Deleting it cannot be undone."
            ),
            button=gettext("Delete unit"),
        ),
    )
)


# -- users ---------------------------------------------------------------------------------
async def _user_listing(svc: Services, units: Sequence[Unit], shown: Unit | None) -> Listing:
    users = await svc.store.list_users()
    return Listing(
        {
            "users": [(u, unit) for u, unit in users if shown is None or unit.id == shown.id],
            "roles": STAFF_ROLES,
        },
        {user.id: user.display_name for user, _ in users},
    )


async def _user_add(
    request: Request, session: StaffSession, typed: Mapping[str, str]
) -> Response | dict[str, str]:
    svc = services(request)
    password = str((await request.form()).get("password", ""))[: MAX_PASSWORD + 1]
    errors: dict[str, str] = {}
    email = _read(errors, organisation.read_email, typed["email"])
    name = _person_name(errors, typed["name"])
    role = _read(errors, organisation.read_role, typed["role"])
    unit = pick_unit(await svc.store.list_units(), typed["unit"])
    if unit is None:
        errors["unit"] = "unit"
    generated = not password
    if generated:
        password = auth.generate_password()
    elif len(password) < auth.MIN_PASSWORD_LENGTH:
        errors["password"] = "password_short"
    elif len(password) > MAX_PASSWORD:
        errors["password"] = "password_long"
    if not errors and await svc.store.user_by_email(email) is not None:
        errors["email"] = "email_taken"  # checked before the slow hash; the store checks again
    if not errors:
        assert unit is not None
        password_hash = await asyncio.to_thread(auth.hash_password, password)
        try:
            user = await svc.store.add_user(email, password_hash, role, unit.id, name)
        except Duplicate:
            errors["email"] = "email_taken"
        except NotFound:
            errors["unit"] = "unit"
    if errors:
        # The password is not sent back: it would sit in the page's HTML.
        return _errors(errors)
    if generated:
        return _password_shown(
            request, session, title=gettext("Account added"), user=user, password=password
        )
    return redirect_done("/admin/users", "user_added", user.id, f"#user-{user.id}")


USERS = Managed(
    path="/admin/users",
    template="admin/users.html",
    done=DONE,
    listing=_user_listing,
    fields=("email", "name", "role", "unit"),
    add=_user_add,
)
user_list = registry.list_view(USERS)
user_add = registry.add_view(USERS)


def _find_user(svc: Services, user_id: int) -> Awaitable[User | None]:
    return svc.store.user(user_id)


def _person_name(errors: dict[str, str], raw: str) -> str | None:
    try:
        return organisation.read_person_name(raw)
    except organisation.Invalid:
        errors["name"] = "person_name"
        return None


async def _user_page(
    request: Request,
    session: StaffSession,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    user = await svc.store.user(path_id(request, "user_id"))
    if user is None:
        raise HTTPException(404)
    units = await svc.store.list_units()
    return svc.templates.response(
        request,
        "admin/user.html",
        {
            "session": session,
            "user": user,
            "units": units,
            "unit": next((u for u in units if u.id == user.unit_id), None),
            "roles": STAFF_ROLES,
            "oneself": user.id == session.user.id,
            "errors": _errors(errors or {}),
            "typed": typed or {},
            "notice": registry.notice(DONE, request, {user.id: user.display_name}),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@staff_only(ADMIN)
async def user_detail(request: Request, session: StaffSession) -> Response:
    """An account's name, role and unit, to change when a person moves or is renamed."""
    return await _user_page(request, session)


@staff_only(ADMIN)
async def user_save(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    user = await svc.store.user(path_id(request, "user_id"))
    if user is None:
        raise HTTPException(404)
    typed = read_typed(await request.form(), "name", "role", "unit")
    errors: dict[str, str] = {}
    name = _person_name(errors, typed["name"])
    role = _read(errors, organisation.read_role, typed["role"])
    unit = pick_unit(await svc.store.list_units(), typed["unit"])
    if unit is None:
        errors["unit"] = "unit"
    elif user.id == session.user.id and (role, unit.id) != (user.role, user.unit_id):
        # As with deactivating: one admin always remains who can undo a change.
        errors["role"] = "self_role"
    if not errors:
        assert unit is not None
        try:
            user = await svc.store.update_user(user.id, name=name, role=role, unit_id=unit.id)
        except NotFound:
            errors["unit"] = "unit"  # the unit was deleted a moment ago
    if errors:
        return await _user_page(request, session, errors=errors, typed=typed, status_code=400)
    return redirect_done(f"/admin/users/{user.id}", "user_saved", user.id)


async def _not_oneself(request: Request, session: StaffSession, user: User) -> Response | None:
    if user.id == session.user.id:
        # Nobody locks themself out; and so one admin always remains who can undo this.
        refusal = gettext(ERRORS["self"])
        return await registry.page(USERS, request, session, refusal=refusal, status_code=400)
    return None


async def _deactivate(request: Request, session: StaffSession, user: User) -> Response:
    await services(request).store.set_user_active(user.id, False)
    return redirect_done("/admin/users", "user_deactivated", user.id, f"#user-{user.id}")


user_deactivate = registry.confirmed_view(
    Confirmed[User](
        param="user_id",
        find=_find_user,
        refuse=_not_oneself,
        act=_deactivate,
        back=lambda user: "/admin/users",
        ask=lambda user: Question(
            title=gettext("Deactivate %(email)s?", email=user.email),
            message=gettext(
                "They are signed out at once and can no longer sign in. "
                "Their name stays in the history of the reports they "
                "handled. You can reactivate the account later."
            ),
            button=gettext("Deactivate"),
        ),
    )
)


@staff_only(ADMIN)
async def user_reactivate(request: Request, session: StaffSession) -> Response:
    try:
        user = await services(request).store.set_user_active(path_id(request, "user_id"), True)
    except NotFound:
        raise HTTPException(404) from None
    return redirect_done("/admin/users", "user_reactivated", user.id, f"#user-{user.id}")


async def _reset_password(request: Request, session: StaffSession, user: User) -> Response:
    password = auth.generate_password()
    password_hash = await asyncio.to_thread(auth.hash_password, password)
    # Resetting one's own password keeps the session doing it; every other one ends.
    keep = (
        auth.token_hash(request.cookies.get(auth.SESSION_COOKIE, ""))
        if user.id == session.user.id
        else None
    )
    user = await services(request).store.reset_password(user.id, password_hash, keep)
    return _password_shown(
        request, session, title=gettext("Password reset"), user=user, password=password
    )


user_reset_password = registry.confirmed_view(
    Confirmed[User](
        param="user_id",
        find=_find_user,
        act=_reset_password,
        back=lambda user: "/admin/users",
        ask=lambda user: Question(
            title=gettext("Reset the password of %(email)s?", email=user.email),
            message=gettext(
                "A new password is generated and shown to you once. The "
                "old password stops working and every session of the "
                "account ends."
            ),
            button=gettext("Reset password"),
        ),
    )
)


# -- posters -------------------------------------------------------------------------------
async def _poster_listing(svc: Services, units: Sequence[Unit], shown: Unit | None) -> Listing:
    posters = await svc.store.list_posters(shown.id if shown else None)
    by_unit: dict[int, list[Poster]] = {}
    for poster in posters:
        by_unit.setdefault(poster.unit_id, []).append(poster)
    base_url = svc.settings.base_url
    return Listing(
        {
            "groups": [(unit, by_unit[unit.id]) for unit in units if unit.id in by_unit],
            "poster_url": lambda p: svc.signing.poster_url(base_url, p.id, p.version),
        },
        {p.id: p.label for p in posters},
    )


def _poster_back(poster: Poster) -> str:
    return f"/admin/posters?unit={poster.unit_id}"


async def _poster_add(
    request: Request, session: StaffSession, typed: Mapping[str, str]
) -> Response | dict[str, str]:
    svc = services(request)
    errors: dict[str, str] = {}
    label = _read(errors, organisation.read_label, typed["label"])
    unit = pick_unit(await svc.store.list_units(), typed["unit"])
    if unit is None:
        errors["unit"] = "unit"
    if not errors:
        assert unit is not None
        try:
            poster = await svc.store.add_poster(unit.id, label)
        except NotFound:
            errors["unit"] = "unit"
    if errors:
        return _errors(errors)
    return redirect_done(_poster_back(poster), "poster_added", poster.id, f"#poster-{poster.id}")


POSTERS = Managed(
    path="/admin/posters",
    template="admin/posters.html",
    done=DONE,
    listing=_poster_listing,
    fields=("unit", "label"),
    add=_poster_add,
)
poster_list = registry.list_view(POSTERS)
poster_add = registry.add_view(POSTERS)


async def _poster_page(
    request: Request,
    session: StaffSession,
    poster: Poster,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    return svc.templates.response(
        request,
        "admin/poster.html",
        {
            "session": session,
            "poster": poster,
            "errors": _errors(errors or {}),
            "typed": typed or {},
            "notice": registry.notice(DONE, request, {poster.id: poster.label}),
            "back": _poster_back(poster),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def _poster(request: Request) -> Poster:
    poster = await services(request).store.poster(path_id(request, "poster_id"))
    if poster is None:
        raise HTTPException(404)
    return poster


@staff_only(ADMIN)
async def poster_detail(request: Request, session: StaffSession) -> Response:
    """A poster's label, to change when a counter is renumbered or renamed."""
    return await _poster_page(request, session, await _poster(request))


@staff_only(ADMIN)
async def poster_save(request: Request, session: StaffSession) -> Response:
    svc = services(request)
    poster = await _poster(request)
    typed = read_typed(await request.form(), "label")
    errors: dict[str, str] = {}
    label = _read(errors, organisation.read_label, typed["label"])
    if errors:
        return await _poster_page(
            request, session, poster, errors=errors, typed=typed, status_code=400
        )
    try:
        poster = await svc.store.relabel_poster(poster.id, label)
    except NotFound:
        raise HTTPException(404) from None
    return redirect_done(f"/admin/posters/{poster.id}", "poster_relabelled", poster.id)


def _find_poster(svc: Services, poster_id: int) -> Awaitable[Poster | None]:
    return svc.store.poster(poster_id)


async def _revoke_poster(request: Request, session: StaffSession, poster: Poster) -> Response:
    await services(request).store.revoke_poster(poster.id)
    return redirect_done(_poster_back(poster), "poster_revoked", poster.id, f"#poster-{poster.id}")


poster_revoke = registry.confirmed_view(
    Confirmed[Poster](
        param="poster_id",
        find=_find_poster,
        act=_revoke_poster,
        back=_poster_back,
        ask=lambda poster: Question(
            title=gettext("Revoke the prints of “%(label)s”?", label=poster.label),
            message=gettext(
                "Every printed copy of this poster stops working at once: "
                "citizens who scan it are told the poster is no longer "
                "valid. Reports already sent are kept. The poster gets a "
                "new code: download it again and replace the prints."
            ),
            button=gettext("Revoke the prints"),
        ),
    )
)


_FILENAME_UNSAFE = re.compile(r"[^a-z0-9-]")


_TOO_LONG = N_(
    "The server's public address (LAPOR_BASE_URL) is too long for a QR code that "
    "phones can scan. Ask the operator to shorten it."
)


async def _printed(render: Callable[[], bytes], filename: str, media_type: str) -> Response:
    # Imported here: reportlab is heavy and only these downloads and `poster print` need it.
    from lapor.web import posters

    try:
        data = await asyncio.to_thread(render)
    except posters.PosterTooDense:
        raise HTTPException(400, gettext(_TOO_LONG)) from None
    return Response(
        data,
        media_type=media_type,
        headers={**NO_STORE, "content-disposition": f'attachment; filename="{filename}"'},
    )


def _slug(unit_slug: str) -> str:
    return _FILENAME_UNSAFE.sub("", unit_slug) or "unit"


@staff_only(ADMIN)
async def poster_download(request: Request, session: StaffSession) -> Response:
    from lapor.web import poster_print, posters

    fmt = request.path_params["format"]
    if fmt not in posters.FORMATS:
        raise HTTPException(404)
    svc = services(request)
    poster = await _find_poster(svc, path_id(request, "poster_id"))
    if poster is None:
        raise HTTPException(404)
    sheet = await poster_print.poster_sheet(
        svc.store, svc.settings, svc.signing, poster, poster_print.today(svc.settings)
    )
    suffix = "" if fmt in ("a4", "pdf", "png", "svg") else f"-{fmt}"
    filename = (
        f"poster-{poster.id}-{_slug(poster.unit_slug)}-v{poster.version}{suffix}"
        f".{posters.EXTENSIONS[fmt]}"
    )
    return await _printed(lambda: posters.render(fmt, sheet), filename, posters.FORMATS[fmt])


@staff_only(ADMIN)
async def unit_posters_download(request: Request, session: StaffSession) -> Response:
    """Every poster of a unit and its sub-units in one PDF, one page each: every counter of an
    office put up in one go."""
    from lapor.web import poster_print, posters

    paper = request.path_params["format"]
    if paper not in posters.PAPERS:
        raise HTTPException(404)
    svc = services(request)
    unit = await svc.store.unit(path_id(request, "unit_id"))
    if unit is None:
        raise HTTPException(404)
    sheets = await poster_print.unit_sheets(
        svc.store, svc.settings, svc.signing, unit, poster_print.today(svc.settings)
    )
    if not sheets:
        raise HTTPException(400, gettext("This unit and its sub-units have no posters yet."))
    filename = f"posters-{_slug(unit.slug)}-{paper}.pdf"
    return await _printed(
        lambda: posters.render_sheets(paper, sheets), filename, posters.FORMATS[paper]
    )
