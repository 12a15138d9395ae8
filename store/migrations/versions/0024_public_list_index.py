"""the public list's own index: the reports /jawaban may show, newest answer first (a partial
index; the list's query repeats its condition word for word, see store/schema.py's LISTED)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# Frozen here as it was at this revision: store/schema.py's listed() is the living copy (and
# says why SQLite's is written `+status`).
LISTED = (
    "{status} IN ('ditindaklanjuti', 'selesai') AND identity != 'rahasia'"
    " AND list_hold IS NULL AND answer_text IS NOT NULL AND followed_up_at IS NOT NULL"
)


def upgrade() -> None:
    op.create_index(
        "ix_reports_listed",
        "reports",
        ["followed_up_at", "id"],
        unique=False,
        sqlite_where=sa.text(LISTED.format(status="+status")),
        postgresql_where=sa.text(LISTED.format(status="status")),
    )


def downgrade() -> None:
    op.drop_index("ix_reports_listed", table_name="reports")
