"""A citizen's report coming in, from any entry point: stored with its photos, its routing and
the staff's mail in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.complaints import search, tracking
from lapor.complaints.conversation import channel_of
from lapor.complaints.notices import Notice, SmsNotice, excerpt
from lapor.complaints.records import NewReport, SubmitResult
from lapor.complaints.reports import Identity, Status, route
from lapor.store import conversation, inbox, kiosks, outbox
from lapor.store import schema as t
from lapor.store.clock import now
from lapor.store.errors import IdempotencyConflict, NotFound, StoreError
from lapor.store.prepared import Prepared

# Statements on the hot path, built and compiled once and run on the driver's cursor
# (store/prepared.py): building, compiling and executing them through SQLAlchemy's layers was
# most of the submission's CPU.
_ENTRY_UNIT = Prepared(
    select(t.units.c.path, t.units.c.name, t.posters.c.label)
    .select_from(t.units)
    .outerjoin(
        t.posters,
        and_(t.posters.c.id == bindparam("poster_id"), t.posters.c.unit_id == t.units.c.id),
    )
    .where(t.units.c.id == bindparam("unit_id"))
)
_BY_KEY = select(
    t.reports.c.id,
    t.reports.c.tracking_code,
    t.reports.c.body_hash,
    t.reports.c.reporter_secret_hash,
).where(t.reports.c.idempotency_key == bindparam("key"))
_COORDINATORS = Prepared(
    select(t.users.c.unit_id, t.users.c.email, t.units.c.name)
    .join(t.units, t.units.c.id == t.users.c.unit_id)
    .where(
        t.users.c.unit_id.in_(bindparam("chain", expanding=True)),
        t.users.c.role == "coordinator",
        t.users.c.active.is_(True),
    )
)
# ON CONFLICT, not a look-up first: the unique constraints are what make two concurrent retries
# (two processes, two tabs) store one report, and a tracking-code collision a retry.
_INSERT_REPORT = {
    "sqlite": Prepared(sqlite_insert(t.reports).on_conflict_do_nothing().returning(t.reports.c.id)),
    "postgresql": Prepared(pg_insert(t.reports).on_conflict_do_nothing().returning(t.reports.c.id)),
}
_INSERT_EVENTS = Prepared(insert(t.report_events))


def _scalar(row: tuple[Any, ...] | None) -> Any:
    return None if row is None else row[0]


def _stored(conn: Connection, new: NewReport) -> SubmitResult | None:
    """The report an earlier delivery of `new` stored, if any."""
    existing = conn.execute(_BY_KEY, {"key": new.idempotency_key}).first()
    if existing is None:
        return None
    if existing.body_hash != new.body_hash:
        raise IdempotencyConflict(existing.tracking_code)
    return SubmitResult(
        existing.id,
        existing.tracking_code,
        created=False,
        reporter_secret_hash=existing.reporter_secret_hash,
    )


def stored_key(conn: Connection, *, key: str) -> bool:
    """Whether a report was stored under the idempotency `key`."""
    return conn.execute(_BY_KEY, {"key": key}).first() is not None


def submit_report(conn: Connection, *, new: NewReport) -> SubmitResult:
    """Store a citizen's report, its photos, its routing and the staff's mail in one
    transaction. A retry with the same idempotency key returns the stored report; the same
    key with a different body raises IdempotencyConflict."""
    sub = new.submission
    anonymous = sub.identity is Identity.ANONYMOUS
    insert_report = _INSERT_REPORT[conn.dialect.name]
    entry = _ENTRY_UNIT.first(conn, {"unit_id": new.unit_id, "poster_id": new.poster_id})
    if entry is None:
        raise NotFound(f"no unit with id {new.unit_id}")
    unit_path, unit_name, poster_label = entry
    chain = [int(p) for p in reversed(unit_path.strip("/").split("/"))]
    # (unit id, e-mail, unit name) of the coordinators up the unit's chain
    staff = _COORDINATORS.rows(conn, {"chain": chain})
    routed = route(chain, {unit_id for unit_id, _, _ in staff})
    at = now()
    values: dict[str, Any] = dict(
        idempotency_key=new.idempotency_key,
        body_hash=new.body_hash,
        kind=sub.kind.value,
        status=Status.RECEIVED.value,
        text=sub.text,
        location=sub.location,
        identity=sub.identity.value,
        reporter_name=None if anonymous else sub.name,
        reporter_phone=None if anonymous else sub.phone,
        reporter_email=None if anonymous else sub.email,
        channel=new.channel.value,
        unit_id=new.unit_id,
        poster_id=new.poster_id,
        routed_unit_id=routed,
        language=new.language,
        received_at=new.received_at,
        verify_due=new.verify_due,
        due_on=new.verify_due,
        updated_at=at,
        search_text=search.search_text(None, sub.text),
        taken_via=new.taken_via,
        widget_id=new.widget_id,
        page_url=new.page_url,
        kiosk_id=new.kiosk_id,
        reported_at=new.reported_at,
        reporter_secret_hash=new.reporter_secret_hash,
        api_key_id=new.api_key_id,
        api_client=new.api_client,
        category=new.category,
        latitude=new.latitude,
        longitude=new.longitude,
        media_url=new.media_url,
        reply_address=new.reply_address,
        national_id=new.national_id,
    )
    report_id = None
    lost_code = None
    if new.pool_code is not None and new.kiosk_id is not None:
        # The citizen already holds this code. A resend finds its report by key (the
        # first delivery took the code out of the pool); a concurrent one waits on the
        # pool row's lock, finds nothing to claim, then finds the report.
        if (earlier := _stored(conn, new)) is not None:
            return earlier
        if kiosks.claim_code(conn, new.pool_code, new.kiosk_id):
            values["tracking_code"] = new.pool_code
            report_id = _scalar(insert_report.first(conn, values))
            if report_id is None and (earlier := _stored(conn, new)) is not None:
                return earlier
        elif (earlier := _stored(conn, new)) is not None:
            return earlier
        if report_id is None:
            # The code left the pool (the kiosk was re-paired after a revocation, or
            # the report sat queued for months): the report is still stored, under a
            # fresh code, and its timeline names the one on the citizen's receipt.
            lost_code = new.pool_code
    for _ in range(0 if report_id is not None else 5):
        # A tracking-code collision at 45 bits is rare, not impossible; a code in a
        # kiosk's pool is as taken as one on a report.
        values["tracking_code"] = tracking.new_tracking_code()
        if kiosks.is_pool_code(conn, values["tracking_code"]):
            continue
        report_id = _scalar(insert_report.first(conn, values))
        if report_id is not None:
            break
        if (earlier := _stored(conn, new)) is not None:
            return earlier
    if report_id is None:
        raise StoreError("could not allocate a tracking code")
    if new.photos:
        conn.execute(
            insert(t.report_photos),
            [
                dict(
                    report_id=report_id,
                    position=position,
                    filename=p.filename,
                    content_type=p.content_type,
                    width=p.width,
                    height=p.height,
                    size_bytes=p.size_bytes,
                )
                for position, p in enumerate(new.photos)
            ],
        )
    events = [
        dict(
            report_id=report_id,
            at=at,
            kind="received",
            from_status=None,
            to_status=Status.RECEIVED.value,
            note=None,
            public=True,
            actor_user_id=None,
        ),
        dict(
            report_id=report_id,
            at=at,
            kind="routed" if routed else "unrouted",
            from_status=None,
            to_status=None,
            public=False,
            actor_user_id=None,
            note=None,
        ),
    ]
    if new.taken_by is not None:
        events.insert(
            1,
            dict(
                report_id=report_id,
                at=at,
                kind="taken",
                from_status=None,
                to_status=None,
                public=False,
                actor_user_id=new.taken_by,
                note=None,
            ),
        )
    if lost_code is not None:
        events.append(
            dict(
                report_id=report_id,
                at=at,
                kind="kiosk_code_lost",
                from_status=None,
                to_status=None,
                public=False,
                actor_user_id=None,
                note=tracking.group(lost_code),
            )
        )
    _INSERT_EVENTS.many(conn, events)
    if routed is not None:
        recipients = sorted({email for unit_id, email, _ in staff if unit_id == routed})
        routed_name = next(name for unit_id, _, name in staff if unit_id == routed)
    else:
        recipients = sorted(
            conn.execute(
                select(t.users.c.email).where(t.users.c.role == "admin", t.users.c.active.is_(True))
            ).scalars()
        )
        routed_name = None
    if recipients:
        notice = Notice(
            report_id,
            values["tracking_code"],
            sub.kind,
            excerpt(sub.text),
            new.channel,
            unit_name,
            poster_label,
            routed_name,
            new.verify_due,
            widget_id=new.widget_id,
            page_url=new.page_url,
        )
        outbox.queue(conn, report_id, recipients, notice, at)
    if new.reply_address is not None:
        # In the same transaction as the report: the receipt goes out for a stored report
        # only, and once, since a retry returns above before reaching here.
        receipt = SmsNotice(
            "receipt",
            new.language,
            report_id=report_id,
            tracking_code=values["tracking_code"],
            cut=new.text_cut,
        )
        if channel_of(new.reply_address) == new.channel.value:
            # It came by that channel: the conversation starts with the message itself.
            conversation.record_inbound(
                conn,
                report_id=report_id,
                channel=new.channel.value,
                text=sub.text,
                at=new.received_at,
                key=new.idempotency_key,
            )
        outbox.queue(conn, report_id, [new.reply_address], receipt, at)
    # Last, so the counter row (the one lock two submissions to a unit share on
    # PostgreSQL) is held for the shortest time.
    inbox.bump_counts(conn, [(routed, Status.RECEIVED.value, 1)])
    return SubmitResult(
        report_id,
        values["tracking_code"],
        created=True,
        reporter_secret_hash=new.reporter_secret_hash,
    )
