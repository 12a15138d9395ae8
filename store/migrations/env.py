"""Alembic environment. Always handed a live connection, already inside a transaction, by
store.migrate (never connects at import time): all pending migrations apply together or not at
all. Batch mode only on SQLite, whose ALTER TABLE is too weak for Alembic's defaults."""

from __future__ import annotations

from alembic import context

from lapor.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `python server.py migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
