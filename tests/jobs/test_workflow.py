from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from lapor.jobs.workflow import close_silent_reports, queue_reminders
from lapor.server import create_app
from lapor.settings import Settings
from lapor.store import schema as t
from lapor.store.db import Database
from tests.citizen.test_reporter_link import staff_post
from tests.conftest import AppHarness, postgres_url, require_service


def status(harness: AppHarness) -> list[Any]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute("SELECT status, closed_at IS NOT NULL FROM reports").fetchall()


async def test_silent_reporters_reports_close_after_ten_working_days(harness: AppHarness) -> None:
    await harness.world.user("petugas@dinas.go.id", "officer", "dinas")
    response = await harness.submit()
    code = response.headers["location"][3:14]
    [(report_id,)] = [
        (r,)
        for (r,) in sqlite3.connect(harness.settings.data_dir / "lapor.db").execute(
            "SELECT id FROM reports"
        )
    ]
    await staff_post(
        harness,
        "koor@prov.go.id",
        report_id,
        "forward",
        title="Judul",
        category="lainnya",
        unit=str(harness.world.units["dinas"].id),
    )
    await staff_post(
        harness,
        "petugas@dinas.go.id",
        report_id,
        "follow-up",
        answer="Sudah kami tindak lanjuti hari ini.",
    )
    store, settings = harness.app.state.services.store, harness.settings
    now = datetime.now(UTC)
    # Nine calendar days on: at most seven working days have passed, the report stays open.
    assert await close_silent_reports(store, settings, now + timedelta(days=9)) == 0
    assert status(harness) == [("ditindaklanjuti", 0)]
    # A month on (whatever the holidays), it closes, and says so on the status page.
    assert await close_silent_reports(store, settings, now + timedelta(days=30)) == 1
    assert status(harness) == [("selesai", 1)]
    assert "Ditutup" in (await harness.client.get(f"/t/{code}")).text
    assert await close_silent_reports(store, settings, now + timedelta(days=31)) == 0


def at_local(harness: AppHarness, day: date) -> datetime:
    """Ten in the morning of `day` where the office is."""
    return datetime.combine(day, time(10), harness.settings.timezone).astimezone(UTC)


async def test_reminders_before_and_after_each_deadline(harness: AppHarness) -> None:
    officer = await harness.world.user("petugas@dinas.go.id", "officer", "dinas")
    await harness.world.user("petugas2@dinas.go.id", "officer", "dinas")
    await harness.submit()
    [(report_id, verify_due)] = (
        sqlite3.connect(harness.settings.data_dir / "lapor.db")
        .execute("SELECT id, verify_due FROM reports")
        .fetchall()
    )
    verify_due = date.fromisoformat(verify_due)
    store, settings = harness.app.state.services.store, harness.settings
    calendar = settings.calendar

    async def mails_after(moment: datetime) -> list[tuple[str, str]]:
        before = {m.id for m in await store.list_outbox()}
        await queue_reminders(store, settings, moment)
        return sorted(
            (m.to_address, m.subject) for m in await harness.outbox() if m.id not in before
        )

    assert await mails_after(datetime.now(UTC)) == []  # three working days to go
    on_the_day = await mails_after(at_local(harness, verify_due))
    assert [(to, subject.split(" ")[1]) for to, subject in on_the_day] == [
        ("koor@prov.go.id", "Batas")
    ]
    assert await mails_after(at_local(harness, verify_due)) == []  # once only
    late = await mails_after(at_local(harness, calendar.add_working_days(verify_due, 1)))
    assert [(to, subject.split(" ")[1]) for to, subject in late] == [
        ("koor@prov.go.id", "Terlambat:")
    ]

    await staff_post(
        harness,
        "koor@prov.go.id",
        report_id,
        "forward",
        title="Judul",
        category="lainnya",
        unit=str(harness.world.units["dinas"].id),
    )
    [(follow_up_due,)] = (
        sqlite3.connect(harness.settings.data_dir / "lapor.db")
        .execute("SELECT follow_up_due FROM reports")
        .fetchall()
    )
    soon = await mails_after(at_local(harness, date.fromisoformat(follow_up_due)))
    # Nobody assigned: both officers of the unit are told.
    assert [to for to, _ in soon] == ["petugas2@dinas.go.id", "petugas@dinas.go.id"]
    await staff_post(harness, "koor@prov.go.id", report_id, "assign", assignee=str(officer.id))
    # Past the follow-up deadline: the coordinator and the person it is assigned to.
    late = await mails_after(
        at_local(harness, calendar.add_working_days(date.fromisoformat(follow_up_due), 1))
    )
    assert [to for to, _ in late] == ["koor@prov.go.id", "petugas@dinas.go.id"]
    # Still unresolved after the escalation period: the coordinator, once.
    flagged = await mails_after(datetime.now(UTC) + timedelta(days=61))
    assert [(to, "eskalasi" in subject) for to, subject in flagged] == [("koor@prov.go.id", True)]
    assert await mails_after(datetime.now(UTC) + timedelta(days=62)) == []
    # The report's page flags it too, from its own date of receipt.
    assert (await harness.login("koor@prov.go.id")).status_code == 303
    page = await harness.client.get(f"/admin/reports/{report_id}")
    assert page.status_code == 200 and "Ombudsman" not in page.text
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        conn.execute(
            "UPDATE reports SET received_at = ?",
            ((datetime.now(UTC) - timedelta(days=61)).replace(tzinfo=None).isoformat(" "),),
        )
    page = await harness.client.get(f"/admin/reports/{report_id}")
    assert "Belum tuntas lebih dari 60 hari" in page.text


async def test_the_timer_runs_on_one_of_two_servers_and_moves_when_it_stops(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Two machines (each its own data directory) on one PostgreSQL: one runs the workflow
    timer's round, the other none; when the holder stops, the other takes the lease over."""
    url = postgres_url()
    if url is None:
        require_service("LAPOR_TEST_DATABASE_URL is not set (.ci/run sets it)")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = Database(url)
    await admin.run_standalone(lambda conn: conn.execute(text(f'CREATE SCHEMA "{schema}"')))
    apps = [
        create_app(
            make_settings(data_dir=tmp_path / name, job_lease_seconds=3),
            database=Database(url, schema=schema),
        )
        for name in ("a", "b")
    ]
    timers = [app.state.workflow_timer for app in apps]
    lifespans = [app.router.lifespan_context(app) for app in apps]
    running = []
    loop = asyncio.get_running_loop()
    try:
        for lifespan in lifespans:
            await lifespan.__aenter__()
            running.append(lifespan)
        started = loop.time()
        while sum(timer.rounds for timer in timers) == 0:
            assert loop.time() - started < 10
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)  # three beats of both: nobody runs the round again
        assert sorted(timer.rounds for timer in timers) == [0, 1]
        holder = next(i for i, timer in enumerate(timers) if timer.rounds)
        other = 1 - holder
        # The holder's machine stops (giving its lease up): the other holds it within a beat.
        await lifespans[holder].__aexit__(None, None, None)
        running.remove(lifespans[holder])
        store = apps[other].state.services.store

        def holder_now(conn: Any) -> str | None:
            found: str | None = conn.execute(select(t.leases.c.holder)).scalar()
            return found

        started = loop.time()
        while await store.db.read(holder_now) != timers[other].holder:
            assert loop.time() - started < 3
            await asyncio.sleep(0.1)
        assert timers[other].rounds == 0  # the round is not due again for TICK_SECONDS
    finally:
        for lifespan in running:
            await lifespan.__aexit__(None, None, None)
        await admin.run_standalone(
            lambda conn: conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        )
