"""The only place with SQL. Each method is one read or one write transaction, written as a plain
function of a connection so the same SQL runs on both backends (see store/db.py)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from complaints import search, tracking
from complaints.access import Reach, Scope
from complaints.inbox import Cursor, InboxQuery
from complaints.monitoring import Raw
from complaints.reports import Channel, Identity, Kind, Status, Submission, route
from complaints.workflow import (
    DECISIONS,
    TARGET,
    Action,
    Forwarding,
    Refusal,
    WorkflowError,
    allowed,
    target_of,
)
from store import inbox, monitoring
from store import schema as t
from store.db import Database
from store.monitoring import Period
from store.records import (
    ROLES,
    Duplicate,
    Event,
    ExportJob,
    IdempotencyConflict,
    InboxPage,
    NewPhoto,
    NotFound,
    OutboxMessage,
    Photo,
    Poster,
    Report,
    StaffSession,
    StoreError,
    Unit,
    User,
)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NewReport:
    submission: Submission
    channel: Channel
    unit_id: int
    poster_id: int | None
    idempotency_key: str
    body_hash: str
    language: str
    received_at: datetime
    verify_due: date
    photos: Sequence[NewPhoto] = ()


@dataclass(frozen=True)
class Notice:
    """What the mail to staff about a new report says; built from data the write already has."""

    report_id: int
    tracking_code: str
    kind: Kind
    text: str
    channel: Channel
    unit_name: str
    poster_label: str | None
    routed_unit_name: str | None  # None: nobody is responsible yet, the admins are told
    verify_due: date


# Subject and body of the mail telling staff about a new report.
MailComposer = Callable[[Notice], tuple[str, str]]


@dataclass(frozen=True)
class ChangeNotice:
    """What a mail about a workflow change says: to the unit's officers when a report is
    forwarded, to the reporter (in the report's language) when the unit answers."""

    report_id: int
    tracking_code: str
    title: str | None
    status: Status
    unit_name: str | None
    text: str | None
    language: str
    due: date | None


ChangeComposer = Callable[[ChangeNotice], tuple[str, str]]


@dataclass(frozen=True)
class SubmitResult:
    report_id: int
    tracking_code: str
    created: bool


# Statements on the hot path, built once: building and compiling them per call showed up in
# the submission profile.
_ENTRY_UNIT = (
    select(t.units.c.path, t.units.c.name, t.posters.c.label)
    .select_from(t.units)
    .outerjoin(t.posters, and_(t.posters.c.id == bindparam("poster_id"),
                               t.posters.c.unit_id == t.units.c.id))
    .where(t.units.c.id == bindparam("unit_id"))
)
_BY_KEY = select(t.reports.c.id, t.reports.c.tracking_code, t.reports.c.body_hash).where(
    t.reports.c.idempotency_key == bindparam("key"))
_COORDINATORS = (
    select(t.users.c.unit_id, t.users.c.email, t.units.c.name)
    .join(t.units, t.units.c.id == t.users.c.unit_id)
    .where(t.users.c.unit_id.in_(bindparam("chain", expanding=True)),
           t.users.c.role == "coordinator", t.users.c.active.is_(True))
)
# ON CONFLICT, not a look-up first: the unique constraints are what make two concurrent retries
# (two processes, two tabs) store one report, and a tracking-code collision a retry.
_INSERT_REPORT = {
    "sqlite": sqlite_insert(t.reports).on_conflict_do_nothing().returning(t.reports.c.id),
    "postgresql": pg_insert(t.reports).on_conflict_do_nothing().returning(t.reports.c.id),
}
_POSTER = (select(t.posters, t.units.c.slug.label("unit_slug"),
                  t.units.c.name.label("unit_name"))
           .join(t.units, t.units.c.id == t.posters.c.unit_id))

POSTER_CACHE_SECONDS = 5.0


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Every form view looks its poster up; a revocation made by another process is seen
        # within POSTER_CACHE_SECONDS, one made by this process at once.
        self._poster_cache: dict[int, tuple[float, Poster | None]] = {}

    async def ping(self) -> None:
        await self.db.read(lambda conn: conn.execute(text("SELECT 1")).scalar())

    # -- units -----------------------------------------------------------------------------
    async def add_unit(self, slug: str, name: str, parent_slug: str | None = None) -> Unit:
        def write(conn: Connection) -> Unit:
            parent_path = ""
            parent_id = None
            if parent_slug:
                parent = conn.execute(select(t.units).where(t.units.c.slug == parent_slug)).first()
                if parent is None:
                    raise NotFound(f"unknown unit {parent_slug!r}")
                parent_id, parent_path = parent.id, parent.path
            if conn.execute(select(t.units.c.id).where(t.units.c.slug == slug)).first():
                raise Duplicate(f"a unit with slug {slug!r} already exists")
            unit_id = conn.execute(
                insert(t.units).values(slug=slug, name=name, parent_id=parent_id, path="",
                                       created_at=now()).returning(t.units.c.id)).scalar_one()
            path = f"{parent_path}{unit_id}/"
            conn.execute(update(t.units).where(t.units.c.id == unit_id).values(path=path))
            return Unit(unit_id, slug, name, parent_id, path)

        return await self.db.write(write)

    async def list_units(self) -> list[Unit]:
        return await self.db.read(lambda conn: [
            Unit.from_row(r) for r in conn.execute(select(t.units).order_by(t.units.c.path))])

    async def unit_by_slug(self, slug: str) -> Unit | None:
        def read(conn: Connection) -> Unit | None:
            row = conn.execute(select(t.units).where(t.units.c.slug == slug)).first()
            return Unit.from_row(row) if row else None

        return await self.db.read(read)

    # -- users and sessions ----------------------------------------------------------------
    async def add_user(self, email: str, password_hash: str, role: str, unit_id: int) -> User:
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}")
        email = email.strip().lower()

        def write(conn: Connection) -> User:
            if conn.execute(select(t.users.c.id).where(t.users.c.email == email)).first():
                raise Duplicate(f"a user with email {email!r} already exists")
            user_id = conn.execute(
                insert(t.users).values(email=email, password_hash=password_hash, role=role,
                                       unit_id=unit_id, active=True, created_at=now())
                .returning(t.users.c.id)).scalar_one()
            return User(user_id, email, role, unit_id, True, password_hash)

        return await self.db.write(write)

    async def list_users(self) -> list[tuple[User, Unit]]:
        def read(conn: Connection) -> list[tuple[User, Unit]]:
            rows = conn.execute(
                select(t.users, t.units.c.slug, t.units.c.name.label("unit_name"),
                       t.units.c.parent_id, t.units.c.path)
                .join(t.units, t.units.c.id == t.users.c.unit_id).order_by(t.users.c.email))
            return [(User.from_row(r), Unit(r.unit_id, r.slug, r.unit_name, r.parent_id, r.path))
                    for r in rows]

        return await self.db.read(read)

    async def user_by_email(self, email: str) -> User | None:
        def read(conn: Connection) -> User | None:
            row = conn.execute(
                select(t.users).where(t.users.c.email == email.strip().lower())).first()
            return User.from_row(row) if row else None

        return await self.db.read(read)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        def write(conn: Connection) -> None:
            conn.execute(update(t.users).where(t.users.c.id == user_id)
                         .values(password_hash=password_hash))

        await self.db.write(write)

    async def create_session(self, user_id: int, token_hash: str, max_age: int) -> str:
        csrf = secrets.token_urlsafe(24)

        def write(conn: Connection) -> None:
            at = now()
            # Expired sessions are swept here rather than by a timer: logins are rare.
            conn.execute(t.sessions.delete().where(t.sessions.c.expires_at < at))
            conn.execute(insert(t.sessions).values(
                token_hash=token_hash, user_id=user_id, csrf_token=csrf, created_at=at,
                expires_at=at + timedelta(seconds=max_age)))

        await self.db.write(write)
        return csrf

    async def session(self, token_hash: str) -> StaffSession | None:
        def read(conn: Connection) -> StaffSession | None:
            row = conn.execute(
                select(t.sessions.c.csrf_token, t.sessions.c.expires_at,
                       t.users, t.units.c.slug, t.units.c.name.label("unit_name"),
                       t.units.c.parent_id, t.units.c.path)
                .join(t.users, t.users.c.id == t.sessions.c.user_id)
                .join(t.units, t.units.c.id == t.users.c.unit_id)
                .where(t.sessions.c.token_hash == token_hash,
                       t.sessions.c.expires_at > now(), t.users.c.active.is_(True))).first()
            if row is None:
                return None
            return StaffSession(User.from_row(row),
                                Unit(row.unit_id, row.slug, row.unit_name, row.parent_id,
                                     row.path),
                                row.csrf_token, row.expires_at)

        return await self.db.read(read)

    async def delete_other_sessions(self, user_id: int, keep_token_hash: str) -> None:
        def write(conn: Connection) -> None:
            conn.execute(t.sessions.delete().where(t.sessions.c.user_id == user_id,
                                                   t.sessions.c.token_hash != keep_token_hash))

        await self.db.write(write)

    async def delete_session(self, token_hash: str) -> None:
        def write(conn: Connection) -> None:
            conn.execute(t.sessions.delete().where(t.sessions.c.token_hash == token_hash))

        await self.db.write(write)

    # -- posters ---------------------------------------------------------------------------
    async def add_poster(self, unit_id: int, label: str) -> Poster:
        def write(conn: Connection) -> Poster:
            poster_id = conn.execute(
                insert(t.posters).values(unit_id=unit_id, label=label, version=1,
                                         created_at=now()).returning(t.posters.c.id)).scalar_one()
            return Poster.from_row(conn.execute(_POSTER.where(t.posters.c.id == poster_id)).one())

        return await self.db.write(write)

    async def poster(self, poster_id: int) -> Poster | None:
        def read(conn: Connection) -> Poster | None:
            row = conn.execute(_POSTER.where(t.posters.c.id == poster_id)).first()
            return Poster.from_row(row) if row else None

        return await self.db.read(read)

    async def poster_for_form(self, poster_id: int) -> Poster | None:
        """`poster()` through a short cache: the citizen's form is the busiest page."""
        cached = self._poster_cache.get(poster_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        poster = await self.poster(poster_id)
        if len(self._poster_cache) > 10_000:
            self._poster_cache.clear()
        self._poster_cache[poster_id] = (time.monotonic() + POSTER_CACHE_SECONDS, poster)
        return poster

    async def list_posters(self, unit_id: int | None = None) -> list[Poster]:
        query = _POSTER.order_by(t.posters.c.id)
        if unit_id is not None:
            query = query.where(t.posters.c.unit_id == unit_id)
        return await self.db.read(lambda conn: [Poster.from_row(r) for r in conn.execute(query)])

    async def revoke_poster(self, poster_id: int) -> Poster:
        def write(conn: Connection) -> Poster:
            result = conn.execute(
                update(t.posters).where(t.posters.c.id == poster_id)
                .values(version=t.posters.c.version + 1, revoked_at=now()))
            if result.rowcount == 0:
                raise NotFound(f"no poster with id {poster_id}")
            return Poster.from_row(conn.execute(_POSTER.where(t.posters.c.id == poster_id)).one())

        poster = await self.db.write(write)
        self._poster_cache.pop(poster_id, None)
        return poster

    # -- reports ---------------------------------------------------------------------------
    async def submit_report(self, new: NewReport, compose_mail: MailComposer) -> SubmitResult:
        """Store a citizen's report, its photos, its routing and the staff's mail in one
        transaction. A retry with the same idempotency key returns the stored report; the same
        key with a different body raises IdempotencyConflict."""
        sub = new.submission
        anonymous = sub.identity is Identity.ANONYMOUS
        insert_report = _INSERT_REPORT["sqlite" if self.db.is_sqlite else "postgresql"]

        def write(conn: Connection) -> SubmitResult:
            entry = conn.execute(_ENTRY_UNIT, {"unit_id": new.unit_id,
                                               "poster_id": new.poster_id}).first()
            if entry is None:
                raise NotFound(f"no unit with id {new.unit_id}")
            chain = [int(p) for p in reversed(entry.path.strip("/").split("/"))]
            staff = conn.execute(_COORDINATORS, {"chain": chain}).all()
            routed = route(chain, {s.unit_id for s in staff})
            at = now()
            values: dict[str, Any] = dict(
                idempotency_key=new.idempotency_key, body_hash=new.body_hash, kind=sub.kind.value,
                status=Status.RECEIVED.value, text=sub.text, location=sub.location,
                identity=sub.identity.value,
                reporter_name=None if anonymous else sub.name,
                reporter_phone=None if anonymous else sub.phone,
                reporter_email=None if anonymous else sub.email,
                channel=new.channel.value, unit_id=new.unit_id, poster_id=new.poster_id,
                routed_unit_id=routed, language=new.language, received_at=new.received_at,
                verify_due=new.verify_due, due_on=new.verify_due, updated_at=at,
                search_text=search.search_text(None, sub.text))
            report_id = None
            for _ in range(5):  # a tracking-code collision at 45 bits is rare, not impossible
                values["tracking_code"] = tracking.new_tracking_code()
                report_id = conn.execute(insert_report, values).scalar()
                if report_id is not None:
                    break
                existing = conn.execute(_BY_KEY, {"key": new.idempotency_key}).first()
                if existing is not None:
                    if existing.body_hash != new.body_hash:
                        raise IdempotencyConflict(existing.tracking_code)
                    return SubmitResult(existing.id, existing.tracking_code, created=False)
            if report_id is None:
                raise StoreError("could not allocate a tracking code")
            if new.photos:
                conn.execute(insert(t.report_photos), [
                    dict(report_id=report_id, position=position, filename=p.filename,
                         content_type=p.content_type, width=p.width, height=p.height,
                         size_bytes=p.size_bytes)
                    for position, p in enumerate(new.photos)])
            conn.execute(insert(t.report_events), [
                dict(report_id=report_id, at=at, kind="received", from_status=None,
                     to_status=Status.RECEIVED.value, note=None, public=True, actor_user_id=None),
                dict(report_id=report_id, at=at, kind="routed" if routed else "unrouted",
                     from_status=None, to_status=None, public=False, actor_user_id=None,
                     note=None),
            ])
            if routed is not None:
                recipients = sorted({s.email for s in staff if s.unit_id == routed})
                routed_name = next(s.name for s in staff if s.unit_id == routed)
            else:
                recipients = sorted(conn.execute(
                    select(t.users.c.email).where(t.users.c.role == "admin",
                                                  t.users.c.active.is_(True))).scalars())
                routed_name = None
            if recipients:
                subject, body = compose_mail(Notice(
                    report_id, values["tracking_code"], sub.kind, sub.text, new.channel,
                    entry.name, entry.label, routed_name, new.verify_due))
                conn.execute(insert(t.outbox), [
                    dict(to_address=r, subject=subject, body=body, report_id=report_id,
                         status="pending", attempts=0, next_attempt_at=at, created_at=at)
                    for r in recipients])
            # Last, so the counter row (the one lock two submissions to a unit share on
            # PostgreSQL) is held for the shortest time.
            inbox.bump_counts(conn, [(routed, Status.RECEIVED.value, 1)])
            return SubmitResult(report_id, values["tracking_code"], created=True)

        return await self.db.write(write)

    async def monitoring(self, scope: Scope, root_path: str, period: Period) -> Raw:
        """Figures per entry unit and month for the reports `scope` reaches whose entry unit
        lies under `root_path`, received within `period`."""
        return await self.db.read(lambda conn: monitoring.monitoring(conn, scope, root_path,
                                                                     period))

    async def units_in_scope(self, scope: Scope) -> list[Unit]:
        """The units a member of staff may filter by: all, their subtree, or their own unit."""
        query = select(t.units).order_by(t.units.c.path)
        if scope.reach is Reach.SUBTREE:
            query = query.where(t.units.c.path.startswith(scope.unit_path))
        elif scope.reach is Reach.FORWARDED:
            query = query.where(t.units.c.id == scope.unit_id)
        return await self.db.read(lambda conn: [Unit.from_row(r) for r in conn.execute(query)])

    async def forward_report(self, report_id: int, *, seen_version: int, actor: User,
                             scope: Scope, forwarding: Forwarding, follow_up_due: date,
                             compose_mail: ChangeComposer) -> int:
        """Disposisi: the coordinator verifies the report and sends it to a unit of their
        subtree. Returns the report's new version."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Action.FORWARD, actor.role,
                                   scope)
            at = now()
            _apply_change(conn, row, seen_version, dict(
                status=Status.FORWARDED.value, title=forwarding.title,
                forwarded_unit_id=forwarding.unit_id, forwarded_at=at,
                follow_up_due=follow_up_due, updated_at=at))
            target = conn.execute(select(t.units.c.name)
                                  .where(t.units.c.id == forwarding.unit_id)).scalar_one()
            events = [dict(report_id=report_id, at=at, actor_user_id=actor.id, kind="forwarded",
                           from_status=row.status, to_status=Status.FORWARDED.value,
                           note=target, public=True)]
            if forwarding.note:
                events.append(dict(report_id=report_id, at=at, actor_user_id=actor.id,
                                   kind="internal_note", from_status=None, to_status=None,
                                   note=forwarding.note, public=False))
            conn.execute(insert(t.report_events), events)
            officers = sorted(conn.execute(
                select(t.users.c.email).where(t.users.c.unit_id == forwarding.unit_id,
                                              t.users.c.role == "officer",
                                              t.users.c.active.is_(True))).scalars())
            if officers:
                subject, body = compose_mail(ChangeNotice(
                    report_id, row.tracking_code, forwarding.title, Status.FORWARDED, target,
                    forwarding.note, "id", follow_up_due))
                _queue_mail(conn, report_id, officers, subject, body, at)
            return seen_version + 1

        return await self.db.write(write)

    async def follow_up_report(self, report_id: int, *, seen_version: int, actor: User,
                               scope: Scope, answer: str, compose_mail: ChangeComposer) -> int:
        """Tindak lanjut: the officer of the unit the report was forwarded to answers it."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Action.FOLLOW_UP, actor.role,
                                   scope)
            at = now()
            _apply_change(conn, row, seen_version, dict(
                status=Status.FOLLOWED_UP.value, updated_at=at))
            conn.execute(insert(t.report_events).values(
                report_id=report_id, at=at, actor_user_id=actor.id, kind="followed_up",
                from_status=row.status, to_status=Status.FOLLOWED_UP.value, note=answer,
                public=True))
            if row.reporter_email:
                subject, body = compose_mail(ChangeNotice(
                    report_id, row.tracking_code, row.title, Status.FOLLOWED_UP, None, answer,
                    row.language, None))
                _queue_mail(conn, report_id, [row.reporter_email], subject, body, at)
            return seen_version + 1

        return await self.db.write(write)

    async def decide(self, report_id: int, *, seen_version: int, actor: User, scope: Scope,
                     action: Action, reason: str, duplicate_of: str | None,
                     compose_mail: ChangeComposer) -> int:
        """Tunda, bukan wewenang or archive: a status change with a sentence for the reporter.
        `duplicate_of` (a tracking code) must name another report in the coordinator's scope."""
        if action not in DECISIONS:
            raise ValueError(f"{action} is not a decision")

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, action, actor.role, scope)
            note = reason
            if duplicate_of is not None:
                original = conn.execute(
                    select(t.reports.c.tracking_code)
                    .where(t.reports.c.tracking_code == duplicate_of,
                           t.reports.c.id != report_id,
                           inbox.scope_condition(conn, scope))).scalar()
                if original is None:
                    raise WorkflowError(Refusal.ORIGINAL_UNKNOWN)
                note = f"{reason}\n→ {tracking.format_code(original)}"
            at = now()
            target = TARGET[action]
            _apply_change(conn, row, seen_version, dict(status=target.value,
                                                              updated_at=at))
            conn.execute(insert(t.report_events).values(
                report_id=report_id, at=at, actor_user_id=actor.id, kind=action.value,
                from_status=row.status, to_status=target.value, note=note, public=True))
            if row.reporter_email:
                subject, body = compose_mail(ChangeNotice(
                    report_id, row.tracking_code, row.title, target, None, note, row.language,
                    None))
                _queue_mail(conn, report_id, [row.reporter_email], subject, body, at)
            return seen_version + 1

        return await self.db.write(write)

    async def reporter_acts(self, report_id: int, *, seen_version: int, action: Action,
                            text: str | None = None, rating: int | None = None) -> int:
        """The reporter, through their private link: reply (re-opens the conversation with
        whoever spoke last) or accept the answer with a rating (closes the report)."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, action, "reporter")
            target = target_of(action, Status(row.status))
            assert target is not None  # _lock_for_change refused otherwise
            at = now()
            values: dict[str, Any] = dict(status=target.value, updated_at=at)
            if action is Action.ACCEPT:
                values.update(rating=rating, closed_at=at)
            _apply_change(conn, row, seen_version, values)
            conn.execute(insert(t.report_events).values(
                report_id=report_id, at=at, actor_user_id=None,
                kind="reporter_reply" if action is Action.REPLY else "accepted",
                from_status=row.status, to_status=target.value,
                note=text if action is Action.REPLY else None, public=True))
            return seen_version + 1

        return await self.db.write(write)

    async def answered_before(self, cutoff: datetime,
                              limit: int = 1000) -> list[tuple[int, int, datetime]]:
        """(id, version, answered at) of reports waiting for their reporter since `cutoff`."""
        query = (select(t.reports.c.id, t.reports.c.version, t.reports.c.updated_at)
                 .where(t.reports.c.status == Status.FOLLOWED_UP.value,
                        t.reports.c.updated_at <= cutoff)
                 .order_by(t.reports.c.updated_at).limit(limit))
        return await self.db.read(lambda conn: [
            (r.id, r.version, r.updated_at) for r in conn.execute(query)])

    async def auto_close(self, report_id: int, *, seen_version: int) -> int:
        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Action.AUTO_CLOSE, "system")
            at = now()
            _apply_change(conn, row, seen_version, dict(
                status=Status.CLOSED.value, closed_at=at, updated_at=at))
            conn.execute(insert(t.report_events).values(
                report_id=report_id, at=at, actor_user_id=None, kind="auto_closed",
                from_status=row.status, to_status=Status.CLOSED.value, note=None, public=True))
            return seen_version + 1

        return await self.db.write(write)

    async def report_by_tracking_code(self, code: str) -> Report | None:
        def read(conn: Connection) -> Report | None:
            report_id = conn.execute(select(t.reports.c.id)
                                     .where(t.reports.c.tracking_code == code)).scalar()
            return None if report_id is None else _report(conn, report_id, public_only=True)

        return await self.db.read(read)

    async def report_for_staff(self, report_id: int, scope: Scope) -> Report | None:
        """The report if `scope` reaches it; None otherwise, as if it did not exist."""

        def read(conn: Connection) -> Report | None:
            query = select(t.reports.c.id).where(t.reports.c.id == report_id,
                                                 inbox.scope_condition(conn, scope))
            if conn.execute(query).scalar() is None:
                return None
            return _report(conn, report_id)

        return await self.db.read(read)

    async def inbox(self, scope: Scope, query: InboxQuery | None = None, *, today: date,
                    soon_until: date | None = None,
                    received_window: tuple[datetime | None, datetime | None] = (None, None),
                    limit: int = 50, unrouted: bool = False) -> InboxPage:
        """One page of the reports `scope` reaches that match `query`. `unrouted` lists the
        reports nobody is responsible for yet (admins only). A search may stop before the
        oldest report (the page's `rest` says where to go on)."""
        if unrouted and scope.reach is not Reach.ALL:
            raise ValueError("only admins see unrouted reports")
        return await self.db.read(lambda conn: inbox.inbox_page(
            conn, scope, query or InboxQuery(), today=today, soon_until=soon_until or today,
            received_window=received_window, limit=limit, unrouted=unrouted))

    async def status_counts(self, scope: Scope) -> dict[Status, int]:
        return await self.db.read(lambda conn: inbox.status_counts(conn, scope))

    async def export_page(self, scope: Scope, query: InboxQuery, *, today: date,
                          soon_until: date,
                          received_window: tuple[datetime | None, datetime | None],
                          limit: int) -> tuple[list[Any], Cursor | None]:
        """One page of export rows (store.inbox.EXPORT_COLUMNS) in the query's order, and
        where a search that stopped short goes on (as `Store.inbox`)."""
        return await self.db.read(lambda conn: inbox.export_page(
            conn, scope, query, today=today, soon_until=soon_until,
            received_window=received_window, limit=limit))

    # -- export jobs -------------------------------------------------------------------------
    async def create_export(self, user_id: int, query: str, rows_total: int | None) -> str:
        token = secrets.token_hex(16)

        def write(conn: Connection) -> None:
            conn.execute(insert(t.export_jobs).values(
                token=token, user_id=user_id, query=query, status="pending", rows_done=0,
                rows_total=rows_total, created_at=now()))

        await self.db.write(write)
        return token

    async def export_job(self, token: str, user_id: int) -> ExportJob | None:
        """The job if it is this user's: nobody else may watch or download it."""
        def read(conn: Connection) -> ExportJob | None:
            row = conn.execute(select(t.export_jobs).where(
                t.export_jobs.c.token == token, t.export_jobs.c.user_id == user_id)).first()
            return ExportJob.from_row(row) if row else None

        return await self.db.read(read)

    async def claim_export(self) -> tuple[ExportJob, StaffSession] | None:
        """The oldest pending job, marked running, with its owner as a session would have
        them (the job runs with the owner's scope as it is now, not as it was when asked)."""
        def write(conn: Connection) -> tuple[ExportJob, StaffSession] | None:
            pick = (select(t.export_jobs.c.id).where(t.export_jobs.c.status == "pending")
                    .order_by(t.export_jobs.c.id).limit(1))
            if not self.db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            job_id = conn.execute(pick).scalar()
            if job_id is None:
                return None
            row = conn.execute(update(t.export_jobs).where(t.export_jobs.c.id == job_id)
                               .values(status="running", rows_done=0)
                               .returning(*t.export_jobs.c)).one()
            owner = conn.execute(
                select(t.users, t.units.c.slug, t.units.c.name.label("unit_name"),
                       t.units.c.parent_id, t.units.c.path)
                .join(t.units, t.units.c.id == t.users.c.unit_id)
                .where(t.users.c.id == row.user_id)).one()
            unit = Unit(owner.unit_id, owner.slug, owner.unit_name, owner.parent_id, owner.path)
            return ExportJob.from_row(row), StaffSession(User.from_row(owner), unit, "", now())

        return await self.db.write(write)

    async def export_progress(self, job_id: int, rows_done: int) -> None:
        def write(conn: Connection) -> None:
            conn.execute(update(t.export_jobs).where(t.export_jobs.c.id == job_id)
                         .values(rows_done=rows_done))

        await self.db.write(write)

    async def finish_export(self, job_id: int, *, rows_done: int,
                            error: str | None = None) -> None:
        def write(conn: Connection) -> None:
            conn.execute(update(t.export_jobs).where(t.export_jobs.c.id == job_id).values(
                status="failed" if error else "done", rows_done=rows_done, error=error,
                finished_at=now()))

        await self.db.write(write)

    async def requeue_running_exports(self) -> None:
        """Jobs a killed server left half-done start again from the beginning."""
        def write(conn: Connection) -> None:
            conn.execute(update(t.export_jobs).where(t.export_jobs.c.status == "running")
                         .values(status="pending", rows_done=0))

        await self.db.write(write)

    async def expire_exports(self, before: datetime) -> list[str]:
        """Forget jobs finished before `before`; returns their tokens (the files to delete)."""
        def write(conn: Connection) -> list[str]:
            old = t.export_jobs.c.finished_at < before
            tokens = list(conn.execute(select(t.export_jobs.c.token).where(old)).scalars())
            conn.execute(t.export_jobs.delete().where(old))
            return tokens

        return await self.db.write(write)

    async def count_reports(self) -> int:
        return await self.db.read(lambda conn: int(
            conn.execute(select(func.count()).select_from(t.reports)).scalar_one()))

    # -- outbox ----------------------------------------------------------------------------
    async def claim_outbox(self, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Take due messages for this sender alone: a row is claimed by one process, and a
        claim that outlives a killed sender expires and is taken again."""
        skip_locked = not self.db.is_sqlite
        claim = secrets.token_hex(16)

        def write(conn: Connection) -> list[OutboxMessage]:
            at = now()
            due = or_(
                and_(t.outbox.c.status == "pending", t.outbox.c.next_attempt_at <= at),
                and_(t.outbox.c.status == "sending", t.outbox.c.claimed_until < at),
            )
            pick = select(t.outbox.c.id).where(due).order_by(t.outbox.c.id).limit(limit)
            if skip_locked:
                pick = pick.with_for_update(skip_locked=True)
            ids = list(conn.execute(pick).scalars())
            if not ids:
                return []
            rows = conn.execute(
                update(t.outbox).where(t.outbox.c.id.in_(ids))
                .values(status="sending", claimed_until=at + lease, claim_token=claim,
                        attempts=t.outbox.c.attempts + 1)
                .returning(*t.outbox.c))
            return sorted((_outbox(r) for r in rows), key=lambda m: m.id)

        return await self.db.write(write)

    async def finish_outbox(self, message: OutboxMessage, *, status: str,
                            error: str | None = None, retry_at: datetime | None = None) -> bool:
        """Record the outcome of a claimed message; False if the claim had expired and another
        sender took the message over (its outcome wins)."""
        values: dict[str, Any] = dict(status=status, claimed_until=None, claim_token=None,
                                      last_error=error)
        if status == "sent":
            values["sent_at"] = now()
        if retry_at is not None:
            values["next_attempt_at"] = retry_at

        def write(conn: Connection) -> bool:
            result = conn.execute(update(t.outbox).where(
                t.outbox.c.id == message.id, t.outbox.c.claim_token == message.claim_token)
                .values(**values))
            return bool(result.rowcount)

        return await self.db.write(write)

    async def resend_outbox(self, message_id: int) -> None:
        def write(conn: Connection) -> None:
            result = conn.execute(
                update(t.outbox).where(t.outbox.c.id == message_id,
                                       t.outbox.c.status == "failed")
                .values(status="pending", attempts=0, next_attempt_at=now(), last_error=None))
            if result.rowcount == 0:
                raise NotFound(f"no failed message with id {message_id}")

        await self.db.write(write)

    async def list_outbox(self, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
        query = select(t.outbox).order_by(t.outbox.c.id.desc()).limit(limit)
        if status:
            query = query.where(t.outbox.c.status == status)
        return await self.db.read(lambda conn: [_outbox(r) for r in conn.execute(query)])


def _lock_for_change(conn: Connection, report_id: int, seen_version: int, action: Action,
                     role: str, scope: Scope | None = None) -> Any:
    """The report as the actor may see it, checked for the version the actor saw and for the
    move they ask for. NotFound outside their scope, like every other staff query."""
    query = select(t.reports).where(t.reports.c.id == report_id)
    if scope is not None:
        query = query.where(inbox.scope_condition(conn, scope))
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no report {report_id} in scope")
    if row.version != seen_version:
        raise WorkflowError(Refusal.STALE)
    refusal = allowed(action, role, Status(row.status))
    if refusal is not None:
        raise WorkflowError(refusal)
    return row


# Leaving "received" by a coordinator's decision is what verification means for the deadline.
_VERIFICATIONS = frozenset({Status.FORWARDED.value, Status.POSTPONED.value,
                            Status.NOT_AUTHORITY.value, Status.ARCHIVED.value})


def _apply_change(conn: Connection, row: Any, seen_version: int,
                  values: dict[str, Any]) -> None:
    """Write a workflow change to the report `row` (as read by _lock_for_change), with what
    follows from it: the running deadline, the search text and the status counters."""
    status = values.get("status", row.status)
    values["due_on"] = {
        Status.RECEIVED.value: values.get("verify_due", row.verify_due),
        Status.FORWARDED.value: values.get("follow_up_due", row.follow_up_due),
    }.get(status)
    at = values.get("updated_at")
    if row.status == Status.RECEIVED.value and status in _VERIFICATIONS and not row.verified_at:
        values["verified_at"] = at
    if status == Status.FOLLOWED_UP.value and not row.followed_up_at:
        values["followed_up_at"] = at
    if "title" in values:
        values["search_text"] = search.search_text(values["title"], values.get("text", row.text))
    # The version in the WHERE clause is what makes two simultaneous changes exclusive on
    # PostgreSQL too: the second UPDATE waits for the first, re-reads, and matches no row.
    result = conn.execute(
        update(t.reports).where(t.reports.c.id == row.id,
                                t.reports.c.version == seen_version)
        .values(version=seen_version + 1, **values))
    if result.rowcount != 1:
        raise WorkflowError(Refusal.STALE)
    if status != row.status:
        inbox.bump_counts(conn, [(row.routed_unit_id, row.status, -1),
                                 (row.routed_unit_id, status, 1)])


def _queue_mail(conn: Connection, report_id: int, recipients: list[str], subject: str,
                body: str, at: datetime) -> None:
    conn.execute(insert(t.outbox), [
        dict(to_address=r, subject=subject, body=body, report_id=report_id, status="pending",
             attempts=0, next_attempt_at=at, created_at=at) for r in recipients])


def _photo(row: Any) -> Photo:
    return Photo(row.id, row.position, row.filename, row.content_type, row.width, row.height,
                 row.size_bytes)


def _outbox(row: Any) -> OutboxMessage:
    return OutboxMessage(row.id, row.to_address, row.subject, row.body, row.status, row.attempts,
                         row.last_error, row.created_at, row.sent_at, row.report_id,
                         row.claim_token)


_ENTRY = t.units.alias("entry")
_ROUTED = t.units.alias("routed")
_FORWARDED = t.units.alias("forwarded")
_REPORT = (
    select(t.reports, _ENTRY.c.name.label("unit_name"), _ROUTED.c.name.label("routed_name"),
           _FORWARDED.c.name.label("forwarded_name"), t.posters.c.label.label("poster_label"))
    .join(_ENTRY, _ENTRY.c.id == t.reports.c.unit_id)
    .outerjoin(_ROUTED, _ROUTED.c.id == t.reports.c.routed_unit_id)
    .outerjoin(_FORWARDED, _FORWARDED.c.id == t.reports.c.forwarded_unit_id)
    .outerjoin(t.posters, t.posters.c.id == t.reports.c.poster_id)
    .where(t.reports.c.id == bindparam("report_id"))
)
_PHOTOS = (select(t.report_photos).where(t.report_photos.c.report_id == bindparam("report_id"))
           .order_by(t.report_photos.c.position))
_EVENTS = (select(t.report_events, t.users.c.email)
           .outerjoin(t.users, t.users.c.id == t.report_events.c.actor_user_id)
           .where(t.report_events.c.report_id == bindparam("report_id"))
           .order_by(t.report_events.c.id))
_PUBLIC_EVENTS = _EVENTS.where(t.report_events.c.public.is_(True))


def _report(conn: Connection, report_id: int, public_only: bool = False) -> Report:
    params = {"report_id": report_id}
    row = conn.execute(_REPORT, params).one()
    photos = tuple(_photo(p) for p in conn.execute(_PHOTOS, params))
    events = tuple(Event(e.id, e.at, e.kind, e.from_status, e.to_status, e.note, e.public,
                         e.email)
                   for e in conn.execute(_PUBLIC_EVENTS if public_only else _EVENTS, params))
    return Report(
        id=row.id, tracking_code=row.tracking_code, kind=Kind(row.kind), status=Status(row.status),
        text=row.text, location=row.location, identity=Identity(row.identity),
        reporter_name=row.reporter_name, reporter_phone=row.reporter_phone,
        reporter_email=row.reporter_email, channel=Channel(row.channel), unit_id=row.unit_id,
        unit_name=row.unit_name, poster_id=row.poster_id, poster_label=row.poster_label,
        routed_unit_id=row.routed_unit_id, routed_unit_name=row.routed_name,
        language=row.language, received_at=row.received_at, verify_due=row.verify_due,
        photos=photos, events=events, version=row.version, title=row.title,
        forwarded_unit_id=row.forwarded_unit_id, forwarded_unit_name=row.forwarded_name,
        follow_up_due=row.follow_up_due, rating=row.rating,
        idempotency_key=row.idempotency_key, due_on=row.due_on, category=row.category,
        tags=tuple(row.tags.split(",")) if row.tags else (),
        assigned_user_id=row.assigned_user_id)
