"""The widget's URLs: the loader agencies put on their pages, and the frame it opens. The
snippet on those pages carries them, so they do not change."""

from __future__ import annotations

from starlette.routing import Mount, Route

from lapor.widget import loader, views

routes: list[Route | Mount] = [
    Route("/widget.js", loader.widget_js, name="widget_js"),
    Route("/w/{key}", views.frame_form, methods=["GET"], name="widget_form"),
    Route("/w/{key}", views.frame_submit, methods=["POST"], name="widget_submit"),
    Route("/w/{key}/sent/{code}/{secret}", views.frame_receipt, name="widget_receipt"),
    Route("/w/{key}/check", views.frame_check, name="widget_check"),
]
