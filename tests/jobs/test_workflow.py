from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lapor.jobs.workflow import close_silent_reports, queue_reminders
from tests.citizen.test_reporter_link import staff_post
from tests.conftest import AppHarness


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
