"""Every route the app answers is fuzzed: each fuzz test names the routes it sends hostile input
to (`covers`), and a route of the app that none names, or a name no route has, fails here. A new
route comes with its strategy in the fuzz module of its surface."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from lapor.server import create_app
from lapor.settings import Settings
from tests.fuzz.harness import app_routes

SURFACES = ("citizen", "widget", "kiosk", "admin", "channels", "openness", "open311", "server")


def fuzzed_routes() -> dict[str, list[str]]:
    """Each route the fuzz tests name, with the tests that name it."""
    named: dict[str, list[str]] = {}
    for surface in SURFACES:
        module = importlib.import_module(f"tests.fuzz.test_{surface}")
        for name, test in vars(module).items():
            for route in getattr(test, "fuzz_routes", ()):
                named.setdefault(route, []).append(f"test_{surface}.{name}")
    return named


def test_every_route_is_fuzzed(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(), run_background_tasks=False)
    routes = app_routes(app.routes)
    fuzzed = fuzzed_routes()
    assert sorted(routes - set(fuzzed)) == [], "routes no fuzz test sends hostile input to"
    assert sorted(set(fuzzed) - routes) == [], "fuzz tests name routes the app does not have"


def test_the_route_list_is_read_whole(make_settings: Callable[..., Settings]) -> None:
    # The check above is only as good as the walk: mounted routes and the files' Mount count.
    routes = app_routes(create_app(make_settings(), run_background_tasks=False).routes)
    assert {
        "GET /",
        "POST /q/{code}",
        "POST /kiosk/api/reports",
        "POST /admin/reports/{report_id:int}/forward",
        "GET /admin",
        "GET /static/{path}",
    } <= routes
    assert not any(route.startswith("HEAD ") for route in routes)
