"""The outbox keeps a notice's facts and gives them back as they were."""

from __future__ import annotations

from datetime import date

import pytest

from lapor.complaints.notices import AnyNotice, ChangeNotice, Notice, ReminderNotice
from lapor.complaints.reminders import Reminder
from lapor.complaints.reports import Channel, Kind, Status
from lapor.store.outbox import facts, notice_of


@pytest.mark.parametrize(
    "notice",
    [
        Notice(
            7,
            "ABCDE12345",
            Kind.COMPLAINT,
            "Lampu mati — sudah seminggu",
            Channel.WIDGET,
            "Dinas",
            None,
            None,
            date(2026, 12, 1),
            widget_id=3,
            page_url="https://dinkes.example.go.id/layanan",
        ),
        ChangeNotice(7, "ABCDE12345", None, Status.FORWARDED, "RSUD", "Segera", "id", None),
        ChangeNotice(
            7, "ABCDE12345", "Judul", Status.RECEIVED, None, None, "en", date(2026, 1, 2), "reroute"
        ),
        ReminderNotice(7, "ABCDE12345", None, Reminder.OMBUDSMAN, Status.RECEIVED, None),
    ],
)
def test_facts_come_back_as_the_notice_they_were(notice: AnyNotice) -> None:
    assert notice_of(facts(notice)) == notice
