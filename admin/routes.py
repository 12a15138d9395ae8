"""The admin surface's routes, mounted by server.py: the workspace at /admin and the
organisation's pages beside it. Paths and names are the ones templates and tests use."""

from __future__ import annotations

from starlette.routing import Mount, Route

from lapor.admin import (
    answers,
    api_keys,
    deadlines,
    exports,
    intake,
    kiosks,
    manage,
    monitoring,
    numbers,
    views,
    widgets,
)


def routes() -> list[Route | Mount]:
    return [
        Route("/admin", views.inbox, name="admin_inbox"),
        Mount(
            "/admin",
            routes=[
                Route("/login", views.login, methods=["GET", "POST"], name="admin_login"),
                Route("/logout", views.logout, methods=["POST"], name="admin_logout"),
                Route(
                    "/password",
                    views.password,
                    methods=["GET", "POST"],
                    name="admin_password",
                ),
                Route(
                    "/reports/new",
                    intake.new_report,
                    methods=["GET", "POST"],
                    name="admin_new_report",
                ),
                Route("/reports/{report_id:int}", views.report_detail, name="admin_report"),
                Route("/reports/{report_id:int}/receipt", intake.receipt, name="admin_receipt"),
                Route(
                    "/reports/{report_id:int}/attachments/{attachment_id:int}",
                    views.report_attachment,
                    name="admin_report_attachment",
                ),
                Route(
                    "/reports/{report_id:int}/photos/{position:int}",
                    views.report_photo,
                    name="admin_report_photo",
                ),
                Route(
                    "/reports/{report_id:int}/national",
                    views.send_national,
                    methods=["POST"],
                    name="admin_report_national",
                ),
                Route(
                    "/reports/{report_id:int}/forward",
                    views.forward,
                    methods=["POST"],
                    name="admin_report_forward",
                ),
                Route(
                    "/reports/{report_id:int}/follow-up",
                    views.follow_up,
                    methods=["POST"],
                    name="admin_report_follow_up",
                ),
                Route(
                    "/reports/{report_id:int}/postpone",
                    views.postpone,
                    methods=["POST"],
                    name="admin_report_postpone",
                ),
                Route(
                    "/reports/{report_id:int}/not-authority",
                    views.not_authority,
                    methods=["POST"],
                    name="admin_report_not_authority",
                ),
                Route(
                    "/reports/{report_id:int}/archive",
                    views.archive,
                    methods=["POST"],
                    name="admin_report_archive",
                ),
                Route(
                    "/reports/{report_id:int}/classify",
                    views.classify,
                    methods=["POST"],
                    name="admin_classify",
                ),
                Route(
                    "/reports/{report_id:int}/redact",
                    views.redact,
                    methods=["POST"],
                    name="admin_redact",
                ),
                Route(
                    "/reports/{report_id:int}/note",
                    views.note,
                    methods=["POST"],
                    name="admin_note",
                ),
                Route(
                    "/reports/{report_id:int}/assign",
                    views.assign,
                    methods=["POST"],
                    name="admin_assign",
                ),
                Route(
                    "/reports/{report_id:int}/extend",
                    views.extend,
                    methods=["POST"],
                    name="admin_extend",
                ),
                Route(
                    "/reports/{report_id:int}/reply",
                    views.reply,
                    methods=["POST"],
                    name="admin_report_reply",
                ),
                Route(
                    "/reports/{report_id:int}/reroute",
                    views.reroute,
                    methods=["POST"],
                    name="admin_reroute",
                ),
                Route("/deadlines", deadlines.deadlines, name="admin_deadlines"),
                Route(
                    "/deadlines/{unit_id:int}",
                    deadlines.set_deadlines,
                    methods=["POST"],
                    name="admin_set_deadlines",
                ),
                Route("/bulk", views.bulk, methods=["POST"], name="admin_bulk"),
                Route("/unit-options", views.unit_options, name="admin_unit_options"),
                Route("/unit-filter", views.unit_filter, name="admin_unit_filter"),
                Route("/answers", answers.answers, methods=["GET", "POST"], name="admin_answers"),
                Route(
                    "/answers/{template_id:int}",
                    answers.answer_edit,
                    methods=["GET", "POST"],
                    name="admin_answer",
                ),
                Route(
                    "/answers/{template_id:int}/delete",
                    answers.answer_delete,
                    methods=["POST"],
                    name="admin_answer_delete",
                ),
                Route("/monitoring", monitoring.monitoring_page, name="admin_monitoring"),
                Route("/monitoring.csv", monitoring.monitoring_csv, name="admin_monitoring_csv"),
                Route("/export.csv", exports.export_csv, name="admin_export_csv"),
                Route(
                    "/exports",
                    exports.export_xlsx_start,
                    methods=["POST"],
                    name="admin_export_start",
                ),
                Route("/exports/{token}", exports.export_status, name="admin_export"),
                Route("/exports/{token}/file", exports.export_download, name="admin_export_file"),
                Route("/outbox", views.outbox, name="admin_outbox"),
                Route("/numbers", numbers.numbers, name="admin_numbers"),
                Route("/numbers", numbers.block, methods=["POST"], name="admin_number_block"),
                Route(
                    "/numbers/unblock",
                    numbers.unblock,
                    methods=["POST"],
                    name="admin_number_unblock",
                ),
                Route(
                    "/outbox/{message_id:int}/resend",
                    views.outbox_resend,
                    methods=["POST"],
                    name="admin_outbox_resend",
                ),
                # The organisation, for admins: a GET+POST pair is a confirmation page and the
                # change it confirms.
                Route("/units", manage.unit_list, name="admin_units"),
                Route("/units", manage.unit_add, methods=["POST"], name="admin_unit_add"),
                Route("/units/{unit_id:int}", manage.unit_detail, name="admin_unit"),
                Route(
                    "/units/{unit_id:int}/rename",
                    manage.unit_rename,
                    methods=["POST"],
                    name="admin_unit_rename",
                ),
                Route(
                    "/units/{unit_id:int}/sms-word",
                    manage.unit_sms_word,
                    methods=["POST"],
                    name="admin_unit_sms_word",
                ),
                Route(
                    "/units/{unit_id:int}/national",
                    manage.unit_national,
                    methods=["POST"],
                    name="admin_unit_national",
                ),
                Route(
                    "/units/{unit_id:int}/posters/{format}",
                    manage.unit_posters_download,
                    name="admin_unit_posters_download",
                ),
                Route(
                    "/units/{unit_id:int}/delete",
                    manage.unit_delete,
                    methods=["GET", "POST"],
                    name="admin_unit_delete",
                ),
                Route("/users", manage.user_list, name="admin_users"),
                Route("/users", manage.user_add, methods=["POST"], name="admin_user_add"),
                Route("/users/{user_id:int}", manage.user_detail, name="admin_user"),
                Route(
                    "/users/{user_id:int}",
                    manage.user_save,
                    methods=["POST"],
                    name="admin_user_save",
                ),
                Route(
                    "/users/{user_id:int}/deactivate",
                    manage.user_deactivate,
                    methods=["GET", "POST"],
                    name="admin_user_deactivate",
                ),
                Route(
                    "/users/{user_id:int}/reactivate",
                    manage.user_reactivate,
                    methods=["POST"],
                    name="admin_user_reactivate",
                ),
                Route(
                    "/users/{user_id:int}/reset-password",
                    manage.user_reset_password,
                    methods=["GET", "POST"],
                    name="admin_user_reset_password",
                ),
                Route("/posters", manage.poster_list, name="admin_posters"),
                Route("/posters", manage.poster_add, methods=["POST"], name="admin_poster_add"),
                Route(
                    "/posters/{poster_id:int}/revoke",
                    manage.poster_revoke,
                    methods=["GET", "POST"],
                    name="admin_poster_revoke",
                ),
                Route(
                    "/posters/{poster_id:int}/print/{format}",
                    manage.poster_download,
                    name="admin_poster_download",
                ),
                Route("/widgets", widgets.widget_list, name="admin_widgets"),
                Route("/widgets", widgets.widget_add, methods=["POST"], name="admin_widget_add"),
                Route("/widgets/{widget_id:int}", widgets.widget_detail, name="admin_widget"),
                Route(
                    "/widgets/{widget_id:int}",
                    widgets.widget_save,
                    methods=["POST"],
                    name="admin_widget_save",
                ),
                Route(
                    "/widgets/{widget_id:int}/preview",
                    widgets.widget_preview,
                    name="admin_widget_preview",
                ),
                Route("/kiosks", kiosks.kiosk_list, name="admin_kiosks"),
                Route("/kiosks", kiosks.kiosk_add, methods=["POST"], name="admin_kiosk_add"),
                Route(
                    "/kiosks/{kiosk_id:int}/pair",
                    kiosks.kiosk_pair,
                    methods=["POST"],
                    name="admin_kiosk_pair",
                ),
                Route(
                    "/kiosks/{kiosk_id:int}/revoke",
                    kiosks.kiosk_revoke,
                    methods=["GET", "POST"],
                    name="admin_kiosk_revoke",
                ),
                Route(
                    "/widgets/{widget_id:int}/revoke",
                    widgets.widget_revoke,
                    methods=["GET", "POST"],
                    name="admin_widget_revoke",
                ),
                Route("/api-keys", api_keys.api_key_list, name="admin_api_keys"),
                Route(
                    "/api-keys", api_keys.api_key_add, methods=["POST"], name="admin_api_key_add"
                ),
                Route(
                    "/api-keys/{key_id:int}/revoke",
                    api_keys.api_key_revoke,
                    methods=["GET", "POST"],
                    name="admin_api_key_revoke",
                ),
            ],
        ),
    ]
