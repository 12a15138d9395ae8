"""The organisation: units and their deadlines, staff accounts and their sessions."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from lapor.complaints.access import Reach, Scope
from lapor.complaints.deadlines import UnitDeadlines
from lapor.complaints.records import ROLES, StaffSession, Unit, UnitSummary, User
from lapor.store import rows
from lapor.store import schema as t
from lapor.store.clock import now
from lapor.store.errors import Duplicate, InUse, NotFound, StoreError

# -- units ------------------------------------------------------------------------------------

_UNIT_TREE = select(
    t.units.c.id,
    t.units.c.slug,
    t.units.c.name,
    t.units.c.parent_id,
    t.units.c.path,
    t.units.c.verify_days,
    t.units.c.follow_up_days,
    t.units.c.sms_word,
).order_by(t.units.c.path)


def add_unit(conn: Connection, *, slug: str, name: str, parent_slug: str | None) -> Unit:
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


def set_sms_word(conn: Connection, *, slug: str, word: str | None) -> Unit:
    """Name the unit `slug` by `word` in text messages (already squashed), or by none."""
    row = conn.execute(select(t.units).where(t.units.c.slug == slug)).first()
    if row is None:
        raise NotFound(f"unknown unit {slug!r}")
    if word is not None:
        taken = conn.execute(
            select(t.units.c.slug).where(t.units.c.sms_word == word, t.units.c.id != row.id)
        ).scalar()
        if taken is not None:
            raise Duplicate(f"the SMS word {word!r} already names unit {taken!r}")
    conn.execute(update(t.units).where(t.units.c.id == row.id).values(sms_word=word))
    updated = conn.execute(select(t.units).where(t.units.c.id == row.id)).one()
    return rows.unit(updated)


def unit_deadlines(conn: Connection, *, unit_id: int) -> UnitDeadlines:
    """The limits in force for reports of `unit_id`: its own, else its nearest parent's."""
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


def set_unit_deadlines(
    conn: Connection, *, unit_id: int, days: UnitDeadlines, scope: Scope
) -> None:
    """Set a unit's own limits; NotFound for a unit outside `scope`."""
    query = update(t.units).where(t.units.c.id == unit_id)
    if scope.reach is not Reach.ALL:
        query = query.where(t.units.c.path.startswith(scope.unit_path))
    result = conn.execute(
        query.values(verify_days=days.verify_days, follow_up_days=days.follow_up_days)
    )
    if result.rowcount != 1:
        raise NotFound(f"no unit {unit_id} in scope")


def list_units(conn: Connection) -> list[Unit]:
    return [rows.unit(r) for r in conn.execute(select(t.units).order_by(t.units.c.path))]


def unit_tree(conn: Connection) -> list[Unit]:
    """Every unit in tree order, with its own limits."""
    return [rows.unit(r) for r in conn.execute(_UNIT_TREE)]


def unit(conn: Connection, *, unit_id: int) -> Unit | None:
    row = conn.execute(select(t.units).where(t.units.c.id == unit_id)).first()
    return rows.unit(row) if row else None


def unit_by_slug(conn: Connection, *, slug: str) -> Unit | None:
    row = conn.execute(select(t.units).where(t.units.c.slug == slug)).first()
    return rows.unit(row) if row else None


def _count(table: Any, *where: Any) -> Any:
    return select(func.count()).select_from(table).where(*where).scalar_subquery()


_CHILDREN = t.units.alias("children")
_SUMMARIES = select(
    t.units,
    _count(t.users, t.users.c.unit_id == t.units.c.id, t.users.c.active.is_(True)).label("staff"),
    _count(t.users, t.users.c.unit_id == t.units.c.id, t.users.c.active.is_(False)).label(
        "inactive"
    ),
    _count(t.posters, t.posters.c.unit_id == t.units.c.id).label("posters"),
    _count(_CHILDREN, _CHILDREN.c.parent_id == t.units.c.id).label("children"),
).order_by(t.units.c.path)


def unit_summaries(conn: Connection) -> list[UnitSummary]:
    """Every unit in tree order with what hangs off it, for the admin's unit list."""
    return [
        UnitSummary(rows.unit(r), r.staff, r.inactive, r.posters, r.children)
        for r in conn.execute(_SUMMARIES)
    ]


def rename_unit(conn: Connection, *, unit_id: int, name: str) -> Unit:
    """A new display name; the slug stays, since scripts and logs know the unit by it."""
    row = conn.execute(
        update(t.units).where(t.units.c.id == unit_id).values(name=name).returning(*t.units.c)
    ).first()
    if row is None:
        raise NotFound(f"no unit with id {unit_id}")
    return rows.unit(row)


# Every column that points at a unit, read from the schema so that a table added later
# cannot be forgotten by delete_unit. report_counts and report_forwarded_counts are keyed by
# unit but have no foreign key: delete_unit clears their rows, which are zeros once no report
# is routed or forwarded to the unit.
_UNIT_REFERENCES = [
    fk.parent
    for table in t.metadata.sorted_tables
    for fk in table.foreign_keys
    if fk.column is t.units.c.id
]


def delete_unit(conn: Connection, *, unit_id: int) -> None:
    """Only a unit nothing refers to: no sub-units, accounts, posters, reports, answer
    templates... (every foreign key to units, see _UNIT_REFERENCES). A unit that ever
    received a report stays, because the report's history names it."""
    if conn.execute(select(t.units.c.id).where(t.units.c.id == unit_id)).first() is None:
        raise NotFound(f"no unit with id {unit_id}")
    uses = [select(column).where(column == unit_id).limit(1) for column in _UNIT_REFERENCES]
    if any(conn.execute(use).first() for use in uses):
        raise InUse(f"unit {unit_id} is still in use")
    # Counter rows of a unit no report was ever routed or forwarded to hold only zeros.
    conn.execute(t.report_counts.delete().where(t.report_counts.c.unit_id == unit_id))
    conn.execute(
        t.report_forwarded_counts.delete().where(t.report_forwarded_counts.c.unit_id == unit_id)
    )
    conn.execute(t.units.delete().where(t.units.c.id == unit_id))


def require_unit(conn: Connection, unit_id: int) -> None:
    # Checked, not left to the foreign key: a unit deleted a moment ago is a clear NotFound
    # for the caller, not a driver's IntegrityError.
    if conn.execute(select(t.units.c.id).where(t.units.c.id == unit_id)).first() is None:
        raise NotFound(f"no unit with id {unit_id}")


def coordinator_units(conn: Connection) -> list[Unit]:
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
    return [rows.unit(r) for r in conn.execute(query)]


# -- users ------------------------------------------------------------------------------------

# An account with the unit it belongs to, as a session or an export's owner carries it.
_USER_AND_UNIT = select(
    t.users,
    t.units.c.slug,
    t.units.c.name.label("unit_name"),
    t.units.c.parent_id,
    t.units.c.path,
).join(t.units, t.units.c.id == t.users.c.unit_id)


def user_and_unit(row: Any) -> tuple[User, Unit]:
    """The account and its unit from a row of _USER_AND_UNIT's columns."""
    return rows.user(row), Unit(row.unit_id, row.slug, row.unit_name, row.parent_id, row.path)


def owner(conn: Connection, user_id: int) -> tuple[User, Unit]:
    return user_and_unit(conn.execute(_USER_AND_UNIT.where(t.users.c.id == user_id)).one())


def add_user(
    conn: Connection,
    *,
    email: str,
    password_hash: str,
    role: str,
    unit_id: int,
    name: str | None = None,
) -> User:
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}")
    email = email.strip().lower()
    if conn.execute(select(t.users.c.id).where(t.users.c.email == email)).first():
        raise Duplicate(f"a user with email {email!r} already exists")
    require_unit(conn, unit_id)
    user_id = conn.execute(
        insert(t.users)
        .values(
            email=email,
            password_hash=password_hash,
            role=role,
            unit_id=unit_id,
            active=True,
            created_at=now(),
            name=name,
        )
        .returning(t.users.c.id)
    ).scalar_one()
    return User(user_id, email, role, unit_id, True, password_hash, name)


def update_user(
    conn: Connection, *, user_id: int, name: str | None, role: str, unit_id: int
) -> User:
    """A person's name, role and unit. What they may see and do follows at their next request:
    every request reads the account afresh, so their sessions need not end."""
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}")
    require_unit(conn, unit_id)
    row = conn.execute(
        update(t.users)
        .where(t.users.c.id == user_id)
        .values(name=name, role=role, unit_id=unit_id)
        .returning(*t.users.c)
    ).first()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return rows.user(row)


def list_users(conn: Connection) -> list[tuple[User, Unit]]:
    return [user_and_unit(r) for r in conn.execute(_USER_AND_UNIT.order_by(t.users.c.email))]


def user_by_email(conn: Connection, *, email: str) -> User | None:
    row = conn.execute(select(t.users).where(t.users.c.email == email.strip().lower())).first()
    return rows.user(row) if row else None


def user(conn: Connection, *, user_id: int) -> User | None:
    row = conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
    return rows.user(row) if row else None


def staff_of(conn: Connection, unit_ids: Sequence[int], roles: Sequence[str]) -> list[User]:
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


def emails_of(conn: Connection, unit_id: int, role: str) -> list[str]:
    """Where mail for a unit's coordinators or officers goes: its active ones."""
    return [user.email for user in staff_of(conn, [unit_id], [role])]


def unit_staff(conn: Connection, *, unit_id: int, roles: Sequence[str]) -> list[User]:
    """The active people of one unit with one of `roles`, by e-mail."""
    return staff_of(conn, [unit_id], roles)


def set_user_active(conn: Connection, *, user_id: int, active: bool) -> User:
    """Deactivating ends the account's sessions in the same transaction: reactivating it
    later must not bring an old, perhaps stolen, cookie back to life."""
    row = conn.execute(
        update(t.users).where(t.users.c.id == user_id).values(active=active).returning(*t.users.c)
    ).first()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    if not active:
        conn.execute(t.sessions.delete().where(t.sessions.c.user_id == user_id))
    return rows.user(row)


def reset_password(
    conn: Connection, *, user_id: int, password_hash: str, keep_token_hash: str | None
) -> User:
    """A new password, and every session of the account ends but `keep_token_hash` (the
    admin's own, when they reset their own password): whoever knew the old one is out."""
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


def set_password_hash(conn: Connection, *, user_id: int, password_hash: str) -> None:
    conn.execute(update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash))


# -- staff sessions ---------------------------------------------------------------------------


def create_session(conn: Connection, *, user_id: int, token_hash: str, max_age: int) -> str:
    """A new session; returns its CSRF token."""
    csrf = secrets.token_urlsafe(24)
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
    return csrf


def session(conn: Connection, *, token_hash: str) -> StaffSession | None:
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
    user, unit = user_and_unit(row)
    return StaffSession(user, unit, row.csrf_token, row.expires_at)


def delete_other_sessions(conn: Connection, *, user_id: int, keep_token_hash: str) -> None:
    conn.execute(
        t.sessions.delete().where(
            t.sessions.c.user_id == user_id, t.sessions.c.token_hash != keep_token_hash
        )
    )


def delete_session(conn: Connection, *, token_hash: str) -> None:
    conn.execute(t.sessions.delete().where(t.sessions.c.token_hash == token_hash))
