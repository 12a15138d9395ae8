"""The public's URLs: linkable, no login, stable (open data clients read them)."""

from __future__ import annotations

from starlette.routing import Route

from lapor.openness import views

routes: list[Route] = [
    Route("/statistik", views.organisation_figures, name="public_figures"),
    Route("/statistik.{fmt:str}", views.organisation_figures_data, name="public_figures_data"),
    Route("/statistik/{name:str}", views.unit_figures, name="public_unit_figures"),
    Route("/jawaban", views.answered_reports, name="public_answers"),
]
