"""One Settings object, read from the environment first and then an optional `.env` file.

Every setting lives in the SETTINGS table below with its default and help text; the table feeds
`docs/settings.md`, and a test fails when the two disagree.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.config import Config

from lapor.complaints import national
from lapor.complaints.deadlines import (
    DeadlineRules,
    UnitDeadlines,
    WorkingCalendar,
    follow_up_due,
    parse_extra_holidays,
    verification_due,
)


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the setting."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


# -- SMS (channels/sms.py, jobs/sms.py, `lapor sms kannel-config`) -------------------------
# One block, read into one SmsSettings: the SMS channel's settings change together.
_SMS_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "LAPOR_SMS_SECRET",
        "",
        "Shared secret the SMS gateway sends with every message (`secret=` in its URL, or the "
        "`X-Lapor-Secret` header); 24 random characters or more. Empty turns SMS off: "
        "`/channels/sms` answers 404.",
    ),
    Setting(
        "LAPOR_SMS_KEYWORDS",
        "LAPOR",
        "Comma-separated keywords a text message starts with to make a report, e.g. "
        "`LAPOR,LAPORPAMAN,LAPOR PAMAN`; case and spaces do not count. The first is the one "
        "the help reply quotes.",
    ),
    Setting(
        "LAPOR_SMS_SENDER",
        "",
        "The number replies are sent from (the short code, e.g. `1708`); empty lets the "
        "gateway choose.",
    ),
    Setting(
        "LAPOR_SMS_SENDSMS_URL",
        "",
        "The gateway's HTTP interface for sending, e.g. Kannel's "
        "`http://127.0.0.1:13013/cgi-bin/sendsms`. Empty: receipts wait in the outbox.",
    ),
    Setting("LAPOR_SMS_SENDSMS_USER", "lapor", "User name for the gateway's sending interface."),
    Setting("LAPOR_SMS_SENDSMS_PASSWORD", "", "Password for the gateway's sending interface."),
    Setting(
        "LAPOR_SMS_ALLOW",
        "",
        "Addresses or networks (comma-separated) the gateway calls from; empty: any address "
        "that presents the secret.",
    ),
    Setting(
        "LAPOR_SMS_LIMIT_PER_NUMBER",
        "20/hour;5/minute",
        "Text messages accepted from one phone number (a reply loop with another automatic "
        "responder stops here too).",
    ),
)


@dataclass(frozen=True)
class SmsSettings:
    secret: str = ""
    keywords: tuple[str, ...] = ("LAPOR",)
    sender: str = ""
    sendsms_url: str = ""
    sendsms_user: str = "lapor"
    sendsms_password: str = field(default="", repr=False)
    allow: tuple[IPv4Network | IPv6Network, ...] = ()
    limit_per_number: str = "20/hour;5/minute"

    @property
    def enabled(self) -> bool:
        return bool(self.secret)

    @property
    def sending(self) -> bool:
        """Whether replies can go out by SMS: phone-only reporters of every channel are then
        told of their report by SMS."""
        return bool(self.sendsms_url)


def _sms(values: Mapping[str, str]) -> SmsSettings:
    keywords = tuple(k.strip() for k in _read(values, "LAPOR_SMS_KEYWORDS").split(",") if k.strip())
    if not keywords:
        raise SettingsError("LAPOR_SMS_KEYWORDS must name at least one keyword")
    secret = _read(values, "LAPOR_SMS_SECRET")
    if secret and len(secret) < 16:
        raise SettingsError("LAPOR_SMS_SECRET must be at least 16 characters")
    return SmsSettings(
        secret=secret,
        keywords=keywords,
        sender=_read(values, "LAPOR_SMS_SENDER"),
        sendsms_url=_read(values, "LAPOR_SMS_SENDSMS_URL"),
        sendsms_user=_read(values, "LAPOR_SMS_SENDSMS_USER"),
        sendsms_password=_read(values, "LAPOR_SMS_SENDSMS_PASSWORD"),
        allow=_networks(values, "LAPOR_SMS_ALLOW"),
        limit_per_number=_rate(values, "LAPOR_SMS_LIMIT_PER_NUMBER"),
    )


# -- end of SMS ---------------------------------------------------------------------------


# -- WhatsApp (channels/whatsapp.py, jobs/whatsapp.py) -------------------------------------
# One block, read into one WhatsAppSettings, like SMS's.
_WHATSAPP_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "LAPOR_WHATSAPP_APP_SECRET",
        "",
        "The Meta app's secret (App settings > Basic): every webhook POST must carry its "
        "HMAC-SHA256 signature (`X-Hub-Signature-256`). Empty, or an empty verify token, turns "
        "WhatsApp off: `/channels/whatsapp` answers 404.",
    ),
    Setting(
        "LAPOR_WHATSAPP_VERIFY_TOKEN",
        "",
        "The token typed into the app's webhook configuration, which Meta sends back in its "
        "verification request (`hub.verify_token`); 16 random characters or more.",
    ),
    Setting(
        "LAPOR_WHATSAPP_ACCESS_TOKEN",
        "",
        "A system user's permanent access token with `whatsapp_business_messaging`, for "
        "sending replies and fetching photos. Empty: replies wait in the outbox.",
    ),
    Setting(
        "LAPOR_WHATSAPP_PHONE_NUMBER_ID",
        "",
        "The Graph API id of the business phone number replies are sent from (WhatsApp > API "
        "Setup), not the number itself. Messages to other numbers of the account are ignored.",
    ),
    Setting(
        "LAPOR_WHATSAPP_TEMPLATE",
        "",
        "The approved message template (in Indonesian, `id`, two body parameters: tracking "
        "code and status link; docs/whatsapp.md) sent outside WhatsApp's 24-hour "
        "customer-service window. Empty: outside the window, by SMS when it is set up, else "
        "the message fails.",
    ),
    Setting(
        "LAPOR_WHATSAPP_GRAPH_URL",
        "https://graph.facebook.com/v21.0",
        "The Graph API's base URL with its version.",
    ),
    Setting(
        "LAPOR_WHATSAPP_LIMIT_PER_NUMBER",
        "30/hour;10/minute",
        "WhatsApp messages (texts and photos) stored from one number; beyond it they are "
        "acknowledged to Meta and dropped.",
    ),
    Setting(
        "LAPOR_WHATSAPP_GATHER_SECONDS",
        "20",
        "How long a number must be quiet before its messages become one report: a text "
        "followed by photos within this time is one report, not several.",
    ),
)


@dataclass(frozen=True)
class WhatsAppSettings:
    app_secret: str = field(default="", repr=False)
    verify_token: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)
    phone_number_id: str = ""
    template: str = ""
    graph_url: str = "https://graph.facebook.com/v21.0"
    limit_per_number: str = "30/hour;10/minute"
    gather_seconds: int = 20

    @property
    def enabled(self) -> bool:
        return bool(self.app_secret and self.verify_token)

    @property
    def writes_first(self) -> bool:
        """Whether a number that never wrote to us can be sent a message: WhatsApp allows it
        only as an approved template, so a web reporter who chose WhatsApp needs one."""
        return bool(self.enabled and self.access_token and self.phone_number_id and self.template)


def _whatsapp(values: Mapping[str, str]) -> WhatsAppSettings:
    token = _read(values, "LAPOR_WHATSAPP_VERIFY_TOKEN")
    if token and len(token) < 16:
        raise SettingsError("LAPOR_WHATSAPP_VERIFY_TOKEN must be at least 16 characters")
    graph_url = _read(values, "LAPOR_WHATSAPP_GRAPH_URL").rstrip("/")
    if urlsplit(graph_url).scheme not in ("http", "https") or not urlsplit(graph_url).netloc:
        raise SettingsError(f"LAPOR_WHATSAPP_GRAPH_URL must be an http(s) address: {graph_url!r}")
    return WhatsAppSettings(
        app_secret=_read(values, "LAPOR_WHATSAPP_APP_SECRET"),
        verify_token=token,
        access_token=_read(values, "LAPOR_WHATSAPP_ACCESS_TOKEN"),
        phone_number_id=_read(values, "LAPOR_WHATSAPP_PHONE_NUMBER_ID"),
        template=_read(values, "LAPOR_WHATSAPP_TEMPLATE"),
        graph_url=graph_url,
        limit_per_number=_rate(values, "LAPOR_WHATSAPP_LIMIT_PER_NUMBER"),
        gather_seconds=_int(values, "LAPOR_WHATSAPP_GATHER_SECONDS"),
    )


# -- end of WhatsApp ----------------------------------------------------------------------


# -- the national portal SP4N-LAPOR! (jobs/national.py, channels/national.py) ---------------
_NATIONAL_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "LAPOR_NATIONAL_URL",
        "",
        "The national portal's report endpoint (lapor.go.id's integration API, granted to an "
        "agency's developer account; docs/national.md): verified reports are POSTed there as "
        "JSON. Empty turns forwarding off: no button on the report page, and "
        "`/channels/national` answers 404.",
    ),
    Setting(
        "LAPOR_NATIONAL_TOKEN",
        "",
        "The API token the portal issued, sent as `Authorization: Bearer ...` with every report.",
    ),
    Setting(
        "LAPOR_NATIONAL_SECRET",
        "",
        "The shared secret the portal signs its status callbacks with (HMAC-SHA256 of the body "
        "in `X-Lapor-Signature: sha256=...`); 16 characters or more. Empty: every callback is "
        "refused with 403.",
    ),
    Setting(
        "LAPOR_NATIONAL_FIELDS",
        "",
        "Which of our fields go under which JSON names, as a JSON object over the default "
        'mapping, e.g. `{"text": "isi_laporan", "reporter_name": "pelapor.nama", "kind": null}` '
        "(a dotted name nests, null leaves the field out). Empty: the default mapping of "
        "docs/national.md.",
    ),
)


@dataclass(frozen=True)
class NationalSettings:
    url: str = ""
    token: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    fields: Mapping[str, str] = field(default_factory=lambda: dict(national.DEFAULT_FIELDS))

    @property
    def enabled(self) -> bool:
        return bool(self.url)


def _national(values: Mapping[str, str]) -> NationalSettings:
    url = _read(values, "LAPOR_NATIONAL_URL")
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise SettingsError(f"LAPOR_NATIONAL_URL must be an http(s) address: {url!r}")
    secret = _read(values, "LAPOR_NATIONAL_SECRET")
    if secret and len(secret) < 16:
        raise SettingsError("LAPOR_NATIONAL_SECRET must be at least 16 characters")
    try:
        fields = national.read_fields(_read(values, "LAPOR_NATIONAL_FIELDS"))
    except ValueError as exc:
        raise SettingsError(f"LAPOR_NATIONAL_FIELDS {exc}") from None
    return NationalSettings(
        url=url, token=_read(values, "LAPOR_NATIONAL_TOKEN"), secret=secret, fields=fields
    )


# -- end of the national portal -----------------------------------------------------------


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "LAPOR_DATA_DIR",
        "./var",
        "Directory for the SQLite database, photos and XLSX exports kept as files, the exports' "
        "scratch files, generated keys and `.eml` mail files.",
    ),
    Setting(
        "LAPOR_DATABASE_URL",
        "",
        "Database URL. Empty means SQLite at `DATA_DIR/lapor.db`. "
        "`postgresql://user@host/db` uses PostgreSQL through asyncpg.",
    ),
    Setting(
        "LAPOR_BASE_URL",
        "http://127.0.0.1:8000",
        "Public address of this server, without a trailing slash. It is printed into QR "
        "codes and mails; keep it short (30 characters give a version-3 QR code). "
        "Unset, `lapor serve` uses the address it listens on and records it in the data "
        "directory, and the other commands (`poster print`, `kiosk pair`, ...) read it there, "
        "so a printed poster opens the server that runs.",
    ),
    Setting(
        "LAPOR_SECRET_KEYS",
        "",
        "Comma-separated signing keys, newest first: the newest signs, all verify, so keys "
        "can rotate (docs/security.md says what removing one does, thing by thing). "
        "Empty means a key generated once into `DATA_DIR/secret.key` (mode 0600).",
    ),
    Setting(
        "LAPOR_TIMEZONE",
        "Asia/Makassar",
        "Time zone of the deployment for dates shown to people and for working days "
        "(Asia/Jakarta = WIB, Asia/Makassar = WITA, Asia/Jayapura = WIT).",
    ),
    Setting(
        "LAPOR_DEFAULT_LANGUAGE",
        "id",
        "Language of every page until the person chooses the other one with the switch on "
        "the page (remembered in a cookie; the widget takes its host page's `lang`): `id` "
        "(Bahasa Indonesia) or `en`. The browser's own language is not asked.",
    ),
    Setting(
        "LAPOR_SMTP_URL",
        "",
        "Outgoing mail server, e.g. `smtp://user:pass@mail.example.go.id:587?starttls=1` or "
        "`smtps://...:465`. Empty means messages are written as `.eml` files under "
        "`DATA_DIR/mail/`.",
    ),
    Setting("LAPOR_MAIL_FROM", "lapor@localhost", "Sender address of notification mails."),
    Setting(
        "LAPOR_REDIS_URL",
        "",
        "Redis for rate limits shared by several workers or machines, e.g. "
        "`redis://127.0.0.1:6379/0`. Empty means per-process memory.",
    ),
    Setting(
        "LAPOR_FORM_TOKEN_MAX_AGE",
        "86400",
        "Seconds a citizen's form stays valid after it is opened (the token is also the "
        "idempotency key of the submission).",
    ),
    Setting(
        "LAPOR_JOB_LEASE_SECONDS",
        "30",
        "Seconds a process's claim on background work lasts (a message being sent, an export "
        "being written, the workflow timer); renewed every third of it while the work runs, "
        "so when a machine dies its work is taken over by another within this time and a few "
        "seconds more. Longer than the clock difference between machines (NTP keeps it far "
        "below a second).",
    ),
    Setting("LAPOR_SESSION_MAX_AGE", "43200", "Seconds a staff login lasts."),
    Setting("LAPOR_VERIFY_DAYS", "3", "Working days the coordinator has to verify a report."),
    Setting(
        "LAPOR_FOLLOW_UP_DAYS",
        "5",
        "Working days the unit has to post its follow-up after forwarding.",
    ),
    Setting(
        "LAPOR_CLOSE_AFTER_DAYS",
        "10",
        "Working days after the follow-up before a report closes when the reporter is silent.",
    ),
    Setting(
        "LAPOR_ESCALATE_AFTER_DAYS",
        "60",
        "Calendar days after which an unresolved report is flagged for the Ombudsman.",
    ),
    Setting(
        "LAPOR_REMIND_BEFORE_DAYS",
        "1",
        "Working days before a verification or follow-up deadline when the people "
        "responsible get a reminder by mail (0: on the day itself). The coordinator is "
        "also mailed once when a deadline is missed and when a report reaches the "
        "Ombudsman flag.",
    ),
    Setting(
        "LAPOR_EXTRA_HOLIDAYS",
        "",
        "Comma-separated ISO dates that are not working days in addition to national "
        "holidays and collective leave, e.g. regional holidays.",
    ),
    Setting(
        "LAPOR_SUBMIT_LIMIT_PER_ADDRESS",
        "600/hour;120/minute",
        "Submissions allowed from one client address. Generous on purpose: a service hall's "
        "Wi-Fi or a carrier's NAT puts hundreds of citizens behind one address.",
    ),
    Setting(
        "LAPOR_SUBMIT_LIMIT_PER_FORM",
        "20/hour",
        "Submissions allowed with one form token (retries of the same report count here).",
    ),
    Setting(
        "LAPOR_TRACK_LIMIT_PER_ADDRESS",
        "300/hour;60/minute",
        "Status-page lookups allowed from one client address.",
    ),
    Setting(
        "LAPOR_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS",
        "10/15minutes",
        "Staff sign-in attempts for one account from one client address, or from one browser "
        "that signed in to the account before; a successful sign-in clears the count. Also "
        "the attempts at the current password when a signed-in member of staff changes it.",
    ),
    Setting(
        "LAPOR_LOGIN_LIMIT_PER_ACCOUNT",
        "30/hour",
        "Staff sign-in attempts for one account from browsers that never signed in to it, "
        "all addresses together: slows a guesser spread over many addresses to this rate, "
        "while the owner's own browsers keep their limit above.",
    ),
    Setting(
        "LAPOR_LOGIN_LIMIT_PER_ADDRESS",
        "60/15minutes",
        "Staff sign-in attempts from one client address, all accounts together (browsers that "
        "signed in before are not counted here).",
    ),
    Setting(
        "LAPOR_KIOSK_IDLE_SECONDS",
        "60",
        "Seconds without a touch after which a kiosk wipes what the last person typed and "
        "returns to its start screen (three times as long while text is being written); "
        "a countdown shows for the last 10 seconds.",
    ),
    Setting(
        "LAPOR_KIOSK_RECEIPT_SECONDS",
        "90",
        "Seconds without a touch after which a kiosk clears a receipt (tracking code and the "
        "QR code of the reporter's private page) that nobody closed with Done; a countdown "
        "shows for the last 20 seconds. At least 30.",
    ),
    Setting(
        "LAPOR_KIOSK_PAIR_LIMIT_PER_ADDRESS",
        "5/minute;20/hour",
        "Kiosk pairing attempts allowed from one client address; a successful pairing clears "
        "the count.",
    ),
    Setting(
        "LAPOR_KIOSK_PAIR_LIMIT",
        "100/hour",
        "Six-digit pairing attempts allowed from all addresses together: with ten minutes of "
        "validity, this keeps guessing a code out of reach. Past it, six-digit codes wait and "
        "the administrator is given ten-digit codes, to which only the per-address limit "
        "applies, so strangers cannot stop a kiosk from pairing.",
    ),
    Setting(
        "LAPOR_KIOSK_REPORT_LIMIT",
        "120/hour;600/day",
        "Queued reports one kiosk may deliver, counted by kiosk whatever its address. Writing a "
        "report takes a person a minute or more; no window shorter than an hour, so the "
        "backlog an outage leaves arrives at once. Past the limit the kiosk is told to wait "
        "(429 with Retry-After) and keeps the report, and the admins' kiosk list marks it.",
    ),
    Setting(
        "LAPOR_KIOSK_FEEDBACK_LIMIT",
        "20/minute;600/hour;4000/day",
        "Quick ratings and IKM surveys one kiosk may deliver: a rating takes a person five "
        "taps, some three seconds at the very quickest. Past the limit as for reports.",
    ),
    Setting("LAPOR_MAX_PHOTOS", "3", "Photos a citizen may attach to one report."),
    Setting("LAPOR_MAX_PHOTO_BYTES", "8000000", "Largest photo file accepted, in bytes."),
    Setting(
        "LAPOR_MAX_PHOTO_PIXELS",
        "40000000",
        "Largest photo accepted, in pixels (checked from the header before decoding).",
    ),
    Setting(
        "LAPOR_PHOTO_MAX_SIDE",
        "1600",
        "Photos are re-encoded with their longest side at most this many pixels.",
    ),
    Setting(
        "LAPOR_PHOTO_STORAGE",
        "",
        "Where photos, answer attachments and finished XLSX exports are kept: `database` "
        "(tables of the database, so every machine on one PostgreSQL sees them and its backup "
        "holds them) or `files` (`DATA_DIR/photos` and `DATA_DIR/exports`, one machine's "
        "disk). Empty: `database` on PostgreSQL, `files` on SQLite.",
    ),
    Setting(
        "LAPOR_FORWARDED_ALLOW_IPS",
        "127.0.0.1",
        "Proxies whose X-Forwarded-For is trusted for the client address (uvicorn's "
        "`forwarded_allow_ips`).",
    ),
    Setting(
        "LAPOR_METRICS_ALLOW",
        "127.0.0.1,::1",
        "Addresses or networks (comma-separated, e.g. `10.0.0.0/8`) that may read `/metrics`; "
        "everyone else gets 404. Empty allows no address (then only the token does).",
    ),
    Setting(
        "LAPOR_METRICS_TOKEN",
        "",
        "A bearer token that lets any address read `/metrics` "
        "(`Authorization: Bearer TOKEN`, Prometheus's `authorization` in a scrape config). "
        "Empty: addresses only.",
    ),
    Setting(
        "LAPOR_OPEN311_LIMIT_PER_KEY",
        "30/minute;1000/day",
        "Reports one Open311 API key may file (`POST requests`), whatever the client's "
        "address; past the limit the client gets 429 with Retry-After. The public GET methods "
        "are limited per address by LAPOR_TRACK_LIMIT_PER_ADDRESS.",
    ),
    Setting(
        "LAPOR_OPEN311_JURISDICTION",
        "",
        "The `jurisdiction_id` Open311 clients may send (one jurisdiction per server); another "
        "value is answered 404. Empty: the host of LAPOR_BASE_URL, such as lapor.example.go.id.",
    ),
    Setting(
        "LAPOR_LOG_FORMAT",
        "plain",
        "How `lapor serve` writes its log on stderr: `plain` (`at level logger message "
        "key=value ...`, for a terminal or journalctl) or `json` (one JSON object a line, for "
        "a log collector). One line per request and per background job run; never a "
        "citizen's words or identity (docs/deploy.md, Logs).",
    ),
    Setting(
        "LAPOR_DRAIN_SECONDS",
        "0",
        "After SIGTERM, seconds during which `/healthz/ready` answers 503 while every other "
        "request is still served, so a load balancer that polls it stops sending requests "
        "before the server stops listening. 0: stop listening at once (a proxy on the same "
        "machine, or one that retries refused connections elsewhere).",
    ),
    Setting(
        "LAPOR_STOP_SECONDS",
        "20",
        "After the server stops listening, the longest the requests in flight get to finish "
        "(a submission's receipt included); then they are cancelled. The background jobs get "
        "10 s more to finish what they hold, and hand back the outbox claims they still hold: "
        "a process exits within DRAIN + STOP + 10 s (docs/deploy.md, Stopping).",
    ),
    *_SMS_SETTINGS,
    *_WHATSAPP_SETTINGS,
    *_NATIONAL_SETTINGS,
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}


def _read(values: Mapping[str, str], name: str) -> str:
    return values.get(name, _DEFAULTS[name]).strip()


def _networks(values: Mapping[str, str], name: str) -> tuple[IPv4Network | IPv6Network, ...]:
    networks = []
    for part in _read(values, name).split(","):
        if not part.strip():
            continue
        try:
            networks.append(ip_network(part.strip(), strict=False))
        except ValueError:
            raise SettingsError(
                f"{name} must list addresses or networks such as 10.0.0.0/8, not {part!r}"
            ) from None
    return tuple(networks)


def _int(values: Mapping[str, str], name: str, minimum: int = 0) -> int:
    raw = _read(values, name)
    try:
        number = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {number}")
    return number


def _rate(values: Mapping[str, str], name: str) -> str:
    from limits import parse_many

    raw = _read(values, name)
    try:
        parse_many(raw)
    except ValueError:
        raise SettingsError(f"{name} is not a rate limit such as '60/minute': {raw!r}") from None
    return raw


def _photo_storage(values: dict[str, str]) -> str:
    chosen = _read(values, "LAPOR_PHOTO_STORAGE")
    if chosen not in ("", "database", "files"):
        raise SettingsError(f"LAPOR_PHOTO_STORAGE must be 'database' or 'files', not {chosen!r}")
    return chosen


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    base_url: str
    secret_keys: tuple[str, ...]
    timezone: ZoneInfo
    default_language: str
    smtp_url: str
    mail_from: str
    redis_url: str
    form_token_max_age: int
    session_max_age: int
    deadline_rules: DeadlineRules
    remind_before_days: int
    extra_holidays: frozenset[date]
    submit_limit_per_address: str
    submit_limit_per_form: str
    track_limit_per_address: str
    login_limit_per_account: str
    login_limit_per_account_address: str
    login_limit_per_address: str
    kiosk_idle_seconds: int
    kiosk_receipt_seconds: int
    kiosk_pair_limit_per_address: str
    kiosk_pair_limit: str
    kiosk_report_limit: str
    kiosk_feedback_limit: str
    max_photos: int
    max_photo_bytes: int
    max_photo_pixels: int
    photo_max_side: int
    # Photos' and exports' storage: "database", "files", or "": by the database (server.py)
    photo_storage: str
    forwarded_allow_ips: str
    metrics_allow: tuple[IPv4Network | IPv6Network, ...] = ()
    metrics_token: str = ""
    sms: SmsSettings = SmsSettings()
    whatsapp: WhatsAppSettings = WhatsAppSettings()
    national: NationalSettings = NationalSettings()
    open311_limit_per_key: str = "30/minute;1000/day"
    open311_jurisdiction: str = ""
    log_format: str = "plain"
    drain_seconds: int = 0
    stop_seconds: int = 20
    job_lease_seconds: int = 30
    overrides: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def phone_channels(self) -> tuple[str, ...]:
        """The channels a reporter who leaves a phone number and no e-mail can be told of
        their report on, the first the default: SMS when the deployment sends SMS, WhatsApp
        when it may write first (WhatsAppSettings.writes_first)."""
        found = ("sms",) if self.sms.sending else ()
        return found + (("whatsapp",) if self.whatsapp.writes_first else ())

    @property
    def job_lease(self) -> timedelta:
        """How long a claim on background work lasts unrenewed (jobs/leases.py)."""
        return timedelta(seconds=self.job_lease_seconds)

    @property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(extra_holidays=self.extra_holidays)

    def verification_due(self, unit_days: UnitDeadlines, received: datetime) -> date:
        """The verification deadline of a report received at `received` by a unit with
        `unit_days` of its own (store.unit_deadlines), in this deployment's calendar."""
        rules = self.deadline_rules.for_unit(unit_days)
        return verification_due(received, self.calendar, rules, self.timezone)

    def follow_up_due(self, unit_days: UnitDeadlines, forwarded: datetime) -> date:
        """The follow-up deadline of a report forwarded at `forwarded` to such a unit."""
        rules = self.deadline_rules.for_unit(unit_days)
        return follow_up_due(forwarded, self.calendar, rules, self.timezone)

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: str | os.PathLike[str] | None = ".env",
        **overrides: Any,
    ) -> Settings:
        """Read settings. `overrides` use the setting names without the prefix, lowercased."""
        values = _collect(environ if environ is not None else os.environ, env_file)
        for key, value in overrides.items():
            name = "LAPOR_" + key.upper()
            if name not in _DEFAULTS:
                raise SettingsError(f"unknown setting {name}")
            values[name] = str(value)
        return cls._from_values(values)

    @classmethod
    def _from_values(cls, values: dict[str, str]) -> Settings:
        data_dir = Path(_read(values, "LAPOR_DATA_DIR")).expanduser()
        database_url = _read(values, "LAPOR_DATABASE_URL") or f"sqlite:///{data_dir / 'lapor.db'}"
        if not database_url.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise SettingsError(
                "LAPOR_DATABASE_URL must start with sqlite:// or postgresql://, "
                f"not {database_url.split(':', 1)[0]!r}"
            )
        base_url = _read(values, "LAPOR_BASE_URL").rstrip("/")
        if "LAPOR_BASE_URL" not in values:
            base_url = served_base_url(data_dir) or base_url
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise SettingsError(f"LAPOR_BASE_URL must be an http(s) address, not {base_url!r}")
        tz_name = _read(values, "LAPOR_TIMEZONE")
        try:
            timezone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"LAPOR_TIMEZONE is not a known time zone: {tz_name!r}") from None
        language = _read(values, "LAPOR_DEFAULT_LANGUAGE")
        if language not in ("id", "en"):
            raise SettingsError(f"LAPOR_DEFAULT_LANGUAGE must be 'id' or 'en', not {language!r}")
        try:
            extra_holidays = parse_extra_holidays(_read(values, "LAPOR_EXTRA_HOLIDAYS"))
        except ValueError as exc:
            raise SettingsError(f"LAPOR_EXTRA_HOLIDAYS: {exc}") from None
        log_format = _read(values, "LAPOR_LOG_FORMAT")
        if log_format not in ("plain", "json"):
            raise SettingsError(f"LAPOR_LOG_FORMAT must be 'plain' or 'json', not {log_format!r}")
        keys = tuple(k.strip() for k in _read(values, "LAPOR_SECRET_KEYS").split(",") if k.strip())
        if any(len(k) < 16 for k in keys):
            raise SettingsError("LAPOR_SECRET_KEYS: every key must be at least 16 characters")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            base_url=base_url,
            secret_keys=keys,
            timezone=timezone,
            default_language=language,
            smtp_url=_read(values, "LAPOR_SMTP_URL"),
            mail_from=_read(values, "LAPOR_MAIL_FROM"),
            redis_url=_read(values, "LAPOR_REDIS_URL"),
            form_token_max_age=_int(values, "LAPOR_FORM_TOKEN_MAX_AGE", minimum=60),
            job_lease_seconds=_int(values, "LAPOR_JOB_LEASE_SECONDS", minimum=3),
            session_max_age=_int(values, "LAPOR_SESSION_MAX_AGE", minimum=60),
            deadline_rules=DeadlineRules(
                verify_days=_int(values, "LAPOR_VERIFY_DAYS", minimum=1),
                follow_up_days=_int(values, "LAPOR_FOLLOW_UP_DAYS", minimum=1),
                close_after_days=_int(values, "LAPOR_CLOSE_AFTER_DAYS", minimum=1),
                escalate_after_calendar_days=_int(values, "LAPOR_ESCALATE_AFTER_DAYS", minimum=1),
            ),
            remind_before_days=_int(values, "LAPOR_REMIND_BEFORE_DAYS"),
            extra_holidays=extra_holidays,
            submit_limit_per_address=_rate(values, "LAPOR_SUBMIT_LIMIT_PER_ADDRESS"),
            submit_limit_per_form=_rate(values, "LAPOR_SUBMIT_LIMIT_PER_FORM"),
            track_limit_per_address=_rate(values, "LAPOR_TRACK_LIMIT_PER_ADDRESS"),
            login_limit_per_account=_rate(values, "LAPOR_LOGIN_LIMIT_PER_ACCOUNT"),
            login_limit_per_account_address=_rate(values, "LAPOR_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"),
            login_limit_per_address=_rate(values, "LAPOR_LOGIN_LIMIT_PER_ADDRESS"),
            kiosk_idle_seconds=_int(values, "LAPOR_KIOSK_IDLE_SECONDS", minimum=15),
            kiosk_receipt_seconds=_int(values, "LAPOR_KIOSK_RECEIPT_SECONDS", minimum=30),
            kiosk_pair_limit_per_address=_rate(values, "LAPOR_KIOSK_PAIR_LIMIT_PER_ADDRESS"),
            kiosk_pair_limit=_rate(values, "LAPOR_KIOSK_PAIR_LIMIT"),
            kiosk_report_limit=_rate(values, "LAPOR_KIOSK_REPORT_LIMIT"),
            kiosk_feedback_limit=_rate(values, "LAPOR_KIOSK_FEEDBACK_LIMIT"),
            max_photos=_int(values, "LAPOR_MAX_PHOTOS"),
            max_photo_bytes=_int(values, "LAPOR_MAX_PHOTO_BYTES", minimum=1024),
            max_photo_pixels=_int(values, "LAPOR_MAX_PHOTO_PIXELS", minimum=10_000),
            photo_max_side=_int(values, "LAPOR_PHOTO_MAX_SIDE", minimum=64),
            photo_storage=_photo_storage(values),
            forwarded_allow_ips=_read(values, "LAPOR_FORWARDED_ALLOW_IPS"),
            metrics_allow=_networks(values, "LAPOR_METRICS_ALLOW"),
            metrics_token=_read(values, "LAPOR_METRICS_TOKEN"),
            sms=_sms(values),
            whatsapp=_whatsapp(values),
            national=_national(values),
            open311_limit_per_key=_rate(values, "LAPOR_OPEN311_LIMIT_PER_KEY"),
            open311_jurisdiction=(
                _read(values, "LAPOR_OPEN311_JURISDICTION").lower() or parts.hostname or ""
            ),
            log_format=log_format,
            drain_seconds=_int(values, "LAPOR_DRAIN_SECONDS"),
            stop_seconds=_int(values, "LAPOR_STOP_SECONDS", minimum=1),
            overrides=dict(values),
        )

    def signing_keys(self) -> list[str]:
        """Keys for itsdangerous, oldest first (its convention: the last one signs)."""
        if self.secret_keys:
            return list(reversed(self.secret_keys))
        return [_generated_key(self.data_dir)]


def _collect(environ: Mapping[str, str], env_file: str | os.PathLike[str] | None) -> dict[str, str]:
    # starlette's Config gives the environment precedence over the file, which is what operators
    # expect from a systemd unit that overrides one value of a shared .env.
    config = Config(
        Path(env_file) if env_file and Path(env_file).is_file() else None, environ=environ
    )
    file_values: dict[str, str] = dict(config.file_values)
    unknown = sorted(k for k in file_values if k.startswith("LAPOR_") and k not in _DEFAULTS)
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]} in {env_file}")
    values: dict[str, str] = {}
    for setting in SETTINGS:
        value = config.get(setting.name, cast=str, default=None)
        if value is not None:
            values[setting.name] = value
    return values


SERVED_BASE_URL_FILE = "served-base-url"
SECRET_KEY_FILE = "secret.key"
# The files of the data directory besides the database and photos that a backup must keep:
# the generated signing key (without it every poster, form and private link stops working)
# and the address the served codes point at.
KEPT_FILES = (SECRET_KEY_FILE, SERVED_BASE_URL_FILE)


def served_base_url(data_dir: Path) -> str | None:
    """The base URL the last `lapor serve` on this data directory put into its codes. Read when
    LAPOR_BASE_URL is unset, so `lapor poster print` prints a poster that opens the server the
    operator runs, not the default address."""
    try:
        recorded = (data_dir / SERVED_BASE_URL_FILE).read_text().strip()
    except OSError:
        return None
    return recorded if recorded.startswith(("http://", "https://")) else None


def record_served_base_url(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / SERVED_BASE_URL_FILE).write_text(settings.base_url + "\n")


def _generated_key(data_dir: Path) -> str:
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written and fsynced under a private name, then linked into place: link() fails if
        # the key exists, so two processes starting together agree on one key, and nobody
        # ever reads a half-written (empty) key.
        tmp = data_dir / f".secret.key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: use its key
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text().strip()
    if len(key) < 16:
        raise SettingsError(
            f"{path} holds no usable key: delete it (posters signed with it "
            "stop working) or set LAPOR_SECRET_KEYS"
        )
    return key
