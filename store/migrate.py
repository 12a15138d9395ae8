"""Bring the database schema to the newest revision, safely from several processes at once."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
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


@cache
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head() -> str:
    """The newest revision this version of the code knows."""
    found = _scripts().get_current_head()
    assert found is not None
    return found


def known_revisions() -> frozenset[str]:
    """Every revision this version of the code has a migration for."""
    return frozenset(script.revision for script in _scripts().walk_revisions())


def revision_of(connection: Connection) -> str | None:
    """The revision a migrated database is at (one query: readiness asks it often)."""
    found: str | None = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return found
