"""export_pieces: finished XLSX exports kept in the database in pieces, so that a download
reaching any machine of a deployment on PostgreSQL finds the file whichever machine wrote it
(store/export_pieces.py); and export_jobs.file_token, the claim whose file is the finished one

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("export_jobs") as batch:
        batch.add_column(sa.Column("file_token", sa.String(32), nullable=True))
    op.create_table(
        "export_pieces",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["export_jobs.id"],
            name="fk_export_pieces_job_id_export_jobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "claim_token", "seq", name="pk_export_pieces"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # An XLSX is a zip already: spare PostgreSQL compressing it again.
        op.execute("ALTER TABLE export_pieces ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("export_pieces")
    with op.batch_alter_table("export_jobs") as batch:
        batch.drop_column("file_token")
