"""`serve --demo`: an organisation with staff, posters and reports in every state."""

from __future__ import annotations

from typing import Any

from complaints.access import Reach, Scope
from complaints.reports import Status
from demo import REPORTS, seed_demo
from settings import Settings
from store.store import Store


async def test_the_demo_has_reports_in_every_state_and_seeds_once(
        store: Store, settings: Settings, capsys: Any) -> None:
    await seed_demo(store, settings)
    assert "koordinator@demo.lapor.id" in capsys.readouterr().out
    [root] = [u for u in await store.list_units() if u.parent_id is None]
    counts = await store.status_counts(Scope(Reach.ALL, root.id, root.path))
    assert {s for s, n in counts.items() if n} == set(Status) - {Status.NOT_AUTHORITY}
    assert sum(counts.values()) == len(REPORTS)
    await seed_demo(store, settings)  # a restart finds the organisation and adds nothing
    assert await store.count_reports() == len(REPORTS)
    assert "demo-credentials.txt" in capsys.readouterr().out
