"""forwarding to the national portal SP4N-LAPOR!: the national tracking ID on a report (given
back when it was sent there, or typed in for a report that came from there), the unit's choice
to send every verified report, and the portal's status callbacks by event id

Revision ID: 0022
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("national_id", sa.String(64), nullable=True))
    op.create_index("ux_reports_national_id", "reports", ["national_id"], unique=True)
    # A plain ALTER, not a batch rebuild: on SQLite that would copy the units table, which
    # the foreign keys of every table pointing at it refuse.
    op.add_column(
        "units",
        sa.Column("sends_national", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "national_events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("national_events")
    op.execute("ALTER TABLE units DROP COLUMN sends_national")
    op.drop_index("ux_reports_national_id", table_name="reports")
    # Not a batch rebuild: see 0017's downgrade.
    op.execute("ALTER TABLE reports DROP COLUMN national_id")
