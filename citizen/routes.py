"""The citizen's URLs. Public paths are a contract: posters and bookmarks carry them."""

from __future__ import annotations

from starlette.routing import Mount, Route

from lapor.citizen import views

routes: list[Route | Mount] = [
    Route("/", views.home, name="home"),
    Route("/q/{code}", views.poster_form, methods=["GET"], name="poster_form"),
    Route("/q/{code}", views.poster_submit, methods=["POST"], name="poster_submit"),
    # A unit's form for a citizen without a poster, chosen on `/` by name.
    Route("/u/{slug}", views.unit_form, methods=["GET"], name="unit_form"),
    Route("/u/{slug}", views.unit_submit, methods=["POST"], name="unit_submit"),
    # What a poster's QR code carries: the whole URL uppercased, which the QR code's compact
    # alphanumeric mode needs (scheme and host are case-insensitive anyway; the code is too).
    Route("/Q/{code}", views.poster_form, methods=["GET"], name="poster_form_upper"),
    Route("/Q/{code}", views.poster_submit, methods=["POST"], name="poster_submit_upper"),
    Route("/t", views.status_lookup, name="status_lookup"),
    Route("/t/{code}", views.status_page, name="status_page"),
    Route(
        "/t/{code}/attachments/{attachment_id:int}",
        views.status_attachment,
        name="status_attachment",
    ),
    Route("/t/{code}/photos/{position:int}", views.status_photo, name="status_photo"),
    Route("/t/{code}/{secret}", views.status_private, name="status_private"),
    Route(
        "/t/{code}/{secret}/photos/{position:int}",
        views.private_photo,
        name="private_photo",
    ),
    Route(
        "/t/{code}/{secret}/reply",
        views.reporter_reply,
        methods=["POST"],
        name="reporter_reply",
    ),
    Route(
        "/t/{code}/{secret}/message",
        views.reporter_message,
        methods=["POST"],
        name="reporter_message",
    ),
    Route(
        "/t/{code}/{secret}/accept",
        views.reporter_accept,
        methods=["POST"],
        name="reporter_accept",
    ),
]
