"""What of a report the reporter and the public see (complaints/disclosure.py), which unit
answer the pages put first (complaints/progress.py), and which units a citizen may choose
without a poster (complaints/organisation.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lapor.complaints.disclosure import Hidden, for_public, for_reporter
from lapor.complaints.organisation import find_units, reportable_units
from lapor.complaints.progress import current_answer, pending_question
from lapor.complaints.records import Event, Photo, Report, Unit
from lapor.complaints.reports import Channel, Identity, Kind, Status

AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def photo(position: int, withheld: bool = False) -> Photo:
    return Photo(position + 1, position, f"{position}.jpg", "image/jpeg", 64, 48, 900, withheld)


def event(n: int, kind: str, to_status: Status | None = None, note: str | None = None) -> Event:
    return Event(n, AT, kind, None, to_status.value if to_status else None, note, True)


def report(
    status: Status = Status.FORWARDED,
    identity: Identity = Identity.NAMED,
    events: tuple[Event, ...] = (),
) -> Report:
    return Report(
        id=1,
        tracking_code="K7M2Q9XHP4",
        kind=Kind.COMPLAINT,
        status=status,
        text="Antrean panjang di loket tiga.",
        location="Loket 3",
        identity=identity,
        reporter_name="Sari" if identity is not Identity.ANONYMOUS else None,
        reporter_phone=None,
        reporter_email=None,
        channel=Channel.POSTER,
        unit_id=2,
        unit_name="Dinas Kependudukan",
        poster_id=1,
        poster_label="Loket 3",
        routed_unit_id=1,
        routed_unit_name="Pemerintah Provinsi",
        language="id",
        received_at=AT,
        verify_due=date(2026, 12, 4),
        photos=(photo(0), photo(1, withheld=True)),
        events=events,
    )


def test_the_reporter_sees_everything_they_sent() -> None:
    seen = for_reporter(report(Status.RECEIVED, Identity.CONFIDENTIAL), "Teks asli Sari.")
    assert seen.text == "Teks asli Sari." and seen.redacted
    assert seen.location == "Loket 3" and len(seen.photos) == 2 and seen.withheld == 1
    assert seen.hidden is None
    assert not for_reporter(report()).redacted


def test_the_public_sees_the_verified_report_without_withheld_photos() -> None:
    seen = for_public(report())
    assert seen.text == "Antrean panjang di loket tiga." and seen.location == "Loket 3"
    assert [p.position for p in seen.photos] == [0]
    assert for_public(report(Status.RECEIVED)).hidden is Hidden.UNVERIFIED
    confidential = for_public(report(Status.CLOSED, Identity.CONFIDENTIAL))
    assert confidential.hidden is Hidden.CONFIDENTIAL
    assert (confidential.text, confidential.location, confidential.photos) == (None, None, ())


def test_the_answer_first_is_the_last_one_not_replied_to() -> None:
    first = event(2, "followed_up", Status.FOLLOWED_UP, "Jawaban pertama.")
    second = event(4, "followed_up", Status.FOLLOWED_UP, "Jawaban kedua.")
    replied = event(3, "reporter_reply", Status.FORWARDED, "Belum beres.")
    assert current_answer(report(Status.FOLLOWED_UP, events=(first,))) == first
    assert current_answer(report(Status.FORWARDED, events=(first, replied))) is None
    assert current_answer(report(Status.CLOSED, events=(first, replied, second))) == second
    assert current_answer(report(Status.FORWARDED)) is None


def test_the_question_waiting_for_the_reporter() -> None:
    asked = event(2, "postpone", Status.POSTPONED, "Loket nomor berapa?")
    assert pending_question(report(Status.POSTPONED, events=(asked,))) == asked
    assert pending_question(report(Status.RECEIVED, events=(asked,))) is None


def unit(id: int, name: str, path: str, parent: int | None = None) -> Unit:
    return Unit(id, name.lower().replace(" ", "-"), name, parent, path)


def test_a_citizen_chooses_among_units_someone_handles_by_any_part_of_the_name() -> None:
    prov = unit(1, "Pemerintah Provinsi", "1/")
    dinkes = unit(2, "Dinas Kesehatan", "1/2/", 1)
    puskesmas = unit(3, "Puskesmas Banjarbaru Selatan", "1/2/3/", 2)
    alone = unit(4, "Badan Tanpa Koordinator", "4/")
    units = [prov, dinkes, puskesmas, alone]
    chosen = reportable_units(units, [1])
    assert chosen == [prov, dinkes, puskesmas]
    assert find_units(chosen, "  SELATAN puskesmas ") == [puskesmas]
    assert find_units(chosen, "kesehatan") == [dinkes]
    assert find_units(chosen, "") == [dinkes, prov, puskesmas]  # by name
    assert find_units([unit(5, "Dinas Pariwisata Bali", "5/")], "pariwísata") != []
