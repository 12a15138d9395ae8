"""The sign-in's limits: strangers are slowed, the owner is not locked out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from bs4 import BeautifulSoup

from lapor.admin.signin import DEVICE_COOKIE
from tests.conftest import PASSWORD, AppHarness, MakeHarness
from tests.html import one

OWNER = "koor@prov.go.id"


@asynccontextmanager
async def browser(harness: AppHarness, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser on another client address, against the same server."""
    transport = httpx.ASGITransport(app=harness.app, client=(address, 5000))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://lapor.example.go.id", follow_redirects=False
    ) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/admin/login", data={"email": email, "password": password})


def alert(response: httpx.Response) -> str:
    return one(BeautifulSoup(response.text, "html.parser"), "[role=alert]").get_text(
        " ", strip=True
    )


async def test_guesses_from_one_place_do_not_lock_the_owner_out(
    make_harness: MakeHarness,
) -> None:
    """The attack that worked: a dozen wrong passwords from anywhere locked the account for its
    owner too. Now they fill only the guesser's own count."""
    async with make_harness() as harness:
        async with browser(harness, "203.0.113.66") as guesser:
            answers = [(await sign_in(guesser, OWNER, f"guess {n}")).status_code for n in range(12)]
            assert answers == [400] * 10 + [429] * 2
        async with browser(harness, "192.0.2.10") as office:
            assert (await sign_in(office, OWNER, PASSWORD)).status_code == 303


async def test_a_guesser_on_many_addresses_is_slowed_and_the_owners_browser_gets_in(
    make_harness: MakeHarness,
) -> None:
    async with (
        make_harness(login_limit_per_account="5/hour") as harness,
        browser(harness, "192.0.2.10") as office,
    ):
        assert (await sign_in(office, OWNER, PASSWORD)).status_code == 303
        assert office.cookies.get(DEVICE_COOKIE)
        office.cookies.delete("lapor_session")
        answers = []
        for n in range(8):
            async with browser(harness, f"203.0.113.{n + 1}") as guesser:
                answers.append(await sign_in(guesser, OWNER, f"guess {n}"))
        assert [a.status_code for a in answers] == [400] * 4 + [429] * 4
        assert "komputer yang pernah Anda pakai" in alert(answers[-1])
        # The ceiling is the strangers' only: the owner's browser signs in, even from a
        # new address, and a right password from a stranger's browser waits.
        async with browser(harness, "198.51.100.99") as elsewhere:
            elsewhere.cookies.set(DEVICE_COOKIE, office.cookies[DEVICE_COOKIE])
            assert (await sign_in(elsewhere, OWNER, PASSWORD)).status_code == 303
        async with browser(harness, "192.0.2.10") as new_browser:
            assert (await sign_in(new_browser, OWNER, PASSWORD)).status_code == 429
        # Other accounts are untouched.
        async with browser(harness, "192.0.2.11") as colleague:
            assert (await sign_in(colleague, "admin@prov.go.id", PASSWORD)).status_code == 303


async def test_signing_in_often_is_not_guessing(make_harness: MakeHarness) -> None:
    async with (
        make_harness(
            login_limit_per_account="3/hour", login_limit_per_account_address="3/15minutes"
        ) as harness,
        browser(harness, "192.0.2.10") as office,
    ):
        for _ in range(6):
            assert (await sign_in(office, OWNER, PASSWORD)).status_code == 303
            office.cookies.delete("lapor_session")
        # A typo between sign-ins is counted, and forgotten by the next success.
        for _ in range(4):
            assert (await sign_in(office, OWNER, "typo")).status_code == 400
            assert (await sign_in(office, OWNER, PASSWORD)).status_code == 303
            office.cookies.delete("lapor_session")


async def test_the_owners_browser_has_a_limit_of_its_own(make_harness: MakeHarness) -> None:
    """A copied device cookie buys a few guesses, not an unlimited lane."""
    async with (
        make_harness(login_limit_per_account_address="3/15minutes") as harness,
        browser(harness, "192.0.2.10") as office,
    ):
        assert (await sign_in(office, OWNER, PASSWORD)).status_code == 303
        office.cookies.delete("lapor_session")
        answers = [(await sign_in(office, OWNER, "guess")).status_code for _ in range(4)]
        assert answers == [400, 400, 400, 429]
        assert (await sign_in(office, OWNER, PASSWORD)).status_code == 429


async def test_a_device_cookie_counts_only_for_its_own_account(make_harness: MakeHarness) -> None:
    async with (
        make_harness(login_limit_per_account="2/hour") as harness,
        browser(harness, "192.0.2.10") as office,
    ):
        assert (await sign_in(office, "admin@prov.go.id", PASSWORD)).status_code == 303
        office.cookies.delete("lapor_session")
        tampered = office.cookies[DEVICE_COOKIE][:-2] + "xx"
        for n in range(2):
            async with browser(harness, f"203.0.113.{n + 1}") as guesser:
                assert (await sign_in(guesser, OWNER, "guess")).status_code == 400
        # The admin's browser is a stranger to the coordinator's account, as is a forgery.
        assert (await sign_in(office, OWNER, PASSWORD)).status_code == 429
        office.cookies.set(DEVICE_COOKIE, tampered, path="/admin")
        assert (await sign_in(office, OWNER, PASSWORD)).status_code == 429
