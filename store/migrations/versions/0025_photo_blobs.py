"""photo_blobs: the bytes of photos and letters kept in the database, so that every machine of
a deployment on PostgreSQL sees the same photos (store/photo_blobs.py)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo_blobs",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("small", sa.LargeBinary(), nullable=True),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_photo_blobs"),
    )
    op.create_index(
        "ix_photo_blobs_kept_created_at", "photo_blobs", ["kept", "created_at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        # JPEG and PDF bytes do not compress: spare PostgreSQL trying, and let it read a slice
        # of a large letter without reading the whole.
        op.execute("ALTER TABLE photo_blobs ALTER COLUMN data SET STORAGE EXTERNAL")
        op.execute("ALTER TABLE photo_blobs ALTER COLUMN small SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_index("ix_photo_blobs_kept_created_at", table_name="photo_blobs")
    op.drop_table("photo_blobs")
