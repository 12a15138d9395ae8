"""outbox rows carry the notice's facts; the words are composed when the mail is sent

The store used to compose subject and body inside the write transaction, with composers
handed down from the web layer. Now the transaction writes what the mail is about (`notice`:
which notice and its fields, as JSON) and the mail sender (jobs/mail.py) composes it, then
keeps the words it sent on the row. Rows queued before this migration have their subject and
body and no facts: they are sent as they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite changes a column's nullability only by rebuilding the table.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("notice", sa.Text(), nullable=True))
        batch.alter_column("subject", existing_type=sa.String(300), nullable=True)
        batch.alter_column("body", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Rows still waiting with facts only cannot be kept without their words: they are dropped.
    op.execute("DELETE FROM outbox WHERE subject IS NULL OR body IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch.alter_column("subject", existing_type=sa.String(300), nullable=False)
        batch.drop_column("notice")
