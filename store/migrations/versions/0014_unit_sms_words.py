"""units carry the word a text message names them by (`LAPOR DISDUKCAPIL ...`)

Set by admins (`lapor unit sms-word`); NULL: the unit cannot be named by SMS, and such reports
go to the top of the tree. Unique, so one word always means one unit.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("sms_word", sa.String(32), nullable=True))
    op.create_index("ux_units_sms_word", "units", ["sms_word"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_units_sms_word", table_name="units")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("sms_word")
