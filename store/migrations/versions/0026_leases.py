"""leases for background work across machines: the leases table (one row per piece of work
that must run on one process at a time, such as the workflow timer: who holds it, until when,
and when its last round ran), and a claim on export jobs (claimed_until, claim_token) so a job
a dead machine was writing is taken over instead of waiting for a restart

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(32), nullable=True),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("export_jobs") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("export_jobs") as batch:
        batch.drop_column("claim_token")
        batch.drop_column("claimed_until")
    op.drop_table("leases")
