"""Open311's URLs. Clients are configured with the endpoint (`/open311/v2`), and the method
paths below it are the spec's, so they are a contract like a poster's."""

from __future__ import annotations

from starlette.routing import Mount, Route

from lapor.open311 import views

PREFIX = "/open311/v2"

routes: list[Route | Mount] = [
    Route(f"{PREFIX}/discovery.{{fmt}}", views.discovery, name="open311_discovery"),
    Route(f"{PREFIX}/services.{{fmt}}", views.service_list, name="open311_services"),
    Route(
        f"{PREFIX}/services/{{service_code}}.{{fmt}}",
        views.service_definition,
        name="open311_service_definition",
    ),
    Route(
        f"{PREFIX}/requests.{{fmt}}",
        views.service_requests,
        methods=["GET", "POST"],
        name="open311_requests",
    ),
    Route(
        f"{PREFIX}/requests/{{service_request_id}}.{{fmt}}",
        views.service_request,
        name="open311_request",
    ),
    Route(
        f"{PREFIX}/servicerequestupdates.{{fmt}}",
        views.service_request_updates,
        name="open311_updates",
    ),
]
