"""the public list of answered reports: the unit's answer kept on the report (answer_text, the
last answer, filled from the timeline for reports answered before), and what keeps a report
off the list (list_hold: "withheld" by staff with list_hold_reason, or "review" while its text
looks like it holds personal data)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lapor.complaints.publication import personal_data

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("answer_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("list_hold", sa.String(12), nullable=True))
        batch.add_column(sa.Column("list_hold_reason", sa.String(300), nullable=True))
    op.execute(
        "UPDATE reports SET answer_text = (SELECT e.note FROM report_events e"
        " WHERE e.report_id = reports.id AND e.kind = 'followed_up'"
        " ORDER BY e.id DESC LIMIT 1)"
        " WHERE followed_up_at IS NOT NULL"
    )
    # Reports answered before this revision wait for staff when their text or answer looks
    # like it holds personal data, as new answers do (the same check as new answers get).
    conn = op.get_bind()
    held = [
        row.id
        for row in conn.execute(
            sa.text(
                "SELECT id, text, answer_text FROM reports"
                " WHERE answer_text IS NOT NULL AND identity <> 'rahasia'"
            )
        )
        if personal_data(row.text, row.answer_text)
    ]
    for start in range(0, len(held), 500):
        conn.execute(
            sa.text("UPDATE reports SET list_hold = 'review' WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": held[start : start + 500]},
        )
    op.create_index(
        "ix_reports_status_followed_up_at", "reports", ["status", "followed_up_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_reports_status_followed_up_at", table_name="reports")
    # Not a batch rebuild: on SQLite that drops and copies the reports table, which the
    # foreign keys of every table pointing at it refuse. SQLite drops a column since 3.35.
    for column in ("list_hold_reason", "list_hold", "answer_text"):
        op.execute(f"ALTER TABLE reports DROP COLUMN {column}")
