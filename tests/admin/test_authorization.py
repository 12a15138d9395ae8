"""The authorization matrix: every workspace route × every role × a report inside and outside
the caller's part of the organisation. Allowed means the request reaches the view's own
checks (any answer but 403 or 404); another unit's report is 404, so its existence does not
leak; a role that may not act gets 403."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.admin.test_workflow import forward_form, reported, signed_in
from tests.conftest import AppHarness, MakeHarness

ROLES = {
    "admin": "admin@prov.go.id",
    "coordinator": "koor@prov.go.id",
    "inspector": "insp@prov.go.id",
    "officer": "petugas@rsud.go.id",
}
OK, FORBIDDEN, HIDDEN = "ok", 403, 404

# (method, path, {role: outcome for the report inside, ...}, outcome for the report outside).
# {in} is a report of the province forwarded to RSUD, {out} one of another province.
EVERYONE = dict.fromkeys(ROLES, OK)
ADMIN_ONLY = {**dict.fromkeys(ROLES, FORBIDDEN), "admin": OK}
MATRIX: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("GET", "/admin", EVERYONE, EVERYONE),
    ("GET", "/admin/password", EVERYONE, EVERYONE),
    (
        "GET",
        "/admin/reports/{id}",
        EVERYONE,
        {"admin": OK, "coordinator": HIDDEN, "inspector": HIDDEN, "officer": HIDDEN},
    ),
    (
        "GET",
        "/admin/reports/{id}/photos/0",
        dict.fromkeys(ROLES, HIDDEN),
        dict.fromkeys(ROLES, HIDDEN),
    ),  # no photos: 404 for all
    (
        "GET",
        "/admin/reports/{id}/attachments/1",
        dict.fromkeys(ROLES, HIDDEN),
        dict.fromkeys(ROLES, HIDDEN),
    ),  # no answer yet: 404
    *[
        (
            "POST",
            f"/admin/reports/{{id}}/{action}",
            {"admin": FORBIDDEN, "coordinator": OK, "inspector": FORBIDDEN, "officer": FORBIDDEN},
            {
                "admin": FORBIDDEN,
                "coordinator": HIDDEN,
                "inspector": FORBIDDEN,
                "officer": FORBIDDEN,
            },
        )
        for action in (
            "forward",
            "postpone",
            "not-authority",
            "archive",
            "classify",
            "redact",
            "extend",
            "public-list",
        )
    ],
    *[
        (
            "POST",
            f"/admin/reports/{{id}}/{action}",
            {"admin": FORBIDDEN, "coordinator": OK, "inspector": FORBIDDEN, "officer": OK},
            {"admin": FORBIDDEN, "coordinator": HIDDEN, "inspector": FORBIDDEN, "officer": HIDDEN},
        )
        for action in ("note", "assign")
    ],
    (
        "POST",
        "/admin/reports/{id}/reroute",
        {"admin": FORBIDDEN, "coordinator": FORBIDDEN, "inspector": FORBIDDEN, "officer": OK},
        {"admin": FORBIDDEN, "coordinator": FORBIDDEN, "inspector": FORBIDDEN, "officer": HIDDEN},
    ),
    (
        "POST",
        "/admin/reports/{id}/follow-up",
        {"admin": FORBIDDEN, "coordinator": FORBIDDEN, "inspector": FORBIDDEN, "officer": OK},
        {"admin": FORBIDDEN, "coordinator": FORBIDDEN, "inspector": FORBIDDEN, "officer": HIDDEN},
    ),
    (
        "GET",
        "/admin/monitoring",
        {**EVERYONE, "officer": FORBIDDEN},
        {**EVERYONE, "officer": FORBIDDEN},
    ),
    (
        "GET",
        "/admin/monitoring.csv",
        {**EVERYONE, "officer": FORBIDDEN},
        {**EVERYONE, "officer": FORBIDDEN},
    ),
    (
        "GET",
        "/admin/reports/new",
        {**EVERYONE, "inspector": FORBIDDEN},
        {**EVERYONE, "inspector": FORBIDDEN},
    ),
    (
        "POST",
        "/admin/reports/new",
        {**EVERYONE, "inspector": FORBIDDEN},
        {**EVERYONE, "inspector": FORBIDDEN},
    ),  # an empty form: refused by the view, 400
    # Not taken by this member of staff: no receipt, for anyone.
    (
        "GET",
        "/admin/reports/{id}/receipt",
        {**dict.fromkeys(ROLES, HIDDEN), "inspector": FORBIDDEN},
        {**dict.fromkeys(ROLES, HIDDEN), "inspector": FORBIDDEN},
    ),
    (
        "GET",
        "/admin/deadlines",
        {**dict.fromkeys(ROLES, FORBIDDEN), "coordinator": OK, "admin": OK},
        {**dict.fromkeys(ROLES, FORBIDDEN), "coordinator": OK, "admin": OK},
    ),
    (
        "POST",
        "/admin/bulk",
        {**dict.fromkeys(ROLES, FORBIDDEN), "coordinator": OK, "officer": OK},
        {**dict.fromkeys(ROLES, FORBIDDEN), "coordinator": OK, "officer": OK},
    ),
    # The inbox's unit filter: each caller gets the units of their own part only.
    ("GET", "/admin/unit-options", EVERYONE, EVERYONE),
    ("GET", "/admin/unit-filter", EVERYONE, EVERYONE),
    (
        "GET",
        "/admin/answers",
        {**EVERYONE, "inspector": FORBIDDEN},
        {**EVERYONE, "inspector": FORBIDDEN},
    ),
    (
        "POST",
        "/admin/answers",
        {**EVERYONE, "inspector": FORBIDDEN},
        {**EVERYONE, "inspector": FORBIDDEN},
    ),  # an empty form: refused by the view, 400
    (
        "GET",
        "/admin/answers/1",
        {**dict.fromkeys(ROLES, HIDDEN), "inspector": FORBIDDEN},
        {**dict.fromkeys(ROLES, HIDDEN), "inspector": FORBIDDEN},
    ),  # none yet: 404
    ("GET", "/admin/export.csv", EVERYONE, EVERYONE),
    ("POST", "/admin/exports", EVERYONE, EVERYONE),
    (
        "GET",
        "/admin/outbox",
        {**dict.fromkeys(ROLES, FORBIDDEN), "admin": OK},
        {**dict.fromkeys(ROLES, FORBIDDEN), "admin": OK},
    ),
    (
        "POST",
        "/admin/outbox/1/resend",
        {**dict.fromkeys(ROLES, FORBIDDEN), "admin": HIDDEN},
        {**dict.fromkeys(ROLES, FORBIDDEN), "admin": HIDDEN},
    ),  # no failed message: 404
    # Sending to the national portal: coordinators of the report's scope and admins (the
    # report outside is not verified: 409 for the admin, past the view's checks).
    (
        "POST",
        "/admin/reports/{id}/national",
        {"admin": OK, "coordinator": OK, "inspector": FORBIDDEN, "officer": FORBIDDEN},
        {"admin": OK, "coordinator": HIDDEN, "inspector": FORBIDDEN, "officer": FORBIDDEN},
    ),
    # The organisation's pages (admin/manage.py): admins only, wherever the caller sits.
    *[
        (method, path, ADMIN_ONLY, ADMIN_ONLY)
        for method, path in (
            ("GET", "/admin/units"),
            ("POST", "/admin/units"),  # an empty form: 400 for the admin
            ("GET", "/admin/units/1"),
            ("POST", "/admin/units/1/rename"),
            ("POST", "/admin/units/1/sms-word"),
            ("POST", "/admin/units/1/national"),
            ("GET", "/admin/units/1/delete"),
            ("POST", "/admin/units/1/delete"),  # the province has sub-units: 409
            ("GET", "/admin/users"),
            ("POST", "/admin/users"),
            ("GET", "/admin/users/1/deactivate"),
            ("POST", "/admin/users/1/deactivate"),
            ("POST", "/admin/users/1/reactivate"),
            ("GET", "/admin/users/1/reset-password"),
            ("POST", "/admin/users/1/reset-password"),
            ("GET", "/admin/posters"),
            ("POST", "/admin/posters"),
            ("GET", "/admin/posters/1"),
            ("POST", "/admin/posters/1"),  # an empty label: 400 for the admin
            ("GET", "/admin/posters/1/revoke"),
            ("POST", "/admin/posters/1/revoke"),
            ("GET", "/admin/posters/1/print/png"),
            ("GET", "/admin/posters/1/print/tent"),
            ("GET", "/admin/units/1/posters/a4"),  # every poster of the province
            ("GET", "/admin/widgets"),
            ("POST", "/admin/widgets"),
            ("GET", "/admin/widgets/1/revoke"),
            ("POST", "/admin/widgets/1/revoke"),
            ("GET", "/admin/widgets/1"),
            ("POST", "/admin/widgets/1"),
            ("GET", "/admin/widgets/1/preview"),
            ("GET", "/admin/kiosks"),
            ("POST", "/admin/kiosks"),
            ("POST", "/admin/kiosks/1/pair"),
            ("GET", "/admin/kiosks/1/revoke"),
            ("POST", "/admin/kiosks/1/revoke"),
            ("GET", "/admin/api-keys"),
            ("POST", "/admin/api-keys"),  # an empty form: 400 for the admin
            ("GET", "/admin/api-keys/1/revoke"),
            ("POST", "/admin/api-keys/1/revoke"),
        )
    ],
]


@pytest.fixture
async def harness(make_harness: MakeHarness) -> AsyncIterator[AppHarness]:
    """The workspace with the national portal set up, so its button's route is checked as
    it is used (nothing is sent: the harness runs no background sender)."""
    async with make_harness(national_url="http://127.0.0.1:9/api/reports") as h:
        yield h


@pytest.fixture
async def reports(harness: AppHarness) -> dict[str, int]:
    await harness.world.user("petugas@rsud.go.id", "officer", "rsud")
    await harness.app.state.services.store.add_widget(
        harness.world.units["rsud"].id, ["https://rsud.go.id"]
    )  # widget 1
    await harness.app.state.services.store.kiosks.add(  # kiosk 1
        harness.world.units["prov"].id, "Lantai 1", datetime.now(UTC)
    )
    await harness.app.state.services.store.add_api_key("FixMyStreet", "0" * 64)  # API key 1
    inside, _ = await reported(harness)
    outside_response = await harness.submit("lain")
    assert outside_response.status_code == 303
    outside = inside + 1
    await signed_in(harness, "koor@prov.go.id")
    fields = await forward_form(harness, inside)
    forwarded = await harness.client.post(
        f"/admin/reports/{inside}/forward",
        data={
            **fields,
            "title": "Antrean",
            "category": "pelayanan",
            "unit": str(harness.world.units["rsud"].id),
        },
    )
    assert forwarded.status_code == 303
    return {"in": inside, "out": outside}


def _outcome(status: int) -> Any:
    return status if status in (FORBIDDEN, HIDDEN) else OK


@pytest.mark.parametrize("role", list(ROLES))
async def test_authorization_matrix(
    harness: AppHarness, reports: dict[str, int], role: str
) -> None:
    await signed_in(harness, ROLES[role])
    csrf = await harness.csrf("/admin/password")
    wrong: list[str] = []
    for method, template, inside, outside in MATRIX:
        for where, expected in (("in", inside[role]), ("out", outside[role])):
            path = template.format(id=reports[where])
            if method == "GET":
                response = await harness.client.get(path)
            else:
                response = await harness.client.post(path, data={"csrf": csrf, "version": "2"})
            if _outcome(response.status_code) != expected:
                wrong.append(
                    f"{method} {path} ({where}): {response.status_code}, expected {expected}"
                )
    assert wrong == []


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/admin"),
        ("GET", "/admin/monitoring"),
        ("GET", "/admin/reports/1"),
        ("POST", "/admin/reports/1/forward"),
        ("POST", "/admin/reports/1/national"),
        ("POST", "/admin/exports"),
        ("GET", "/admin/export.csv"),
        ("GET", "/admin/unit-options"),
        ("GET", "/admin/unit-filter"),
        ("GET", "/admin/units"),
        ("POST", "/admin/units"),
        ("GET", "/admin/users"),
        ("POST", "/admin/users/1/deactivate"),
        ("GET", "/admin/posters/1/print/pdf"),
        ("GET", "/admin/units/1/posters/a5"),
        ("POST", "/admin/posters/1/revoke"),
        ("GET", "/admin/widgets"),
        ("POST", "/admin/widgets/1/revoke"),
        ("POST", "/admin/widgets/1"),
        ("GET", "/admin/widgets/1/preview"),
        ("GET", "/admin/kiosks"),
        ("POST", "/admin/kiosks/1/pair"),
    ],
)
async def test_signed_out_visitors_get_nothing(harness: AppHarness, method: str, path: str) -> None:
    response = await harness.client.request(method, path)
    assert response.status_code in (303, 403)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/admin/login")
