"""kiosks: paired touchscreen tablets, their pools of reserved tracking codes, feedback
(quick ratings and IKM surveys); reports remember the kiosk and the device's time

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pairing_code_hash", sa.String(length=64), nullable=True),
        sa.Column("pairing_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queue_length", sa.Integer(), nullable=True),
        sa.Column("oldest_queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("app_version", sa.String(length=40), nullable=True),
        sa.Column("storage_persistent", sa.Boolean(), nullable=True),
        sa.Column("clock_offset_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_kiosks_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
        sa.UniqueConstraint("pairing_code_hash", name=op.f("uq_kiosks_pairing_code_hash")),
    )
    op.create_index(op.f("ix_kiosks_unit_id"), "kiosks", ["unit_id"])
    op.create_table(
        "kiosk_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_kiosk_codes_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_kiosk_codes")),
    )
    op.create_index(
        op.f("ix_kiosk_codes_kiosk_id_expires_at"), "kiosk_codes", ["kiosk_id", "expires_at"]
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("answers", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_feedback_kiosk_id_kiosks")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_feedback_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_feedback_idempotency_key")),
    )
    op.create_index(op.f("ix_feedback_unit_id_received_at"), "feedback", ["unit_id", "received_at"])
    # Plain ADD COLUMN, never a batch copy of `reports` (it would drop the FTS triggers).
    op.add_column("reports", sa.Column("kiosk_id", sa.Integer(), nullable=True))
    op.add_column("reports", sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("reports", "reported_at")
    op.drop_column("reports", "kiosk_id")
    op.drop_index(op.f("ix_feedback_unit_id_received_at"), table_name="feedback")
    op.drop_table("feedback")
    op.drop_index(op.f("ix_kiosk_codes_kiosk_id_expires_at"), table_name="kiosk_codes")
    op.drop_table("kiosk_codes")
    op.drop_index(op.f("ix_kiosks_unit_id"), table_name="kiosks")
    op.drop_table("kiosks")
