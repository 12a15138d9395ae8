from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from lapor.store.db import Database
from lapor.store.migrate import MIGRATIONS, SchemaTooNew, migrate
from lapor.store.schema import BACKEND_SEARCH_OBJECTS, metadata
from tests.conftest import postgres_url, require_service


async def test_migrated_schema_matches_the_metadata(database: Database) -> None:
    def diff(sync_conn: Any) -> list[Any]:
        def include_name(name: str | None, type_: str, parents: Any) -> bool:
            return not (name or "").startswith(BACKEND_SEARCH_OBJECTS)

        context = MigrationContext.configure(sync_conn, opts={"include_name": include_name})
        return list(compare_metadata(context, metadata))

    assert await database.read(diff) == []


async def test_migrating_twice_is_harmless(database: Database) -> None:
    await migrate(database)
    await migrate(database)


@pytest.fixture
async def fresh_schema() -> AsyncIterator[tuple[str, str]]:
    """An empty PostgreSQL schema, not migrated: what a new deployment's servers first see."""
    url = postgres_url()
    if url is None:
        require_service("LAPOR_TEST_DATABASE_URL is not set (.ci/run sets it)")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = Database(url)
    await admin.run_standalone(lambda conn: conn.execute(text(f'CREATE SCHEMA "{schema}"')))
    try:
        yield url, schema
    finally:
        await admin.run_standalone(
            lambda conn: conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        )


async def test_servers_starting_together_on_a_fresh_schema_migrate_it_once(
    fresh_schema: tuple[str, str],
) -> None:
    url, schema = fresh_schema
    # Three machines' `lapor serve` at the same moment, each on its own connection: one
    # creates the tables under the advisory lock, the others wait and find them made.
    servers = [Database(url, schema=schema) for _ in range(3)]
    await asyncio.gather(*(migrate(db) for db in servers))
    db = servers[0]
    await db.connect()
    try:
        versions = await db.read(
            lambda conn: list(conn.execute(text("SELECT version_num FROM alembic_version")))
        )
        assert [v for (v,) in versions] == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]
        assert (
            await db.read(lambda conn: conn.execute(text("SELECT count(*) FROM leases")).scalar())
            == 0
        )
    finally:
        await db.close()


async def test_a_release_older_than_the_schema_refuses_to_start(database: Database) -> None:
    def newer(conn: Any) -> None:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))

    await database.write(newer)
    with pytest.raises(SchemaTooNew, match="0999"):
        await migrate(database)
    # Nothing was changed: the newer release that wrote 0999 finds its schema as it left it.
    found = await database.read(
        lambda conn: conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    )
    assert found == "0999"


async def test_existing_reports_survive_the_workflow_migration(database: Database) -> None:
    from alembic import command
    from sqlalchemy import text

    from lapor.store.migrate import _config

    def to_0001_with_a_report(conn: Any) -> None:
        command.downgrade(_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO units (id, slug, name, path, created_at) "
                "VALUES (1, 'prov', 'Provinsi', '1/', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO reports (tracking_code, idempotency_key, body_hash, kind, status, "
                "text, identity, channel, unit_id, language, received_at, verify_due, "
                "updated_at) VALUES ('ABCDE12345', 'k', 'h', 'pengaduan', 'masuk', 'teks', "
                "'anonim', 'poster', 1, 'id', CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIMESTAMP)"
            )
        )

    await database.run_standalone(to_0001_with_a_report)
    await migrate(database)
    rows = await database.read(
        lambda conn: conn.execute(text("SELECT version, forwarded_unit_id FROM reports")).all()
    )
    assert [tuple(r) for r in rows] == [(1, None)]


async def test_the_search_index_survives_later_migrations(database: Database) -> None:
    # A batch (copy-and-rename) migration of `reports` on SQLite silently drops the triggers
    # that keep the full-text table in step; searches then find nothing new.
    from sqlalchemy import text

    if not database.is_sqlite:
        return
    triggers = await database.read(
        lambda conn: set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        )
    )
    assert {"reports_fts_insert", "reports_fts_update", "reports_fts_delete"} <= triggers


async def test_mail_queued_before_the_outbox_kept_facts_survives_with_its_words(
    database: Database,
) -> None:
    """Migration 0011 rebuilds the outbox on SQLite: a message waiting under 0010 keeps its
    subject and body, and has no facts, so the sender sends it as it was composed."""
    from alembic import command
    from sqlalchemy import text

    from lapor.store.migrate import _config

    def to_0010_with_waiting_mail(conn: Any) -> None:
        command.downgrade(_config(conn), "0010")
        conn.execute(
            text(
                "INSERT INTO outbox (to_address, subject, body, status, attempts, "
                "next_attempt_at, created_at) VALUES ('koor@example.go.id', 'Laporan baru', "
                "'Isi', 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )

    await database.run_standalone(to_0010_with_waiting_mail)
    await migrate(database)
    rows = await database.read(
        lambda conn: conn.execute(
            text("SELECT to_address, subject, body, notice, status FROM outbox")
        ).all()
    )
    assert [tuple(r) for r in rows] == [
        ("koor@example.go.id", "Laporan baru", "Isi", None, "pending")
    ]


async def test_reports_from_before_0012_get_their_links_digests_filled_in(
    database: Database,
) -> None:
    """0012 adds the digests without values (it has no keys); the store fills them in with the
    digests under the keys it is given, once, batch by batch, and leaves a kept one alone."""
    from alembic import command
    from sqlalchemy import text

    from lapor.store.migrate import _config
    from lapor.store.store import Store
    from lapor.web.signing import Signing

    def to_0011_with_reports(conn: Any) -> None:
        command.downgrade(_config(conn), "0011")
        conn.execute(
            text(
                "INSERT INTO units (id, slug, name, path, created_at) "
                "VALUES (1, 'prov', 'Provinsi', '1/', CURRENT_TIMESTAMP)"
            )
        )
        for n in range(3):
            conn.execute(
                text(
                    "INSERT INTO reports (tracking_code, idempotency_key, body_hash, kind, "
                    "status, text, identity, channel, unit_id, language, received_at, "
                    "verify_due, updated_at) VALUES (:code, :key, 'h', 'pengaduan', 'masuk', "
                    "'teks', 'anonim', 'poster', 1, 'id', CURRENT_TIMESTAMP, CURRENT_DATE, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"code": f"ABCDE1234{n}", "key": f"key-{n}"},
            )

    await database.run_standalone(to_0011_with_reports)
    await migrate(database)
    signing = Signing(["old-key-0123456789abcdef", "new-key-0123456789abcdef"])
    store = Store(database)
    await database.write(
        lambda conn: conn.execute(
            text("UPDATE reports SET reporter_secret_hash = 'kept' WHERE idempotency_key = 'key-2'")
        )
    )
    assert await store.fill_in_reporter_secrets(signing.reporter_secret_hashes, batch=1) == 2
    assert await store.fill_in_reporter_secrets(signing.reporter_secret_hashes) == 0
    rows = await database.read(
        lambda conn: conn.execute(
            text("SELECT idempotency_key, reporter_secret_hash FROM reports ORDER BY id")
        ).all()
    )
    assert [tuple(r) for r in rows] == [
        ("key-0", signing.reporter_secret_hashes("key-0")),
        ("key-1", signing.reporter_secret_hashes("key-1")),
        ("key-2", "kept"),
    ]
    kiosks = await database.read(
        lambda conn: conn.execute(text("SELECT count(credential_hash) FROM kiosks")).scalar()
    )
    assert kiosks == 0


async def test_sms_reports_from_before_0017_are_answered_where_their_receipt_went(
    database: Database,
) -> None:
    """Migration 0017 gives a report that came by SMS its reply address from its receipt's
    outbox row, anonymous ones included (their number was nowhere else)."""
    from dataclasses import replace

    from alembic import command
    from sqlalchemy import text

    from lapor.complaints.reports import Channel, Identity
    from lapor.store.migrate import _config
    from lapor.store.store import Store
    from lapor.web.signing import Signing
    from tests.conftest import TEST_KEY, World
    from tests.store.test_store import new_report

    store = Store(database)
    world = await World(store, Signing([TEST_KEY])).standard()
    new = replace(
        new_report(world.units["prov"].id, "sms:old", identity=Identity.ANONYMOUS),
        channel=Channel.SMS,
        reply_address="sms:+6281234567890",
    )
    await store.submit_report(new)
    await store.submit_report(new_report(world.units["prov"].id, "web:old"))
    await database.run_standalone(lambda conn: command.downgrade(_config(conn), "0014"))
    await migrate(database)
    rows = await database.read(
        lambda conn: conn.execute(
            text("SELECT channel, reply_address FROM reports ORDER BY id")
        ).all()
    )
    assert [tuple(r) for r in rows] == [("sms", "sms:+6281234567890"), ("poster", None)]


async def test_exports_finished_before_0027_keep_their_file_in_the_data_directory(
    database: Database,
) -> None:
    """Migration 0027 adds export_pieces and export_jobs.file_token: a job done under 0026
    names no claim's file (its file is the data directory's `{token}.xlsx`), and the step goes
    down and up again on both backends."""
    from alembic import command

    from lapor.store.migrate import _config

    def to_0026_with_a_done_export(conn: Any) -> None:
        command.downgrade(_config(conn), "0026")
        conn.execute(
            text(
                "INSERT INTO units (id, slug, name, path, created_at) "
                "VALUES (1, 'prov', 'Provinsi', '1/', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (id, email, password_hash, role, unit_id, active, created_at) "
                "VALUES (1, 'koor@prov.go.id', 'x', 'coordinator', 1, true, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO export_jobs (token, user_id, query, status, rows_done, created_at, "
                "finished_at) VALUES (:token, 1, 'lang=id', 'done', 3, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            ),
            {"token": "a" * 32},
        )

    await database.run_standalone(to_0026_with_a_done_export)
    await migrate(database)
    rows = await database.read(
        lambda conn: conn.execute(text("SELECT token, status, file_token FROM export_jobs")).all()
    )
    assert [tuple(r) for r in rows] == [("a" * 32, "done", None)]
    assert (
        await database.read(
            lambda conn: conn.execute(text("SELECT count(*) FROM export_pieces")).scalar()
        )
        == 0
    )
    if not database.is_sqlite:
        # The pieces of a zip are not compressed again.
        storage = await database.read(
            lambda conn: conn.execute(
                text(
                    "SELECT attstorage::text FROM pg_attribute WHERE attname = 'data' "
                    "AND attrelid = 'export_pieces'::regclass"
                )
            ).scalar()
        )
        assert storage == "e"
    await database.run_standalone(lambda conn: command.downgrade(_config(conn), "0026"))
    await migrate(database)
