"""widgets: embeddable complaint forms registered for a unit and the origins they may run on;
reports remember the widget and the page they were sent from

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("origins", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_widgets_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widgets")),
    )
    op.create_index(op.f("ix_widgets_unit_id"), "widgets", ["unit_id"])
    # Plain ADD COLUMN without a foreign key, never a batch copy of `reports`: recreating the
    # table on SQLite would drop the triggers that keep its full-text index (0004) in step.
    op.add_column("reports", sa.Column("widget_id", sa.Integer(), nullable=True))
    op.add_column("reports", sa.Column("page_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place, so the full-text triggers survive.
    op.drop_column("reports", "page_url")
    op.drop_column("reports", "widget_id")
    op.drop_index(op.f("ix_widgets_unit_id"), table_name="widgets")
    op.drop_table("widgets")
