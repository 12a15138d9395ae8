"""kiosks remember going over their sending limits: how often and when last

A credential read off a public tablet can send ratings as fast as a script can; the API
refuses what no person at a tablet could send (kiosk/views.py) and marks the kiosk, so the
admins' kiosk list shows one to pair again or revoke.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.add_column(
            sa.Column("limited_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("limited_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.drop_column("limited_at")
        batch.drop_column("limited_count")
