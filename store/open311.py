"""Open311: the API keys of client software, and the public listing of reports and their
updates under the rules of complaints/open311.py (verified, never confidential, nothing about
the reporter)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update

from lapor.complaints.open311 import (
    NOTE_EVENT_KINDS,
    PUBLIC_EVENT_KINDS,
    PUBLIC_STATUSES,
    UNFILED,
)
from lapor.complaints.records import ApiKey, PublicReport, PublicUpdate
from lapor.complaints.reports import Identity, Status
from lapor.store import schema as t
from lapor.store.clock import now
from lapor.store.errors import NotFound, StoreError

_R = t.reports
_E = t.report_events
_RESPONSIBLE = t.units.alias("responsible")


def _key(row: Any) -> ApiKey:
    return ApiKey(row.id, row.name, row.created_at, row.revoked_at, row.last_used_at)


def add_api_key(conn: Connection, *, name: str, key_hash: str) -> ApiKey:
    key_id = conn.execute(
        insert(t.api_keys)
        .values(name=name, key_hash=key_hash, created_at=now())
        .returning(t.api_keys.c.id)
    ).scalar_one()
    return _key(conn.execute(select(t.api_keys).where(t.api_keys.c.id == key_id)).one())


def api_key(conn: Connection, *, key_id: int) -> ApiKey | None:
    row = conn.execute(select(t.api_keys).where(t.api_keys.c.id == key_id)).first()
    return _key(row) if row else None


def active_api_key(conn: Connection, *, key_hash: str) -> ApiKey | None:
    """The key with this digest, unless it was revoked."""
    row = conn.execute(
        select(t.api_keys).where(
            t.api_keys.c.key_hash == key_hash, t.api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return _key(row) if row else None


def list_api_keys(conn: Connection) -> list[ApiKey]:
    """Active keys first, then revoked ones; newest first within each."""
    query = select(t.api_keys).order_by(
        t.api_keys.c.revoked_at.is_not(None), t.api_keys.c.id.desc()
    )
    return [_key(row) for row in conn.execute(query)]


def revoke_api_key(conn: Connection, *, key_id: int) -> ApiKey:
    """For good: the key files nothing more. Reports it filed keep the client's name."""
    result = conn.execute(
        update(t.api_keys)
        .where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    key = api_key(conn, key_id=key_id)
    if key is None:
        raise NotFound(f"no API key with id {key_id}")
    if result.rowcount == 0:
        raise StoreError(f"API key {key_id} is already revoked")
    return key


def key_used(conn: Connection, *, key_id: int, at: datetime) -> None:
    conn.execute(update(t.api_keys).where(t.api_keys.c.id == key_id).values(last_used_at=at))


# -- the public listing ----------------------------------------------------------------------

_PUBLIC = and_(
    _R.c.identity != Identity.CONFIDENTIAL.value,
    _R.c.verified_at.is_not(None),
    _R.c.status.in_(sorted(s.value for s in PUBLIC_STATUSES)),
)
_NOTE = (
    select(_E.c.note)
    .where(
        _E.c.report_id == _R.c.id,
        _E.c.public.is_(True),
        _E.c.kind.in_(sorted(NOTE_EVENT_KINDS)),
        _E.c.note.is_not(None),
        _E.c.note != "",
    )
    .order_by(_E.c.id.desc())
    .limit(1)
    .correlate(_R)
    .scalar_subquery()
)
_PUBLIC_REPORTS = (
    select(
        _R.c.id,
        _R.c.tracking_code,
        _R.c.status,
        _R.c.text,
        _R.c.category,
        _R.c.location,
        _R.c.latitude,
        _R.c.longitude,
        _R.c.received_at,
        _R.c.updated_at,
        _R.c.due_on,
        _RESPONSIBLE.c.name.label("unit_name"),
        _NOTE.label("status_note"),
    )
    .join(
        _RESPONSIBLE,
        _RESPONSIBLE.c.id
        == func.coalesce(_R.c.forwarded_unit_id, _R.c.routed_unit_id, _R.c.unit_id),
    )
    .where(_PUBLIC)
)


def _public(row: Any) -> PublicReport:
    return PublicReport(
        id=row.id,
        tracking_code=row.tracking_code,
        status=Status(row.status),
        text=row.text,
        category=row.category,
        location=row.location,
        latitude=row.latitude,
        longitude=row.longitude,
        received_at=row.received_at,
        updated_at=row.updated_at,
        unit_name=row.unit_name,
        due_on=row.due_on,
        status_note=row.status_note,
    )


def _services(categories: Sequence[str]) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = _R.c.category.in_(sorted(categories))
    if UNFILED in categories:
        condition = or_(condition, _R.c.category.is_(None))
    return condition


def public_reports(
    conn: Connection,
    *,
    codes: Sequence[str] = (),
    categories: Sequence[str] = (),
    statuses: Sequence[Status] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    offset: int = 0,
    limit: int = 1000,
) -> list[PublicReport]:
    """Public reports, newest first. `codes` (canonical tracking codes), when given, is the
    whole query, as the spec has service_request_id override every other argument."""
    query = _PUBLIC_REPORTS
    if codes:
        query = query.where(_R.c.tracking_code.in_(sorted(set(codes))))
    else:
        if categories:
            query = query.where(_services(categories))
        if statuses:
            query = query.where(_R.c.status.in_(sorted(s.value for s in statuses)))
        if start is not None:
            query = query.where(_R.c.received_at >= start)
        if end is not None:
            query = query.where(_R.c.received_at <= end)
    query = query.order_by(_R.c.received_at.desc(), _R.c.id.desc()).offset(offset).limit(limit)
    return [_public(row) for row in conn.execute(query)]


def public_updates(
    conn: Connection, *, start: datetime, end: datetime, offset: int = 0, limit: int = 1000
) -> list[PublicUpdate]:
    """The public steps of public reports' timelines between `start` and `end`, oldest first."""
    query = (
        select(
            _E.c.id,
            _E.c.at,
            _E.c.kind,
            _E.c.to_status,
            _E.c.note,
            _R.c.tracking_code,
            _R.c.status,
        )
        .join(_R, _R.c.id == _E.c.report_id)
        .where(
            _PUBLIC,
            _E.c.public.is_(True),
            _E.c.kind.in_(sorted(PUBLIC_EVENT_KINDS)),
            _E.c.at >= start,
            _E.c.at <= end,
        )
        .order_by(_E.c.at, _E.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [
        PublicUpdate(
            id=row.id,
            tracking_code=row.tracking_code,
            at=row.at,
            kind=row.kind,
            to_status=Status(row.to_status) if row.to_status else None,
            status=Status(row.status),
            note=row.note,
        )
        for row in conn.execute(query)
    ]
