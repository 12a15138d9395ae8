"""Answer templates: the sentences a unit keeps for answering reports, general ones and those
of a category."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, or_, select, update

from lapor.complaints.records import AnswerTemplate, Unit, User
from lapor.complaints.workflow import AnswerTemplateDraft
from lapor.store import rows
from lapor.store import schema as t
from lapor.store.clock import now
from lapor.store.errors import NotFound

_T = t.answer_templates.c
_TEMPLATES = (
    select(t.answer_templates, t.units.c.name.label("unit_name"), t.users.c.email)
    .join(t.units, t.units.c.id == _T.unit_id)
    .outerjoin(t.users, t.users.c.id == _T.updated_by_user_id)
)


def answer_templates(conn: Connection, *, unit_ids: Sequence[int]) -> list[AnswerTemplate]:
    """Templates kept by the given units (the ones a member of staff may manage)."""
    query = _TEMPLATES.where(_T.unit_id.in_(list(unit_ids)))
    return [rows.answer_template(r) for r in conn.execute(query.order_by(t.units.c.path, _T.title))]


def templates_for(conn: Connection, *, unit: Unit, category: str | None) -> list[AnswerTemplate]:
    """What a member of `unit` may pick when answering a report of `category`: templates
    of the unit and of every unit above it, general ones and those of that category."""
    wanted = (
        _T.category.is_(None)
        if category is None
        else or_(_T.category.is_(None), _T.category == category)
    )
    query = _TEMPLATES.where(_T.unit_id.in_(unit.ancestor_ids), wanted)
    return [rows.answer_template(r) for r in conn.execute(query.order_by(_T.title, _T.id))]


def save_answer_template(
    conn: Connection,
    *,
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
    if template_id is None:
        return int(
            conn.execute(
                insert(t.answer_templates).values(updated_at=now(), **values).returning(_T.id)
            ).scalar_one()
        )
    result = conn.execute(
        update(t.answer_templates)
        .where(_T.id == template_id, _T.unit_id.in_(list(unit_ids)))
        .values(updated_at=now(), **values)
    )
    if result.rowcount != 1:
        raise NotFound(f"no answer template {template_id} in scope")
    return template_id


def delete_answer_template(conn: Connection, *, template_id: int, unit_ids: Sequence[int]) -> None:
    result = conn.execute(
        t.answer_templates.delete().where(_T.id == template_id, _T.unit_id.in_(list(unit_ids)))
    )
    if result.rowcount != 1:
        raise NotFound(f"no answer template {template_id} in scope")
