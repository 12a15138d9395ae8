"""report_forwarded_counts: an officer's reports per status as counter rows (unit, status, n),
kept beside report_counts by every workflow change, so that the inbox's status counts of a
unit's forwarded reports no longer count them (a busy sub-unit holds 80,000 of ten million
reports: 25 ms a page on SQLite, growing with every report)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_forwarded_counts",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "status", name=op.f("pk_report_forwarded_counts")),
    )
    op.execute(
        "INSERT INTO report_forwarded_counts (unit_id, status, n) "
        "SELECT forwarded_unit_id, status, COUNT(*) FROM reports "
        "WHERE forwarded_unit_id IS NOT NULL GROUP BY forwarded_unit_id, status"
    )


def downgrade() -> None:
    op.drop_table("report_forwarded_counts")
