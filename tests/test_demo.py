"""`serve --demo`: an organisation with staff, posters and reports in every state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from bs4 import BeautifulSoup

from lapor.complaints.access import Reach, Scope
from lapor.complaints.monitoring import roll_up
from lapor.complaints.reports import Status
from lapor.complaints.tracking import normalize
from lapor.demo import ANSWER_TEMPLATES, FEEDBACK, REPORTS, seed_demo
from lapor.server import create_app
from lapor.settings import Settings
from lapor.store.monitoring import Period
from lapor.store.store import Store


async def test_the_demo_has_reports_in_every_state_and_seeds_once(
    store: Store, settings: Settings, capsys: Any
) -> None:
    await seed_demo(store, settings)
    out = capsys.readouterr().out
    assert "koordinator@demo.lapor.id" in out
    # A kiosk to pair, with a code that works.
    kiosk_line = next(line for line in out.splitlines() if "/kiosk" in line)
    pairing = kiosk_line.split("pairing code ")[1].split()[0]
    assert await store.kiosks.pair(pairing, datetime.now(UTC)) is not None
    [root] = [u for u in await store.list_units() if u.parent_id is None]
    counts = await store.status_counts(Scope(Reach.ALL, root.id, root.path))
    assert {s for s, n in counts.items() if n} == set(Status) - {Status.NOT_AUTHORITY}
    assert sum(counts.values()) == len(REPORTS)
    # Kiosk feedback for the monitoring page's IKM.
    raw = await store.monitoring(
        Scope(Reach.ALL, root.id, root.path),
        root.path,
        Period(
            datetime.now(UTC) - timedelta(days=30),
            datetime.now(UTC) + timedelta(days=1),
            date(2026, 11, 23),
            ZoneInfo("Asia/Makassar"),
        ),
    )
    _, total = roll_up(raw, lambda key: key[0])
    assert total.feedback.ikm_responses == sum(len(s) for _, s, _ in FEEDBACK)
    assert total.feedback.ratings == sum(len(r) for _, _, r in FEEDBACK)
    assert total.feedback.grade is not None
    # Staff have names, and the units starter answers to pick from.
    coordinator = await store.user_by_email("koordinator@demo.lapor.id")
    assert coordinator is not None and coordinator.name == "Siti Nurhaliza"
    units = await store.list_units()
    templates = await store.answer_templates([u.id for u in units])
    assert sorted(t.title for t in templates) == sorted(t[2] for t in ANSWER_TEMPLATES)
    await seed_demo(store, settings)  # a restart finds the organisation and adds nothing
    assert await store.count_reports() == len(REPORTS)
    assert "demo-credentials.txt" in capsys.readouterr().out


async def test_the_demo_inbox_lists_newest_first_in_the_dates_staff_read(
    settings: Settings, capsys: Any
) -> None:
    """Seeded out of date order, "newest first" (the order reports were stored in) showed
    30 Nov, 29 Nov, 17 Nov, 23 Nov: the order must match the dates on the rows."""
    app = create_app(settings, run_background_tasks=False)
    async with app.router.lifespan_context(app):
        store = app.state.services.store
        await seed_demo(store, settings)
        password = next(
            line.split()[-1]
            for line in capsys.readouterr().out.splitlines()
            if "koordinator@" in line
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://demo.example"
        ) as client:
            signed_in = await client.post(
                "/admin/login", data={"email": "koordinator@demo.lapor.id", "password": password}
            )
            assert signed_in.status_code == 303
            page = BeautifulSoup((await client.get("/admin")).text, "html.parser")
        listed = [a.get_text() for a in page.select("table.inbox a.code")]
        assert len(listed) == len(REPORTS)
        received = []
        for code in listed:
            report = await store.report_by_tracking_code(normalize(code) or code)
            assert report is not None
            received.append(report.received_at)
    assert received == sorted(received, reverse=True)
