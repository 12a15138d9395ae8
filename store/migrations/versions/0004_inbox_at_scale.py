"""inbox at scale: the running deadline, search text and index, counters per status, category,
tags and the person a report is assigned to

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lapor.complaints.search import search_text

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# SQLite: an external-content FTS5 table over reports.search_text, kept in step by triggers so
# that no write path can forget it. unicode61 with remove_diacritics 2 folds what Python's fold
# might have missed in old rows.
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE reports_fts USING fts5(search_text, content='reports', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN "
    "INSERT INTO reports_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER reports_fts_update AFTER UPDATE OF search_text ON reports BEGIN "
    "INSERT INTO reports_fts(reports_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO reports_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN "
    "INSERT INTO reports_fts(reports_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
]
# PostgreSQL: a GIN index on the expression the store's search condition repeats word for word.
_PG_FTS = (
    "CREATE INDEX ix_reports_search ON reports "
    "USING gin (to_tsvector('simple'::regconfig, search_text))"
)


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("category", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("tags", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("assigned_user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_reports_assigned_user_id_users"), "users", ["assigned_user_id"], ["id"]
        )
    op.create_index("ix_reports_due_on_id", "reports", ["due_on", "id"])
    op.create_index("ix_reports_channel_id", "reports", ["channel", "id"])
    op.create_index("ix_reports_received_at", "reports", ["received_at"])
    op.create_index("ix_reports_assigned_user_id_id", "reports", ["assigned_user_id", "id"])
    op.create_table(
        "report_counts",
        # 0 for reports no coordinator is responsible for (unrouted).
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "status", name=op.f("pk_report_counts")),
    )
    op.execute(
        "UPDATE reports SET due_on = CASE status "
        "WHEN 'masuk' THEN verify_due WHEN 'diteruskan' THEN follow_up_due END"
    )
    rows = bind.execute(sa.text("SELECT id, title, text FROM reports")).all()
    if rows:
        bind.execute(
            sa.text("UPDATE reports SET search_text = :s WHERE id = :id"),
            [{"s": search_text(r.title, r.text), "id": r.id} for r in rows],
        )
    op.execute(
        "INSERT INTO report_counts (unit_id, status, n) "
        "SELECT COALESCE(routed_unit_id, 0), status, COUNT(*) FROM reports "
        "GROUP BY COALESCE(routed_unit_id, 0), status"
    )
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
        op.execute("INSERT INTO reports_fts(reports_fts) VALUES ('rebuild')")
    else:
        op.execute(_PG_FTS)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("reports_fts_insert", "reports_fts_update", "reports_fts_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS reports_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_reports_search")
    op.drop_table("report_counts")
    for name in (
        "ix_reports_assigned_user_id_id",
        "ix_reports_received_at",
        "ix_reports_channel_id",
        "ix_reports_due_on_id",
    ):
        op.drop_index(name, table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint(op.f("fk_reports_assigned_user_id_users"), type_="foreignkey")
        for column in ("assigned_user_id", "tags", "category", "search_text", "due_on"):
            batch.drop_column(column)
