"""Bring the database schema to the newest revision, safely from several processes at once.

Several machines starting `lapor serve` together: on PostgreSQL one migrates under an
advisory lock and the others wait for it, then find nothing left to do. A release older than
the schema it finds (a newer machine migrated it) refuses to start rather than run its SQL
against tables it does not know."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from lapor import resources
from lapor.store.db import Database
from lapor.store.errors import StoreError

MIGRATIONS = resources.path("store", "migrations")

# Any constant works; it only has to be the same in every process that migrates.
_ADVISORY_LOCK_ID = 0x1A9012
# How long a starting process waits for another one's migration: long enough for a migration
# that rewrites a table of a million reports, short enough that a stuck one is noticed.
LOCK_WAIT = "10min"
# How long the migration itself waits for a table's lock before it gives up (and starts nothing).
TABLE_LOCK_WAIT = "60s"


class SchemaTooNew(StoreError):
    """The database was migrated by a newer release than this one."""


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _refuse_unknown(connection: Connection, config: Config) -> None:
    known = ScriptDirectory.from_config(config)
    current = MigrationContext.configure(connection).get_current_heads()
    unknown = [rev for rev in current if not _knows(known, rev)]
    if unknown:
        raise SchemaTooNew(
            f"the database's schema is at revision {', '.join(unknown)}, newer than this "
            f"release knows (its newest is {known.get_current_head()}): a newer release "
            "migrated it; run that release here too"
        )


def _knows(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic's ResolutionError and its kin: a revision it has no file for
        return False


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two `serve` processes starting together must not both create the tables; the lock
        # is released with the transaction, and the second then finds the schema up to date.
        connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
        # The long wait is for the other machine's migration only: a table lock the migration
        # itself waits for (an old machine's long read of reports, during a rolling upgrade)
        # holds every later query on that table behind it, so that wait stays short.
        connection.execute(text(f"SET LOCAL lock_timeout = '{TABLE_LOCK_WAIT}'"))
    # SQLite: the standalone connection's BEGIN IMMEDIATE already serialises migrating processes.
    config = _config(connection)
    _refuse_unknown(connection, config)
    command.upgrade(config, "head")


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
