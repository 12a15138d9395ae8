"""WhatsApp: inbound messages kept by their message id, and outbox rows that know the id the
Graph API gave them and the delivery status its webhooks reported

Revision ID: 0016
Revises: 0021
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("provider_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("delivery", sa.String(12), nullable=True))
        batch.add_column(sa.Column("delivery_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_provider_id", "outbox", ["provider_id"])
    op.create_table(
        "whatsapp_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("wamid", sa.String(128), nullable=False, unique=True),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("media_id", sa.String(128), nullable=True),
        sa.Column("location", sa.String(300), nullable=True),
        sa.Column("profile_name", sa.String(120), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id"), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_whatsapp_messages_status_phone", "whatsapp_messages", ["status", "phone"])
    op.create_index("ix_whatsapp_messages_phone_sent_at", "whatsapp_messages", ["phone", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_whatsapp_messages_phone_sent_at", table_name="whatsapp_messages")
    op.drop_index("ix_whatsapp_messages_status_phone", table_name="whatsapp_messages")
    op.drop_table("whatsapp_messages")
    op.drop_index("ix_outbox_provider_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("delivery_at")
        batch.drop_column("delivery")
        batch.drop_column("provider_id")
