"""Operator commands: `python server.py COMMAND` or `lapor COMMAND`.

A contract for operators' scripts: the output formats below (in particular the last line of
`poster add`) and the exit codes stay stable. Every refusal is one line on stderr, exit 1 (2
for a malformed command line), and changes nothing."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, TypeVar

from lapor.admin.passwords import MIN_PASSWORD_LENGTH, generate_password, hash_password
from lapor.complaints import conversation, organisation
from lapor.complaints import kiosk as kiosk_rules
from lapor.complaints import open311 as open311_rules
from lapor.complaints import origins as origins_rules
from lapor.complaints import sms as sms_rules
from lapor.complaints.records import ROLES, Kiosk, Unit, User
from lapor.complaints.reports import normalize_phone
from lapor.settings import (
    KEPT_FILES,
    SECRET_KEY_FILE,
    Settings,
    SettingsError,
    record_served_base_url,
)
from lapor.store import backup
from lapor.store.db import Database, sqlite_path
from lapor.store.errors import StoreError
from lapor.store.migrate import known_revisions, migrate
from lapor.store.photo_blobs import DatabasePhotoStore
from lapor.store.photo_files import FilePhotoStore
from lapor.store.store import Store
from lapor.web.logs import logging_config
from lapor.web.signing import Signing
from lapor.web.snippet import snippet

T = TypeVar("T")


class CommandError(Exception):
    """A refusal to print as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, as promised to scripts, instead of argparse's usage block.
        self.exit(2, f"{self.prog}: error: {message}\n")


def poster_url(settings: Settings, signing: Signing, poster_id: int, version: int) -> str:
    return signing.poster_url(settings.base_url, poster_id, version)


async def _with_store(settings: Settings, action: Callable[[Store], Awaitable[T]]) -> T:
    database = Database(settings.database_url)
    await database.connect()
    try:
        await migrate(database)
        return await action(Store(database))
    finally:
        await database.close()


def _run(settings: Settings, action: Callable[[Store], Awaitable[T]]) -> T:
    return asyncio.run(_with_store(settings, action))


# -- units -------------------------------------------------------------------------------------
def cmd_unit_add(settings: Settings, args: argparse.Namespace) -> None:
    try:
        slug = organisation.read_slug(args.slug)
    except organisation.Invalid:
        raise CommandError(
            f"bad slug {args.slug!r}: use a-z, 0-9 and '-', at most 64 characters"
        ) from None
    try:
        name = organisation.read_name(args.name)
    except organisation.Invalid:
        raise CommandError("--name must have 1 to 200 characters") from None
    unit = _run(settings, lambda store: store.add_unit(slug, name, args.parent))
    print(f"unit {unit.slug} added (id {unit.id})")


def cmd_unit_list(settings: Settings, args: argparse.Namespace) -> None:
    units = _run(settings, lambda store: store.list_units())
    by_id = {u.id: u for u in units}
    for unit in units:
        depth = unit.path.count("/") - 1
        parent = by_id[unit.parent_id].slug if unit.parent_id in by_id else "-"
        word = f"\tsms={unit.sms_word}" if unit.sms_word else ""
        sends = "\tnational=on" if unit.sends_national else ""
        print(f"{'  ' * depth}{unit.slug}\t{unit.name}\tparent={parent}{word}{sends}")


def cmd_unit_sms_word(settings: Settings, args: argparse.Namespace) -> None:
    try:
        word = sms_rules.read_unit_word(args.word or "")
    except ValueError:
        raise CommandError(
            f"bad SMS word {args.word!r}: letters and digits, at most "
            f"{sms_rules.UNIT_WORD_MAX}, not {sms_rules.ANONYMOUS_WORD}"
        ) from None
    unit = _run(settings, lambda store: store.set_unit_sms_word(args.slug, word))
    print(f"unit {unit.slug}: SMS word {unit.sms_word or '(none)'}")


def cmd_unit_national(settings: Settings, args: argparse.Namespace) -> None:
    async def change(store: Store) -> Unit:
        unit = await store.unit_by_slug(args.slug)
        if unit is None:
            raise CommandError(f"unknown unit {args.slug!r}")
        return await store.set_unit_sends_national(unit.id, args.sends == "on")

    unit = _run(settings, change)
    state = "sends" if unit.sends_national else "does not send"
    print(f"unit {unit.slug} {state} every verified report to the national portal")


# -- users -------------------------------------------------------------------------------------
def cmd_user_add(settings: Settings, args: argparse.Namespace) -> None:
    try:
        email = organisation.read_email(args.email)
    except organisation.Invalid:
        raise CommandError(f"bad e-mail address {args.email!r}") from None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise CommandError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        generated = False
    else:
        password, generated = generate_password(), True
    name = _person_name(args.name or "")

    async def add(store: Store) -> None:
        unit = await store.unit_by_slug(args.unit)
        if unit is None:
            raise CommandError(f"unknown unit {args.unit!r}")
        await store.add_user(email, hash_password(password), args.role, unit.id, name)

    _run(settings, add)
    print(f"user {email} added as {args.role} of {args.unit}")
    if generated:
        print(f"password (shown once): {password}")


def _person_name(raw: str) -> str | None:
    try:
        return organisation.read_person_name(raw)
    except organisation.Invalid:
        raise CommandError(
            f"a name has at most {organisation.MAX_PERSON_NAME} characters, "
            "without control characters"
        ) from None


def cmd_user_edit(settings: Settings, args: argparse.Namespace) -> None:
    """A person's name, role or unit; what is not given stays as it is."""
    name = None if args.name is None else _person_name(args.name)

    async def edit(store: Store) -> tuple[User, str]:
        user = await store.user_by_email(args.email)
        if user is None:
            raise CommandError(f"no account {args.email!r}")
        unit = await store.unit_by_slug(args.unit) if args.unit else await store.unit(user.unit_id)
        if unit is None:
            raise CommandError(f"unknown unit {args.unit!r}")
        changed = await store.update_user(
            user.id,
            name=user.name if args.name is None else name,
            role=args.role or user.role,
            unit_id=unit.id,
        )
        return changed, unit.slug

    user, slug = _run(settings, edit)
    print(f"user {user.email}: {user.name or '(no name)'}, {user.role} of {slug}")


def cmd_user_list(settings: Settings, args: argparse.Namespace) -> None:
    for user, unit in _run(settings, lambda store: store.list_users()):
        state = "active" if user.active else "inactive"
        print(f"{user.email}\t{user.role}\t{unit.slug}\t{state}\t{user.name or ''}")


# -- posters -----------------------------------------------------------------------------------
def cmd_poster_add(settings: Settings, args: argparse.Namespace) -> None:
    try:
        label = organisation.read_label(args.label)
    except organisation.Invalid:
        raise CommandError("--label must have 1 to 200 characters") from None

    async def add(store: Store) -> tuple[int, int]:
        unit = await store.unit_by_slug(args.unit)
        if unit is None:
            raise CommandError(f"unknown unit {args.unit!r}")
        poster = await store.add_poster(unit.id, label)
        return poster.id, poster.version

    poster_id, version = _run(settings, add)
    signing = Signing(settings.signing_keys())
    print(f"poster {poster_id} added for {args.unit}: {label}")
    print(poster_url(settings, signing, poster_id, version))


def cmd_poster_edit(settings: Settings, args: argparse.Namespace) -> None:
    try:
        label = organisation.read_label(args.label)
    except organisation.Invalid:
        raise CommandError("--label must have 1 to 200 characters") from None
    poster = _run(settings, lambda store: store.relabel_poster(args.id, label))
    print(f"poster {poster.id} of {poster.unit_slug} is now labelled: {poster.label}")
    print("its code is unchanged: prints keep working; print it again for the new label")


def cmd_poster_list(settings: Settings, args: argparse.Namespace) -> None:
    signing = Signing(settings.signing_keys())

    async def listing(store: Store) -> list[str]:
        unit_id = None
        if args.unit:
            unit = await store.unit_by_slug(args.unit)
            if unit is None:
                raise CommandError(f"unknown unit {args.unit!r}")
            unit_id = unit.id
        return [
            f"{p.id}\t{p.unit_slug}\tv{p.version}\t{p.label}\t"
            f"{poster_url(settings, signing, p.id, p.version)}"
            for p in await store.list_posters(unit_id)
        ]

    for line in _run(settings, listing):
        print(line)


def cmd_poster_revoke(settings: Settings, args: argparse.Namespace) -> None:
    poster = _run(settings, lambda store: store.revoke_poster(args.id))
    signing = Signing(settings.signing_keys())
    print(
        f"poster {poster.id} revoked: earlier prints no longer work; reprint with "
        f"`poster print {poster.id}`"
    )
    print(poster_url(settings, signing, poster.id, poster.version))


def cmd_poster_print(settings: Settings, args: argparse.Namespace) -> None:
    from lapor.web import poster_print, posters

    if (args.id is None) == (args.unit is None):
        raise CommandError("name one poster (ID) or every poster of a unit (--unit SLUG)")
    if args.unit is not None and posters.FORMATS[args.format] != "application/pdf":
        raise CommandError("--unit prints one page per poster: choose a4, a5 or tent")
    signing = Signing(settings.signing_keys())
    printed_on = poster_print.today(settings)

    async def collect(store: Store) -> tuple[list[posters.Sheet], str]:
        if args.id is not None:
            poster = await store.poster(args.id)
            if poster is None:
                raise CommandError(f"no poster with id {args.id}")
            sheet = await poster_print.poster_sheet(store, settings, signing, poster, printed_on)
            return [sheet], f"poster {poster.id}"
        unit = await store.unit_by_slug(args.unit)
        if unit is None:
            raise CommandError(f"unknown unit {args.unit!r}")
        sheets = await poster_print.unit_sheets(store, settings, signing, unit, printed_on)
        if not sheets:
            raise CommandError(f"unit {unit.slug} and its sub-units have no posters")
        return sheets, f"{len(sheets)} posters of {unit.slug} and its sub-units"

    sheets, what = _run(settings, collect)
    try:
        if args.unit is not None:
            data = posters.render_sheets("a4" if args.format == "pdf" else args.format, sheets)
        else:
            data = posters.render(args.format, sheets[0])
    except posters.PosterTooDense as exc:
        raise CommandError(f"LAPOR_BASE_URL is too long for a scannable QR code: {exc}") from None
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CommandError(f"directory {str(out.parent)!r} does not exist")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    print(f"{what} written to {out} ({len(data)} bytes)")


# -- widgets ---------------------------------------------------------------------------------
_ORIGIN_PROBLEMS = {
    "scheme": "must start with https:// or http:// (javascript:, data: and the like are refused)",
    "host": "has no valid host name",
    "port": "has an invalid port",
    "path": "must be scheme, host and port only: no path, query, fragment or user name",
    "wildcard": "cannot contain a wildcard: list each site",
    "too_many": f"too many origins: at most {origins_rules.MAX_ORIGINS}",
    "none": "give at least one --origin",
}


def _read_origins(typed: list[str]) -> list[str]:
    try:
        return origins_rules.read_origins(typed)
    except origins_rules.InvalidOrigin as exc:
        what = f"origin {exc.typed!r} " if exc.typed else ""
        raise CommandError(f"{what}{_ORIGIN_PROBLEMS[exc.problem.value]}") from None


def cmd_widget_add(settings: Settings, args: argparse.Namespace) -> None:
    origins = _read_origins(args.origin)

    async def add(store: Store) -> tuple[int, int]:
        unit = await store.unit_by_slug(args.unit)
        if unit is None:
            raise CommandError(f"unknown unit {args.unit!r}")
        widget = await store.add_widget(unit.id, origins)
        return widget.id, widget.version

    widget_id, version = _run(settings, add)
    key = Signing(settings.signing_keys()).widget_key(widget_id, version)
    code = snippet(settings.base_url, key)
    print(f"widget {widget_id} added for {args.unit}: {' '.join(origins)}")
    print(
        f"a strict Content-Security-Policy on those sites needs: {code.script_src}; "
        f"{code.frame_src}; {code.connect_src}"
    )
    print("if the site strips data-* attributes (WordPress, tag managers), paste instead:")
    print(code.url_tag)
    print("paste this line into the pages of those sites:")
    print(code.tag)


def cmd_widget_list(settings: Settings, args: argparse.Namespace) -> None:
    signing = Signing(settings.signing_keys())
    for widget in _run(settings, lambda store: store.list_widgets()):
        state = "active" if widget.active else "revoked"
        print(
            f"{widget.id}\t{widget.unit_slug}\t{state}\t{' '.join(widget.origins)}\t"
            f"{signing.widget_key(widget.id, widget.version)}"
        )


def cmd_widget_edit(settings: Settings, args: argparse.Namespace) -> None:
    origins = _read_origins(args.origin)
    widget = _run(settings, lambda store: store.set_widget_origins(args.id, origins))
    # The snippet on the sites stays the same: only where it may run changed.
    print(f"widget {widget.id} of {widget.unit_name} now runs on: {' '.join(widget.origins)}")


def cmd_widget_revoke(settings: Settings, args: argparse.Namespace) -> None:
    widget = _run(settings, lambda store: store.revoke_widget(args.id))
    print(f"widget {widget.id} revoked: its form no longer opens on any site")


# -- Open311 API keys ------------------------------------------------------------------------
def cmd_api_key_add(settings: Settings, args: argparse.Namespace) -> None:
    try:
        name = open311_rules.read_client_name(args.name)
    except ValueError:
        raise CommandError(
            f"the client's name must be 1 to {open311_rules.NAME_MAX} characters"
        ) from None
    key = open311_rules.new_api_key()
    api_key = _run(settings, lambda store: store.add_api_key(name, open311_rules.api_key_hash(key)))
    print(f"API key {api_key.id} added for {name}: it is shown only now, only its hash is kept")
    print(key)


def cmd_api_key_list(settings: Settings, args: argparse.Namespace) -> None:
    for api_key in _run(settings, lambda store: store.list_api_keys()):
        state = "revoked" if api_key.revoked_at else "active"
        used = api_key.last_used_at.isoformat(timespec="seconds") if api_key.last_used_at else "-"
        print(f"{api_key.id}\t{state}\t{used}\t{api_key.name}")


def cmd_api_key_revoke(settings: Settings, args: argparse.Namespace) -> None:
    api_key = _run(settings, lambda store: store.revoke_api_key(args.id))
    print(f"API key {api_key.id} of {api_key.name} revoked: it files no more reports")


# -- kiosks ----------------------------------------------------------------------------------
LONG_CODE_HELP = (
    "a ten-digit code, which pairs even while six-digit codes are paused after many wrong "
    "guesses (the web page gives one by itself then)"
)


def _pairing_lines(settings: Settings, kiosk: Kiosk, code: str) -> None:
    minutes = int(kiosk_rules.PAIRING_LIFETIME.total_seconds() // 60)
    print(
        f"open {settings.base_url}/kiosk on the tablet and type this code within "
        f"{minutes} minutes (it works once):"
    )
    print(code)


def cmd_kiosk_add(settings: Settings, args: argparse.Namespace) -> None:
    name = kiosk_rules.read_kiosk_name(args.name)
    if name is None:
        raise CommandError(f"--name must have 1 to {kiosk_rules.NAME_MAX} characters")

    async def add(store: Store) -> tuple[Kiosk, str]:
        unit = await store.unit_by_slug(args.unit)
        if unit is None:
            raise CommandError(f"unknown unit {args.unit!r}")
        return await store.kiosks.add(unit.id, name, datetime.now(UTC), long_code=args.long)

    kiosk, code = _run(settings, add)
    print(f"kiosk {kiosk.id} added for {args.unit}: {kiosk.name}")
    _pairing_lines(settings, kiosk, code)


def cmd_kiosk_pair(settings: Settings, args: argparse.Namespace) -> None:
    kiosk, code = _run(
        settings,
        lambda store: store.kiosks.new_pairing_code(
            args.id, datetime.now(UTC), long_code=args.long
        ),
    )
    print(f"kiosk {kiosk.id} ({kiosk.name}): pairing it again replaces the tablet it ran on")
    _pairing_lines(settings, kiosk, code)


def cmd_kiosk_list(settings: Settings, args: argparse.Namespace) -> None:
    kiosks = _run(settings, lambda store: store.kiosks.all())
    print(
        "id\tunit\tstate\tlast heartbeat\tqueue\toldest queued\tapp\tstorage\tclock offset"
        "\tcodes\tname"
    )
    zone = settings.timezone

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "-"

    for kiosk in kiosks:
        state = (
            "revoked"
            if not kiosk.active
            else "paired"
            if kiosk.paired_at
            else "waiting for pairing"
        )
        storage = {True: "persistent", False: "best-effort", None: "-"}[kiosk.storage_persistent]
        offset = (
            f"{kiosk.clock_offset_ms / 1000:+.1f}s" if kiosk.clock_offset_ms is not None else "-"
        )
        queue = str(kiosk.queue_length) if kiosk.queue_length is not None else "-"
        print(
            f"{kiosk.id}\t{kiosk.unit_slug}\t{state}\t{when(kiosk.last_seen_at)}\t{queue}\t"
            f"{when(kiosk.oldest_queued_at)}\t{kiosk.app_version or '-'}\t{storage}\t"
            f"{offset}\t{kiosk.codes_held}\t{kiosk.name}"
        )


def cmd_kiosk_revoke(settings: Settings, args: argparse.Namespace) -> None:
    kiosk = _run(settings, lambda store: store.kiosks.revoke(args.id, datetime.now(UTC)))
    print(
        f'kiosk {kiosk.id} revoked: it shows "not active" at its next contact; its unused '
        "tracking codes are released"
    )
    if kiosk.queue_length:
        print(
            f"warning: at its last heartbeat it still held {kiosk.queue_length} unsent "
            "report(s); pair the tablet to a new kiosk to deliver them",
            file=sys.stderr,
        )


# -- database and server -----------------------------------------------------------------------
def cmd_sms_kannel_config(settings: Settings, args: argparse.Namespace) -> None:
    from lapor.channels.kannel import kannel_config

    if not settings.sms.enabled:
        print("lapor: warning: LAPOR_SMS_SECRET is empty, so SMS is off", file=sys.stderr)
    print(kannel_config(settings), end="")


def cmd_whatsapp_setup(settings: Settings, args: argparse.Namespace) -> None:
    from lapor.channels.whatsapp import setup_text

    print(setup_text(settings), end="")


def _number_address(raw: str, channel: str) -> str:
    number = normalize_phone(raw)
    if number is None:
        raise CommandError(f"not a phone number: {raw!r} (such as 081234567890 or +6281234567890)")
    return conversation.address(channel, number)


def cmd_sms_block(settings: Settings, args: argparse.Namespace) -> None:
    where = _number_address(args.number, args.channel)
    note = " ".join(args.note.split())
    if len(note) > 200:
        raise CommandError("the note can have at most 200 characters")
    _run(settings, lambda store: store.set_blocked(where, True, note))
    print(f"blocked {where}")


def cmd_sms_unblock(settings: Settings, args: argparse.Namespace) -> None:
    where = _number_address(args.number, args.channel)
    _run(settings, lambda store: store.set_blocked(where, False))
    print(f"unblocked {where}")


def cmd_sms_blocked(settings: Settings, args: argparse.Namespace) -> None:
    for where, at, note in _run(settings, lambda store: store.blocked_numbers()):
        print(f"{where}\t{at.isoformat(timespec='seconds')}" + (f"\t{note}" if note else ""))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    signing = Signing(settings.signing_keys())

    async def fill_in(store: Store) -> int:
        # As the server does when it starts: reports from before their links' digests were
        # kept get them now, under the keys configured now (docs/security.md).
        return await store.fill_in_reporter_secrets(signing.reporter_secret_hashes)

    filled = _run(settings, fill_in)
    if filled:
        print(f"kept the private links of {filled} earlier report(s)")
    print("database is up to date")


def _lapor_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lapor-frontdoor")
    except PackageNotFoundError:
        return "unknown"


def _sqlite_database(settings: Settings, command: str) -> Path:
    if not settings.database_url.startswith("sqlite:"):
        raise CommandError(
            f"lapor {command} is for an SQLite deployment; on PostgreSQL use pg_dump and "
            "pg_restore (docs/deploy.md, Backups)"
        )
    return Path(sqlite_path(settings.database_url))


def cmd_backup(settings: Settings, args: argparse.Namespace) -> None:
    database = _sqlite_database(settings, "backup")
    photos = FilePhotoStore(
        settings.photo_dir,
        max_bytes=settings.max_photo_bytes,
        max_pixels=settings.max_photo_pixels,
        max_side=settings.photo_max_side,
    )
    written = backup.write_backup(
        Path(args.path),
        database=database,
        photo_path=photos.path,
        data_dir=settings.data_dir,
        kept_files=KEPT_FILES,
        versions={"lapor": _lapor_version()},
    )
    counts = written.manifest["counts"]
    files = len(written.manifest["files"])
    print(
        f"backed up {counts.get('reports', 0)} report(s), "
        f"{counts.get('report_photos', 0) + counts.get('event_attachments', 0)} photo(s) and "
        f"attachment(s) ({files} files, schema revision "
        f"{written.manifest['schema_revision']}) into {written.path}"
    )
    if written.missing:
        print(
            f"lapor: warning: {len(written.missing)} photo file(s) the database names were not "
            f"in {settings.photo_dir} and are not in the backup, e.g. {written.missing[0]}",
            file=sys.stderr,
        )
    if settings.secret_keys:
        print(
            "note: the signing keys are set in LAPOR_SECRET_KEYS, not kept in the data "
            "directory: keep them with the backup, or posters and private links stop working"
        )


def cmd_restore(settings: Settings, args: argparse.Namespace) -> None:
    database = _sqlite_database(settings, "restore")
    manifest = backup.restore_backup(
        Path(args.path),
        data_dir=settings.data_dir,
        database=database,
        known_revisions=known_revisions(),
    )
    counts = manifest["counts"]
    print(
        f"restored {counts.get('reports', 0)} report(s) and "
        f"{counts.get('report_photos', 0) + counts.get('event_attachments', 0)} photo(s) and "
        f"attachment(s) into {settings.data_dir} (schema revision "
        f"{manifest['schema_revision']}, backed up {manifest['created_at']}); "
        "`lapor serve` brings an older schema up to date"
    )
    if SECRET_KEY_FILE not in manifest["files"] and not settings.secret_keys:
        print(
            "lapor: warning: the backup holds no secret.key (the old server had "
            "LAPOR_SECRET_KEYS set): set the same keys here, or posters and private links "
            "stop working",
            file=sys.stderr,
        )


def cmd_photos_import(settings: Settings, args: argparse.Namespace) -> None:
    from lapor.server import photo_store

    async def copy(store: Store) -> tuple[int, int]:
        photos = photo_store(settings, store.db)
        if not isinstance(photos, DatabasePhotoStore):
            raise CommandError(
                "photos are kept in the data directory here (SQLite, or "
                "LAPOR_PHOTO_STORAGE=files): there is no table to copy them into"
            )
        return await photos.import_files()

    copied, present = _run(settings, copy)
    print(
        f"copied {copied} photo(s) and letter(s) from {settings.photo_dir} into the database; "
        f"{present} were in it already"
    )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from lapor.demo import seed_demo

    chosen = "LAPOR_BASE_URL" in settings.overrides
    if not chosen:
        # Unset: the address we listen on is the best guess, and workers must agree with us.
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        os.environ["LAPOR_BASE_URL"] = f"http://{host}:{args.port}"
        settings = Settings.load()
        if args.host in ("0.0.0.0", "::"):
            print(
                "note: set LAPOR_BASE_URL to the address phones reach this server at; "
                "it is printed into QR codes"
            )
    settings.signing_keys()  # create the key once, before workers race to do it
    record_served_base_url(settings)
    print(
        f"QR codes, posters and links point at {settings.base_url}"
        + ("" if chosen else " (set LAPOR_BASE_URL to change it)")
        + "; `lapor poster print` and the other commands use the same"
    )
    if args.workers > 1 and not settings.redis_url:
        print(
            "note: without LAPOR_REDIS_URL each worker keeps its own rate limits, so every "
            f"limit is in effect {args.workers} times as generous"
        )
    if args.workers > 1:
        # prometheus_client's multiprocess mode: set before the workers import it.
        metrics_dir = settings.data_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    _run(settings, lambda store: seed_demo(store, settings) if args.demo else _nothing())
    # The demo's URLs before uvicorn's log lines, also when stdout is a file or a pipe.
    sys.stdout.flush()
    uvicorn.run(
        "lapor.server:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level="info",
        log_config=logging_config(settings.log_format),
        access_log=args.access_log,
        server_header=False,
        # SIGTERM: the requests in flight get this long once the server stops listening
        # (after LAPOR_DRAIN_SECONDS); server.py's lifespan then stops the jobs.
        timeout_graceful_shutdown=settings.stop_seconds,
    )


async def _nothing() -> None:
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lapor", description="QR posters, widget and kiosk for SP4N-LAPOR!")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="migrate the database and run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="also uvicorn's own line per request, with the raw path and query (which carry "
        "tracking codes and private links' secrets): for debugging, never in production. "
        "Every request has its line without it (LAPOR_LOG_FORMAT)",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="seed a demo organisation into an empty database and print the URLs",
    )
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )
    backup_parser = commands.add_parser(
        "backup",
        help="write a consistent copy of an SQLite deployment (database, photos, keys) into a "
        "new directory, while the server runs",
    )
    backup_parser.add_argument("path", help="a directory that does not exist yet, or is empty")
    backup_parser.set_defaults(func=cmd_backup)
    restore_parser = commands.add_parser(
        "restore",
        help="bring a backup back into an empty data directory (LAPOR_DATA_DIR), checking "
        "every file against its manifest",
    )
    restore_parser.add_argument("path", help="a directory written by `lapor backup`")
    restore_parser.set_defaults(func=cmd_restore)

    photos = commands.add_parser("photos", help="where photos and letters are kept")
    photos_commands = photos.add_subparsers(dest="action", required=True, parser_class=_Parser)
    photos_commands.add_parser(
        "import",
        help="copy the photos this machine kept in its data directory into the database "
        "(after moving to LAPOR_PHOTO_STORAGE=database; run on each machine that has some)",
    ).set_defaults(func=cmd_photos_import)

    unit = commands.add_parser("unit", help="units of the organisation tree")
    unit_commands = unit.add_subparsers(dest="action", required=True, parser_class=_Parser)
    unit_add = unit_commands.add_parser("add")
    unit_add.add_argument("slug")
    unit_add.add_argument("--name", required=True)
    unit_add.add_argument("--parent")
    unit_add.set_defaults(func=cmd_unit_add)
    unit_commands.add_parser("list").set_defaults(func=cmd_unit_list)
    unit_word = unit_commands.add_parser(
        "sms-word", help="the word after the SMS keyword that sends a report to this unit"
    )
    unit_word.add_argument("slug")
    unit_word.add_argument("word", nargs="?", help="leave out to clear it")
    unit_word.set_defaults(func=cmd_unit_sms_word)
    unit_national = unit_commands.add_parser(
        "national",
        help="whether every verified report of this unit and those under it goes to the "
        "national portal SP4N-LAPOR! (docs/national.md)",
    )
    unit_national.add_argument("slug")
    unit_national.add_argument("sends", choices=["on", "off"])
    unit_national.set_defaults(func=cmd_unit_national)

    user = commands.add_parser("user", help="staff accounts")
    user_commands = user.add_subparsers(dest="action", required=True, parser_class=_Parser)
    user_add = user_commands.add_parser("add")
    user_add.add_argument("email")
    user_add.add_argument("--role", required=True, choices=ROLES)
    user_add.add_argument("--unit", required=True)
    user_add.add_argument("--password-stdin", action="store_true")
    user_add.add_argument("--name", help="the person's name, as colleagues should read it")
    user_add.set_defaults(func=cmd_user_add)
    user_edit = user_commands.add_parser(
        "edit", help="change a person's name, role or unit (what is not given stays)"
    )
    user_edit.add_argument("email")
    user_edit.add_argument("--name", help="the person's name; an empty one removes it")
    user_edit.add_argument("--role", choices=ROLES)
    user_edit.add_argument("--unit", help="the short name (slug) of the unit they move to")
    user_edit.set_defaults(func=cmd_user_edit)
    user_commands.add_parser("list").set_defaults(func=cmd_user_list)

    poster = commands.add_parser("poster", help="QR posters")
    poster_commands = poster.add_subparsers(dest="action", required=True, parser_class=_Parser)
    poster_add = poster_commands.add_parser("add")
    poster_add.add_argument("unit")
    poster_add.add_argument("--label", required=True)
    poster_add.set_defaults(func=cmd_poster_add)
    poster_list = poster_commands.add_parser("list")
    poster_list.add_argument("--unit")
    poster_list.set_defaults(func=cmd_poster_list)
    poster_edit = poster_commands.add_parser("edit", help="change a poster's label")
    poster_edit.add_argument("id", type=int)
    poster_edit.add_argument("--label", required=True)
    poster_edit.set_defaults(func=cmd_poster_edit)
    poster_revoke = poster_commands.add_parser("revoke")
    poster_revoke.add_argument("id", type=int)
    poster_revoke.set_defaults(func=cmd_poster_revoke)
    poster_print = poster_commands.add_parser("print")
    poster_print.add_argument("id", type=int, nargs="?")
    poster_print.add_argument("--unit", help="every poster of this unit and its sub-units")
    # web.posters.FORMATS, spelled out: importing reportlab would slow every command. pdf is
    # the A4 poster under its earlier name; tent is an A4 folded into a counter card.
    poster_print.add_argument(
        "--format", default="a4", choices=("a4", "a5", "tent", "pdf", "png", "svg")
    )
    poster_print.add_argument("--out", required=True)
    poster_print.set_defaults(func=cmd_poster_print)

    widget = commands.add_parser("widget", help="embeddable widgets for agency websites")
    widget_commands = widget.add_subparsers(dest="action", required=True, parser_class=_Parser)
    widget_add = widget_commands.add_parser("add")
    widget_add.add_argument("unit")
    widget_add.add_argument(
        "--origin",
        action="append",
        required=True,
        help="a site the widget may run on, such as "
        "https://dinkes.example.go.id (repeat for several)",
    )
    widget_add.set_defaults(func=cmd_widget_add)
    widget_commands.add_parser("list").set_defaults(func=cmd_widget_list)
    widget_edit = widget_commands.add_parser("edit", help="change the sites a widget runs on")
    widget_edit.add_argument("id", type=int)
    widget_edit.add_argument(
        "--origin",
        action="append",
        required=True,
        help="every site it may run on from now, as for add (repeat for several)",
    )
    widget_edit.set_defaults(func=cmd_widget_edit)
    widget_revoke = widget_commands.add_parser("revoke")
    widget_revoke.add_argument("id", type=int)
    widget_revoke.set_defaults(func=cmd_widget_revoke)

    api_key = commands.add_parser("api-key", help="API keys of Open311 client software")
    api_key_commands = api_key.add_subparsers(dest="action", required=True, parser_class=_Parser)
    api_key_add = api_key_commands.add_parser("add")
    api_key_add.add_argument("name", help="the client's name, shown on the reports it files")
    api_key_add.set_defaults(func=cmd_api_key_add)
    api_key_commands.add_parser("list").set_defaults(func=cmd_api_key_list)
    api_key_revoke = api_key_commands.add_parser("revoke")
    api_key_revoke.add_argument("id", type=int)
    api_key_revoke.set_defaults(func=cmd_api_key_revoke)

    kiosk = commands.add_parser("kiosk", help="touchscreen kiosks in public service malls")
    kiosk_commands = kiosk.add_subparsers(dest="action", required=True, parser_class=_Parser)
    kiosk_add = kiosk_commands.add_parser(
        "add",
        help="a kiosk for a unit (a mall: its sub-units are the agencies it offers); "
        "prints its pairing code as the last line",
    )
    kiosk_add.add_argument("unit")
    kiosk_add.add_argument("--name", required=True, help="where it stands, e.g. 'Lantai 1'")
    kiosk_add.add_argument("--long", action="store_true", help=LONG_CODE_HELP)
    kiosk_add.set_defaults(func=cmd_kiosk_add)
    kiosk_pair = kiosk_commands.add_parser("pair", help="a new pairing code for a kiosk")
    kiosk_pair.add_argument("id", type=int)
    kiosk_pair.add_argument("--long", action="store_true", help=LONG_CODE_HELP)
    kiosk_pair.set_defaults(func=cmd_kiosk_pair)
    kiosk_commands.add_parser("list").set_defaults(func=cmd_kiosk_list)
    kiosk_revoke = kiosk_commands.add_parser("revoke")
    kiosk_revoke.add_argument("id", type=int)
    kiosk_revoke.set_defaults(func=cmd_kiosk_revoke)
    sms = commands.add_parser("sms", help="the SMS channel")
    sms_commands = sms.add_subparsers(dest="action", required=True, parser_class=_Parser)
    sms_commands.add_parser(
        "kannel-config", help="print the kannel.conf groups that connect Kannel to this server"
    ).set_defaults(func=cmd_sms_kannel_config)
    for name, func, text in (
        ("block", cmd_sms_block, "block a number: it makes no report and is sent nothing"),
        ("unblock", cmd_sms_unblock, "take a number off the block list"),
    ):
        blocking = sms_commands.add_parser(name, help=text)
        blocking.add_argument("number")
        blocking.add_argument("--channel", choices=conversation.CHANNELS, default="sms")
        if name == "block":
            blocking.add_argument("--note", default="", help="why, for the other admins")
        blocking.set_defaults(func=func)
    sms_commands.add_parser("blocked", help="list the blocked numbers").set_defaults(
        func=cmd_sms_blocked
    )
    whatsapp = commands.add_parser("whatsapp", help="the WhatsApp channel")
    whatsapp_commands = whatsapp.add_subparsers(dest="action", required=True, parser_class=_Parser)
    whatsapp_commands.add_parser(
        "setup", help="print what to enter in Meta's app dashboard, and what is still missing"
    ).set_defaults(func=cmd_whatsapp_setup)
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load()
        args.func(settings, args)
    except (CommandError, StoreError, SettingsError) as exc:
        print(f"lapor: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"lapor: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 1
    return 0
