"""Prepared statements (store/prepared.py) do what SQLAlchemy's execution of the same
statement does, on both databases: the same rows, the same stored values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Text, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.store import schema as t
from lapor.store.db import Database
from lapor.store.prepared import Prepared

AT = datetime(2026, 12, 3, 8, 30, 15, 123456, tzinfo=UTC)


def _unit(conn: Connection, unit_id: int, path: str) -> None:
    conn.execute(
        insert(t.units).values(
            id=unit_id, slug=f"u{unit_id}", name=f"Unit {unit_id}", path=path, created_at=AT
        )
    )


def _report_values() -> dict[str, object]:
    return dict(
        id=1, tracking_code="ABCDEFGHJKM", idempotency_key="k", body_hash="h", kind="pengaduan",
        status="received", text="Antrean panjang.", identity="anonim", channel="web", unit_id=1,
        language="id", received_at=AT, verify_due=AT.date(), updated_at=AT,
    )  # fmt: skip


def _users(conn: Connection) -> None:
    for unit_id, path in ((1, "/1/"), (2, "/1/2/"), (3, "/1/2/3/")):
        _unit(conn, unit_id, path)
    for n, (unit_id, role, active) in enumerate(
        [
            (1, "coordinator", True),
            (2, "coordinator", False),
            (3, "coordinator", True),
            (3, "officer", True),
        ]
    ):
        conn.execute(
            insert(t.users).values(
                email=f"u{n}@x.test",
                password_hash="x",
                role=role,
                unit_id=unit_id,
                active=active,
                created_at=AT,
            )
        )


COORDINATORS = (
    select(t.users.c.unit_id, t.users.c.email, t.units.c.name)
    .join(t.units, t.units.c.id == t.users.c.unit_id)
    .where(
        t.users.c.unit_id.in_(bindparam("chain", expanding=True)),
        t.users.c.role == "coordinator",
        t.users.c.active.is_(True),
    )
    .order_by(t.users.c.email)
)


async def test_selects_with_lists_and_constants_give_sqlalchemys_rows(database: Database) -> None:
    def run(conn: Connection) -> None:
        _users(conn)
        prepared = Prepared(COORDINATORS)
        for chain in ([3, 2, 1], [2], [1, 3], [9]):
            expected = [tuple(r) for r in conn.execute(COORDINATORS, {"chain": chain})]
            assert prepared.rows(conn, {"chain": chain}) == expected
        assert prepared.rows(conn, {"chain": [3, 2, 1]}) == [
            (1, "u0@x.test", "Unit 1"),
            (3, "u2@x.test", "Unit 3"),
        ]
        assert prepared.first(conn, {"chain": [9]}) is None

    await database.write(run)


async def test_inserts_store_what_sqlalchemy_would(database: Database) -> None:
    """Datetimes go through the same bind processors (UTC, the stored spelling), booleans too;
    RETURNING comes back; a conflict returns nothing."""
    upsert = sqlite_insert if database.is_sqlite else pg_insert

    def run(conn: Connection) -> None:
        _unit(conn, 1, "/1/")
        outbox = Prepared(insert(t.outbox))
        row = dict(
            to_address="a@x.test",
            notice="{}",
            report_id=None,
            status="pending",
            attempts=0,
            next_attempt_at=AT,
            created_at=AT + timedelta(hours=7),
        )
        outbox.many(conn, [row, {**row, "to_address": "b@x.test"}])
        conn.execute(insert(t.outbox), [{**row, "to_address": "c@x.test"}])
        stored = conn.execute(
            select(
                t.outbox.c.to_address, t.outbox.c.next_attempt_at, t.outbox.c.created_at
            ).order_by(t.outbox.c.id)
        ).all()
        assert [tuple(r) for r in stored] == [
            ("a@x.test", AT, AT + timedelta(hours=7)),
            ("b@x.test", AT, AT + timedelta(hours=7)),
            ("c@x.test", AT, AT + timedelta(hours=7)),
        ]
        raw = conn.execute(select(t.outbox.c.created_at.cast(Text))).scalars().all()
        assert len(set(raw)) == 1  # the very spelling SQLAlchemy stores

        # Many rows go as one INSERT (in chunks): every row's values converted, not the first's
        # only, and every row stored in order.
        conn.execute(t.outbox.delete())
        many = [
            {**row, "to_address": f"{n}@x.test", "created_at": AT + timedelta(seconds=n)}
            for n in range(123)
        ]
        outbox.many(conn, many)
        conn.execute(insert(t.outbox), [{**r, "to_address": f"sa-{r['to_address']}"} for r in many])
        stored = conn.execute(
            select(t.outbox.c.to_address, t.outbox.c.created_at.cast(Text)).order_by(t.outbox.c.id)
        ).all()
        ours, theirs = stored[:123], stored[123:]
        assert [r[0] for r in ours] == [f"{n}@x.test" for n in range(123)]
        assert [r[1] for r in ours] == [r[1] for r in theirs]
        conn.execute(insert(t.reports).values(**_report_values()))
        events = Prepared(insert(t.report_events))
        event = dict(
            report_id=1, at=AT, kind="received", from_status=None, to_status="received",
            note=None, public=True, actor_user_id=None,
        )  # fmt: skip
        events.many(conn, [event, {**event, "kind": "routed", "public": False}, event])
        public = conn.execute(
            select(t.report_events.c.kind, t.report_events.c.public, t.report_events.c.at).order_by(
                t.report_events.c.id
            )
        ).all()
        assert [tuple(r) for r in public] == [
            ("received", True, AT), ("routed", False, AT), ("received", True, AT)
        ]  # fmt: skip

        once = Prepared(
            upsert(t.report_counts).on_conflict_do_nothing().returning(t.report_counts.c.n)
        )
        assert once.first(conn, {"unit_id": 1, "status": "received", "n": 4}) == (4,)
        assert once.first(conn, {"unit_id": 1, "status": "received", "n": 5}) is None
        counted = upsert(t.report_counts)
        bump = Prepared(
            counted.on_conflict_do_update(
                index_elements=[t.report_counts.c.unit_id, t.report_counts.c.status],
                set_={"n": t.report_counts.c.n + counted.excluded.n},
            )
        )
        bump.many(conn, [{"unit_id": 1, "status": "received", "n": 2}])
        bump.many(conn, [{"unit_id": 1, "status": "closed", "n": 1}])
        counts = conn.execute(
            select(t.report_counts.c.status, t.report_counts.c.n).order_by(t.report_counts.c.status)
        ).all()
        assert [tuple(c) for c in counts] == [("closed", 1), ("received", 6)]

    await database.write(run)


def test_what_cannot_be_prepared_is_refused_when_compiled() -> None:
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://")
    t.metadata.create_all(engine)
    with engine.begin() as conn:
        # A datetime read back would come as text on SQLite.
        with pytest.raises(TypeError, match="converting"):
            Prepared(select(t.outbox.c.created_at)).rows(conn, {})
        # A column default computed in Python (attempts=0) would be left out.
        with pytest.raises(TypeError, match="Python default"):
            Prepared(insert(t.outbox)).many(
                conn,
                [dict(to_address="a", status="pending", next_attempt_at=AT, created_at=AT)],
            )
