"""The only place with SQL. Every method is one query or one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from complaints import tracking
from complaints.reports import Channel, Identity, Kind, Status, Submission, route
from store import schema as t
from store.db import Database
from store.records import (
    ROLES,
    Duplicate,
    Event,
    IdempotencyConflict,
    InboxItem,
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

# Subject and body of the mail telling a coordinator about a new report.
MailComposer = Callable[["NewReport", Report, Unit | None], tuple[str, str]]


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
class SubmitResult:
    report: Report
    created: bool


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def ping(self) -> None:
        async with self.db.read() as conn:
            await conn.execute(text("SELECT 1"))

    # -- units -----------------------------------------------------------------------------
    async def add_unit(self, slug: str, name: str, parent_slug: str | None = None) -> Unit:
        async def write(conn: AsyncConnection) -> Unit:
            parent_path = ""
            parent_id = None
            if parent_slug:
                parent = (await conn.execute(
                    select(t.units).where(t.units.c.slug == parent_slug))).first()
                if parent is None:
                    raise NotFound(f"unknown unit {parent_slug!r}")
                parent_id, parent_path = parent.id, parent.path
            if (await conn.execute(select(t.units.c.id).where(t.units.c.slug == slug))).first():
                raise Duplicate(f"a unit with slug {slug!r} already exists")
            unit_id = (await conn.execute(
                insert(t.units).values(slug=slug, name=name, parent_id=parent_id, path="",
                                       created_at=now()).returning(t.units.c.id))).scalar_one()
            path = f"{parent_path}{unit_id}/"
            await conn.execute(update(t.units).where(t.units.c.id == unit_id).values(path=path))
            return Unit(unit_id, slug, name, parent_id, path)

        return await self.db.write(write)

    async def list_units(self) -> list[Unit]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(t.units).order_by(t.units.c.path))
            return [Unit.from_row(r) for r in rows]

    async def unit_by_slug(self, slug: str) -> Unit | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(t.units).where(t.units.c.slug == slug))).first()
            return Unit.from_row(row) if row else None

    async def unit_by_id(self, unit_id: int) -> Unit | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(t.units).where(t.units.c.id == unit_id))).first()
            return Unit.from_row(row) if row else None

    # -- users and sessions ----------------------------------------------------------------
    async def add_user(self, email: str, password_hash: str, role: str, unit_id: int) -> User:
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}")
        email = email.strip().lower()

        async def write(conn: AsyncConnection) -> User:
            taken = await conn.execute(select(t.users.c.id).where(t.users.c.email == email))
            if taken.first():
                raise Duplicate(f"a user with email {email!r} already exists")
            user_id = (await conn.execute(
                insert(t.users).values(email=email, password_hash=password_hash, role=role,
                                       unit_id=unit_id, active=True, created_at=now())
                .returning(t.users.c.id))).scalar_one()
            return User(user_id, email, role, unit_id, True, password_hash)

        return await self.db.write(write)

    async def list_users(self) -> list[tuple[User, Unit]]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(t.users, t.units.c.slug, t.units.c.name.label("unit_name"),
                       t.units.c.parent_id, t.units.c.path)
                .join(t.units, t.units.c.id == t.users.c.unit_id).order_by(t.users.c.email))
            return [(User.from_row(r), Unit(r.unit_id, r.slug, r.unit_name, r.parent_id, r.path))
                    for r in rows]

    async def user_by_email(self, email: str) -> User | None:
        async with self.db.read() as conn:
            row = (await conn.execute(
                select(t.users).where(t.users.c.email == email.strip().lower()))).first()
            return User.from_row(row) if row else None

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        async def write(conn: AsyncConnection) -> None:
            await conn.execute(update(t.users).where(t.users.c.id == user_id)
                               .values(password_hash=password_hash))

        await self.db.write(write)

    async def create_session(self, user_id: int, token_hash: str, max_age: int) -> str:
        csrf = secrets.token_urlsafe(24)

        async def write(conn: AsyncConnection) -> None:
            at = now()
            # Expired sessions are swept here rather than by a timer: logins are rare.
            await conn.execute(t.sessions.delete().where(t.sessions.c.expires_at < at))
            await conn.execute(insert(t.sessions).values(
                token_hash=token_hash, user_id=user_id, csrf_token=csrf, created_at=at,
                expires_at=at + timedelta(seconds=max_age)))

        await self.db.write(write)
        return csrf

    async def session(self, token_hash: str) -> StaffSession | None:
        async with self.db.read() as conn:
            row = (await conn.execute(
                select(t.sessions.c.csrf_token, t.sessions.c.expires_at,
                       t.users, t.units.c.slug, t.units.c.name.label("unit_name"),
                       t.units.c.parent_id, t.units.c.path)
                .join(t.users, t.users.c.id == t.sessions.c.user_id)
                .join(t.units, t.units.c.id == t.users.c.unit_id)
                .where(t.sessions.c.token_hash == token_hash,
                       t.sessions.c.expires_at > now(), t.users.c.active.is_(True)))).first()
        if row is None:
            return None
        return StaffSession(User.from_row(row),
                            Unit(row.unit_id, row.slug, row.unit_name, row.parent_id, row.path),
                            row.csrf_token, row.expires_at)

    async def delete_session(self, token_hash: str) -> None:
        async def write(conn: AsyncConnection) -> None:
            await conn.execute(t.sessions.delete().where(t.sessions.c.token_hash == token_hash))

        await self.db.write(write)

    # -- posters ---------------------------------------------------------------------------
    def _posters(self) -> Select[Any]:
        return (select(t.posters, t.units.c.slug.label("unit_slug"),
                       t.units.c.name.label("unit_name"))
                .join(t.units, t.units.c.id == t.posters.c.unit_id))

    async def add_poster(self, unit_id: int, label: str) -> Poster:
        async def write(conn: AsyncConnection) -> int:
            return (await conn.execute(
                insert(t.posters).values(unit_id=unit_id, label=label, version=1,
                                         created_at=now()).returning(t.posters.c.id))).scalar_one()

        poster = await self.poster(await self.db.write(write))
        assert poster is not None
        return poster

    async def poster(self, poster_id: int) -> Poster | None:
        async with self.db.read() as conn:
            row = (await conn.execute(
                self._posters().where(t.posters.c.id == poster_id))).first()
            return Poster.from_row(row) if row else None

    async def list_posters(self, unit_id: int | None = None) -> list[Poster]:
        query = self._posters().order_by(t.posters.c.id)
        if unit_id is not None:
            query = query.where(t.posters.c.unit_id == unit_id)
        async with self.db.read() as conn:
            return [Poster.from_row(r) for r in await conn.execute(query)]

    async def revoke_poster(self, poster_id: int) -> Poster:
        async def write(conn: AsyncConnection) -> None:
            result = await conn.execute(
                update(t.posters).where(t.posters.c.id == poster_id)
                .values(version=t.posters.c.version + 1, revoked_at=now()))
            if result.rowcount == 0:
                raise NotFound(f"no poster with id {poster_id}")

        await self.db.write(write)
        poster = await self.poster(poster_id)
        assert poster is not None
        return poster

    # -- reports ---------------------------------------------------------------------------
    async def submit_report(self, new: NewReport, compose_mail: MailComposer) -> SubmitResult:
        """Store a citizen's report, its photos, its routing and the coordinators' mail in one
        transaction; a retry with the same idempotency key returns the stored report."""
        sub = new.submission
        anonymous = sub.identity is Identity.ANONYMOUS

        async def write(conn: AsyncConnection) -> tuple[int, bool]:
            existing = await self._by_idempotency_key(conn, new.idempotency_key)
            if existing is not None:
                return existing, False
            at = now()
            values: dict[str, Any] = dict(
                idempotency_key=new.idempotency_key, body_hash=new.body_hash, kind=sub.kind.value,
                status=Status.RECEIVED.value, text=sub.text, location=sub.location,
                identity=sub.identity.value,
                reporter_name=None if anonymous else sub.name,
                reporter_phone=None if anonymous else sub.phone,
                reporter_email=None if anonymous else sub.email,
                channel=new.channel.value, unit_id=new.unit_id, poster_id=new.poster_id,
                language=new.language, received_at=new.received_at, verify_due=new.verify_due,
                updated_at=at)
            report_id = None
            for _ in range(5):  # a tracking-code collision at 45 bits is rare but not impossible
                values["tracking_code"] = tracking.new_tracking_code()
                report_id = await self._insert_report(conn, values)
                if report_id is not None:
                    break
                # Lost the race to a concurrent insert with the same key (another process).
                existing = await self._by_idempotency_key(conn, new.idempotency_key)
                if existing is not None:
                    return existing, False
            if report_id is None:
                raise StoreError("could not allocate a tracking code")
            unit = await _unit(conn, new.unit_id)
            chain = unit.ancestor_ids
            coordinators = (await conn.execute(
                select(t.users.c.unit_id, t.users.c.email)
                .where(t.users.c.unit_id.in_(chain), t.users.c.role == "coordinator",
                       t.users.c.active.is_(True)))).all()
            routed = route(chain, {c.unit_id for c in coordinators})
            await conn.execute(update(t.reports).where(t.reports.c.id == report_id)
                               .values(routed_unit_id=routed))
            for position, photo in enumerate(new.photos):
                await conn.execute(insert(t.report_photos).values(
                    report_id=report_id, position=position, filename=photo.filename,
                    content_type=photo.content_type, width=photo.width, height=photo.height,
                    size_bytes=photo.size_bytes))
            await conn.execute(insert(t.report_events), [
                dict(report_id=report_id, at=at, kind="received", from_status=None,
                     to_status=Status.RECEIVED.value, note=None, public=True, actor_user_id=None),
                dict(report_id=report_id, at=at, kind="routed" if routed else "unrouted",
                     from_status=None, to_status=None, public=False, actor_user_id=None,
                     note=None if routed else "no coordinator above the unit"),
            ])
            if routed is not None:
                recipients = sorted({c.email for c in coordinators if c.unit_id == routed})
                routed_unit = unit if routed == unit.id else await _unit(conn, routed)
            else:
                recipients = sorted((await conn.execute(
                    select(t.users.c.email).where(t.users.c.role == "admin",
                                                  t.users.c.active.is_(True)))).scalars())
                routed_unit = None
            if recipients:
                report = await _report(conn, report_id)
                subject, body = compose_mail(new, report, routed_unit)
                await conn.execute(insert(t.outbox), [
                    dict(to_address=r, subject=subject, body=body, report_id=report_id,
                         status="pending", attempts=0, next_attempt_at=at, created_at=at)
                    for r in recipients])
            return report_id, True

        report_id, created = await self.db.write(write)
        async with self.db.read() as conn:
            report = await _report(conn, report_id)
            if not created:
                stored_hash = (await conn.execute(select(t.reports.c.body_hash)
                               .where(t.reports.c.id == report_id))).scalar_one()
                if stored_hash != new.body_hash:
                    raise IdempotencyConflict(report.tracking_code)
        return SubmitResult(report, created)

    async def _by_idempotency_key(self, conn: AsyncConnection, key: str) -> int | None:
        return (await conn.execute(select(t.reports.c.id)
                                   .where(t.reports.c.idempotency_key == key))).scalar()

    async def _insert_report(self, conn: AsyncConnection, values: dict[str, Any]) -> int | None:
        """Insert unless the idempotency key or the tracking code is taken; None if so."""
        dialect_insert = sqlite_insert if self.db.is_sqlite else pg_insert
        statement = (dialect_insert(t.reports).values(**values)
                     .on_conflict_do_nothing().returning(t.reports.c.id))
        return (await conn.execute(statement)).scalar()

    async def report_by_tracking_code(self, code: str) -> Report | None:
        async with self.db.read() as conn:
            report_id = (await conn.execute(select(t.reports.c.id)
                         .where(t.reports.c.tracking_code == code))).scalar()
            if report_id is None:
                return None
            return await _report(conn, report_id, public_only=True)

    async def report_for_staff(self, report_id: int, scope: Unit | None) -> Report | None:
        """The report if it is routed inside `scope`'s subtree (None: admins, who see all)."""
        async with self.db.read() as conn:
            query = select(t.reports.c.id).where(t.reports.c.id == report_id)
            if scope is not None:
                query = query.join(t.units, t.units.c.id == t.reports.c.routed_unit_id).where(
                    t.units.c.path.startswith(scope.path))
            if (await conn.execute(query)).scalar() is None:
                return None
            return await _report(conn, report_id)

    async def inbox(self, scope: Unit | None, *, before_id: int | None = None, limit: int = 50,
                    unrouted: bool = False) -> list[InboxItem]:
        """Newest first, keyset-paginated on id. `scope` None with `unrouted` lists the reports
        nobody is responsible for yet (admins only)."""
        photo_count = (select(func.count()).select_from(t.report_photos)
                       .where(t.report_photos.c.report_id == t.reports.c.id)
                       .scalar_subquery())
        entry = t.units.alias("entry")
        query = (select(t.reports.c.id, t.reports.c.tracking_code, t.reports.c.kind,
                        t.reports.c.status, func.substr(t.reports.c.text, 1, 160).label("excerpt"),
                        entry.c.name.label("unit_name"), t.reports.c.channel,
                        t.reports.c.received_at, t.reports.c.verify_due,
                        photo_count.label("photo_count"))
                 .join(entry, entry.c.id == t.reports.c.unit_id)
                 .order_by(t.reports.c.id.desc()).limit(limit))
        if unrouted:
            query = query.where(t.reports.c.routed_unit_id.is_(None))
        elif scope is not None:
            routed = t.units.alias("routed")
            query = query.join(routed, routed.c.id == t.reports.c.routed_unit_id).where(
                routed.c.path.startswith(scope.path))
        if before_id is not None:
            query = query.where(t.reports.c.id < before_id)
        async with self.db.read() as conn:
            rows = await conn.execute(query)
            return [InboxItem(r.id, r.tracking_code, Kind(r.kind), Status(r.status), r.excerpt,
                              r.unit_name, Channel(r.channel), r.received_at, r.verify_due,
                              r.photo_count) for r in rows]

    async def count_reports(self) -> int:
        async with self.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(t.reports)))
                       .scalar_one())

    async def photo_for_report(self, report_id: int, position: int) -> Photo | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(t.report_photos).where(
                t.report_photos.c.report_id == report_id,
                t.report_photos.c.position == position))).first()
        return _photo(row) if row else None

    # -- outbox ----------------------------------------------------------------------------
    async def claim_outbox(self, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Take due messages for this sender alone: a row is claimed by one process, and a
        claim that outlives a killed sender expires and is taken again."""
        async def write(conn: AsyncConnection) -> list[OutboxMessage]:
            at = now()
            due = or_(
                and_(t.outbox.c.status == "pending", t.outbox.c.next_attempt_at <= at),
                and_(t.outbox.c.status == "sending", t.outbox.c.claimed_until < at),
            )
            pick = select(t.outbox.c.id).where(due).order_by(t.outbox.c.id).limit(limit)
            if not self.db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            ids = list((await conn.execute(pick)).scalars())
            if not ids:
                return []
            rows = await conn.execute(
                update(t.outbox).where(t.outbox.c.id.in_(ids))
                .values(status="sending", claimed_until=at + lease,
                        attempts=t.outbox.c.attempts + 1)
                .returning(*t.outbox.c))
            return sorted((_outbox(r) for r in rows), key=lambda m: m.id)

        return await self.db.write(write)

    async def finish_outbox(self, message_id: int, *, status: str, error: str | None = None,
                            retry_at: datetime | None = None) -> None:
        async def write(conn: AsyncConnection) -> None:
            values: dict[str, Any] = dict(status=status, claimed_until=None, last_error=error)
            if status == "sent":
                values["sent_at"] = now()
            if retry_at is not None:
                values["next_attempt_at"] = retry_at
            await conn.execute(update(t.outbox).where(t.outbox.c.id == message_id)
                               .values(**values))

        await self.db.write(write)

    async def resend_outbox(self, message_id: int) -> None:
        async def write(conn: AsyncConnection) -> None:
            result = await conn.execute(
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
        async with self.db.read() as conn:
            return [_outbox(r) for r in await conn.execute(query)]


async def _unit(conn: AsyncConnection, unit_id: int) -> Unit:
    row = (await conn.execute(select(t.units).where(t.units.c.id == unit_id))).first()
    if row is None:
        raise NotFound(f"no unit with id {unit_id}")
    return Unit.from_row(row)


def _photo(row: Any) -> Photo:
    return Photo(row.id, row.position, row.filename, row.content_type, row.width, row.height,
                 row.size_bytes)


def _outbox(row: Any) -> OutboxMessage:
    return OutboxMessage(row.id, row.to_address, row.subject, row.body, row.status, row.attempts,
                         row.last_error, row.created_at, row.sent_at, row.report_id)


async def _report(conn: AsyncConnection, report_id: int, public_only: bool = False) -> Report:
    entry = t.units.alias("entry")
    routed = t.units.alias("routed")
    row = (await conn.execute(
        select(t.reports, entry.c.name.label("unit_name"), routed.c.name.label("routed_name"),
               t.posters.c.label.label("poster_label"))
        .join(entry, entry.c.id == t.reports.c.unit_id)
        .outerjoin(routed, routed.c.id == t.reports.c.routed_unit_id)
        .outerjoin(t.posters, t.posters.c.id == t.reports.c.poster_id)
        .where(t.reports.c.id == report_id))).one()
    photos = tuple(_photo(p) for p in await conn.execute(
        select(t.report_photos).where(t.report_photos.c.report_id == report_id)
        .order_by(t.report_photos.c.position)))
    events_query = (select(t.report_events, t.users.c.email)
                    .outerjoin(t.users, t.users.c.id == t.report_events.c.actor_user_id)
                    .where(t.report_events.c.report_id == report_id)
                    .order_by(t.report_events.c.id))
    if public_only:
        events_query = events_query.where(t.report_events.c.public.is_(True))
    events = tuple(Event(e.id, e.at, e.kind, e.from_status, e.to_status, e.note, e.public,
                         e.email) for e in await conn.execute(events_query))
    return Report(
        id=row.id, tracking_code=row.tracking_code, kind=Kind(row.kind), status=Status(row.status),
        text=row.text, location=row.location, identity=Identity(row.identity),
        reporter_name=row.reporter_name, reporter_phone=row.reporter_phone,
        reporter_email=row.reporter_email, channel=Channel(row.channel), unit_id=row.unit_id,
        unit_name=row.unit_name, poster_id=row.poster_id, poster_label=row.poster_label,
        routed_unit_id=row.routed_unit_id, routed_unit_name=row.routed_name,
        language=row.language, received_at=row.received_at, verify_due=row.verify_due,
        photos=photos, events=events)
