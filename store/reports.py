"""Reading a report whole: its row with the names it points at, its photos and its timeline,
as the citizen's status page or the staff's report page shows it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, false, func, select

from lapor.complaints.access import Scope
from lapor.complaints.records import Photo, Report
from lapor.store import conversation, inbox, rows
from lapor.store import schema as t

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
    select(t.report_events, t.users.c.email, t.users.c.name.label("actor_name"))
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
        rows.event(e, tuple(attached.get(e.id, ())))
        for e in conn.execute(_PUBLIC_EVENTS if public_only else _EVENTS, params)
    )
    # The conversation on the reporter's channel is for staff: the reporter has it on the phone.
    messages = () if public_only else conversation.messages(conn, report_id=report_id)
    return rows.report(row, photos, events, messages)


def report_by_tracking_code(conn: Connection, *, code: str) -> Report | None:
    """The report as its reporter sees it: public events only."""
    report_id = conn.execute(
        select(t.reports.c.id).where(t.reports.c.tracking_code == code)
    ).scalar()
    return None if report_id is None else _report(conn, report_id, public_only=True)


def sent_text(conn: Connection, *, report_id: int) -> str | None:
    """The text as its reporter sent it, when a coordinator redacted it since: the note of the
    first redaction, which kept the original. None when the text was never redacted."""
    e = t.report_events.c
    query = (
        select(e.note)
        .where(e.report_id == report_id, e.kind == "redacted", e.note.is_not(None))
        .order_by(e.id)
        .limit(1)
    )
    found: str | None = conn.execute(query).scalar()
    return found


def report_id_for_staff(conn: Connection, *, code: str, scope: Scope) -> int | None:
    """The id of the report with tracking code `code`, if `scope` reaches it."""
    query = select(t.reports.c.id).where(
        t.reports.c.tracking_code == code, inbox.scope_condition(conn, scope)
    )
    found: int | None = conn.execute(query).scalar()
    return found


def report_for_staff(conn: Connection, *, report_id: int, scope: Scope) -> Report | None:
    """The report if `scope` reaches it; None otherwise, as if it did not exist."""
    query = select(t.reports.c.id).where(
        t.reports.c.id == report_id, inbox.scope_condition(conn, scope)
    )
    if conn.execute(query).scalar() is None:
        return None
    return _report(conn, report_id)


def tracking_codes(conn: Connection, *, report_ids: Sequence[int], scope: Scope) -> dict[int, str]:
    """Tracking codes of the reports `scope` reaches among `report_ids`."""
    found = conn.execute(
        select(t.reports.c.id, t.reports.c.tracking_code).where(
            t.reports.c.id.in_(list(report_ids)), inbox.scope_condition(conn, scope)
        )
    )
    return {r.id: r.tracking_code for r in found}


def count_reports(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(t.reports)).scalar_one())


def read_report(conn: Connection, report_id: int) -> Report:
    """The report whole, every event with it, whoever asks (the national sender)."""
    return _report(conn, report_id)
