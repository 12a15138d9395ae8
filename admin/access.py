"""Who may open an admin page: the decorator every view of /admin wears, the scope a staff
member sees, and record ids read from the path. Shared by every module of the admin surface,
so none of them has to import another one's views."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin import auth
from lapor.complaints.access import Scope, scope_of
from lapor.complaints.inbox import MAX_ID
from lapor.complaints.records import StaffSession
from lapor.complaints.workflow import BULK_MAX

View = Callable[[Request, StaffSession], Awaitable[Response]]


def staff_only(
    *roles: str, max_files: int = 0
) -> Callable[[View], Callable[[Request], Awaitable[Response]]]:
    """Signed-in staff with one of `roles` (any staff when empty); others go to the login page
    or get 403. State-changing requests must also carry the session's CSRF token; a view that
    takes uploads says how many files its form may carry."""

    def decorate(view: View) -> Callable[[Request], Awaitable[Response]]:
        @wraps(view)
        async def endpoint(request: Request) -> Response:
            session = await auth.current_session(request)
            if session is None:
                if request.method != "GET":
                    raise HTTPException(403)
                return RedirectResponse(f"/admin/login?next={request.url.path}", status_code=303)
            if roles and session.user.role not in roles:
                raise HTTPException(403)
            if request.method == "POST":
                # The first parse is the one Starlette keeps, with room for a bulk selection:
                # the views read this one through request.form().
                form = await request.form(max_files=max_files, max_fields=BULK_MAX + 20)
                if not auth.csrf_ok(request, session, form.get("csrf")):  # type: ignore[arg-type]
                    await form.close()  # uploads spooled to disk go now
                    raise HTTPException(403, "CSRF check failed")
            return await view(request, session)

        return endpoint

    return decorate


def path_id(request: Request, name: str) -> int:
    """The record id in the path: one larger than any the store hands out is simply not there."""
    value: int = request.path_params[name]
    if value > MAX_ID:
        raise HTTPException(404)
    return value


def staff_scope(session: StaffSession) -> Scope:
    return scope_of(session.user.role, session.unit.id, session.unit.path, session.user.id)
