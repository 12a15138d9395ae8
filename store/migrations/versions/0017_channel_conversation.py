"""the conversation with a reporter on their channel: reports keep where they are told
(reply_address), every SMS or WhatsApp message in or out is a channel_messages row on the
report's timeline, and channel_numbers keeps STOP and the admins' block list

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("reply_address", sa.String(64), nullable=True))
    op.create_index(
        "ix_reports_reply_address_status", "reports", ["reply_address", "status"], unique=False
    )
    # One address form for every channel, "<channel>:<number>" (complaints/conversation.py):
    # WhatsApp's rows of 0016 said "wa:".
    op.execute(
        "UPDATE outbox SET to_address = 'whatsapp:' || substr(to_address, 4)"
        " WHERE to_address LIKE 'wa:%'"
    )
    # Reports that came by SMS or WhatsApp before: answered where their receipt went.
    for channel in ("sms", "whatsapp"):
        op.execute(
            "UPDATE reports SET reply_address = (SELECT min(o.to_address) FROM outbox o"
            f" WHERE o.report_id = reports.id AND o.to_address LIKE '{channel}:%')"
            f" WHERE channel = '{channel}'"
        )
    op.create_table(
        "channel_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("delivery", sa.String(12), nullable=True),
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.id"), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("gateway_key", sa.String(64), nullable=True),
    )
    op.create_index(
        "ix_channel_messages_report_id_id", "channel_messages", ["report_id", "id"], unique=False
    )
    op.create_index(
        "ix_channel_messages_outbox_id", "channel_messages", ["outbox_id"], unique=False
    )
    op.create_index(
        "ux_channel_messages_gateway_key", "channel_messages", ["gateway_key"], unique=True
    )
    op.create_table(
        "channel_numbers",
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("block_note", sa.String(200), nullable=True),
    )


def downgrade() -> None:
    op.execute(
        "UPDATE outbox SET to_address = 'wa:' || substr(to_address, 10)"
        " WHERE to_address LIKE 'whatsapp:%'"
    )
    op.drop_table("channel_numbers")
    op.drop_index("ux_channel_messages_gateway_key", table_name="channel_messages")
    op.drop_index("ix_channel_messages_outbox_id", table_name="channel_messages")
    op.drop_index("ix_channel_messages_report_id_id", table_name="channel_messages")
    op.drop_table("channel_messages")
    op.drop_index("ix_reports_reply_address_status", table_name="reports")
    # Not a batch rebuild: on SQLite that drops and copies the reports table, which the
    # foreign keys of every table pointing at it refuse. SQLite drops a column since 3.35.
    op.execute("ALTER TABLE reports DROP COLUMN reply_address")
