"""The workflow's moves on a report: what staff, the reporter and the timer do to it after it
came in. Each move locks the report at the version its actor saw (_lock_for_change), writes
the change with what follows from it (_apply_change), records an event and queues the mail
it calls for, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, false, insert, select, update

from lapor.complaints import search, tracking
from lapor.complaints.access import Scope
from lapor.complaints.notices import ChangeNotice
from lapor.complaints.publication import ListHold, hold_on_answer, personal_data
from lapor.complaints.records import HandOver, NewPhoto, User
from lapor.complaints.reports import Status
from lapor.complaints.workflow import (
    DECISIONS,
    TARGET,
    Action,
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
from lapor.store import inbox, national, outbox
from lapor.store import schema as t
from lapor.store.clock import now
from lapor.store.errors import NotFound
from lapor.store.organisation import emails_of, staff_of


def _event(
    report_id: int,
    at: datetime,
    kind: str,
    *,
    actor_user_id: int | None,
    public: bool,
    note: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> dict[str, Any]:
    """A row of report_events."""
    return dict(
        report_id=report_id,
        at=at,
        actor_user_id=actor_user_id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        public=public,
    )


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
    forwarded = values.get("forwarded_unit_id", row.forwarded_unit_id)
    if status != row.status or forwarded != row.forwarded_unit_id:
        inbox.bump_forwarded_counts(
            conn, [(row.forwarded_unit_id, row.status, -1), (forwarded, status, 1)]
        )


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
    """Tell the reporter, in their language, a decision, a question, an answer: by mail when
    they left an address, else on the channel they came by or left a number for (SMS). One
    notice; the sender puts it into a mail's words or a text message's."""
    to = row.reporter_email or row.reply_address
    if to:
        notice = ChangeNotice(
            row.id, row.tracking_code, row.title, status, unit_name, text, row.language, None
        )
        outbox.queue(conn, row.id, [to], notice, at)


def tell_staff(
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
    recipients = emails_of(conn, unit_id, role)
    if recipients:
        notice = ChangeNotice(
            row.id, row.tracking_code, row.title, status, None, text, "id", None, event
        )
        outbox.queue(conn, row.id, recipients, notice, at)


# -- the coordinator --------------------------------------------------------------------------


def forward_report(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    forwarding: Forwarding,
    follow_up_due: date,
) -> int:
    """Disposisi: the coordinator verifies the report and sends it to a unit of their
    subtree. Returns the report's new version."""
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
        _event(
            report_id,
            at,
            "forwarded",
            actor_user_id=actor.id,
            from_status=row.status,
            to_status=Status.FORWARDED.value,
            note=target,
            public=True,
        )
    ]
    if forwarding.note:
        events.append(
            _event(
                report_id,
                at,
                "internal_note",
                actor_user_id=actor.id,
                note=forwarding.note,
                public=False,
            )
        )
    conn.execute(insert(t.report_events), events)
    officers = emails_of(conn, forwarding.unit_id, "officer")
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
    national.send_if_unit_sends(conn, report_id, at)
    return seen_version + 1


def decide(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    action: Action,
    reason: str,
    duplicate_of: str | None,
    hand_to: HandOver | None,
) -> int:
    """Tunda, bukan wewenang or archive: a status change with a sentence for the reporter.
    `duplicate_of` (a tracking code) must name another report in the coordinator's scope.
    `hand_to` (bukan wewenang only) passes the report to another unit's coordinators."""
    if action not in DECISIONS:
        raise ValueError(f"{action} is not a decision")
    if hand_to is not None:
        if action is not Action.NOT_AUTHORITY:
            raise ValueError("only a report that is not ours is handed over")
        return _hand_over(
            conn,
            report_id=report_id,
            seen_version=seen_version,
            actor=actor,
            scope=scope,
            reason=reason,
            hand_to=hand_to,
        )
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
            _event(
                report_id,
                at,
                action.value,
                actor_user_id=actor.id,
                from_status=row.status,
                to_status=target.value,
                note=note,
                public=True,
            )
        )
    )
    _tell_reporter(conn, row, target, note, at)
    return seen_version + 1


def _hand_over(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    reason: str,
    hand_to: HandOver,
) -> int:
    row = _lock_for_change(conn, report_id, seen_version, Action.NOT_AUTHORITY, actor.role, scope)
    target = conn.execute(select(t.units.c.name).where(t.units.c.id == hand_to.unit_id)).scalar()
    coordinators = emails_of(conn, hand_to.unit_id, "coordinator")
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
            _event(
                report_id,
                at,
                Action.NOT_AUTHORITY.value,
                actor_user_id=actor.id,
                from_status=row.status,
                to_status=Status.NOT_AUTHORITY.value,
                note=note,
                public=True,
            ),
            _event(
                report_id,
                at,
                "handed_over",
                actor_user_id=actor.id,
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


def _classification_note(classification: Classification) -> str:
    return " · ".join(
        filter(
            None, [classification.title, classification.category, ", ".join(classification.tags)]
        )
    )


def classify_report(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    classification: Classification,
) -> int:
    """Change the title, category and tags the coordinator gave the report."""
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
            _event(
                report_id,
                at,
                "classified",
                actor_user_id=actor.id,
                public=False,
                note=_classification_note(classification),
            )
        )
    )
    return seen_version + 1


def redact_report(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    redaction: Redaction,
) -> int:
    """Replace the text others read and withhold photos; the original text goes into the
    audit log as an internal event that only coordinators and admins are shown."""
    row = _lock_for_change(conn, report_id, seen_version, Edit.REDACT, actor.role, scope)
    at = now()
    values: dict[str, Any] = dict(updated_at=at)
    if redaction.text != row.text:
        values.update(text=redaction.text, title=row.title)  # title: re-index search
        if row.list_hold == ListHold.REVIEW.value and not personal_data(
            redaction.text, row.answer_text
        ):
            # What made the public list wait is gone: the answer goes on the list.
            values["list_hold"] = None
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
            _event(
                report_id,
                at,
                "redacted",
                actor_user_id=actor.id,
                public=False,
                note=row.text if redaction.text != row.text else None,
            )
        )
    )
    return seen_version + 1


def extend_follow_up(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    new_due: Callable[[date], date],
    reason: str,
) -> int:
    """The coordinator gives the unit more time; `new_due` maps the current follow-up
    deadline to the extended one (working days are the caller's calendar)."""
    row = _lock_for_change(conn, report_id, seen_version, Edit.EXTEND, actor.role, scope)
    due = new_due(row.follow_up_due)
    at = now()
    _apply_change(conn, row, seen_version, dict(follow_up_due=due, updated_at=at))
    conn.execute(
        insert(t.report_events).values(
            _event(
                report_id,
                at,
                "extended",
                actor_user_id=actor.id,
                public=False,
                note=f"{row.follow_up_due.isoformat()} → {due.isoformat()}\n{reason}",
            )
        )
    )
    return seen_version + 1


# -- staff of every role ----------------------------------------------------------------------


def add_note(conn: Connection, *, report_id: int, actor: User, scope: Scope, note: str) -> None:
    """An internal note between staff. Notes never conflict, so no version is asked for."""
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
            _event(
                report_id, now(), "internal_note", actor_user_id=actor.id, note=note, public=False
            )
        )
    )


def assignable_people(conn: Connection, *, report_id: int, actor: User, scope: Scope) -> list[User]:
    """Who `actor` may hand the report to: the active coordinators and officers of the
    unit responsible for it now; an officer only their own unit's officers."""
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
    return staff_of(conn, units, roles)


def assign_report(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    assignee_id: int | None,
) -> int:
    """Give the report to one person (None: to nobody in particular)."""
    row = _lock_for_change(conn, report_id, seen_version, Edit.ASSIGN, actor.role, scope)
    assignee = None
    if assignee_id is not None:
        people = assignable_people(conn, report_id=report_id, actor=actor, scope=scope)
        assignee = next((u for u in people if u.id == assignee_id), None)
        if assignee is None:
            raise WorkflowError(Refusal.ASSIGNEE_OUTSIDE)
    at = now()
    _apply_change(conn, row, seen_version, dict(assigned_user_id=assignee_id, updated_at=at))
    conn.execute(
        insert(t.report_events).values(
            _event(
                report_id,
                at,
                "assigned" if assignee else "unassigned",
                actor_user_id=actor.id,
                public=False,
                note=assignee.email if assignee else None,
            )
        )
    )
    return seen_version + 1


# -- the unit ---------------------------------------------------------------------------------


def follow_up_report(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    answer: str,
    attachments: Sequence[NewPhoto],
) -> int:
    """Tindak lanjut: the officer of the unit the report was forwarded to answers it,
    with photos or letters attached (files already in place, see PhotoStore.commit)."""
    row = _lock_for_change(conn, report_id, seen_version, Action.FOLLOW_UP, actor.role, scope)
    at = now()
    hold = hold_on_answer(ListHold(row.list_hold) if row.list_hold else None, row.text, answer)
    _apply_change(
        conn,
        row,
        seen_version,
        dict(
            status=Status.FOLLOWED_UP.value,
            updated_at=at,
            answer_text=answer,
            list_hold=hold.value if hold else None,
        ),
    )
    event_id = conn.execute(
        insert(t.report_events)
        .values(
            _event(
                report_id,
                at,
                "followed_up",
                actor_user_id=actor.id,
                from_status=row.status,
                to_status=Status.FOLLOWED_UP.value,
                note=answer,
                public=True,
            )
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


def reroute_report(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    actor: User,
    scope: Scope,
    reason: str,
    verify_due: date,
) -> int:
    """The unit hands the report back: it is not theirs to act on. It returns to the
    coordinator's verification queue with a fresh verification deadline."""
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
            _event(
                report_id,
                at,
                "rerouted",
                actor_user_id=actor.id,
                from_status=row.status,
                to_status=Status.RECEIVED.value,
                public=True,
            ),
            _event(
                report_id, at, "internal_note", actor_user_id=actor.id, note=reason, public=False
            ),
        ],
    )
    tell_staff(conn, row, Status.RECEIVED, "reroute", reason, at)
    return seen_version + 1


# -- the reporter and the timer ---------------------------------------------------------------


def reporter_acts(
    conn: Connection,
    *,
    report_id: int,
    seen_version: int,
    action: Action,
    text: str | None,
    rating: int | None,
) -> int:
    """The reporter, through their private link: reply (re-opens the conversation with
    whoever spoke last) or accept the answer with a rating (closes the report)."""
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
            _event(
                report_id,
                at,
                "reporter_reply" if action is Action.REPLY else "accepted",
                actor_user_id=None,
                from_status=row.status,
                to_status=target.value,
                note=text if action is Action.REPLY else None,
                public=True,
            )
        )
    )
    if action is Action.REPLY:
        tell_staff(conn, row, target, "reporter_reply", text, at)
    return seen_version + 1


def answered_before(
    conn: Connection, *, cutoff: datetime, limit: int
) -> list[tuple[int, int, datetime]]:
    """(id, version, answered at) of reports waiting for their reporter since `cutoff`."""
    query = (
        select(t.reports.c.id, t.reports.c.version, t.reports.c.updated_at)
        .where(t.reports.c.status == Status.FOLLOWED_UP.value, t.reports.c.updated_at <= cutoff)
        .order_by(t.reports.c.updated_at)
        .limit(limit)
    )
    return [(r.id, r.version, r.updated_at) for r in conn.execute(query)]


def auto_close(conn: Connection, *, report_id: int, seen_version: int) -> int:
    row = _lock_for_change(conn, report_id, seen_version, Action.AUTO_CLOSE, "system")
    at = now()
    _apply_change(
        conn, row, seen_version, dict(status=Status.CLOSED.value, closed_at=at, updated_at=at)
    )
    conn.execute(
        insert(t.report_events).values(
            _event(
                report_id,
                at,
                "auto_closed",
                actor_user_id=None,
                from_status=row.status,
                to_status=Status.CLOSED.value,
                public=True,
            )
        )
    )
    return seen_version + 1
