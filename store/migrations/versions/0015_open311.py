"""Open311: the API keys admins issue to client software, and what a report filed through one
keeps beside its text

`api_keys` holds only the sha256 of each key (shown once, when it is issued); revoking sets
revoked_at. A report filed with a key (channel "api") names the key and its client's name as
they were then, the point the client gave (WGS84 latitude and longitude), and the media link it
sent, which staff open themselves and the server never fetches. No foreign key on api_key_id:
added by a plain ALTER on SQLite, as for widget_id (0008).

Revision ID: 0015
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("api_key_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("api_client", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("media_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    # Not a batch rebuild: on SQLite that drops and copies the reports table, which the
    # foreign keys of every table pointing at it refuse. SQLite drops a column since 3.35.
    for column in ("media_url", "longitude", "latitude", "api_client", "api_key_id"):
        op.execute(f"ALTER TABLE reports DROP COLUMN {column}")
    op.drop_table("api_keys")
