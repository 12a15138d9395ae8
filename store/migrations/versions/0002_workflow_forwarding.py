"""workflow: forwarding to a unit, follow-up deadline, optimistic version

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("title", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("forwarded_unit_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("follow_up_due", sa.Date(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_reports_forwarded_unit_id_units"), "units", ["forwarded_unit_id"], ["id"]
        )
    op.create_index("ix_reports_forwarded_unit_id_id", "reports", ["forwarded_unit_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_reports_forwarded_unit_id_id", table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint(op.f("fk_reports_forwarded_unit_id_units"), type_="foreignkey")
        for column in ("follow_up_due", "forwarded_at", "forwarded_unit_id", "title", "version"):
            batch.drop_column(column)
