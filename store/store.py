"""The only place with SQL. Each method is one read or one write transaction, written as a plain
function of a connection so the same SQL runs on both backends (see store/db.py)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lapor.complaints import search, tracking
from lapor.complaints.access import Reach, Scope
from lapor.complaints.deadlines import UnitDeadlines
from lapor.complaints.inbox import Cursor, InboxQuery
from lapor.complaints.monitoring import Raw
from lapor.complaints.notices import ChangeNotice, Notice, ReminderNotice
from lapor.complaints.records import (
    ROLES,
    AnswerTemplate,
    Event,
    ExportJob,
    FeedbackResult,
    HandOver,
    InboxItem,
    InboxPage,
    NewFeedback,
    NewPhoto,
    NewReport,
    OutboxMessage,
    Photo,
    Poster,
    Report,
    StaffSession,
    SubmitResult,
    Unit,
    UnitSummary,
    User,
    Widget,
)
from lapor.complaints.reminders import (
    ESCALATION_WINDOW_DAYS,
    OVERDUE_WINDOW_DAYS,
    RUNNING,
    UNRESOLVED,
    Audience,
    Reminder,
    audience,
)
from lapor.complaints.reports import Channel, Identity, Kind, Status, route
from lapor.complaints.workflow import (
    DECISIONS,
    TARGET,
    Action,
    AnswerTemplateDraft,
    Classification,
    Edit,
    Forwarding,
    Redaction,
    Refusal,
    WorkflowError,
    allowed,
    edit_allowed,
    target_of,
)
from lapor.store import feedback, inbox, kiosks, monitoring, outbox, rows
from lapor.store import schema as t
from lapor.store.cache import TtlCache
from lapor.store.db import Database
from lapor.store.errors import Duplicate, IdempotencyConflict, InUse, NotFound, StoreError
from lapor.store.monitoring import Period


def now() -> datetime:
    return datetime.now(UTC)


# Statements on the hot path, built once: building and compiling them per call showed up in
# the submission profile.
_INSERT_REMINDER = {
    "sqlite": sqlite_insert(t.reminders).on_conflict_do_nothing(),
    "postgresql": pg_insert(t.reminders).on_conflict_do_nothing(),
}
_ENTRY_UNIT = (
    select(t.units.c.path, t.units.c.name, t.posters.c.label)
    .select_from(t.units)
    .outerjoin(
        t.posters,
        and_(t.posters.c.id == bindparam("poster_id"), t.posters.c.unit_id == t.units.c.id),
    )
    .where(t.units.c.id == bindparam("unit_id"))
)
_BY_KEY = select(t.reports.c.id, t.reports.c.tracking_code, t.reports.c.body_hash).where(
    t.reports.c.idempotency_key == bindparam("key")
)
_COORDINATORS = (
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
    "sqlite": sqlite_insert(t.reports).on_conflict_do_nothing().returning(t.reports.c.id),
    "postgresql": pg_insert(t.reports).on_conflict_do_nothing().returning(t.reports.c.id),
}
_POSTER = select(
    t.posters, t.units.c.slug.label("unit_slug"), t.units.c.name.label("unit_name")
).join(t.units, t.units.c.id == t.posters.c.unit_id)

_WIDGET = select(
    t.widgets, t.units.c.slug.label("unit_slug"), t.units.c.name.label("unit_name")
).join(t.units, t.units.c.id == t.widgets.c.unit_id)

_UNIT_TREE = select(
    t.units.c.id,
    t.units.c.slug,
    t.units.c.name,
    t.units.c.parent_id,
    t.units.c.path,
    t.units.c.verify_days,
    t.units.c.follow_up_days,
).order_by(t.units.c.path)


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Every form view looks its poster up, every open of an embedded form its widget.
        self._posters: TtlCache[int, Poster | None] = TtlCache()
        self._widgets: TtlCache[int, Widget | None] = TtlCache()
        # Every submission and forwarding asks for its unit's limits.
        self._deadlines: TtlCache[int, UnitDeadlines] = TtlCache()
        # Every inbox page lists the units a member of staff may filter by (500 for a
        # province: 8 ms to read each time); the tree changes rarely. One entry, the tree.
        self._units: TtlCache[None, list[Unit]] = TtlCache()
        self.kiosks = kiosks.KioskStore(db)

    def _forget_units(self) -> None:
        self._units.clear()
        self._deadlines.clear()

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
                insert(t.units)
                .values(slug=slug, name=name, parent_id=parent_id, path="", created_at=now())
                .returning(t.units.c.id)
            ).scalar_one()
            path = f"{parent_path}{unit_id}/"
            conn.execute(update(t.units).where(t.units.c.id == unit_id).values(path=path))
            return Unit(unit_id, slug, name, parent_id, path)

        unit = await self.db.write(write)
        self._forget_units()
        return unit

    async def unit_deadlines(self, unit_id: int) -> UnitDeadlines:
        """The limits in force for reports of `unit_id`: its own, else its nearest parent's."""

        def read(conn: Connection) -> UnitDeadlines:
            path = conn.execute(select(t.units.c.path).where(t.units.c.id == unit_id)).scalar()
            if path is None:
                return UnitDeadlines()
            chain = [int(p) for p in reversed(path.strip("/").split("/"))]
            own = {
                r.id: UnitDeadlines(r.verify_days, r.follow_up_days)
                for r in conn.execute(
                    select(t.units.c.id, t.units.c.verify_days, t.units.c.follow_up_days).where(
                        t.units.c.id.in_(chain)
                    )
                )
            }
            return UnitDeadlines.resolve([own[u] for u in chain if u in own])

        return await self._deadlines.get(unit_id, partial(self.db.read, read))

    async def set_unit_deadlines(self, unit_id: int, days: UnitDeadlines, scope: Scope) -> None:
        """Set a unit's own limits; NotFound for a unit outside `scope`."""

        def write(conn: Connection) -> None:
            query = update(t.units).where(t.units.c.id == unit_id)
            if scope.reach is not Reach.ALL:
                query = query.where(t.units.c.path.startswith(scope.unit_path))
            result = conn.execute(
                query.values(verify_days=days.verify_days, follow_up_days=days.follow_up_days)
            )
            if result.rowcount != 1:
                raise NotFound(f"no unit {unit_id} in scope")

        await self.db.write(write)
        self._forget_units()  # the units below follow its deadlines too

    async def list_units(self) -> list[Unit]:
        return await self.db.read(
            lambda conn: [
                rows.unit(r) for r in conn.execute(select(t.units).order_by(t.units.c.path))
            ]
        )

    async def unit(self, unit_id: int) -> Unit | None:
        def read(conn: Connection) -> Unit | None:
            row = conn.execute(select(t.units).where(t.units.c.id == unit_id)).first()
            return rows.unit(row) if row else None

        return await self.db.read(read)

    async def unit_summaries(self) -> list[UnitSummary]:
        """Every unit in tree order with what hangs off it, for the admin's unit list."""

        def count(table: Any, *where: Any) -> Any:
            return select(func.count()).select_from(table).where(*where).scalar_subquery()

        children = t.units.alias("children")
        query = select(
            t.units,
            count(t.users, t.users.c.unit_id == t.units.c.id, t.users.c.active.is_(True)).label(
                "staff"
            ),
            count(t.users, t.users.c.unit_id == t.units.c.id, t.users.c.active.is_(False)).label(
                "inactive"
            ),
            count(t.posters, t.posters.c.unit_id == t.units.c.id).label("posters"),
            count(children, children.c.parent_id == t.units.c.id).label("children"),
        ).order_by(t.units.c.path)
        return await self.db.read(
            lambda conn: [
                UnitSummary(rows.unit(r), r.staff, r.inactive, r.posters, r.children)
                for r in conn.execute(query)
            ]
        )

    async def rename_unit(self, unit_id: int, name: str) -> Unit:
        """A new display name; the slug stays, since scripts and logs know the unit by it."""

        def write(conn: Connection) -> Unit:
            row = conn.execute(
                update(t.units)
                .where(t.units.c.id == unit_id)
                .values(name=name)
                .returning(*t.units.c)
            ).first()
            if row is None:
                raise NotFound(f"no unit with id {unit_id}")
            return rows.unit(row)

        unit = await self.db.write(write)
        self._forget_units()
        return unit

    async def delete_unit(self, unit_id: int) -> None:
        """Only a unit nothing refers to: no sub-units, accounts, posters, reports, answer
        templates... (every foreign key to units, see _UNIT_REFERENCES). A unit that ever
        received a report stays, because the report's history names it."""

        def write(conn: Connection) -> None:
            if conn.execute(select(t.units.c.id).where(t.units.c.id == unit_id)).first() is None:
                raise NotFound(f"no unit with id {unit_id}")
            uses = [select(column).where(column == unit_id).limit(1) for column in _UNIT_REFERENCES]
            if any(conn.execute(use).first() for use in uses):
                raise InUse(f"unit {unit_id} is still in use")
            # Counter rows of a unit no report was ever routed to hold only zeros.
            conn.execute(t.report_counts.delete().where(t.report_counts.c.unit_id == unit_id))
            conn.execute(t.units.delete().where(t.units.c.id == unit_id))

        await self.db.write(write)
        self._forget_units()

    async def unit_by_slug(self, slug: str) -> Unit | None:
        def read(conn: Connection) -> Unit | None:
            row = conn.execute(select(t.units).where(t.units.c.slug == slug)).first()
            return rows.unit(row) if row else None

        return await self.db.read(read)

    # -- users and sessions ----------------------------------------------------------------
    async def add_user(self, email: str, password_hash: str, role: str, unit_id: int) -> User:
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}")
        email = email.strip().lower()

        def write(conn: Connection) -> User:
            if conn.execute(select(t.users.c.id).where(t.users.c.email == email)).first():
                raise Duplicate(f"a user with email {email!r} already exists")
            _require_unit(conn, unit_id)
            user_id = conn.execute(
                insert(t.users)
                .values(
                    email=email,
                    password_hash=password_hash,
                    role=role,
                    unit_id=unit_id,
                    active=True,
                    created_at=now(),
                )
                .returning(t.users.c.id)
            ).scalar_one()
            return User(user_id, email, role, unit_id, True, password_hash)

        return await self.db.write(write)

    async def list_users(self) -> list[tuple[User, Unit]]:
        def read(conn: Connection) -> list[tuple[User, Unit]]:
            found = conn.execute(
                select(
                    t.users,
                    t.units.c.slug,
                    t.units.c.name.label("unit_name"),
                    t.units.c.parent_id,
                    t.units.c.path,
                )
                .join(t.units, t.units.c.id == t.users.c.unit_id)
                .order_by(t.users.c.email)
            )
            return [
                (rows.user(r), Unit(r.unit_id, r.slug, r.unit_name, r.parent_id, r.path))
                for r in found
            ]

        return await self.db.read(read)

    async def user_by_email(self, email: str) -> User | None:
        def read(conn: Connection) -> User | None:
            row = conn.execute(
                select(t.users).where(t.users.c.email == email.strip().lower())
            ).first()
            return rows.user(row) if row else None

        return await self.db.read(read)

    async def user(self, user_id: int) -> User | None:
        def read(conn: Connection) -> User | None:
            row = conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
            return rows.user(row) if row else None

        return await self.db.read(read)

    async def set_user_active(self, user_id: int, active: bool) -> User:
        """Deactivating ends the account's sessions in the same transaction: reactivating it
        later must not bring an old, perhaps stolen, cookie back to life."""

        def write(conn: Connection) -> User:
            row = conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(active=active)
                .returning(*t.users.c)
            ).first()
            if row is None:
                raise NotFound(f"no user with id {user_id}")
            if not active:
                conn.execute(t.sessions.delete().where(t.sessions.c.user_id == user_id))
            return rows.user(row)

        return await self.db.write(write)

    async def reset_password(
        self, user_id: int, password_hash: str, keep_token_hash: str | None = None
    ) -> User:
        """A new password, and every session of the account ends but `keep_token_hash` (the
        admin's own, when they reset their own password): whoever knew the old one is out."""

        def write(conn: Connection) -> User:
            row = conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(password_hash=password_hash)
                .returning(*t.users.c)
            ).first()
            if row is None:
                raise NotFound(f"no user with id {user_id}")
            conn.execute(
                t.sessions.delete().where(
                    t.sessions.c.user_id == user_id,
                    t.sessions.c.token_hash != (keep_token_hash or ""),
                )
            )
            return rows.user(row)

        return await self.db.write(write)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash)
            )

        await self.db.write(write)

    async def create_session(self, user_id: int, token_hash: str, max_age: int) -> str:
        csrf = secrets.token_urlsafe(24)

        def write(conn: Connection) -> None:
            at = now()
            # Expired sessions are swept here rather than by a timer: logins are rare.
            conn.execute(t.sessions.delete().where(t.sessions.c.expires_at < at))
            conn.execute(
                insert(t.sessions).values(
                    token_hash=token_hash,
                    user_id=user_id,
                    csrf_token=csrf,
                    created_at=at,
                    expires_at=at + timedelta(seconds=max_age),
                )
            )

        await self.db.write(write)
        return csrf

    async def session(self, token_hash: str) -> StaffSession | None:
        def read(conn: Connection) -> StaffSession | None:
            row = conn.execute(
                select(
                    t.sessions.c.csrf_token,
                    t.sessions.c.expires_at,
                    t.users,
                    t.units.c.slug,
                    t.units.c.name.label("unit_name"),
                    t.units.c.parent_id,
                    t.units.c.path,
                )
                .join(t.users, t.users.c.id == t.sessions.c.user_id)
                .join(t.units, t.units.c.id == t.users.c.unit_id)
                .where(
                    t.sessions.c.token_hash == token_hash,
                    t.sessions.c.expires_at > now(),
                    t.users.c.active.is_(True),
                )
            ).first()
            if row is None:
                return None
            return StaffSession(
                rows.user(row),
                Unit(row.unit_id, row.slug, row.unit_name, row.parent_id, row.path),
                row.csrf_token,
                row.expires_at,
            )

        return await self.db.read(read)

    async def delete_other_sessions(self, user_id: int, keep_token_hash: str) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                t.sessions.delete().where(
                    t.sessions.c.user_id == user_id, t.sessions.c.token_hash != keep_token_hash
                )
            )

        await self.db.write(write)

    async def delete_session(self, token_hash: str) -> None:
        def write(conn: Connection) -> None:
            conn.execute(t.sessions.delete().where(t.sessions.c.token_hash == token_hash))

        await self.db.write(write)

    # -- posters ---------------------------------------------------------------------------
    async def add_poster(self, unit_id: int, label: str) -> Poster:
        def write(conn: Connection) -> Poster:
            _require_unit(conn, unit_id)
            poster_id = conn.execute(
                insert(t.posters)
                .values(unit_id=unit_id, label=label, version=1, created_at=now())
                .returning(t.posters.c.id)
            ).scalar_one()
            return rows.poster(conn.execute(_POSTER.where(t.posters.c.id == poster_id)).one())

        return await self.db.write(write)

    async def poster(self, poster_id: int) -> Poster | None:
        def read(conn: Connection) -> Poster | None:
            row = conn.execute(_POSTER.where(t.posters.c.id == poster_id)).first()
            return rows.poster(row) if row else None

        return await self.db.read(read)

    async def poster_for_form(self, poster_id: int) -> Poster | None:
        """`poster()` through a short cache: the citizen's form is the busiest page."""
        return await self._posters.get(poster_id, partial(self.poster, poster_id))

    async def list_posters(self, unit_id: int | None = None) -> list[Poster]:
        query = _POSTER.order_by(t.posters.c.id)
        if unit_id is not None:
            query = query.where(t.posters.c.unit_id == unit_id)
        return await self.db.read(lambda conn: [rows.poster(r) for r in conn.execute(query)])

    async def revoke_poster(self, poster_id: int) -> Poster:
        def write(conn: Connection) -> Poster:
            result = conn.execute(
                update(t.posters)
                .where(t.posters.c.id == poster_id)
                .values(version=t.posters.c.version + 1, revoked_at=now())
            )
            if result.rowcount == 0:
                raise NotFound(f"no poster with id {poster_id}")
            return rows.poster(conn.execute(_POSTER.where(t.posters.c.id == poster_id)).one())

        poster = await self.db.write(write)
        self._posters.forget(poster_id)
        return poster

    # -- widgets ---------------------------------------------------------------------------
    async def add_widget(self, unit_id: int, origins: Sequence[str]) -> Widget:
        """`origins` already normalised by complaints.origins; at least one."""
        if not origins:
            raise StoreError("a widget needs at least one origin")

        def write(conn: Connection) -> Widget:
            _require_unit(conn, unit_id)
            widget_id = conn.execute(
                insert(t.widgets)
                .values(unit_id=unit_id, origins="\n".join(origins), version=1, created_at=now())
                .returning(t.widgets.c.id)
            ).scalar_one()
            return rows.widget(conn.execute(_WIDGET.where(t.widgets.c.id == widget_id)).one())

        return await self.db.write(write)

    async def widget(self, widget_id: int) -> Widget | None:
        def read(conn: Connection) -> Widget | None:
            row = conn.execute(_WIDGET.where(t.widgets.c.id == widget_id)).first()
            return rows.widget(row) if row else None

        return await self.db.read(read)

    async def widget_for_frame(self, widget_id: int) -> Widget | None:
        """`widget()` through a short cache: every open of every embedded form asks."""
        return await self._widgets.get(widget_id, partial(self.widget, widget_id))

    async def list_widgets(self, unit_id: int | None = None) -> list[Widget]:
        query = _WIDGET.order_by(t.widgets.c.id)
        if unit_id is not None:
            query = query.where(t.widgets.c.unit_id == unit_id)
        return await self.db.read(lambda conn: [rows.widget(r) for r in conn.execute(query)])

    async def revoke_widget(self, widget_id: int) -> Widget:
        """For good: the key stops working on every site at once. A new widget gets a new key."""

        def write(conn: Connection) -> Widget:
            result = conn.execute(
                update(t.widgets)
                .where(t.widgets.c.id == widget_id, t.widgets.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
            row = conn.execute(_WIDGET.where(t.widgets.c.id == widget_id)).first()
            if row is None:
                raise NotFound(f"no widget with id {widget_id}")
            if result.rowcount == 0:
                raise StoreError(f"widget {widget_id} is already revoked")
            return rows.widget(row)

        widget = await self.db.write(write)
        self._widgets.forget(widget_id)
        return widget

    # -- reports ---------------------------------------------------------------------------
    async def submit_report(self, new: NewReport) -> SubmitResult:
        """Store a citizen's report, its photos, its routing and the staff's mail in one
        transaction. A retry with the same idempotency key returns the stored report; the same
        key with a different body raises IdempotencyConflict."""
        sub = new.submission
        anonymous = sub.identity is Identity.ANONYMOUS
        insert_report = _INSERT_REPORT["sqlite" if self.db.is_sqlite else "postgresql"]

        def write(conn: Connection) -> SubmitResult:
            entry = conn.execute(
                _ENTRY_UNIT, {"unit_id": new.unit_id, "poster_id": new.poster_id}
            ).first()
            if entry is None:
                raise NotFound(f"no unit with id {new.unit_id}")
            chain = [int(p) for p in reversed(entry.path.strip("/").split("/"))]
            staff = conn.execute(_COORDINATORS, {"chain": chain}).all()
            routed = route(chain, {s.unit_id for s in staff})
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
            )

            def stored() -> SubmitResult | None:
                existing = conn.execute(_BY_KEY, {"key": new.idempotency_key}).first()
                if existing is None:
                    return None
                if existing.body_hash != new.body_hash:
                    raise IdempotencyConflict(existing.tracking_code)
                return SubmitResult(existing.id, existing.tracking_code, created=False)

            report_id = None
            lost_code = None
            if new.pool_code is not None and new.kiosk_id is not None:
                # The citizen already holds this code. A resend finds its report by key (the
                # first delivery took the code out of the pool); a concurrent one waits on the
                # pool row's lock, finds nothing to claim, then finds the report.
                if (earlier := stored()) is not None:
                    return earlier
                if kiosks.claim_code(conn, new.pool_code, new.kiosk_id):
                    values["tracking_code"] = new.pool_code
                    report_id = conn.execute(insert_report, values).scalar()
                    if report_id is None and (earlier := stored()) is not None:
                        return earlier
                elif (earlier := stored()) is not None:
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
                report_id = conn.execute(insert_report, values).scalar()
                if report_id is not None:
                    break
                if (earlier := stored()) is not None:
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
            conn.execute(insert(t.report_events), events)
            if routed is not None:
                recipients = sorted({s.email for s in staff if s.unit_id == routed})
                routed_name = next(s.name for s in staff if s.unit_id == routed)
            else:
                recipients = sorted(
                    conn.execute(
                        select(t.users.c.email).where(
                            t.users.c.role == "admin", t.users.c.active.is_(True)
                        )
                    ).scalars()
                )
                routed_name = None
            if recipients:
                notice = Notice(
                    report_id,
                    values["tracking_code"],
                    sub.kind,
                    sub.text,
                    new.channel,
                    entry.name,
                    entry.label,
                    routed_name,
                    new.verify_due,
                    widget_id=new.widget_id,
                    page_url=new.page_url,
                )
                outbox.queue(conn, report_id, recipients, notice, at)
            # Last, so the counter row (the one lock two submissions to a unit share on
            # PostgreSQL) is held for the shortest time.
            inbox.bump_counts(conn, [(routed, Status.RECEIVED.value, 1)])
            return SubmitResult(report_id, values["tracking_code"], created=True)

        return await self.db.write(write)

    # -- feedback --------------------------------------------------------------------------
    async def record_feedback(self, new: NewFeedback) -> FeedbackResult:
        """Store a quick rating or an IKM survey, committed before this returns. A resend with
        the same idempotency key and body returns the stored row (created=False); the same key
        with a different body raises FeedbackConflict; an unknown unit raises NotFound."""
        return await self.db.write(lambda conn: feedback.record(conn, new))

    async def monitoring(self, scope: Scope, root_path: str, period: Period) -> Raw:
        """Figures per entry unit and month for the reports `scope` reaches whose entry unit
        lies under `root_path`, received within `period`."""
        return await self.db.read(
            lambda conn: monitoring.monitoring(conn, scope, root_path, period)
        )

    async def units_in_scope(self, scope: Scope) -> list[Unit]:
        """The units a member of staff may filter by: all, their subtree, or their own unit."""
        everything = await self._units.get(
            None,
            partial(self.db.read, lambda conn: [rows.unit(r) for r in conn.execute(_UNIT_TREE)]),
        )
        if scope.reach is Reach.SUBTREE:
            return [u for u in everything if u.path.startswith(scope.unit_path)]
        if scope.reach is Reach.FORWARDED:
            return [u for u in everything if u.id == scope.unit_id]
        return list(everything)

    async def forward_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        forwarding: Forwarding,
        follow_up_due: date,
    ) -> int:
        """Disposisi: the coordinator verifies the report and sends it to a unit of their
        subtree. Returns the report's new version."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Action.FORWARD, actor.role, scope)
            at = now()
            _apply_change(
                conn,
                row,
                seen_version,
                dict(
                    status=Status.FORWARDED.value,
                    title=forwarding.title,
                    category=forwarding.category,
                    tags=",".join(forwarding.tags) or None,
                    forwarded_unit_id=forwarding.unit_id,
                    forwarded_at=at,
                    follow_up_due=follow_up_due,
                    updated_at=at,
                ),
            )
            target = conn.execute(
                select(t.units.c.name).where(t.units.c.id == forwarding.unit_id)
            ).scalar_one()
            events = [
                dict(
                    report_id=report_id,
                    at=at,
                    actor_user_id=actor.id,
                    kind="forwarded",
                    from_status=row.status,
                    to_status=Status.FORWARDED.value,
                    note=target,
                    public=True,
                )
            ]
            if forwarding.note:
                events.append(
                    dict(
                        report_id=report_id,
                        at=at,
                        actor_user_id=actor.id,
                        kind="internal_note",
                        from_status=None,
                        to_status=None,
                        note=forwarding.note,
                        public=False,
                    )
                )
            conn.execute(insert(t.report_events), events)
            officers = _emails_of(conn, forwarding.unit_id, "officer")
            if officers:
                notice = ChangeNotice(
                    report_id,
                    row.tracking_code,
                    forwarding.title,
                    Status.FORWARDED,
                    target,
                    forwarding.note,
                    "id",
                    follow_up_due,
                )
                outbox.queue(conn, report_id, officers, notice, at)
            return seen_version + 1

        return await self.db.write(write)

    async def follow_up_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        answer: str,
        attachments: Sequence[NewPhoto] = (),
    ) -> int:
        """Tindak lanjut: the officer of the unit the report was forwarded to answers it,
        with photos or letters attached (files already in place, see PhotoStore.commit)."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(
                conn, report_id, seen_version, Action.FOLLOW_UP, actor.role, scope
            )
            at = now()
            _apply_change(
                conn, row, seen_version, dict(status=Status.FOLLOWED_UP.value, updated_at=at)
            )
            event_id = conn.execute(
                insert(t.report_events)
                .values(
                    report_id=report_id,
                    at=at,
                    actor_user_id=actor.id,
                    kind="followed_up",
                    from_status=row.status,
                    to_status=Status.FOLLOWED_UP.value,
                    note=answer,
                    public=True,
                )
                .returning(t.report_events.c.id)
            ).scalar_one()
            if attachments:
                conn.execute(
                    insert(t.event_attachments),
                    [
                        dict(
                            event_id=event_id,
                            report_id=report_id,
                            position=position,
                            filename=a.filename,
                            content_type=a.content_type,
                            width=a.width,
                            height=a.height,
                            size_bytes=a.size_bytes,
                        )
                        for position, a in enumerate(attachments)
                    ],
                )
            _tell_reporter(conn, row, Status.FOLLOWED_UP, answer, at)
            return seen_version + 1

        return await self.db.write(write)

    async def decide(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        action: Action,
        reason: str,
        duplicate_of: str | None,
        hand_to: HandOver | None = None,
    ) -> int:
        """Tunda, bukan wewenang or archive: a status change with a sentence for the reporter.
        `duplicate_of` (a tracking code) must name another report in the coordinator's scope.
        `hand_to` (bukan wewenang only) passes the report to another unit's coordinators."""
        if action not in DECISIONS:
            raise ValueError(f"{action} is not a decision")
        if hand_to is not None:
            if action is not Action.NOT_AUTHORITY:
                raise ValueError("only a report that is not ours is handed over")
            return await self._hand_over(
                report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                reason=reason,
                hand_to=hand_to,
            )

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, action, actor.role, scope)
            note = reason
            if duplicate_of is not None:
                original = conn.execute(
                    select(t.reports.c.tracking_code).where(
                        t.reports.c.tracking_code == duplicate_of,
                        t.reports.c.id != report_id,
                        inbox.scope_condition(conn, scope),
                    )
                ).scalar()
                if original is None:
                    raise WorkflowError(Refusal.ORIGINAL_UNKNOWN)
                note = f"{reason}\n→ {tracking.format_code(original)}"
            at = now()
            target = TARGET[action]
            _apply_change(conn, row, seen_version, dict(status=target.value, updated_at=at))
            conn.execute(
                insert(t.report_events).values(
                    report_id=report_id,
                    at=at,
                    actor_user_id=actor.id,
                    kind=action.value,
                    from_status=row.status,
                    to_status=target.value,
                    note=note,
                    public=True,
                )
            )
            _tell_reporter(conn, row, target, note, at)
            return seen_version + 1

        return await self.db.write(write)

    async def classify_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        classification: Classification,
    ) -> int:
        """Change the title, category and tags the coordinator gave the report."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Edit.CLASSIFY, actor.role, scope)
            at = now()
            _apply_change(
                conn,
                row,
                seen_version,
                dict(
                    title=classification.title,
                    category=classification.category,
                    tags=",".join(classification.tags) or None,
                    updated_at=at,
                ),
            )
            conn.execute(
                insert(t.report_events).values(
                    report_id=report_id,
                    at=at,
                    actor_user_id=actor.id,
                    kind="classified",
                    from_status=None,
                    to_status=None,
                    public=False,
                    note=_classification_note(classification),
                )
            )
            return seen_version + 1

        return await self.db.write(write)

    async def redact_report(
        self, report_id: int, *, seen_version: int, actor: User, scope: Scope, redaction: Redaction
    ) -> int:
        """Replace the text others read and withhold photos; the original text goes into the
        audit log as an internal event that only coordinators and admins are shown."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Edit.REDACT, actor.role, scope)
            at = now()
            values: dict[str, Any] = dict(updated_at=at)
            if redaction.text != row.text:
                values.update(text=redaction.text, title=row.title)  # title: re-index search
            _apply_change(conn, row, seen_version, values)
            photos = t.report_photos.c
            conn.execute(
                update(t.report_photos)
                .where(photos.report_id == report_id)
                .values(
                    withheld=photos.position.in_(sorted(redaction.withheld))
                    if redaction.withheld
                    else false()
                )
            )
            conn.execute(
                insert(t.report_events).values(
                    report_id=report_id,
                    at=at,
                    actor_user_id=actor.id,
                    kind="redacted",
                    from_status=None,
                    to_status=None,
                    public=False,
                    note=row.text if redaction.text != row.text else None,
                )
            )
            return seen_version + 1

        return await self.db.write(write)

    async def add_note(self, report_id: int, *, actor: User, scope: Scope, note: str) -> None:
        """An internal note between staff. Notes never conflict, so no version is asked for."""

        def write(conn: Connection) -> None:
            row = conn.execute(
                select(t.reports.c.status).where(
                    t.reports.c.id == report_id, inbox.scope_condition(conn, scope)
                )
            ).first()
            if row is None:
                raise NotFound(f"no report {report_id} in scope")
            refusal = edit_allowed(Edit.NOTE, actor.role, Status(row.status))
            if refusal is not None:
                raise WorkflowError(refusal)
            conn.execute(
                insert(t.report_events).values(
                    report_id=report_id,
                    at=now(),
                    actor_user_id=actor.id,
                    kind="internal_note",
                    from_status=None,
                    to_status=None,
                    note=note,
                    public=False,
                )
            )

        await self.db.write(write)

    async def assignable_people(self, report_id: int, actor: User, scope: Scope) -> list[User]:
        """Who `actor` may hand the report to: the active coordinators and officers of the
        unit responsible for it now; an officer only their own unit's officers."""
        return await self.db.read(lambda conn: _assignable(conn, report_id, actor, scope))

    async def unit_staff(self, unit_id: int, roles: Sequence[str]) -> list[User]:
        """The active people of one unit with one of `roles`, by e-mail."""
        return await self.db.read(lambda conn: _staff_of(conn, [unit_id], roles))

    async def tracking_codes(self, report_ids: Sequence[int], scope: Scope) -> dict[int, str]:
        """Tracking codes of the reports `scope` reaches among `report_ids`."""

        def read(conn: Connection) -> dict[int, str]:
            rows = conn.execute(
                select(t.reports.c.id, t.reports.c.tracking_code).where(
                    t.reports.c.id.in_(list(report_ids)), inbox.scope_condition(conn, scope)
                )
            )
            return {r.id: r.tracking_code for r in rows}

        return await self.db.read(read)

    async def assign_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        assignee_id: int | None,
    ) -> int:
        """Give the report to one person (None: to nobody in particular)."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Edit.ASSIGN, actor.role, scope)
            assignee = None
            if assignee_id is not None:
                assignee = next(
                    (u for u in _assignable(conn, report_id, actor, scope) if u.id == assignee_id),
                    None,
                )
                if assignee is None:
                    raise WorkflowError(Refusal.ASSIGNEE_OUTSIDE)
            at = now()
            _apply_change(
                conn, row, seen_version, dict(assigned_user_id=assignee_id, updated_at=at)
            )
            conn.execute(
                insert(t.report_events).values(
                    report_id=report_id,
                    at=at,
                    actor_user_id=actor.id,
                    kind="assigned" if assignee else "unassigned",
                    from_status=None,
                    to_status=None,
                    public=False,
                    note=assignee.email if assignee else None,
                )
            )
            return seen_version + 1

        return await self.db.write(write)

    async def extend_follow_up(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        new_due: Callable[[date], date],
        reason: str,
    ) -> int:
        """The coordinator gives the unit more time; `new_due` maps the current follow-up
        deadline to the extended one (working days are the caller's calendar)."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Edit.EXTEND, actor.role, scope)
            due = new_due(row.follow_up_due)
            at = now()
            _apply_change(conn, row, seen_version, dict(follow_up_due=due, updated_at=at))
            conn.execute(
                insert(t.report_events).values(
                    report_id=report_id,
                    at=at,
                    actor_user_id=actor.id,
                    kind="extended",
                    from_status=None,
                    to_status=None,
                    public=False,
                    note=f"{row.follow_up_due.isoformat()} → {due.isoformat()}\n{reason}",
                )
            )
            return seen_version + 1

        return await self.db.write(write)

    async def reroute_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        reason: str,
        verify_due: date,
    ) -> int:
        """The unit hands the report back: it is not theirs to act on. It returns to the
        coordinator's verification queue with a fresh verification deadline."""

        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Action.REROUTE, actor.role, scope)
            at = now()
            _apply_change(
                conn,
                row,
                seen_version,
                dict(
                    status=Status.RECEIVED.value,
                    forwarded_unit_id=None,
                    follow_up_due=None,
                    assigned_user_id=None,
                    verify_due=verify_due,
                    updated_at=at,
                ),
            )
            conn.execute(
                insert(t.report_events),
                [
                    dict(
                        report_id=report_id,
                        at=at,
                        actor_user_id=actor.id,
                        kind="rerouted",
                        from_status=row.status,
                        to_status=Status.RECEIVED.value,
                        note=None,
                        public=True,
                    ),
                    dict(
                        report_id=report_id,
                        at=at,
                        actor_user_id=actor.id,
                        kind="internal_note",
                        from_status=None,
                        to_status=None,
                        note=reason,
                        public=False,
                    ),
                ],
            )
            _tell_staff(conn, row, Status.RECEIVED, "reroute", reason, at)
            return seen_version + 1

        return await self.db.write(write)

    async def _hand_over(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        reason: str,
        hand_to: HandOver,
    ) -> int:
        def write(conn: Connection) -> int:
            row = _lock_for_change(
                conn, report_id, seen_version, Action.NOT_AUTHORITY, actor.role, scope
            )
            target = conn.execute(
                select(t.units.c.name).where(t.units.c.id == hand_to.unit_id)
            ).scalar()
            coordinators = _emails_of(conn, hand_to.unit_id, "coordinator")
            if target is None or not coordinators or hand_to.unit_id == row.routed_unit_id:
                raise WorkflowError(Refusal.UNIT_OUTSIDE)
            at = now()
            # Verification starts again, for the coordinators it now belongs to.
            _apply_change(
                conn,
                row,
                seen_version,
                dict(
                    status=Status.RECEIVED.value,
                    routed_unit_id=hand_to.unit_id,
                    verify_due=hand_to.verify_due,
                    forwarded_unit_id=None,
                    follow_up_due=None,
                    assigned_user_id=None,
                    updated_at=at,
                ),
            )
            note = f"{reason}\n→ {target}"
            conn.execute(
                insert(t.report_events),
                [
                    dict(
                        report_id=report_id,
                        at=at,
                        actor_user_id=actor.id,
                        kind=Action.NOT_AUTHORITY.value,
                        from_status=row.status,
                        to_status=Status.NOT_AUTHORITY.value,
                        note=note,
                        public=True,
                    ),
                    dict(
                        report_id=report_id,
                        at=at,
                        actor_user_id=actor.id,
                        kind="handed_over",
                        from_status=Status.NOT_AUTHORITY.value,
                        to_status=Status.RECEIVED.value,
                        note=target,
                        public=True,
                    ),
                ],
            )
            notice = ChangeNotice(
                report_id,
                row.tracking_code,
                row.title,
                Status.RECEIVED,
                target,
                reason,
                "id",
                hand_to.verify_due,
                "handed_over",
            )
            outbox.queue(conn, report_id, coordinators, notice, at)
            _tell_reporter(conn, row, Status.NOT_AUTHORITY, note, at, target)
            return seen_version + 1

        return await self.db.write(write)

    async def coordinator_units(self) -> list[Unit]:
        """Units with an active coordinator: where a report can be handed over to."""
        query = (
            select(t.units)
            .where(
                t.units.c.id.in_(
                    select(t.users.c.unit_id).where(
                        t.users.c.role == "coordinator", t.users.c.active.is_(True)
                    )
                )
            )
            .order_by(t.units.c.path)
        )
        return await self.db.read(lambda conn: [rows.unit(r) for r in conn.execute(query)])

    async def reporter_acts(
        self,
        report_id: int,
        *,
        seen_version: int,
        action: Action,
        text: str | None = None,
        rating: int | None = None,
    ) -> int:
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
            conn.execute(
                insert(t.report_events).values(
                    report_id=report_id,
                    at=at,
                    actor_user_id=None,
                    kind="reporter_reply" if action is Action.REPLY else "accepted",
                    from_status=row.status,
                    to_status=target.value,
                    note=text if action is Action.REPLY else None,
                    public=True,
                )
            )
            if action is Action.REPLY:
                _tell_staff(conn, row, target, "reporter_reply", text, at)
            return seen_version + 1

        return await self.db.write(write)

    async def answered_before(
        self, cutoff: datetime, limit: int = 1000
    ) -> list[tuple[int, int, datetime]]:
        """(id, version, answered at) of reports waiting for their reporter since `cutoff`."""
        query = (
            select(t.reports.c.id, t.reports.c.version, t.reports.c.updated_at)
            .where(t.reports.c.status == Status.FOLLOWED_UP.value, t.reports.c.updated_at <= cutoff)
            .order_by(t.reports.c.updated_at)
            .limit(limit)
        )
        return await self.db.read(
            lambda conn: [(r.id, r.version, r.updated_at) for r in conn.execute(query)]
        )

    async def auto_close(self, report_id: int, *, seen_version: int) -> int:
        def write(conn: Connection) -> int:
            row = _lock_for_change(conn, report_id, seen_version, Action.AUTO_CLOSE, "system")
            at = now()
            _apply_change(
                conn,
                row,
                seen_version,
                dict(status=Status.CLOSED.value, closed_at=at, updated_at=at),
            )
            conn.execute(
                insert(t.report_events).values(
                    report_id=report_id,
                    at=at,
                    actor_user_id=None,
                    kind="auto_closed",
                    from_status=row.status,
                    to_status=Status.CLOSED.value,
                    note=None,
                    public=True,
                )
            )
            return seen_version + 1

        return await self.db.write(write)

    async def report_by_tracking_code(self, code: str) -> Report | None:
        def read(conn: Connection) -> Report | None:
            report_id = conn.execute(
                select(t.reports.c.id).where(t.reports.c.tracking_code == code)
            ).scalar()
            return None if report_id is None else _report(conn, report_id, public_only=True)

        return await self.db.read(read)

    async def report_for_staff(self, report_id: int, scope: Scope) -> Report | None:
        """The report if `scope` reaches it; None otherwise, as if it did not exist."""

        def read(conn: Connection) -> Report | None:
            query = select(t.reports.c.id).where(
                t.reports.c.id == report_id, inbox.scope_condition(conn, scope)
            )
            if conn.execute(query).scalar() is None:
                return None
            return _report(conn, report_id)

        return await self.db.read(read)

    async def inbox(
        self,
        scope: Scope,
        query: InboxQuery | None = None,
        *,
        today: date,
        soon_until: date | None = None,
        received_window: tuple[datetime | None, datetime | None] = (None, None),
        limit: int = 50,
        unrouted: bool = False,
    ) -> InboxPage:
        """One page of the reports `scope` reaches that match `query`. `unrouted` lists the
        reports nobody is responsible for yet (admins only). A search may stop before the
        oldest report (the page's `rest` says where to go on)."""
        if unrouted and scope.reach is not Reach.ALL:
            raise ValueError("only admins see unrouted reports")
        return await self.db.read(
            lambda conn: inbox.inbox_page(
                conn,
                scope,
                query or InboxQuery(),
                today=today,
                soon_until=soon_until or today,
                received_window=received_window,
                limit=limit,
                unrouted=unrouted,
            )
        )

    async def similar_reports(
        self, report: Report, scope: Scope, limit: int = 5
    ) -> list[InboxItem]:
        """Open reports of the report's unit that look like it: candidates for "duplicate"."""
        words = search.key_words(report.text)
        return await self.db.read(
            lambda conn: inbox.similar_reports(conn, report.id, report.unit_id, words, scope, limit)
        )

    async def status_counts(self, scope: Scope) -> dict[Status, int]:
        return await self.db.read(lambda conn: inbox.status_counts(conn, scope))

    async def export_page(
        self,
        scope: Scope,
        query: InboxQuery,
        *,
        today: date,
        soon_until: date,
        received_window: tuple[datetime | None, datetime | None],
        limit: int,
    ) -> tuple[list[Any], Cursor | None]:
        """One page of export rows (store.inbox.EXPORT_COLUMNS) in the query's order, and
        where a search that stopped short goes on (as `Store.inbox`)."""
        return await self.db.read(
            lambda conn: inbox.export_page(
                conn,
                scope,
                query,
                today=today,
                soon_until=soon_until,
                received_window=received_window,
                limit=limit,
            )
        )

    # -- answer templates ---------------------------------------------------------------------
    async def answer_templates(self, unit_ids: Sequence[int]) -> list[AnswerTemplate]:
        """Templates kept by the given units (the ones a member of staff may manage)."""
        query = _TEMPLATES.where(t.answer_templates.c.unit_id.in_(list(unit_ids)))
        return await self.db.read(
            lambda conn: [
                rows.answer_template(r)
                for r in conn.execute(query.order_by(t.units.c.path, t.answer_templates.c.title))
            ]
        )

    async def templates_for(self, unit: Unit, category: str | None) -> list[AnswerTemplate]:
        """What a member of `unit` may pick when answering a report of `category`: templates
        of the unit and of every unit above it, general ones and those of that category."""
        c = t.answer_templates.c
        wanted = (
            c.category.is_(None)
            if category is None
            else or_(c.category.is_(None), c.category == category)
        )
        query = _TEMPLATES.where(c.unit_id.in_(unit.ancestor_ids), wanted)
        return await self.db.read(
            lambda conn: [
                rows.answer_template(r) for r in conn.execute(query.order_by(c.title, c.id))
            ]
        )

    async def save_answer_template(
        self,
        template_id: int | None,
        draft: AnswerTemplateDraft,
        actor: User,
        unit_ids: Sequence[int],
    ) -> int:
        """Create (`template_id` None) or replace a template; editing one kept by a unit
        outside `unit_ids` is NotFound, like any other staff query out of scope."""
        values = dict(
            unit_id=draft.unit_id,
            category=draft.category,
            title=draft.title,
            body=draft.body,
            updated_by_user_id=actor.id,
        )

        def write(conn: Connection) -> int:
            c = t.answer_templates.c
            if template_id is None:
                return int(
                    conn.execute(
                        insert(t.answer_templates)
                        .values(updated_at=now(), **values)
                        .returning(c.id)
                    ).scalar_one()
                )
            result = conn.execute(
                update(t.answer_templates)
                .where(c.id == template_id, c.unit_id.in_(list(unit_ids)))
                .values(updated_at=now(), **values)
            )
            if result.rowcount != 1:
                raise NotFound(f"no answer template {template_id} in scope")
            return template_id

        return await self.db.write(write)

    async def delete_answer_template(self, template_id: int, unit_ids: Sequence[int]) -> None:
        def write(conn: Connection) -> None:
            c = t.answer_templates.c
            result = conn.execute(
                t.answer_templates.delete().where(
                    c.id == template_id, c.unit_id.in_(list(unit_ids))
                )
            )
            if result.rowcount != 1:
                raise NotFound(f"no answer template {template_id} in scope")

        await self.db.write(write)

    # -- export jobs -------------------------------------------------------------------------
    async def create_export(self, user_id: int, query: str, rows_total: int | None) -> str:
        token = secrets.token_hex(16)

        def write(conn: Connection) -> None:
            conn.execute(
                insert(t.export_jobs).values(
                    token=token,
                    user_id=user_id,
                    query=query,
                    status="pending",
                    rows_done=0,
                    rows_total=rows_total,
                    created_at=now(),
                )
            )

        await self.db.write(write)
        return token

    async def export_job(self, token: str, user_id: int) -> ExportJob | None:
        """The job if it is this user's: nobody else may watch or download it."""

        def read(conn: Connection) -> ExportJob | None:
            row = conn.execute(
                select(t.export_jobs).where(
                    t.export_jobs.c.token == token, t.export_jobs.c.user_id == user_id
                )
            ).first()
            return rows.export_job(row) if row else None

        return await self.db.read(read)

    async def claim_export(self) -> tuple[ExportJob, StaffSession] | None:
        """The oldest pending job, marked running, with its owner as a session would have
        them (the job runs with the owner's scope as it is now, not as it was when asked)."""

        def write(conn: Connection) -> tuple[ExportJob, StaffSession] | None:
            pick = (
                select(t.export_jobs.c.id)
                .where(t.export_jobs.c.status == "pending")
                .order_by(t.export_jobs.c.id)
                .limit(1)
            )
            if not self.db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            job_id = conn.execute(pick).scalar()
            if job_id is None:
                return None
            row = conn.execute(
                update(t.export_jobs)
                .where(t.export_jobs.c.id == job_id)
                .values(status="running", rows_done=0)
                .returning(*t.export_jobs.c)
            ).one()
            owner = conn.execute(
                select(
                    t.users,
                    t.units.c.slug,
                    t.units.c.name.label("unit_name"),
                    t.units.c.parent_id,
                    t.units.c.path,
                )
                .join(t.units, t.units.c.id == t.users.c.unit_id)
                .where(t.users.c.id == row.user_id)
            ).one()
            unit = Unit(owner.unit_id, owner.slug, owner.unit_name, owner.parent_id, owner.path)
            return rows.export_job(row), StaffSession(rows.user(owner), unit, "", now())

        return await self.db.write(write)

    async def export_progress(self, job_id: int, rows_done: int) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                update(t.export_jobs)
                .where(t.export_jobs.c.id == job_id)
                .values(rows_done=rows_done)
            )

        await self.db.write(write)

    async def finish_export(self, job_id: int, *, rows_done: int, error: str | None = None) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                update(t.export_jobs)
                .where(t.export_jobs.c.id == job_id)
                .values(
                    status="failed" if error else "done",
                    rows_done=rows_done,
                    error=error,
                    finished_at=now(),
                )
            )

        await self.db.write(write)

    async def requeue_running_exports(self) -> None:
        """Jobs a killed server left half-done start again from the beginning."""

        def write(conn: Connection) -> None:
            conn.execute(
                update(t.export_jobs)
                .where(t.export_jobs.c.status == "running")
                .values(status="pending", rows_done=0)
            )

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
        return await self.db.read(
            lambda conn: int(conn.execute(select(func.count()).select_from(t.reports)).scalar_one())
        )

    # -- reminders ---------------------------------------------------------------------------
    async def queue_reminders(
        self,
        *,
        today: date,
        soon_until: date,
        flag_received_before: datetime,
        limit: int,
    ) -> int:
        """Queue the mails of every reminder now due (deadline within `soon_until`, missed
        lately, or received before `flag_received_before` and still unresolved), each once:
        the reminders table's key is what keeps two rounds or two processes from repeating
        one. Returns how many reminders were queued."""
        insert_reminder = _INSERT_REMINDER["sqlite" if self.db.is_sqlite else "postgresql"]

        def write(conn: Connection) -> int:
            r, rem = t.reports.c, t.reminders.c
            kind = case((r.due_on < today, Reminder.OVERDUE.value), else_=Reminder.DUE_SOON.value)
            columns = (
                r.id,
                r.tracking_code,
                r.title,
                r.status,
                r.routed_unit_id,
                r.forwarded_unit_id,
                r.assigned_user_id,
            )
            deadlines = conn.execute(
                select(*columns, kind.label("kind"), r.due_on.label("day"))
                .where(
                    r.due_on >= today - timedelta(days=OVERDUE_WINDOW_DAYS),
                    r.due_on <= soon_until,
                    r.status.in_([s.value for s in RUNNING]),
                    ~exists().where(
                        rem.report_id == r.id, rem.kind == kind, rem.due_on == r.due_on
                    ),
                )
                .order_by(r.due_on, r.id)
                .limit(limit)
            ).all()
            flagged = conn.execute(
                select(*columns, r.received_at)
                .where(
                    r.received_at < flag_received_before,
                    r.received_at >= flag_received_before - timedelta(days=ESCALATION_WINDOW_DAYS),
                    r.status.in_([s.value for s in UNRESOLVED]),
                    ~exists().where(rem.report_id == r.id, rem.kind == Reminder.OMBUDSMAN.value),
                )
                .order_by(r.received_at)
                .limit(limit)
            ).all()
            due: list[tuple[Any, Reminder, date]] = [
                (row, Reminder(row.kind), row.day) for row in deadlines
            ]
            due += [(row, Reminder.OMBUDSMAN, row.received_at.date()) for row in flagged]
            if not due:
                return 0
            people = _reminder_people(conn, [row for row, _, _ in due])
            at = now()
            queued = 0
            for row, reminder, day in due:
                result = conn.execute(
                    insert_reminder.values(
                        report_id=row.id, kind=reminder.value, due_on=day, queued_at=at
                    )
                )
                if result.rowcount != 1:
                    continue  # another process announced it first
                queued += 1
                status = Status(row.status)
                recipients = sorted(
                    {email for group in audience(reminder, status) for email in people(row, group)}
                )
                if recipients:
                    notice = ReminderNotice(
                        row.id, row.tracking_code, row.title, reminder, status, day
                    )
                    outbox.queue(conn, row.id, recipients, notice, at)
            return queued

        return await self.db.write(write)

    # -- outbox ----------------------------------------------------------------------------
    async def claim_outbox(self, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Take due messages for this sender alone (see store.outbox.claim)."""
        skip_locked = not self.db.is_sqlite
        return await self.db.write(
            lambda conn: outbox.claim(conn, limit, lease, now(), skip_locked=skip_locked)
        )

    async def finish_outbox(
        self,
        message: OutboxMessage,
        *,
        status: str,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> bool:
        """Record the outcome of a claimed message, with the words it was sent (or tried) in;
        False if the claim had expired and another sender took the message over (its outcome
        wins)."""
        values: dict[str, Any] = dict(
            status=status,
            claimed_until=None,
            claim_token=None,
            last_error=error,
            subject=message.subject,
            body=message.body,
        )
        if status == "sent":
            values["sent_at"] = now()
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        return await self.db.write(lambda conn: outbox.finish(conn, message, values))

    async def resend_outbox(self, message_id: int) -> None:
        await self.db.write(lambda conn: outbox.resend(conn, message_id, now()))

    async def list_outbox(self, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
        return await self.db.read(lambda conn: outbox.listed(conn, status, limit))


# Every column that points at a unit, read from the schema so that a table added later
# cannot be forgotten by delete_unit. report_counts is keyed by unit but has no foreign key:
# delete_unit clears its rows, which are zeros once no report is routed to the unit.
_UNIT_REFERENCES = [
    fk.parent
    for table in t.metadata.sorted_tables
    for fk in table.foreign_keys
    if fk.column is t.units.c.id
]


def _require_unit(conn: Connection, unit_id: int) -> None:
    # Checked, not left to the foreign key: a unit deleted a moment ago is a clear NotFound
    # for the caller, not a driver's IntegrityError.
    if conn.execute(select(t.units.c.id).where(t.units.c.id == unit_id)).first() is None:
        raise NotFound(f"no unit with id {unit_id}")


def _lock_for_change(
    conn: Connection,
    report_id: int,
    seen_version: int,
    action: Action | Edit,
    role: str,
    scope: Scope | None = None,
) -> Any:
    """The report as the actor may see it, checked for the version the actor saw and for the
    move or edit they ask for. NotFound outside their scope, like every other staff query."""
    query = select(t.reports).where(t.reports.c.id == report_id)
    if scope is not None:
        query = query.where(inbox.scope_condition(conn, scope))
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no report {report_id} in scope")
    if row.version != seen_version:
        raise WorkflowError(Refusal.STALE)
    status = Status(row.status)
    refusal = (
        edit_allowed(action, role, status)
        if isinstance(action, Edit)
        else allowed(action, role, status)
    )
    if refusal is not None:
        raise WorkflowError(refusal)
    return row


# Leaving "received" by a coordinator's decision is what verification means for the deadline.
_VERIFICATIONS = frozenset(
    {
        Status.FORWARDED.value,
        Status.POSTPONED.value,
        Status.NOT_AUTHORITY.value,
        Status.ARCHIVED.value,
    }
)


def _apply_change(conn: Connection, row: Any, seen_version: int, values: dict[str, Any]) -> None:
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
        update(t.reports)
        .where(t.reports.c.id == row.id, t.reports.c.version == seen_version)
        .values(version=seen_version + 1, **values)
    )
    if result.rowcount != 1:
        raise WorkflowError(Refusal.STALE)
    routed = values.get("routed_unit_id", row.routed_unit_id)
    if status != row.status or routed != row.routed_unit_id:
        inbox.bump_counts(conn, [(row.routed_unit_id, row.status, -1), (routed, status, 1)])


def _staff_of(conn: Connection, unit_ids: Sequence[int], roles: Sequence[str]) -> list[User]:
    """The active people of these units with one of `roles`, by e-mail."""
    return [
        rows.user(r)
        for r in conn.execute(
            select(t.users)
            .where(
                t.users.c.unit_id.in_(list(unit_ids)),
                t.users.c.role.in_(list(roles)),
                t.users.c.active.is_(True),
            )
            .order_by(t.users.c.email)
        )
    ]


def _emails_of(conn: Connection, unit_id: int, role: str) -> list[str]:
    """Where mail for a unit's coordinators or officers goes: its active ones."""
    return [user.email for user in _staff_of(conn, [unit_id], [role])]


def _classification_note(classification: Classification) -> str:
    return " · ".join(
        filter(
            None, [classification.title, classification.category, ", ".join(classification.tags)]
        )
    )


def _assignable(conn: Connection, report_id: int, actor: User, scope: Scope) -> list[User]:
    row = conn.execute(
        select(t.reports.c.routed_unit_id, t.reports.c.forwarded_unit_id, t.reports.c.status).where(
            t.reports.c.id == report_id, inbox.scope_condition(conn, scope)
        )
    ).first()
    if row is None:
        raise NotFound(f"no report {report_id} in scope")
    with_unit = row.forwarded_unit_id if row.status in _AT_THE_UNIT else row.routed_unit_id
    if actor.role == "officer":
        units, roles = [actor.unit_id], ["officer"]
    else:
        units, roles = [u for u in (row.routed_unit_id, with_unit) if u], ["coordinator", "officer"]
    return _staff_of(conn, units, roles)


# While a unit holds the report (forwarded, answered) its people are the ones to assign.
_AT_THE_UNIT = frozenset({Status.FORWARDED.value, Status.FOLLOWED_UP.value})


def _tell_reporter(
    conn: Connection,
    row: Any,
    status: Status,
    text: str | None,
    at: datetime,
    unit_name: str | None = None,
) -> None:
    """Mail the reporter, in their language, when they left an address: a decision, a
    question, an answer."""
    if row.reporter_email:
        notice = ChangeNotice(
            row.id, row.tracking_code, row.title, status, unit_name, text, row.language, None
        )
        outbox.queue(conn, row.id, [row.reporter_email], notice, at)


def _tell_staff(
    conn: Connection,
    row: Any,
    status: Status,
    event: str,
    text: str | None,
    at: datetime,
) -> None:
    """Mail the people who hold the report after a move they did not make: the unit's
    officers when it is back with the unit, otherwise the coordinators."""
    if status.value in _AT_THE_UNIT and row.forwarded_unit_id:
        unit_id, role = row.forwarded_unit_id, "officer"
    elif row.routed_unit_id:
        unit_id, role = row.routed_unit_id, "coordinator"
    else:
        return
    recipients = _emails_of(conn, unit_id, role)
    if recipients:
        notice = ChangeNotice(
            row.id, row.tracking_code, row.title, status, None, text, "id", None, event
        )
        outbox.queue(conn, row.id, recipients, notice, at)


def _reminder_people(conn: Connection, rows: list[Any]) -> Callable[[Any, Audience], list[str]]:
    """Who hears of a reminder about `row`, looked up once for a whole round."""
    units = {u for row in rows for u in (row.routed_unit_id, row.forwarded_unit_id) if u}
    assigned = {row.assigned_user_id for row in rows if row.assigned_user_id}
    staff = conn.execute(
        select(t.users.c.id, t.users.c.email, t.users.c.role, t.users.c.unit_id).where(
            t.users.c.active.is_(True),
            or_(
                and_(
                    t.users.c.unit_id.in_(sorted(units)),
                    t.users.c.role.in_(["coordinator", "officer"]),
                ),
                t.users.c.id.in_(sorted(assigned)),
            ),
        )
    ).all()

    def people(row: Any, group: Audience) -> list[str]:
        if group is Audience.COORDINATORS:
            return [
                u.email
                for u in staff
                if u.unit_id == row.routed_unit_id and u.role == "coordinator"
            ]
        chosen = [u.email for u in staff if u.id == row.assigned_user_id]
        return chosen or [
            u.email for u in staff if u.unit_id == row.forwarded_unit_id and u.role == "officer"
        ]

    return people


_TEMPLATES = (
    select(t.answer_templates, t.units.c.name.label("unit_name"), t.users.c.email)
    .join(t.units, t.units.c.id == t.answer_templates.c.unit_id)
    .outerjoin(t.users, t.users.c.id == t.answer_templates.c.updated_by_user_id)
)
_ENTRY = t.units.alias("entry")
_ROUTED = t.units.alias("routed")
_FORWARDED = t.units.alias("forwarded")
_REPORT = (
    select(
        t.reports,
        _ENTRY.c.name.label("unit_name"),
        _ROUTED.c.name.label("routed_name"),
        _FORWARDED.c.name.label("forwarded_name"),
        t.posters.c.label.label("poster_label"),
        t.kiosks.c.name.label("kiosk_name"),
    )
    .join(_ENTRY, _ENTRY.c.id == t.reports.c.unit_id)
    .outerjoin(_ROUTED, _ROUTED.c.id == t.reports.c.routed_unit_id)
    .outerjoin(_FORWARDED, _FORWARDED.c.id == t.reports.c.forwarded_unit_id)
    .outerjoin(t.posters, t.posters.c.id == t.reports.c.poster_id)
    .outerjoin(t.kiosks, t.kiosks.c.id == t.reports.c.kiosk_id)
    .where(t.reports.c.id == bindparam("report_id"))
)
_PHOTOS = (
    select(t.report_photos)
    .where(t.report_photos.c.report_id == bindparam("report_id"))
    .order_by(t.report_photos.c.position)
)
_ATTACHMENTS = (
    select(t.event_attachments, false().label("withheld"))
    .where(t.event_attachments.c.report_id == bindparam("report_id"))
    .order_by(t.event_attachments.c.event_id, t.event_attachments.c.position)
)
_EVENTS = (
    select(t.report_events, t.users.c.email)
    .outerjoin(t.users, t.users.c.id == t.report_events.c.actor_user_id)
    .where(t.report_events.c.report_id == bindparam("report_id"))
    .order_by(t.report_events.c.id)
)
_PUBLIC_EVENTS = _EVENTS.where(t.report_events.c.public.is_(True))


def _report(conn: Connection, report_id: int, public_only: bool = False) -> Report:
    params = {"report_id": report_id}
    row = conn.execute(_REPORT, params).one()
    photos = tuple(rows.photo(p) for p in conn.execute(_PHOTOS, params))
    attached: dict[int, list[Photo]] = {}
    for a in conn.execute(_ATTACHMENTS, params):
        attached.setdefault(a.event_id, []).append(rows.photo(a))
    events = tuple(
        Event(
            e.id,
            e.at,
            e.kind,
            e.from_status,
            e.to_status,
            e.note,
            e.public,
            e.email,
            tuple(attached.get(e.id, ())),
        )
        for e in conn.execute(_PUBLIC_EVENTS if public_only else _EVENTS, params)
    )
    return Report(
        id=row.id,
        tracking_code=row.tracking_code,
        kind=Kind(row.kind),
        status=Status(row.status),
        text=row.text,
        location=row.location,
        identity=Identity(row.identity),
        reporter_name=row.reporter_name,
        reporter_phone=row.reporter_phone,
        reporter_email=row.reporter_email,
        channel=Channel(row.channel),
        unit_id=row.unit_id,
        unit_name=row.unit_name,
        poster_id=row.poster_id,
        poster_label=row.poster_label,
        routed_unit_id=row.routed_unit_id,
        routed_unit_name=row.routed_name,
        language=row.language,
        received_at=row.received_at,
        verify_due=row.verify_due,
        photos=photos,
        events=events,
        version=row.version,
        title=row.title,
        forwarded_unit_id=row.forwarded_unit_id,
        forwarded_unit_name=row.forwarded_name,
        follow_up_due=row.follow_up_due,
        rating=row.rating,
        idempotency_key=row.idempotency_key,
        due_on=row.due_on,
        category=row.category,
        tags=tuple(row.tags.split(",")) if row.tags else (),
        assigned_user_id=row.assigned_user_id,
        taken_via=row.taken_via,
        widget_id=row.widget_id,
        page_url=row.page_url,
        kiosk_id=row.kiosk_id,
        kiosk_name=row.kiosk_name,
        reported_at=row.reported_at,
    )
