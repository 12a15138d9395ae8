"""Kiosks: pairing, credentials' state, heartbeats and each kiosk's pool of tracking codes.

A pool code becomes a report's tracking code inside store.intake.submit_report, in the transaction
that stores the report (`claim_code`), so a code is either in the pool or on a report, never
both and never neither."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.complaints import kiosk as rules
from lapor.complaints import tracking
from lapor.complaints.kiosk import Heartbeat
from lapor.complaints.records import Kiosk, ReservedCode
from lapor.store import rows
from lapor.store import schema as t
from lapor.store.db import Database
from lapor.store.errors import NotFound, StoreError
from lapor.store.prepared import Prepared

_K = t.kiosks
_HELD = (
    select(func.count())
    .where(t.kiosk_codes.c.kiosk_id == _K.c.id)
    .scalar_subquery()
    .label("codes_held")
)
_KIOSK = select(
    _K, t.units.c.slug.label("unit_slug"), t.units.c.name.label("unit_name"), _HELD
).join(t.units, t.units.c.id == _K.c.unit_id)


def _one(conn: Connection, kiosk_id: int) -> Kiosk | None:
    row = conn.execute(_KIOSK.where(_K.c.id == kiosk_id)).first()
    return rows.kiosk(row) if row is not None else None


def _set_pairing_code(conn: Connection, kiosk_id: int, at: datetime, *, long: bool) -> str:
    """A fresh code for the kiosk, unique among the codes outstanding."""
    # Expired codes give their digits back first, so the unique index only holds live ones.
    conn.execute(
        update(_K)
        .where(_K.c.pairing_expires_at <= at)
        .values(pairing_code_hash=None, pairing_expires_at=None)
    )
    for _ in range(50):
        code = rules.new_pairing_code(long=long)
        digest = rules.pairing_code_hash(code)
        if conn.execute(select(_K.c.id).where(_K.c.pairing_code_hash == digest)).first():
            continue
        conn.execute(
            update(_K)
            .where(_K.c.id == kiosk_id)
            .values(pairing_code_hash=digest, pairing_expires_at=at + rules.PAIRING_LIFETIME)
        )
        return code
    raise StoreError("could not find a free pairing code; try again")


def claim_code(conn: Connection, code: str, kiosk_id: int) -> bool:
    """Take `code` out of the kiosk's pool, in the caller's transaction."""
    result = conn.execute(
        delete(t.kiosk_codes).where(
            t.kiosk_codes.c.code == code, t.kiosk_codes.c.kiosk_id == kiosk_id
        )
    )
    return result.rowcount == 1


_POOL_CODE = Prepared(select(t.kiosk_codes.c.code).where(t.kiosk_codes.c.code == bindparam("code")))


def is_pool_code(conn: Connection, code: str) -> bool:
    # Asked for every new report's tracking code (store/intake.py), hence prepared.
    return _POOL_CODE.first(conn, {"code": code}) is not None


class KioskStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert_code = (sqlite_insert if db.is_sqlite else pg_insert)(
            t.kiosk_codes
        ).on_conflict_do_nothing()

    async def add(
        self, unit_id: int, name: str, at: datetime, *, long_code: bool = False
    ) -> tuple[Kiosk, str]:
        """A new kiosk for the unit and its first pairing code (ten digits with `long_code`)."""

        def write(conn: Connection) -> tuple[Kiosk, str]:
            if conn.execute(select(t.units.c.id).where(t.units.c.id == unit_id)).first() is None:
                raise NotFound(f"no unit with id {unit_id}")
            kiosk_id = conn.execute(
                insert(_K)
                .values(unit_id=unit_id, name=name, version=1, created_at=at)
                .returning(_K.c.id)
            ).scalar_one()
            code = _set_pairing_code(conn, kiosk_id, at, long=long_code)
            kiosk = _one(conn, kiosk_id)
            assert kiosk is not None
            return kiosk, code

        return await self.db.write(write)

    async def new_pairing_code(
        self, kiosk_id: int, at: datetime, *, long_code: bool = False
    ) -> tuple[Kiosk, str]:
        """Another code for a kiosk (the tablet was replaced or wiped). Pairing with it makes
        every earlier credential of the kiosk stop working."""

        def write(conn: Connection) -> tuple[Kiosk, str]:
            kiosk = _one(conn, kiosk_id)
            if kiosk is None:
                raise NotFound(f"no kiosk with id {kiosk_id}")
            if not kiosk.active:
                raise StoreError(f"kiosk {kiosk_id} is revoked; add a new one")
            code = _set_pairing_code(conn, kiosk_id, at, long=long_code)
            refreshed = _one(conn, kiosk_id)
            assert refreshed is not None
            return refreshed, code

        return await self.db.write(write)

    async def pair(self, code: str, at: datetime) -> Kiosk | None:
        """Exchange a live pairing code for the kiosk it names, once. The version goes up, so
        the credential issued now is the only one that works."""

        def write(conn: Connection) -> Kiosk | None:
            kiosk_id = conn.execute(
                update(_K)
                .where(
                    _K.c.pairing_code_hash == rules.pairing_code_hash(code),
                    _K.c.pairing_expires_at > at,
                    _K.c.revoked_at.is_(None),
                )
                .values(
                    pairing_code_hash=None,
                    pairing_expires_at=None,
                    paired_at=at,
                    version=_K.c.version + 1,
                    last_seen_at=at,
                    credential_hash=None,  # the new credential's comes with keep_credential
                )
                .returning(_K.c.id)
            ).scalar()
            if kiosk_id is None:
                return None
            # A re-paired device starts with an empty pool; the old device's codes go.
            conn.execute(delete(t.kiosk_codes).where(t.kiosk_codes.c.kiosk_id == kiosk_id))
            return _one(conn, kiosk_id)

        return await self.db.write(write)

    async def keep_credential(self, kiosk_id: int, version: int, digest: str) -> bool:
        """Keep the digest of the credential issued for the kiosk at `version`, which is
        checked against it from now on instead of the signing keys. Written only into an empty
        place and only at that version: a credential is kept once, and never one a later
        pairing replaced. Whether the kiosk keeps this digest now (True too when a concurrent
        request of the same tablet kept it first)."""

        def write(conn: Connection) -> bool:
            at_version = and_(_K.c.id == kiosk_id, _K.c.version == version)
            conn.execute(
                update(_K)
                .where(at_version, _K.c.credential_hash.is_(None))
                .values(credential_hash=digest)
            )
            kept = conn.execute(select(_K.c.credential_hash).where(at_version)).scalar()
            return bool(kept == digest)

        return await self.db.write(write)

    async def get(self, kiosk_id: int) -> Kiosk | None:
        """Uncached: a revocation must be seen at the device's next contact."""
        return await self.db.read(lambda conn: _one(conn, kiosk_id))

    async def all(self, unit_ids: Sequence[int] | None = None) -> list[Kiosk]:
        query = _KIOSK.order_by(_K.c.id)
        if unit_ids is not None:
            query = query.where(_K.c.unit_id.in_(list(unit_ids)))
        return await self.db.read(lambda conn: [rows.kiosk(r) for r in conn.execute(query)])

    async def revoke(self, kiosk_id: int, at: datetime) -> Kiosk:
        """For good; its unused codes go back (their status pages say "not found" again)."""

        def write(conn: Connection) -> Kiosk:
            kiosk = _one(conn, kiosk_id)
            if kiosk is None:
                raise NotFound(f"no kiosk with id {kiosk_id}")
            if not kiosk.active:
                raise StoreError(f"kiosk {kiosk_id} is already revoked")
            conn.execute(
                update(_K)
                .where(_K.c.id == kiosk_id)
                .values(revoked_at=at, pairing_code_hash=None, pairing_expires_at=None)
            )
            conn.execute(delete(t.kiosk_codes).where(t.kiosk_codes.c.kiosk_id == kiosk_id))
            revoked = _one(conn, kiosk_id)
            assert revoked is not None
            return revoked

        return await self.db.write(write)

    async def heartbeat(self, kiosk_id: int, beat: Heartbeat, at: datetime) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                update(_K)
                .where(_K.c.id == kiosk_id)
                .values(
                    last_seen_at=at,
                    queue_length=beat.queue_length,
                    oldest_queued_at=beat.oldest_queued_at,
                    app_version=beat.app_version,
                    storage_persistent=beat.storage_persistent,
                    clock_offset_ms=beat.clock_offset_ms,
                )
            )

        await self.db.write(write)

    async def note_limited(self, kiosk_id: int, at: datetime) -> None:
        """The kiosk went over a sending limit at `at` (the caller writes at most once a
        minute per kiosk, so this counts minutes, not refused requests)."""

        def write(conn: Connection) -> None:
            conn.execute(
                update(_K)
                .where(_K.c.id == kiosk_id)
                .values(limited_count=_K.c.limited_count + 1, limited_at=at)
            )

        await self.db.write(write)

    async def reserve_codes(self, kiosk_id: int, held: int, at: datetime) -> list[ReservedCode]:
        """Top the device's pool up: fresh codes, unused by any report or pool."""

        def write(conn: Connection) -> list[ReservedCode]:
            outstanding = conn.execute(
                select(func.count()).where(t.kiosk_codes.c.kiosk_id == kiosk_id)
            ).scalar_one()
            wanted = rules.codes_wanted(held, outstanding)
            expires = at + rules.CODE_LIFETIME
            reserved: list[ReservedCode] = []
            for _ in range(wanted * 2 + 5):  # collisions at 45 bits: a retry, not a failure
                if len(reserved) >= wanted:
                    break
                code = tracking.new_tracking_code()
                if conn.execute(
                    select(t.reports.c.id).where(t.reports.c.tracking_code == code)
                ).first():
                    continue
                added = conn.execute(
                    self._insert_code.values(
                        code=code, kiosk_id=kiosk_id, reserved_at=at, expires_at=expires
                    )
                )
                if added.rowcount == 1:
                    reserved.append(ReservedCode(code, expires))
            return reserved

        return await self.db.write(write)

    async def code_is_waiting(self, code: str) -> bool:
        """Whether `code` was handed out by a kiosk whose report has not arrived yet."""
        return await self.db.read(lambda conn: is_pool_code(conn, code))

    async def sweep_codes(self, at: datetime) -> int:
        """Give up codes expired so long ago that no queued report can still carry them."""

        def write(conn: Connection) -> int:
            return int(
                conn.execute(
                    delete(t.kiosk_codes).where(t.kiosk_codes.c.expires_at < at - rules.CODE_GRACE)
                ).rowcount
                or 0
            )

        return await self.db.write(write)
