from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.db import Database
from store.migrate import migrate
from store.schema import metadata


async def test_migrated_schema_matches_the_metadata(database: Database) -> None:
    def diff(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(sync_conn)
        return list(compare_metadata(context, metadata))

    assert await database.read(diff) == []


async def test_migrating_twice_is_harmless(database: Database) -> None:
    await migrate(database)
    await migrate(database)
