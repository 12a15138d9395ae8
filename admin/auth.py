"""Staff sign-in: argon2 password hashes, server-side sessions, CSRF checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import HTTPConnection, Request

# Re-exported for the views: signing in and managing accounts speak to one module.
from lapor.admin.passwords import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH
from lapor.admin.passwords import generate_password as generate_password
from lapor.admin.passwords import hash_password as hash_password
from lapor.admin.passwords import verify_password as verify_password
from lapor.complaints.records import StaffSession
from lapor.web.services import same_origin as same_origin
from lapor.web.services import services

SESSION_COOKIE = "lapor_session"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


async def current_session(conn: HTTPConnection) -> StaffSession | None:
    cached = conn.scope.get("lapor.session", False)
    if cached is not False:
        known: StaffSession | None = cached
        return known
    token = conn.cookies.get(SESSION_COOKIE)
    session = None
    if token and len(token) < 100:
        session = await services(conn).store.session(token_hash(token))
    conn.scope["lapor.session"] = session
    return session


def csrf_ok(request: Request, session: StaffSession, submitted: str | None) -> bool:
    if not same_origin(request):
        return False
    # As bytes: compare_digest refuses a str with anything but ASCII (a TypeError, a 500), and
    # what was submitted can be anything.
    expected, given = session.csrf_token.encode(), str(submitted).encode()
    return bool(submitted) and hmac.compare_digest(expected, given)
