"""Who may try a password now: the staff sign-in's limits.

A lockout per account is a weapon: anyone who knows an address like `koor@prov.go.id` could
keep its owner out with a dozen wrong passwords. So guesses are counted where they come from,
and the owner is told apart from strangers by a cookie their browser got when it last signed
in (OWASP's "device cookies"):

- a browser that signed in to the account before has a budget of its own (per account and
  browser), which nobody else can spend;
- any other attempt is counted per client address (all accounts), per account and address,
  and against the account's ceiling for all strangers together, a sliding window that slows a
  guesser spread over many addresses to its rate instead of locking the account;
- every attempt is counted before the password is checked (guesses sent in parallel cannot
  slip under a limit while argon2 runs), and a success clears what the owner's own attempts
  counted, so signing in often is never mistaken for guessing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final, Literal

from lapor.web.services import Services

DEVICE_COOKIE: Final = "lapor_device"
# Browsers keep a cookie at most 400 days; a year, renewed at every sign-in, stays under it.
DEVICE_MAX_AGE: Final = 365 * 24 * 3600

Refusal = Literal["throttled", "account_busy"]


@dataclass(frozen=True)
class Attempt:
    """One counted attempt: whether it may go on, and what a success forgets."""

    refused: Refusal | None
    device_nonce: str  # the browser's random part: kept when known, new otherwise
    _own: tuple[str, tuple[str, ...]]  # the bucket of the owner's own attempts

    async def succeeded(self, svc: Services) -> None:
        kind, key = self._own
        await svc.limits.clear(svc.settings.login_limit_per_account_address, kind, *key)


def known_device(svc: Services, cookie: str | None, user_id: int | None) -> str | None:
    """The browser's nonce when its cookie says it signed in to this account before."""
    if not cookie or user_id is None:
        return None
    device = svc.signing.read_staff_device(cookie)
    if device is None or device[0] != user_id:
        return None
    return device[1]


async def count_attempt(
    svc: Services,
    *,
    email: str,
    user_id: int | None,
    address: str,
    device_cookie: str | None,
) -> Attempt:
    settings = svc.settings
    limits = svc.limits
    nonce = known_device(svc, device_cookie, user_id)
    if nonce is not None:
        own = ("login-device", (str(user_id), nonce))
        ok = await limits.hit(settings.login_limit_per_account_address, own[0], *own[1])
        return Attempt(None if ok else "throttled", nonce, own)
    own = ("login-acct-addr", (email, address))
    # In this order, and no further once one is full: an address already refused must not
    # also spend the account's ceiling, or a single guesser could fill it for everyone.
    checks: list[tuple[str, str, tuple[str, ...], Refusal]] = [
        (settings.login_limit_per_address, "login-addr", (address,), "throttled"),
        (settings.login_limit_per_account_address, *own, "throttled"),
        (settings.login_limit_per_account, "login-acct", (email,), "account_busy"),
    ]
    for rule, kind, key, refusal in checks:
        if not await limits.hit(rule, kind, *key):
            return Attempt(refusal, "", own)
    return Attempt(None, secrets.token_urlsafe(12), own)
