from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from admin.tasks import close_silent_reports
from tests.citizen.test_reporter_link import staff_post
from tests.conftest import AppHarness


def status(harness: AppHarness) -> list[Any]:
    with sqlite3.connect(harness.settings.data_dir / "lapor.db") as conn:
        return conn.execute("SELECT status, closed_at IS NOT NULL FROM reports").fetchall()


async def test_silent_reporters_reports_close_after_ten_working_days(harness: AppHarness) -> None:
    await harness.world.user("petugas@dinas.go.id", "officer", "dinas")
    response = await harness.submit()
    code = response.headers["location"][3:14]
    [(report_id,)] = [(r,) for (r,) in sqlite3.connect(
        harness.settings.data_dir / "lapor.db").execute("SELECT id FROM reports")]
    await staff_post(harness, "koor@prov.go.id", report_id, "forward", title="Judul",
                     category="lainnya",
                     unit=str(harness.world.units["dinas"].id))
    await staff_post(harness, "petugas@dinas.go.id", report_id, "follow-up",
                     answer="Sudah kami tindak lanjuti hari ini.")
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
