"""The submission core on both backends: what every surface's report goes through."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lapor.complaints.deadlines import UnitDeadlines, verification_due
from lapor.complaints.records import Report, SubmitResult
from lapor.complaints.reports import Channel, Identity, Kind, Submission
from lapor.intake import Entry, Intake
from lapor.settings import Settings
from lapor.store.errors import IdempotencyConflict
from lapor.store.photos import ProcessedPhoto
from lapor.store.store import Store
from lapor.web.signing import Signing, secret_digest
from tests.conftest import EVERYTHING, TEST_KEY, World

SUBMISSION = Submission(
    Kind.COMPLAINT,
    "Antrean sangat panjang dan loket tutup sebelum jam pelayanan.",
    None,
    Identity.NAMED,
    "Siti",
    "+6281234567890",
    None,
)
# A Monday morning in Banjarmasin: working days ahead, no holiday in the way.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class Recorded:
    """The core's outside world, written down: counts, wake-ups and photos moved."""

    def __init__(self) -> None:
        self.counts: list[tuple[Channel, bool]] = []
        self.wakes = 0
        self.committed: list[list[str]] = []
        self.events: list[str] = []

    def count(self, channel: Channel, created: bool) -> None:
        self.counts.append((channel, created))

    def wake(self) -> None:
        self.wakes += 1

    async def commit(self, names: list[str]) -> None:
        self.committed.append(names)
        self.events.append("photos")


@pytest.fixture
async def world(store: Store) -> World:
    return await World(store, Signing([TEST_KEY])).standard()


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture
def intake(store: Store, settings: Settings, recorded: Recorded) -> Intake:
    return Intake(
        store,
        settings,
        commit_photos=recorded.commit,
        reporter_secret_hash=Signing([TEST_KEY]).reporter_secret_hash,
        count=recorded.count,
        wake_mail=recorded.wake,
    )


async def entry_for(world: World, channel: Channel) -> Entry:
    unit = world.units["dinas"]
    if channel is Channel.POSTER:
        return Entry(channel, unit.id, poster_id=world.posters["loket"].id)
    if channel is Channel.WIDGET:
        widget = await world.store.add_widget(unit.id, ["https://dinas.example.go.id"])
        return Entry(channel, unit.id, widget_id=widget.id, page_url="https://dinas.example.go.id/")
    if channel is Channel.KIOSK:
        kiosk, _ = await world.store.kiosks.add(unit.id, "Lobi", MONDAY)
        return Entry(channel, unit.id, kiosk_id=kiosk.id, reported_at=MONDAY)
    staff = world.users["koor@prov.go.id"]
    return Entry(channel, unit.id, taken_via="phone", taken_by=staff.id)


async def stored(store: Store, result: SubmitResult) -> Report:
    report = await store.report_for_staff(result.report_id, EVERYTHING)
    assert report is not None
    return report


CHANNELS = [Channel.POSTER, Channel.WIDGET, Channel.KIOSK, Channel.STAFF]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_each_channel_stores_one_report_where_it_came_in(
    world: World, intake: Intake, recorded: Recorded, channel: Channel
) -> None:
    entry = await entry_for(world, channel)
    result = await intake.submit(SUBMISSION, entry, key=f"k-{channel.value}", language="en")
    assert result.created
    report = await stored(world.store, result)
    assert (report.channel, report.unit_id, report.language) == (channel, entry.unit_id, "en")
    assert (report.poster_id, report.widget_id, report.page_url) == (
        entry.poster_id,
        entry.widget_id,
        entry.page_url,
    )
    assert (report.kiosk_id, report.reported_at, report.taken_via) == (
        entry.kiosk_id,
        entry.reported_at,
        entry.taken_via,
    )
    assert recorded.counts == [(channel, True)]
    assert recorded.wakes == 1
    assert recorded.committed == []  # nothing to move without photos


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_resend_answers_with_the_same_report(
    world: World, intake: Intake, recorded: Recorded, channel: Channel
) -> None:
    entry = await entry_for(world, channel)
    first = await intake.submit(SUBMISSION, entry, key="same", language="id")
    again = await intake.submit(SUBMISSION, entry, key="same", language="id")
    assert (again.report_id, again.tracking_code, again.created) == (
        first.report_id,
        first.tracking_code,
        False,
    )
    resent = [] if channel is Channel.STAFF else [(channel, False)]
    assert recorded.counts == [(channel, True), *resent]
    assert recorded.wakes == 1  # no second mail for one report


async def test_a_changed_resend_conflicts(world: World, intake: Intake) -> None:
    entry = await entry_for(world, Channel.POSTER)
    first = await intake.submit(SUBMISSION, entry, key="k", language="id")
    changed = replace(SUBMISSION, text=SUBMISSION.text + " Sudah dua jam.")
    with pytest.raises(IdempotencyConflict) as raised:
        await intake.submit(changed, entry, key="k", language="id")
    assert raised.value.tracking_code == first.tracking_code


async def test_what_else_was_sent_is_part_of_the_body(world: World, intake: Intake) -> None:
    """A kiosk's pool code: the same key and text with another code is another report."""
    entry = await entry_for(world, Channel.KIOSK)
    await intake.submit(SUBMISSION, entry, key="k", language="id", also_hashed=["code:A"])
    with pytest.raises(IdempotencyConflict):
        await intake.submit(SUBMISSION, entry, key="k", language="id", also_hashed=["code:B"])


async def test_a_link_handed_out_before_arrival_is_the_one_kept(
    world: World, intake: Intake
) -> None:
    """A kiosk's receipt showed a private link before the report arrived: the report keeps
    that link's digest, not one derived from its key, and a resend keeps it too."""
    entry = await entry_for(world, Channel.KIOSK)
    digest = secret_digest("s" * 20)
    first = await intake.submit(SUBMISSION, entry, key="k", language="id", secret_hash=digest)
    assert first.reporter_secret_hash == digest
    again = await intake.submit(SUBMISSION, entry, key="k", language="id", secret_hash=digest)
    assert (again.created, again.reporter_secret_hash) == (False, digest)
    report = await world.store.report_by_tracking_code(first.tracking_code)
    assert report is not None and report.reporter_secret_hash == digest
    signing = Signing([TEST_KEY])
    assert signing.reporter_secret_ok("k", report.reporter_secret_hash, "s" * 20)
    assert not signing.reporter_secret_ok(
        "k", report.reporter_secret_hash, signing.reporter_secret("k")
    )


async def test_the_deadline_follows_the_units_own_rules(
    world: World, intake: Intake, settings: Settings
) -> None:
    await world.store.set_unit_deadlines(
        world.units["prov"].id, UnitDeadlines(verify_days=7), EVERYTHING
    )
    entry = await entry_for(world, Channel.POSTER)  # at dinas, below prov: prov's rules hold
    result = await intake.submit(SUBMISSION, entry, key="k", language="id", received_at=MONDAY)
    report = await stored(world.store, result)
    own = settings.deadline_rules.for_unit(UnitDeadlines(verify_days=7))
    expected = verification_due(MONDAY, settings.calendar, own, settings.timezone)
    default = verification_due(
        MONDAY, settings.calendar, settings.deadline_rules, settings.timezone
    )
    assert report.verify_due == expected != default
    assert report.received_at == MONDAY


async def test_photos_are_in_place_before_the_report_names_them(
    world: World, store: Store, settings: Settings, recorded: Recorded
) -> None:
    class Watched(Store):
        async def submit_report(self, *args: object, **kwargs: object) -> SubmitResult:
            recorded.events.append("report")
            return await super().submit_report(*args, **kwargs)  # type: ignore[arg-type]

    intake = Intake(
        Watched(store.db),
        settings,
        commit_photos=recorded.commit,
        reporter_secret_hash=Signing([TEST_KEY]).reporter_secret_hash,
    )
    photo = ProcessedPhoto("ab/cdef.jpg", 800, 600, 12_345, "d" * 64)
    entry = await entry_for(world, Channel.POSTER)
    result = await intake.submit(SUBMISSION, entry, key="k", language="id", photos=[photo])
    assert recorded.events == ["photos", "report"]
    assert recorded.committed == [["ab/cdef.jpg"]]
    report = await stored(store, result)
    assert [p.size_bytes for p in report.photos] == [12_345]


async def test_a_photo_that_cannot_be_put_in_place_stores_nothing(
    world: World, store: Store, settings: Settings
) -> None:
    async def broken(names: list[str]) -> None:
        raise OSError("disk full")

    intake = Intake(
        store,
        settings,
        commit_photos=broken,
        reporter_secret_hash=Signing([TEST_KEY]).reporter_secret_hash,
    )
    photo = ProcessedPhoto("ab/cdef.jpg", 800, 600, 12_345, "d" * 64)
    entry = await entry_for(world, Channel.POSTER)
    with pytest.raises(OSError):
        await intake.submit(SUBMISSION, entry, key="k", language="id", photos=[photo])
    again = await intake.submit(SUBMISSION, entry, key="k", language="id")
    assert again.created  # the failed attempt left no report behind
