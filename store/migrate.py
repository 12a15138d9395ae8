"""Bring the database schema to the newest revision, safely from several processes at once."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from lapor import resources
from lapor.store.db import Database

MIGRATIONS = resources.path("store", "migrations")

# Any constant works; it only has to be the same in every process that migrates.
_ADVISORY_LOCK_ID = 0x1A9012


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two `serve` processes starting together must not both create the tables; the lock
        # is released with the transaction.
        connection.execute(text("SET LOCAL lock_timeout = '60s'"))
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    # SQLite: the standalone connection's BEGIN IMMEDIATE already serialises migrating processes.
    command.upgrade(_config(connection), "head")


async def migrate(db: Database) -> None:
    await db.run_standalone(_upgrade)
