"""monitoring and exports: when a report was first verified and first answered; export jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True))
    # From the audit log, which has always recorded both moments.
    op.execute(
        "UPDATE reports SET verified_at = (SELECT MIN(e.at) FROM report_events e "
        "WHERE e.report_id = reports.id AND e.kind IN "
        "('forwarded', 'postpone', 'not_authority', 'archive'))"
    )
    op.execute(
        "UPDATE reports SET followed_up_at = (SELECT MIN(e.at) FROM report_events e "
        "WHERE e.report_id = reports.id AND e.kind = 'followed_up')"
    )
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_export_jobs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
        sa.UniqueConstraint("token", name=op.f("uq_export_jobs_token")),
    )


def downgrade() -> None:
    op.drop_table("export_jobs")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("followed_up_at")
        batch.drop_column("verified_at")
