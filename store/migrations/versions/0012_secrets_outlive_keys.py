"""the reporter's private link and a kiosk's credential are checked against a stored hash

Both used to be checked only against the signing keys (the link's secret is an HMAC of the
report's idempotency key under the newest key), so removing an old key stranded every reporter
and kiosk it had served. Now the report keeps sha256 of its link's secret and the kiosk of its
credential. The migration cannot fill them in: it has no keys. Existing reports are filled in
by the server when it starts (and by `lapor migrate`) with the digests under every key then
configured; existing kiosks at their next request, once their signature is proved.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy of `reports`: recreating the table on SQLite would
    # drop the triggers that keep its full-text index (0004) in step.
    op.add_column("reports", sa.Column("reporter_secret_hash", sa.Text(), nullable=True))
    op.add_column("kiosks", sa.Column("credential_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Back to checking against the keys alone: links and credentials live as long as their key.
    op.drop_column("kiosks", "credential_hash")
    op.drop_column("reports", "reporter_secret_hash")
