"""One way in for a report, whatever brought it: a poster's form, a widget, a kiosk, staff
typing it in for a citizen, the demo's seed, and SMS, Open311 and the WhatsApp channel to come.

Each surface reads its own input (a form, a JSON body, a message) into a validated Submission
and an Entry, because each shows its mistakes in its own way and together with its own fields;
from there it is the same for all: the verification deadline under the unit's own rules, the
held photos put in place, one store write, the count and the mail sender woken. What the core
needs from HTTP-side services (metrics, the mail sender) it is handed as callables, so a channel
without a web request can use it as it is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from lapor.complaints.conversation import address
from lapor.complaints.records import NewReport, SubmitResult
from lapor.complaints.reports import Channel, Identity, Submission
from lapor.settings import Settings
from lapor.store.photos import ProcessedPhoto
from lapor.store.store import Store

# Told the channel a report came through and whether it was stored now (False: a resend,
# answered with the report stored before).
Count = Callable[[Channel, bool], None]


@dataclass(frozen=True)
class Entry:
    """Where a report came in, as the store records it beside the report."""

    channel: Channel
    unit_id: int
    poster_id: int | None = None
    # The widget it was sent through, and the page of the agency's site it sits on.
    widget_id: int | None = None
    page_url: str | None = None
    # The kiosk, the device's time of sending, and the tracking code it took from its pool.
    kiosk_id: int | None = None
    reported_at: datetime | None = None
    pool_code: str | None = None
    # Typed in by staff: how the citizen reached them, and who took it.
    taken_via: str | None = None
    taken_by: int | None = None
    # Came as a text message: the channel's address the receipt is sent back to ("sms:+62...",
    # "whatsapp:+62...", complaints/conversation.py), and whether the text was kept only up to
    # the report's limit (the receipt says so). A phone-only reporter of another channel gets
    # one too, when the deployment sends SMS (Intake.reply_address).
    reply_address: str | None = None
    text_cut: bool = False
    # Filed by client software through Open311: its key and name, the category its service
    # code named, the point it gave and its media link (a link for staff, never fetched).
    api_key_id: int | None = None
    api_client: str | None = None
    category: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    media_url: str | None = None
    # Typed in by staff for a report that came through the national portal: its national
    # tracking ID (SP4N-LAPOR!).
    national_id: str | None = None


def _not_counted(channel: Channel, created: bool) -> None:
    pass


def _nobody_to_wake() -> None:
    pass


def _not_noted(report_id: int) -> None:
    pass


@dataclass(frozen=True)
class Intake:
    """Built once by the composition root (and by the demo's seed, without metrics or mail)."""

    store: Store
    settings: Settings
    # PhotoStore.commit: parked photos kept, durably, before the report naming them.
    commit_photos: Callable[[list[str]], Awaitable[None]]
    # Signing.reporter_secret_hash: what the report keeps of its private link, from the
    # idempotency key. Stored with the report, so the link outlives the key that made it.
    reporter_secret_hash: Callable[[str], str]
    count: Count = _not_counted
    wake_mail: Callable[[], None] = _nobody_to_wake
    # Told the id of the report each submission stored or found again (server.py puts it on
    # the request's log line).
    note_report: Callable[[int], None] = _not_noted

    def reply_address(self, submission: Submission) -> str | None:
        """Where a reporter who left a phone number and no e-mail is told of their report:
        on the channel they chose when the deployment offers it, else the first it offers
        (Settings.phone_channels: SMS, then WhatsApp). E-mail stays as it was; an anonymous
        report keeps no number."""
        offered = self.settings.phone_channels
        if (
            not offered
            or submission.identity is Identity.ANONYMOUS
            or submission.email
            or not submission.phone
        ):
            return None
        chosen = submission.notify_by if submission.notify_by in offered else offered[0]
        return address(chosen, submission.phone)

    async def verify_due(self, unit_id: int, received: datetime) -> date:
        """The verification deadline of a report of `unit_id` received at `received`, under
        that unit's own limits where it set them."""
        return self.settings.verification_due(await self.store.unit_deadlines(unit_id), received)

    async def submit(
        self,
        submission: Submission,
        entry: Entry,
        *,
        key: str,
        language: str,
        photos: Sequence[ProcessedPhoto] = (),
        also_hashed: Sequence[str] = (),
        received_at: datetime | None = None,
        secret_hash: str | None = None,
    ) -> SubmitResult:
        """Store one report, or find the one stored before under the same idempotency `key`.

        `also_hashed` is what else was sent besides the submission and its photos (a kiosk's
        pool code): the same key with a different body is another report, and raises the
        store's IdempotencyConflict for the surface to answer in its own way. `received_at` is
        now unless the caller already stamped the arrival (a kiosk answers with it).
        `secret_hash` is the digest of a private link's secret the sender already handed out
        (a kiosk's receipt, shown before the report arrived); without it the link is derived
        from `key`."""
        received = received_at or datetime.now(UTC)
        new = NewReport(
            submission=submission,
            channel=entry.channel,
            unit_id=entry.unit_id,
            poster_id=entry.poster_id,
            idempotency_key=key,
            body_hash=submission.body_hash([*(p.digest for p in photos), *also_hashed]),
            language=language,
            received_at=received,
            verify_due=await self.verify_due(entry.unit_id, received),
            photos=[p.as_new_photo() for p in photos],
            taken_via=entry.taken_via,
            taken_by=entry.taken_by,
            widget_id=entry.widget_id,
            page_url=entry.page_url,
            kiosk_id=entry.kiosk_id,
            reported_at=entry.reported_at,
            pool_code=entry.pool_code,
            reporter_secret_hash=secret_hash or self.reporter_secret_hash(key),
            reply_address=entry.reply_address or self.reply_address(submission),
            text_cut=entry.text_cut,
            api_key_id=entry.api_key_id,
            api_client=entry.api_client,
            category=entry.category,
            latitude=entry.latitude,
            longitude=entry.longitude,
            media_url=entry.media_url,
            national_id=entry.national_id,
        )
        if photos:
            # Before the write: a stored report must never name a photo that is not in place.
            await self.commit_photos([p.name for p in photos])
        result = await self.store.submit_report(new)
        self.note_report(result.report_id)
        if result.created:
            self.count(entry.channel, True)
            self.wake_mail()
        elif entry.channel is not Channel.STAFF:
            # Staff resends (a double click at the counter) were never counted: kept so the
            # series in /metrics mean what they meant.
            self.count(entry.channel, False)
        return result
