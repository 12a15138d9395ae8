"""inbox filter indexes: a status index that answers the other filters by itself, status with
the deadline order, and SQLite's view of the search index's vocabulary

Measured at a million reports (bench/inbox.py):
- A status that is rare in an agency's reports combined with a kind and a channel matched a
  handful of reports, but each index alone matched tens of thousands: PostgreSQL built and
  intersected three bitmaps (58 ms), SQLite looked up every report of that status in the table
  (34 ms). With the scope and filter columns carried in the status index, both walk that
  index alone, newest first, and stop at a page: 3 ms and 5 ms.
- "masuk, by deadline" sorted every received report (17 ms); (status, due_on, id) reads the
  page in order: 0.1 ms on both.
- An officer's reports (one unit's forwarded ones, 7,800 of them) by deadline or by arrival:
  SQLite read and sorted them all (18-23 ms); (forwarded_unit_id, due_on, id) and
  (forwarded_unit_id, received_at) give the page in order (0.05 ms).
- SQLite: a fts5vocab table over reports_fts (store.inbox reads it to turn a search word into
  the index's own terms that start with it: FTS5 reads an exact term's matches as it needs
  them, but all of a prefix's matches before the first, 30 ms for a word in half the reports).

Each index takes a few seconds per million reports to build.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_STATUS_FILTERS = ["status", "id", "routed_unit_id", "unit_id", "kind", "channel"]


def upgrade() -> None:
    op.drop_index("ix_reports_status_id", table_name="reports")
    op.create_index("ix_reports_status_filters", "reports", _STATUS_FILTERS)
    op.create_index("ix_reports_status_due_on_id", "reports", ["status", "due_on", "id"])
    op.create_index(
        "ix_reports_forwarded_unit_id_due_on_id", "reports", ["forwarded_unit_id", "due_on", "id"]
    )
    op.create_index(
        "ix_reports_forwarded_unit_id_received_at", "reports", ["forwarded_unit_id", "received_at"]
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE reports_fts_terms USING fts5vocab(reports_fts, instance)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS reports_fts_terms")
    op.drop_index("ix_reports_forwarded_unit_id_received_at", table_name="reports")
    op.drop_index("ix_reports_forwarded_unit_id_due_on_id", table_name="reports")
    op.drop_index("ix_reports_status_due_on_id", table_name="reports")
    op.drop_index("ix_reports_status_filters", table_name="reports")
    op.create_index("ix_reports_status_id", "reports", ["status", "id"])
