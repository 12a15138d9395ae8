"""search vector: PostgreSQL keeps each report's tsvector in a stored generated column

The GIN index of 0004 was on an expression, so a plan that did not start from the index (a walk
down the primary key, the usual choice for a common word with LIMIT 50) computed to_tsvector()
again for every row it passed: 8.5 s for a rare word at a million reports. A stored column is
computed once per write, gets its own statistics (most common lexemes, which the planner needs
to tell a rare word from a common one) and is what the GIN index now covers.

SQLite keeps its FTS5 table (0004): nothing to do there.

On a large database the upgrade rewrites the reports table once (about a minute per million
reports) and rebuilds the GIN index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD_INDEX = (
    "CREATE INDEX ix_reports_search ON reports "
    "USING gin (to_tsvector('simple'::regconfig, search_text))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX IF EXISTS ix_reports_search")
    op.execute(
        "ALTER TABLE reports ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        "(to_tsvector('simple'::regconfig, search_text)) STORED"
    )
    op.execute("CREATE INDEX ix_reports_search_vector ON reports USING gin (search_vector)")
    # The planner's word frequencies come from these statistics; without them until the next
    # autovacuum every word looks as common as any other.
    op.execute("ANALYZE reports")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX IF EXISTS ix_reports_search_vector")
    op.execute("ALTER TABLE reports DROP COLUMN IF EXISTS search_vector")
    op.execute(_OLD_INDEX)
