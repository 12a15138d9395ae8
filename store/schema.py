"""Tables, as SQLAlchemy Core metadata. Migrations in store/migrations create them; a test
compares the migrated database with this metadata so the two cannot drift apart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TextClause,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.types import TypeDecorator

# Search objects each backend builds its own way (store/migrations/versions/0004 and 0007):
# SQLite's FTS5 table, PostgreSQL's generated tsvector column and its GIN index. Outside the
# metadata, so a schema comparison leaves them out.
BACKEND_SEARCH_OBJECTS = ("reports_fts", "ix_reports_search", "search_vector")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both backends (SQLite keeps none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("parent_id", Integer, ForeignKey("units.id"), nullable=True),
    # "1/5/12/": ancestors and self, so a subtree is one indexed prefix match.
    Column("path", String(512), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # A unit's own SP4N-LAPOR! deadlines in working days; NULL follows the settings.
    Column("verify_days", Integer, nullable=True),
    Column("follow_up_days", Integer, nullable=True),
    # The word after the SMS keyword that names this unit (complaints/sms.py squashes it).
    Column("sms_word", String(32), nullable=True),
    # Every verified report of the unit's subtree goes to the national portal (migration 0022).
    Column("sends_national", Boolean, nullable=False, server_default=false()),
)
Index("ix_units_path", units.c.path)
Index("ux_units_sms_word", units.c.sms_word, unique=True)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("name", String(120), nullable=True),  # the person's name; NULL: show the e-mail
)
Index("ix_users_unit_id_role", users.c.unit_id, users.c.role)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    # Only a hash of the cookie's token is stored: a leaked backup cannot log anyone in.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

posters = Table(
    "posters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("label", String(200), nullable=False),
    # Printed into the signed code; bumping it revokes every earlier print of this poster.
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)
Index("ix_posters_unit_id", posters.c.unit_id)

# An embeddable form (widget.js) for a unit. Its key is signed over id and version; `origins`
# (normalised, one per line) are the only sites whose pages may frame the form. Never published:
# the form page names the one requesting origin in frame-ancestors when it is on the list.
widgets = Table(
    "widgets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("origins", Text, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)
Index("ix_widgets_unit_id", widgets.c.unit_id)

# A touchscreen tablet in a public service mall, paired to a unit (the mall; its children are
# the agencies in the hall). Its credential is signed over id and version; revoking bumps
# nothing and sets revoked_at, so the device learns it at its next contact.
kiosks = Table(
    "kiosks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("name", String(120), nullable=False),
    # Signed into the credential: a new pairing of the same kiosk bumps it, and every earlier
    # credential of the kiosk stops working.
    Column("version", Integer, nullable=False, default=1),
    # sha256 of the six digits, while a pairing code is outstanding. Unique, so the code a
    # tablet types names one kiosk; a used or expired code is set back to NULL.
    Column("pairing_code_hash", String(64), nullable=True, unique=True),
    Column("pairing_expires_at", UTCDateTime, nullable=True),
    Column("paired_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    # The last heartbeat, as the device reported it.
    Column("last_seen_at", UTCDateTime, nullable=True),
    Column("queue_length", Integer, nullable=True),
    Column("oldest_queued_at", UTCDateTime, nullable=True),
    Column("app_version", String(40), nullable=True),
    Column("storage_persistent", Boolean, nullable=True),
    Column("clock_offset_ms", Integer, nullable=True),  # device clock minus server clock
    # sha256 of the credential the tablet holds, kept when it is issued: the credential is
    # checked against this, not against the signing keys, so removing a key unpairs nothing.
    # NULL for a kiosk paired before migration 0012 until its next request proves the
    # signature under a configured key.
    Column("credential_hash", String(64), nullable=True),
    # Going over a sending limit (kiosk/views.py): counted at most once a minute, so a script's
    # thousand refusals cost one write, and shown on the admins' kiosk list.
    Column("limited_count", Integer, nullable=False, server_default="0"),
    Column("limited_at", UTCDateTime, nullable=True),
)
Index("ix_kiosks_unit_id", kiosks.c.unit_id)

# Tracking codes reserved for one kiosk so it can hand a citizen a code with the network down.
# A row leaves the pool when its report arrives (same transaction), when the kiosk is revoked,
# or when it expired unused long enough ago that no queued report can still carry it.
kiosk_codes = Table(
    "kiosk_codes",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("kiosk_id", Integer, ForeignKey("kiosks.id"), nullable=False),
    Column("reserved_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
Index("ix_kiosk_codes_kiosk_id_expires_at", kiosk_codes.c.kiosk_id, kiosk_codes.c.expires_at)

# Feedback that is not a report: the kiosk's one-tap quick rating (five faces) and the IKM
# survey of PermenPANRB 14/2017 (nine items on a 1-4 scale). No tracking code, no workflow;
# the inspectorate's monitoring sums them per unit.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(8), nullable=False),  # "rating" or "ikm"
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("kiosk_id", Integer, ForeignKey("kiosks.id"), nullable=True),
    # As for reports: the unique constraint makes a resent queue entry harmless.
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("body_hash", String(64), nullable=False),
    Column("rating", Integer, nullable=True),  # 1-5, kind "rating"
    Column("answers", String(16), nullable=True),  # nine digits 1-4 in item order, kind "ikm"
    Column("language", String(5), nullable=False),
    Column("reported_at", UTCDateTime, nullable=True),  # the device's clock
    Column("received_at", UTCDateTime, nullable=False),
)
Index("ix_feedback_unit_id_received_at", feedback.c.unit_id, feedback.c.received_at)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tracking_code", String(16), nullable=False, unique=True),
    # The unique constraint, not a check before the insert, is what makes retries safe.
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("body_hash", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("text", Text, nullable=False),
    Column("location", String(300), nullable=True),
    Column("identity", String(12), nullable=False),
    Column("reporter_name", String(120), nullable=True),
    Column("reporter_phone", String(32), nullable=True),
    Column("reporter_email", String(254), nullable=True),
    Column("channel", String(16), nullable=False),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("poster_id", Integer, ForeignKey("posters.id"), nullable=True),
    # NULL: no coordinator anywhere above the unit; admins see these as unrouted.
    Column("routed_unit_id", Integer, ForeignKey("units.id"), nullable=True),
    Column("language", String(5), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("verify_due", Date, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Optimistic concurrency: every workflow change names the version it saw, so of two staff
    # acting on one report at once exactly one wins.
    Column("version", Integer, nullable=False, server_default="1"),
    Column("title", String(200), nullable=True),
    Column("forwarded_unit_id", Integer, ForeignKey("units.id"), nullable=True),
    Column("forwarded_at", UTCDateTime, nullable=True),
    Column("follow_up_due", Date, nullable=True),
    Column("rating", Integer, nullable=True),  # 1-5, given by the reporter when accepting
    Column("closed_at", UTCDateTime, nullable=True),
    # The deadline now running for staff: verification while received, the follow-up while
    # forwarded, none otherwise. Kept by the store so "overdue" and "sort by deadline" are
    # one indexed range.
    Column("due_on", Date, nullable=True),
    # complaints.search.search_text(title, text); indexed by FTS5 (SQLite, reports_fts and its
    # triggers, migration 0004) or, on PostgreSQL, by a GIN index on the stored generated
    # column search_vector (migration 0006), which is not in this metadata.
    Column("search_text", Text, nullable=False, server_default=""),
    Column("category", String(80), nullable=True),
    Column("tags", String(300), nullable=True),  # comma-separated, folded
    Column("assigned_user_id", Integer, ForeignKey("users.id"), nullable=True),
    # First moments of the two SP4N-LAPOR! clocks, for the inspectorate's "in time" figures.
    Column("verified_at", UTCDateTime, nullable=True),
    Column("followed_up_at", UTCDateTime, nullable=True),
    # Reports staff entered for a citizen at the counter, on the phone or by WhatsApp: how the
    # citizen reached them (channel is then "staff"; who typed it is the "received" event's
    # actor).
    Column("taken_via", String(16), nullable=True),
    # Sent through an embedded widget (channel "widget"): which one, and the page of the
    # agency's site it was sent from, kept only when that page is on an origin registered for
    # the widget, without its query and fragment. No foreign key: added by a plain ALTER on
    # SQLite (migration 0008).
    Column("widget_id", Integer, nullable=True),
    Column("page_url", String(500), nullable=True),
    # Sent from a kiosk (channel "kiosk"): which one, and the device's own clock at the moment
    # the citizen pressed send, which may be hours before `received_at` when the hall's network
    # was down. No foreign key, for the same reason as widget_id (migration 0009).
    Column("kiosk_id", Integer, nullable=True),
    Column("reported_at", UTCDateTime, nullable=True),
    # sha256 (hex) of the secret in the reporter's private link, kept when the report is
    # stored: the link is checked against this, so it outlives the signing key that derived it.
    # Space-separated when there are several: a report from before migration 0012 holds one
    # per key configured when it was filled in (which key made its link is not known; NULL
    # until then), and a resend whose first link no configured key can make again adds the
    # newest key's.
    Column("reporter_secret_hash", Text, nullable=True),
    # Filed by client software through Open311 (channel "api"): the key it used and the
    # client's name as the key carried it then, the point it gave (WGS84), and the link to
    # media it sent, for staff to open; the server never fetches it (migration 0015). No
    # foreign key, for the same reason as widget_id.
    Column("api_key_id", Integer, nullable=True),
    Column("api_client", String(120), nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("media_url", String(500), nullable=True),
    # Where the reporter is told of their report when they left no e-mail: a channel's
    # address ("sms:+62812...", complaints/conversation.py), set when the report came by that
    # channel or when a phone-only reporter gave a number and the deployment sends SMS. Only
    # the outbox reads it: for an anonymous report it is the one place the number is kept,
    # and no page shows it (migration 0017).
    Column("reply_address", String(64), nullable=True),
    # The public list of answered reports (complaints/publication.py, migration 0023): the
    # unit's last answer, and what keeps the report off the list ("withheld" by staff with
    # their reason, "review" while it looks like it holds personal data).
    Column("answer_text", Text, nullable=True),
    Column("list_hold", String(12), nullable=True),
    Column("list_hold_reason", String(300), nullable=True),
    # The national portal SP4N-LAPOR!'s tracking ID: given back when the report was sent there,
    # or typed in by staff for a report that came from there (migration 0022).
    Column("national_id", String(64), nullable=True),
)
Index("ix_reports_status_followed_up_at", reports.c.status, reports.c.followed_up_at)
# The public list (/jawaban, complaints/publication.py): its reports, newest answer first,
# straight from one index (migration 0024). SQLite uses a partial index only for a query whose
# WHERE repeats the index's own terms, so store/publication.py puts this very text in its query
# (listed()). On SQLite the status is written `+status`: with no statistics its planner would
# take the status index for the term and sort the list's 850,000 rows of a million (17 s for
# page 1, against 0.1 ms); PostgreSQL plans by its statistics.
_LISTED = (
    "{status} IN ('ditindaklanjuti', 'selesai') AND identity != 'rahasia'"
    " AND list_hold IS NULL AND answer_text IS NOT NULL AND followed_up_at IS NOT NULL"
)
_LISTED_BY_DIALECT = {
    "sqlite": text(_LISTED.format(status="+status")),
    "postgresql": text(_LISTED.format(status="status")),
}


def listed(dialect: str) -> TextClause:
    """The public list's condition, as its index says it on this database."""
    return _LISTED_BY_DIALECT[dialect]


Index(
    "ix_reports_listed",
    reports.c.followed_up_at,
    reports.c.id,
    sqlite_where=_LISTED_BY_DIALECT["sqlite"],
    postgresql_where=_LISTED_BY_DIALECT["postgresql"],
)
Index("ix_reports_routed_unit_id_id", reports.c.routed_unit_id, reports.c.id)
Index("ix_reports_unit_id_id", reports.c.unit_id, reports.c.id)
# A status filter with others (kind, channel, entry unit) inside a caller's scope: the columns
# after id let the index alone decide which reports match, newest first (migration 0010).
Index(
    "ix_reports_status_filters",
    reports.c.status,
    reports.c.id,
    reports.c.routed_unit_id,
    reports.c.unit_id,
    reports.c.kind,
    reports.c.channel,
)
Index("ix_reports_status_due_on_id", reports.c.status, reports.c.due_on, reports.c.id)
Index("ix_reports_forwarded_unit_id_id", reports.c.forwarded_unit_id, reports.c.id)
Index("ix_reports_forwarded_unit_id_status", reports.c.forwarded_unit_id, reports.c.status)
# An officer's reports by deadline and by arrival, in order (migration 0010).
Index(
    "ix_reports_forwarded_unit_id_due_on_id",
    reports.c.forwarded_unit_id,
    reports.c.due_on,
    reports.c.id,
)
Index(
    "ix_reports_forwarded_unit_id_received_at", reports.c.forwarded_unit_id, reports.c.received_at
)
Index("ix_reports_due_on_id", reports.c.due_on, reports.c.id)
# An SMS from a number finds the reports it may answer (channels/sms.py).
Index("ix_reports_reply_address_status", reports.c.reply_address, reports.c.status)
Index("ix_reports_channel_id", reports.c.channel, reports.c.id)
Index("ix_reports_received_at", reports.c.received_at)
Index("ix_reports_assigned_user_id_id", reports.c.assigned_user_id, reports.c.id)
Index("ux_reports_national_id", reports.c.national_id, unique=True)

# Reports per responsible unit and status, kept by the store in the same transaction as every
# change: the inbox's counts for a whole province would otherwise count a million rows.
report_counts = Table(
    "report_counts",
    metadata,
    Column("unit_id", Integer, primary_key=True),  # 0: unrouted
    Column("status", String(24), primary_key=True),
    Column("n", Integer, nullable=False),
)

# The same per unit a report is forwarded to (migration 0028): an officer's inbox counts.
report_forwarded_counts = Table(
    "report_forwarded_counts",
    metadata,
    Column("unit_id", Integer, primary_key=True),
    Column("status", String(24), primary_key=True),
    Column("n", Integer, nullable=False),
)

report_photos = Table(
    "report_photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("filename", String(80), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    # Withheld by the coordinator (a face, an ID card): only the coordinator still sees it.
    Column("withheld", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("report_id", "position"),
)

report_events = Table(
    "report_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_user_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("from_status", String(24), nullable=True),
    Column("to_status", String(24), nullable=True),
    Column("note", Text, nullable=True),
    # Whether the reporter sees it on the status page; internal notes never are.
    Column("public", Boolean, nullable=False),
)
Index("ix_report_events_report_id_id", report_events.c.report_id, report_events.c.id)

# The conversation with the reporter on their channel (SMS, WhatsApp; "email" for staff's mails
# to a reporter who left an address, "web" for their answers on the private page): each
# message in or out, on the report's timeline. An outgoing one is an outbox row too
# (outbox_id), which sends it; its words are the row's once composed (staff's own for a mail),
# and its delivery follows the row's outcome and the gateway's delivery report. No number or
# address here: the report's reply_address and reporter_email are the only ones.
channel_messages = Table(
    "channel_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("direction", String(3), nullable=False),  # "in" or "out"
    Column("at", UTCDateTime, nullable=False),
    Column("text", Text, nullable=True),  # NULL: an outgoing notice not composed yet
    # "queued", "sent", "failed", "delivered", "undelivered"; NULL for incoming messages.
    Column("delivery", String(12), nullable=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=True),
    Column("actor_user_id", Integer, ForeignKey("users.id"), nullable=True),
    # An incoming message's retry key (complaints/sms.py idempotency_key): stored once.
    Column("gateway_key", String(64), nullable=True),
)
Index("ix_channel_messages_report_id_id", channel_messages.c.report_id, channel_messages.c.id)
Index("ix_channel_messages_outbox_id", channel_messages.c.outbox_id)
Index("ux_channel_messages_gateway_key", channel_messages.c.gateway_key, unique=True)

# Numbers with a standing rule: sent STOP (nothing goes out to them until MULAI), or blocked
# by an admin (nothing they send is stored, nothing goes out to them). Keyed by the channel's
# address, "sms:+62812...".
channel_numbers = Table(
    "channel_numbers",
    metadata,
    Column("address", String(64), primary_key=True),
    Column("stopped_at", UTCDateTime, nullable=True),
    Column("blocked_at", UTCDateTime, nullable=True),
    Column("block_note", String(200), nullable=True),
)

# Photos and letters (PDF) a unit attaches to its answer; the files are kept as the citizen's
# photos are (store/photos.py), shown to the reporter with the answer.
event_attachments = Table(
    "event_attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("report_events.id"), nullable=False),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("filename", String(80), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("width", Integer, nullable=False),  # 0 for a document
    Column("height", Integer, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    UniqueConstraint("event_id", "position"),
)
Index("ix_event_attachments_report_id", event_attachments.c.report_id)

# The bytes of photos and letters when the deployment keeps them in the database
# (store/photo_blobs.py; PostgreSQL's default): the re-encoded photo, its small copy once made,
# and whether a report or answer names it yet (`kept`; parked files of forms never sent are
# swept). Named like the files of store/photo_files.py, which the rows above refer to.
photo_blobs = Table(
    "photo_blobs",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("small", LargeBinary, nullable=True),
    Column("kept", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_photo_blobs_kept_created_at", photo_blobs.c.kept, photo_blobs.c.created_at)

# Answers staff pick and edit instead of typing the same paragraph again: a unit's templates
# serve its sub-units too; a template with a category is offered for that category only.
answer_templates = Table(
    "answer_templates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("category", String(80), nullable=True),
    Column("title", String(120), nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_by_user_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_answer_templates_unit_id", answer_templates.c.unit_id)

# One row per reminder queued: the periodic task runs every few minutes, and the primary key
# is what keeps a deadline from being announced twice, even by two processes at once.
reminders = Table(
    "reminders",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id"), primary_key=True),
    Column("kind", String(24), primary_key=True),  # complaints.reminders.Reminder
    Column("due_on", Date, primary_key=True),  # the deadline it is about
    Column("queued_at", UTCDateTime, nullable=False),
)

# An XLSX export runs in the background (a million rows outlast a proxy's time limit); the row
# survives a restart, and a job left running by a killed server is started again.
export_jobs = Table(
    "export_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(32), nullable=False, unique=True),  # names the file; unguessable
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("query", Text, nullable=False),  # the inbox query string it exports
    Column("status", String(12), nullable=False),  # pending, running, done, failed
    Column("rows_done", Integer, nullable=False),
    Column("rows_total", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    # The running job's claim, renewed while it is written: a job whose machine died is taken
    # over once the claim runs out (jobs/exports.py).
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("claim_token", String(32), nullable=True),
    # The claim whose file is the finished one, set with the outcome only while that claim was
    # held: a writer taken over keeps its file apart and never becomes this. None for a job
    # finished by a release before it (its file is the data directory's `{token}.xlsx`).
    Column("file_token", String(32), nullable=True),
)

# A finished export's file in the database (store/export_pieces.py; PostgreSQL's default, so
# every machine hands out the file any machine wrote): pieces of about a MB in order, each
# written and read on its own, keyed by the claim that wrote them. Go with their job.
export_pieces = Table(
    "export_pieces",
    metadata,
    Column("job_id", Integer, ForeignKey("export_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("claim_token", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

# Work that must run on one process at a time across every machine (the workflow timer): the
# process holding a row renews `held_until` while it lives; once it runs out, another process
# takes the row over. `ran_at` is when the last round began, so a new holder knows whether one
# is due (jobs/leases.py).
leases = Table(
    "leases",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(32), nullable=True),
    Column("held_until", UTCDateTime, nullable=True),
    Column("ran_at", UTCDateTime, nullable=True),
)

# Keys admins issue to Open311 client software, one per client: only the sha256 of the key is
# kept (it is shown once), so a leaked backup files no report. Revoking is for good.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("to_address", String(254), nullable=False),
    # The words: composed by the sender from `notice` and kept once tried; rows from before
    # migration 0011 were queued with them and have no notice.
    Column("subject", String(300), nullable=True),
    Column("body", Text, nullable=True),
    # What the mail is about, as JSON (store/outbox.py): which notice, and its fields.
    Column("notice", Text, nullable=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=True),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    # A claim that outlives its sender (killed worker) expires and the row is picked up again.
    Column("claimed_until", UTCDateTime, nullable=True),
    # Who holds the claim: a sender whose lease ran out cannot overwrite the next one's result.
    Column("claim_token", String(32), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    # A WhatsApp message: the id the Graph API gave it (wamid), and the last delivery status
    # its webhooks reported (sent, delivered, read, failed) with when.
    Column("provider_id", String(128), nullable=True),
    Column("delivery", String(12), nullable=True),
    Column("delivery_at", UTCDateTime, nullable=True),
)
Index("ix_outbox_status_next_attempt_at", outbox.c.status, outbox.c.next_attempt_at)
Index("ix_outbox_provider_id", outbox.c.provider_id)

# Status callbacks of the national portal, by the portal's event id: a callback it repeats is
# one event on the timeline (migration 0022).
national_events = Table(
    "national_events",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

# Messages that came in through the WhatsApp webhook, stored before Meta is answered and
# turned into reports by jobs/whatsapp.py once their sender has been quiet for a moment (a text
# and its photos are one report). The message id (wamid) is unique: Meta's retries are one row.
whatsapp_messages = Table(
    "whatsapp_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wamid", String(128), nullable=False, unique=True),
    Column("phone", String(16), nullable=False),  # the sender, +62...
    Column("kind", String(16), nullable=False),  # Meta's type: text, image, location, ...
    Column("text", Text, nullable=True),  # a text's body or an image's caption
    Column("media_id", String(128), nullable=True),
    Column("location", String(300), nullable=True),
    Column("profile_name", String(120), nullable=True),
    Column("sent_at", UTCDateTime, nullable=False),  # Meta's timestamp of the message
    Column("received_at", UTCDateTime, nullable=False),  # ours
    # pending, working (claimed), report, help, ignored
    Column("status", String(12), nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("claim_token", String(32), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=True),
    Column("last_error", Text, nullable=True),
)
Index("ix_whatsapp_messages_status_phone", whatsapp_messages.c.status, whatsapp_messages.c.phone)
Index("ix_whatsapp_messages_phone_sent_at", whatsapp_messages.c.phone, whatsapp_messages.c.sent_at)
