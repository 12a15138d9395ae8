from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lapor.store.db import Database
from lapor.store.migrate import migrate
from lapor.store.schema import BACKEND_SEARCH_OBJECTS, metadata


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
