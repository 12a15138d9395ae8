"""The records of the domain: what a report, a unit, a member of staff, a poster, a widget or a
kiosk is, as every layer names them. The store builds them from its rows; callers never see
SQLAlchemy rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from lapor.complaints.conversation import ChannelMessage
from lapor.complaints.feedback import FeedbackSubmission
from lapor.complaints.inbox import Cursor
from lapor.complaints.notices import AnyNotice
from lapor.complaints.reports import Channel, Identity, Kind, Status, Submission


@dataclass(frozen=True)
class NewFeedback:
    submission: FeedbackSubmission
    idempotency_key: str  # at most 64 characters
    body_hash: str  # submission.body_hash()
    kiosk_id: int | None
    received_at: datetime


@dataclass(frozen=True)
class FeedbackResult:
    id: int
    created: bool  # False: a resend of feedback stored before


@dataclass(frozen=True)
class Unit:
    id: int
    slug: str
    name: str
    parent_id: int | None
    path: str
    # The unit's own SP4N-LAPOR! limits in working days; None: as the unit above it.
    verify_days: int | None = None
    follow_up_days: int | None = None
    # The word a text message names it by after the keyword (`LAPOR DISDUKCAPIL ...`).
    sms_word: str | None = None
    # Every verified report of this unit and the units under it is sent to the national
    # portal SP4N-LAPOR! (complaints/national.py).
    sends_national: bool = False

    @property
    def ancestor_ids(self) -> list[int]:
        """Self first, then parent, up to the root."""
        return [int(p) for p in reversed(self.path.strip("/").split("/"))]


@dataclass(frozen=True)
class UnitSummary:
    """A unit as the admin's unit list shows it."""

    unit: Unit
    staff: int  # active accounts attached to the unit
    inactive: int  # deactivated accounts: gone from the workspace, still in the history
    posters: int
    children: int

    @property
    def empty(self) -> bool:
        """Nothing hangs off the unit but, perhaps, reports: the store checks those itself."""
        return not (self.staff or self.inactive or self.posters or self.children)


ROLES = ("coordinator", "officer", "inspector", "admin")


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str
    unit_id: int
    active: bool
    password_hash: str = field(repr=False)
    name: str | None = None  # the person's name, when an admin gave one

    @property
    def display_name(self) -> str:
        """How pages name the person: their name, else the address they sign in with."""
        return self.name or self.email


@dataclass(frozen=True)
class StaffSession:
    user: User
    unit: Unit
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class Poster:
    id: int
    unit_id: int
    label: str
    version: int
    created_at: datetime
    revoked_at: datetime | None
    unit_slug: str = ""
    unit_name: str = ""


@dataclass(frozen=True)
class Widget:
    id: int
    unit_id: int
    origins: tuple[str, ...]  # normalised (complaints.origins), in the order they were given
    version: int
    created_at: datetime
    revoked_at: datetime | None
    unit_slug: str = ""
    unit_name: str = ""

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Kiosk:
    id: int
    unit_id: int
    name: str
    version: int
    created_at: datetime
    paired_at: datetime | None
    revoked_at: datetime | None
    pairing_expires_at: datetime | None
    last_seen_at: datetime | None
    queue_length: int | None
    oldest_queued_at: datetime | None
    app_version: str | None
    storage_persistent: bool | None
    clock_offset_ms: int | None
    unit_slug: str = ""
    unit_name: str = ""
    codes_held: int = 0  # reserved for it and not delivered
    # sha256 of the credential its tablet holds; None until known (paired before it was kept).
    credential_hash: str | None = field(default=None, repr=False)
    # Minutes in which it sent more than its limits let through, and the last such time.
    limited_count: int = 0
    limited_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class ApiKey:
    """A key an Open311 client files reports with; only its sha256 is stored."""

    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class PublicReport:
    """A report as the public Open311 listing shows it: never a confidential one, never one
    staff have not verified, and nothing about who sent it."""

    id: int
    tracking_code: str
    status: Status
    text: str
    category: str | None
    location: str | None
    latitude: float | None
    longitude: float | None
    received_at: datetime
    updated_at: datetime
    # The unit answering for it now: the one it was forwarded to, else the coordinator's.
    unit_name: str
    due_on: date | None
    status_note: str | None  # the newest note the reporter can read on the status page


@dataclass(frozen=True)
class PublicUpdate:
    """One step of a public report's timeline that the reporter sees too."""

    id: int
    tracking_code: str
    at: datetime
    kind: str
    to_status: Status | None
    status: Status  # the report's status now
    note: str | None


@dataclass(frozen=True)
class ReservedCode:
    code: str  # canonical
    expires_at: datetime


@dataclass(frozen=True)
class Photo:
    id: int
    position: int
    filename: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    withheld: bool = False


@dataclass(frozen=True)
class NewPhoto:
    filename: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    digest: str


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    public: bool
    actor_email: str | None = None
    attachments: tuple[Photo, ...] = ()  # files a unit sent with its answer
    actor_name: str | None = None  # the staff member's name, when their account has one

    @property
    def actor(self) -> str | None:
        """Who of staff did it, as pages name them: their name, else their e-mail."""
        return self.actor_name or self.actor_email


@dataclass(frozen=True)
class Report:
    id: int
    tracking_code: str
    kind: Kind
    status: Status
    text: str
    location: str | None
    identity: Identity
    reporter_name: str | None
    reporter_phone: str | None
    reporter_email: str | None
    channel: Channel
    unit_id: int
    unit_name: str
    poster_id: int | None
    poster_label: str | None
    routed_unit_id: int | None
    routed_unit_name: str | None
    language: str
    received_at: datetime
    verify_due: date
    photos: tuple[Photo, ...] = ()
    events: tuple[Event, ...] = ()
    version: int = 1
    title: str | None = None
    forwarded_unit_id: int | None = None
    forwarded_unit_name: str | None = None
    follow_up_due: date | None = None
    rating: int | None = None
    idempotency_key: str = field(default="", repr=False)
    due_on: date | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    assigned_user_id: int | None = None
    taken_via: str | None = None
    widget_id: int | None = None
    page_url: str | None = None  # the agency's page a widget report was sent from
    kiosk_id: int | None = None
    kiosk_name: str | None = None
    reported_at: datetime | None = None  # the kiosk's clock when the citizen pressed send
    # Filed through Open311: the client's name, the point it gave, and the link to media it
    # sent (for staff to open; never fetched by the server).
    api_client: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    media_url: str | None = None
    # The digest(s) of its private link's secret (web/signing.py); None for a report stored
    # before they were kept and not yet filled in.
    reporter_secret_hash: str | None = field(default=None, repr=False)
    # The channel the reporter is answered on when they left no e-mail ("sms"), never the
    # number; and the conversation on it (complaints/conversation.py).
    reply_channel: str | None = None
    messages: tuple[ChannelMessage, ...] = ()
    # The public list of answered reports (complaints/publication.py): what keeps it off the
    # list ("withheld", "review"), and staff's reason for withholding it.
    list_hold: str | None = None
    list_hold_reason: str | None = None
    # The national portal's tracking ID, once it was sent there or came from there.
    national_id: str | None = None


@dataclass(frozen=True)
class InboxItem:
    id: int
    tracking_code: str
    kind: Kind
    status: Status
    excerpt: str
    unit_name: str
    channel: Channel
    received_at: datetime
    verify_due: date
    photo_count: int
    title: str | None = None
    due_on: date | None = None
    version: int = 1  # what a bulk action on the list names, like a report's own forms


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    # Set when a search stopped before reaching the oldest report (it looks at a bounded
    # stretch of reports per request): the cursor that searches on from there.
    rest: Cursor | None = None


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    to_address: str
    # None until the sender composed the words from `notice` (jobs/mail.py); set on rows
    # queued before notices were kept, which have no notice.
    subject: str | None
    body: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    report_id: int | None
    claim_token: str | None = None
    notice: AnyNotice | None = None
    # A WhatsApp message: the Graph API's id of it, and the last delivery status its webhooks
    # reported (sent, delivered, read, failed) with when.
    provider_id: str | None = None
    delivery: str | None = None
    delivery_at: datetime | None = None


@dataclass(frozen=True)
class AnswerTemplate:
    id: int
    unit_id: int
    unit_name: str
    category: str | None
    title: str
    body: str
    updated_at: datetime
    updated_by: str | None  # e-mail of the last editor


@dataclass(frozen=True)
class ExportJob:
    id: int
    token: str
    user_id: int
    query: str
    status: str  # pending, running, done, failed
    rows_done: int
    rows_total: int | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    claim_token: str | None = None  # the running job's claim, held by the process writing it
    file_token: str | None = None  # the claim whose file a done job hands out


@dataclass(frozen=True)
class NewReport:
    submission: Submission
    channel: Channel
    unit_id: int
    poster_id: int | None
    idempotency_key: str
    body_hash: str
    language: str
    received_at: datetime
    verify_due: date
    photos: Sequence[NewPhoto] = ()
    # Typed in by staff for a citizen (channel "staff"): how the citizen reached them, and who.
    taken_via: str | None = None
    taken_by: int | None = None
    # Sent through an embedded widget (channel "widget"): which one, and the agency's page.
    widget_id: int | None = None
    page_url: str | None = None
    # Sent from a kiosk (channel "kiosk"): which one, the device's time of sending, and the
    # tracking code the device took from its pool and already showed the citizen (None when
    # its pool had run dry: the store draws one as for any report).
    kiosk_id: int | None = None
    reported_at: datetime | None = None
    pool_code: str | None = None
    # sha256 of the reporter's private-link secret, stored so the link outlives its key.
    reporter_secret_hash: str | None = None
    # Where the reporter is told when they left no e-mail: a channel's address ("sms:+62...",
    # complaints/conversation.py), kept on the report for the outbox alone (an anonymous
    # report stores no number anywhere else), and whether the text was cut. A report that came
    # by that channel starts its conversation with the message itself.
    reply_address: str | None = None
    text_cut: bool = False
    # Filed by client software through Open311 (channel "api"): the key and its client's name,
    # the category its service named (the coordinator may file it under another), the point
    # it gave and its media link.
    api_key_id: int | None = None
    api_client: str | None = None
    category: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    media_url: str | None = None
    # Arrived through the national portal SP4N-LAPOR! and typed in by staff: its national
    # tracking ID, so both IDs find it.
    national_id: str | None = None


@dataclass(frozen=True)
class HandOver:
    """Bukan wewenang, passed on: the unit whose coordinators take the report over, and their
    verification deadline."""

    unit_id: int
    verify_due: date


@dataclass(frozen=True)
class SubmitResult:
    report_id: int
    tracking_code: str
    created: bool
    # What the stored report keeps of its private link: for a resend, the first delivery's,
    # which may have been made under a key that is no longer the newest.
    reporter_secret_hash: str | None = None
