"""Where citizens come in besides the portal: posters (a QR code on a unit's wall) and widgets
(a form embedded in an agency's site). Kiosks have a module of their own (store/kiosks.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, Table, insert, select, update

from lapor.complaints.records import Poster, Widget
from lapor.store import rows
from lapor.store import schema as t
from lapor.store.clock import now
from lapor.store.errors import NotFound, StoreError
from lapor.store.organisation import require_unit

R = TypeVar("R")


def _with_unit(table: Table) -> Select[Any]:
    """An entry point's rows with the slug and name of the unit it belongs to."""
    return select(table, t.units.c.slug.label("unit_slug"), t.units.c.name.label("unit_name")).join(
        t.units, t.units.c.id == table.c.unit_id
    )


_POSTER = _with_unit(t.posters)
_WIDGET = _with_unit(t.widgets)


def _one(conn: Connection, query: Select[Any], table: Table, key: int) -> Any:
    return conn.execute(query.where(table.c.id == key)).first()


def _listed(
    conn: Connection,
    query: Select[Any],
    table: Table,
    unit_id: int | None,
    record: Callable[[Any], R],
) -> list[R]:
    query = query.order_by(table.c.id)
    if unit_id is not None:
        query = query.where(table.c.unit_id == unit_id)
    return [record(r) for r in conn.execute(query)]


# -- posters ----------------------------------------------------------------------------------


def add_poster(conn: Connection, *, unit_id: int, label: str) -> Poster:
    require_unit(conn, unit_id)
    poster_id = conn.execute(
        insert(t.posters)
        .values(unit_id=unit_id, label=label, version=1, created_at=now())
        .returning(t.posters.c.id)
    ).scalar_one()
    return rows.poster(conn.execute(_POSTER.where(t.posters.c.id == poster_id)).one())


def poster(conn: Connection, *, poster_id: int) -> Poster | None:
    row = _one(conn, _POSTER, t.posters, poster_id)
    return rows.poster(row) if row else None


def list_posters(conn: Connection, *, unit_id: int | None) -> list[Poster]:
    return _listed(conn, _POSTER, t.posters, unit_id, rows.poster)


def relabel_poster(conn: Connection, *, poster_id: int, label: str) -> Poster:
    """A new label for a poster: its code, and so every print, stays valid; only what a new
    print says under the unit's name changes."""
    result = conn.execute(update(t.posters).where(t.posters.c.id == poster_id).values(label=label))
    if result.rowcount == 0:
        raise NotFound(f"no poster with id {poster_id}")
    return rows.poster(conn.execute(_POSTER.where(t.posters.c.id == poster_id)).one())


def revoke_poster(conn: Connection, *, poster_id: int) -> Poster:
    result = conn.execute(
        update(t.posters)
        .where(t.posters.c.id == poster_id)
        .values(version=t.posters.c.version + 1, revoked_at=now())
    )
    if result.rowcount == 0:
        raise NotFound(f"no poster with id {poster_id}")
    return rows.poster(conn.execute(_POSTER.where(t.posters.c.id == poster_id)).one())


# -- widgets ----------------------------------------------------------------------------------


def add_widget(conn: Connection, *, unit_id: int, origins: Sequence[str]) -> Widget:
    """`origins` already normalised by complaints.origins; at least one."""
    if not origins:
        raise StoreError("a widget needs at least one origin")
    require_unit(conn, unit_id)
    widget_id = conn.execute(
        insert(t.widgets)
        .values(unit_id=unit_id, origins="\n".join(origins), version=1, created_at=now())
        .returning(t.widgets.c.id)
    ).scalar_one()
    return rows.widget(conn.execute(_WIDGET.where(t.widgets.c.id == widget_id)).one())


def widget(conn: Connection, *, widget_id: int) -> Widget | None:
    row = _one(conn, _WIDGET, t.widgets, widget_id)
    return rows.widget(row) if row else None


def list_widgets(conn: Connection, *, unit_id: int | None) -> list[Widget]:
    return _listed(conn, _WIDGET, t.widgets, unit_id, rows.widget)


def set_widget_origins(conn: Connection, *, widget_id: int, origins: Sequence[str]) -> Widget:
    """The sites a widget may run on, instead of the ones it had (normalised by
    complaints.origins; at least one). Its key stays: the snippet on the sites is unchanged.
    A revoked widget keeps what it had: it runs nowhere."""
    if not origins:
        raise StoreError("a widget needs at least one origin")
    result = conn.execute(
        update(t.widgets)
        .where(t.widgets.c.id == widget_id, t.widgets.c.revoked_at.is_(None))
        .values(origins="\n".join(origins))
    )
    row = _one(conn, _WIDGET, t.widgets, widget_id)
    if row is None:
        raise NotFound(f"no widget with id {widget_id}")
    if result.rowcount == 0:
        raise StoreError(f"widget {widget_id} is revoked")
    return rows.widget(row)


def revoke_widget(conn: Connection, *, widget_id: int) -> Widget:
    """For good: the key stops working on every site at once. A new widget gets a new key."""
    result = conn.execute(
        update(t.widgets)
        .where(t.widgets.c.id == widget_id, t.widgets.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    row = _one(conn, _WIDGET, t.widgets, widget_id)
    if row is None:
        raise NotFound(f"no widget with id {widget_id}")
    if result.rowcount == 0:
        raise StoreError(f"widget {widget_id} is already revoked")
    return rows.widget(row)
