"""The pieces every admin page that lists, adds and revokes records shares: the redirect that
says what happened, and the confirmation step of a change that cannot be taken back."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lapor.admin.responses import NO_STORE
from lapor.complaints.records import StaffSession
from lapor.web.services import services


def redirect_done(path: str, what: str, record_id: int, anchor: str = "") -> RedirectResponse:
    """Post/Redirect/Get: `?done=` names what happened, so a reload changes nothing."""
    return RedirectResponse(
        f"{path}{'&' if '?' in path else '?'}done={what}&id={record_id}{anchor}", status_code=303
    )


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
