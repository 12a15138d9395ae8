"""Reading what an admin typed into a form or a link: text cut to a sane length to show again
when the form comes back, record ids that may be made up, and a unit picked from a list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lapor.complaints.inbox import MAX_ID
from lapor.complaints.records import Unit


def read_typed(form: Mapping[str, Any], *names: str, limit: int = 500) -> dict[str, str]:
    """What the admin typed, cut to a sane length, to show again when the form comes back."""
    return {name: str(form.get(name, ""))[:limit] for name in names}


def read_number(raw: str | None) -> int | None:
    """A record id from a form or a query string; None for anything the store cannot hold."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 12 and int(raw) <= MAX_ID:
        return int(raw)
    return None


def pick_unit(units: Sequence[Unit], raw: str) -> Unit | None:
    wanted = read_number(raw)
    return next((u for u in units if u.id == wanted), None)
