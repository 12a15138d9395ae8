"""The kiosk's URLs: the app shell, its service worker and the API. Paired tablets keep the
shell and the worker's scope (/kiosk) offline, so the paths do not change."""

from __future__ import annotations

from starlette.routing import Mount, Route

from lapor.kiosk import views

routes: list[Route | Mount] = [
    Route("/kiosk", views.app_shell, name="kiosk"),
    Mount(
        "/kiosk",
        routes=[
            Route("/sw.js", views.service_worker, name="kiosk_sw"),
            Route("/api/pair", views.pair, methods=["POST"], name="kiosk_pair"),
            Route("/api/config", views.config, name="kiosk_config"),
            Route("/api/codes", views.codes, methods=["POST"], name="kiosk_codes"),
            Route("/api/heartbeat", views.heartbeat, methods=["POST"], name="kiosk_heartbeat"),
            Route("/api/reports", views.submit_report, methods=["POST"], name="kiosk_report"),
            Route("/api/feedback", views.submit_feedback, methods=["POST"], name="kiosk_feedback"),
        ],
    ),
]
