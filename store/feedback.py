"""Feedback's SQL: storing a kiosk's quick rating or IKM survey once however often it is
resent, and the sums the monitoring page divides (complaints/feedback.py says how)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.complaints.access import Reach, Scope
from lapor.complaints.feedback import ITEM_COUNT, FeedbackFigures, FeedbackKind
from lapor.complaints.monitoring import Key
from lapor.complaints.records import FeedbackResult, NewFeedback
from lapor.store import schema as t
from lapor.store.errors import FeedbackConflict, NotFound
from lapor.store.inbox import subtree_ids

_F = t.feedback

# ON CONFLICT, not a look-up first: the unique key is what makes two resends racing from a
# kiosk's queue (or two workers) store one row.
_INSERT = {
    "sqlite": sqlite_insert(_F).on_conflict_do_nothing().returning(_F.c.id),
    "postgresql": pg_insert(_F).on_conflict_do_nothing().returning(_F.c.id),
}
_BY_KEY = select(_F.c.id, _F.c.body_hash).where(_F.c.idempotency_key == bindparam("key"))
_UNIT = select(t.units.c.id).where(t.units.c.id == bindparam("unit_id"))


def record(conn: Connection, new: NewFeedback) -> FeedbackResult:
    sub = new.submission
    # Checked, not left to the foreign key: a clear NotFound, not a driver's IntegrityError.
    if conn.execute(_UNIT, {"unit_id": sub.unit_id}).first() is None:
        raise NotFound(f"no unit with id {sub.unit_id}")
    values = dict(
        kind=sub.kind.value,
        unit_id=sub.unit_id,
        kiosk_id=new.kiosk_id,
        idempotency_key=new.idempotency_key,
        body_hash=new.body_hash,
        rating=sub.rating if sub.kind is FeedbackKind.RATING else None,
        answers=sub.answers_code if sub.kind is FeedbackKind.IKM else None,
        language=sub.language,
        reported_at=sub.reported_at,
        received_at=new.received_at,
    )
    feedback_id = conn.execute(_INSERT[conn.dialect.name], values).scalar()
    if feedback_id is not None:
        return FeedbackResult(feedback_id, created=True)
    existing = conn.execute(_BY_KEY, {"key": new.idempotency_key}).one()
    if existing.body_hash != new.body_hash:
        raise FeedbackConflict(existing.id)
    return FeedbackResult(existing.id, created=False)


def _in_scope(conn: Connection, scope: Scope) -> ColumnElement[bool]:
    """Feedback is not routed: it belongs to the unit where it was given, so a coordinator or
    inspector reaches the feedback given in their unit's subtree."""
    if scope.reach is Reach.ALL:
        return true()
    if scope.reach is Reach.FORWARDED:
        return _F.c.unit_id == scope.unit_id
    return _F.c.unit_id.in_(subtree_ids(conn, scope.unit_path))


def sums(
    conn: Connection,
    scope: Scope,
    root_path: str,
    month: ColumnElement[str],
    start: datetime,
    end: datetime,
) -> dict[Key, FeedbackFigures]:
    """Per (unit, local month): surveys and the sum of each item's answers, ratings and their
    sum. The database adds; nothing is read row by row. substr and CAST ... AS INTEGER mean
    the same on SQLite and PostgreSQL; a rating's NULL answers add nothing."""
    digits = [
        func.coalesce(func.sum(cast(func.substr(_F.c.answers, i, 1), Integer)), 0)
        for i in range(1, ITEM_COUNT + 1)
    ]
    query = (
        select(
            _F.c.unit_id,
            month.label("month"),
            func.count(_F.c.answers),
            *digits,
            func.count(_F.c.rating),
            func.coalesce(func.sum(_F.c.rating), 0),
        )
        .where(
            _in_scope(conn, scope),
            _F.c.unit_id.in_(subtree_ids(conn, root_path)),
            _F.c.received_at >= start,
            _F.c.received_at < end,
        )
        .group_by(_F.c.unit_id, literal_column("month"))
    )
    out: dict[Key, FeedbackFigures] = {}
    for row in conn.execute(query):
        out[(row[0], row[1])] = FeedbackFigures(
            int(row[2]),
            tuple(int(v) for v in row[3 : 3 + ITEM_COUNT]),
            int(row[3 + ITEM_COUNT]),
            int(row[4 + ITEM_COUNT]),
        )
    return out
