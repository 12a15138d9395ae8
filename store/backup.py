"""Backups of an SQLite deployment that can be restored: `lapor backup` and `lapor restore`.

A backup is a directory: the database as one consistent snapshot (SQLite's online backup API,
taken in one step, so the server keeps writing while it runs: WAL readers never block the
writer), the photo and attachment files that snapshot names, the files of the data directory
that are keys (`secret.key`) or settings kept there, and `manifest.json` with versions, the
schema revision, counts and a SHA-256 of every file.

Why the photos are read from the snapshot rather than copied as a directory: a photo is made
durable before the report that names it commits (store/photos.py), so every file the snapshot
names already exists when the snapshot is taken; files that arrive later belong to reports the
snapshot does not have. The backup is then exactly as consistent as the database.

Restoring writes into an empty data directory only, checks every file against the manifest
while copying it, and puts nothing in place until every file has passed: a damaged backup
leaves the directory as empty as it found it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from lapor.store.errors import StoreError

FORMAT = "lapor-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "lapor.db"
PHOTOS = "photos"
_CHUNK = 1 << 20

# What the manifest counts: enough to see at a glance that a backup holds what it should.
COUNTED = (
    "reports",
    "report_photos",
    "event_attachments",
    "report_events",
    "units",
    "users",
    "posters",
    "widgets",
    "kiosks",
    "outbox",
)


class BackupError(StoreError):
    """A backup or restore that cannot be done, said in one line."""


@dataclass(frozen=True)
class Written:
    path: Path
    manifest: dict[str, Any]
    missing: tuple[str, ...]  # photo files the database names that were not on disk


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_hashing(source: Path, target: Path, mode: int = 0o600) -> tuple[str, int]:
    """Copy `source` to `target` (created, private), fsynced; its SHA-256 and size."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest(), size


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _snapshot(database: Path, target: Path) -> None:
    """One consistent copy of a live database. pages=-1 copies it in a single step, inside one
    read transaction: in WAL mode the server's writer goes on committing meanwhile, and a
    step-by-step copy would start over each time it did."""
    if not database.is_file():
        raise BackupError(f"there is no database at {database}")
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy, pages=-1)
            # The copy is a file on its own: no WAL beside it to lose in transit.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()
    os.chmod(target, 0o600)


def _read_snapshot(path: Path) -> tuple[str | None, dict[str, int], list[str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        counts = {
            name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for name in COUNTED
            if name in tables
        }
        names: list[str] = []
        for table in ("report_photos", "event_attachments"):
            if table in tables:
                names += [row[0] for row in conn.execute(f"SELECT filename FROM {table}")]
        inside: set[str] = set()
        if "photo_blobs" in tables:
            # Kept in the database (LAPOR_PHOTO_STORAGE=database): the snapshot holds them.
            inside = {row[0] for row in conn.execute("SELECT name FROM photo_blobs WHERE kept")}
        return revision, counts, sorted(set(names) - inside)
    finally:
        conn.close()


def _prepare_target(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty directory: choose a new path")


def write_backup(
    target: Path,
    *,
    database: Path,
    photo_path: Callable[[str], Path],
    data_dir: Path,
    kept_files: Iterable[str],
    versions: dict[str, str],
) -> Written:
    """Back up the SQLite database at `database`, the photos it names (found by `photo_path`,
    store/photos.py's layout) and the `kept_files` of `data_dir` that exist, into the new
    directory `target`. Written under a private name beside it and renamed at the end, so a
    backup interrupted half-way never looks like one."""
    _prepare_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    try:
        started = datetime.now(UTC)
        _snapshot(database, work / DATABASE)
        revision, counts, names = _read_snapshot(work / DATABASE)
        files: dict[str, dict[str, Any]] = {}
        files[DATABASE] = dict(zip(("sha256", "bytes"), _hash_file(work / DATABASE), strict=True))
        missing: list[str] = []
        for name in names:
            source = photo_path(name)
            relative = PurePosixPath(PHOTOS, name[:2], name)
            try:
                digest, size = _copy_hashing(source, work / relative)
            except FileNotFoundError:
                missing.append(name)
                continue
            files[str(relative)] = {"sha256": digest, "bytes": size}
        for kept in kept_files:
            source = data_dir / kept
            if source.is_file():
                digest, size = _copy_hashing(source, work / kept)
                files[kept] = {"sha256": digest, "bytes": size}
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": started.isoformat(timespec="seconds"),
            "versions": {
                **versions,
                "sqlite": sqlite3.sqlite_version,
                "python": platform.python_version(),
            },
            "schema_revision": revision,
            "counts": counts,
            "missing_photos": missing,
            "files": files,
        }
        manifest_path = work / MANIFEST
        fd = os.open(manifest_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(manifest, fh, indent=1, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        for directory in {(work / f).parent for f in files}:
            _fsync_dir(directory)
        if target.exists():
            target.rmdir()  # checked empty above
        os.replace(work, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Written(target, manifest, tuple(missing))


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupError(f"{source} is not a directory written by `lapor backup`")
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(
            f"{source} has no {MANIFEST}: not a backup written by `lapor backup`"
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{path} is not readable JSON: the backup is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not the manifest of a lapor backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is of backup format {manifest.get('format_version')!r}; this version of "
            f"lapor restores format {FORMAT_VERSION}"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or DATABASE not in files:
        raise BackupError(f"{path} lists no database: the backup is damaged")
    for name, facts in files.items():
        parts = PurePosixPath(name).parts
        if (
            not isinstance(facts, dict)
            or not isinstance(facts.get("sha256"), str)
            or not isinstance(facts.get("bytes"), int)
            or PurePosixPath(name).is_absolute()
            or ".." in parts
            or not parts
        ):
            raise BackupError(f"{path} has a bad entry {name!r}: the backup is damaged")
    return manifest


def restore_backup(
    source: Path,
    *,
    data_dir: Path,
    database: Path,
    known_revisions: frozenset[str],
) -> dict[str, Any]:
    """Restore the backup at `source` into the empty `data_dir`, the database to `database`
    (which must not exist). Every file is checked against the manifest before any is put in
    place. Returns the manifest."""
    manifest = read_manifest(source)
    revision = manifest.get("schema_revision")
    if revision is not None and revision not in known_revisions:
        raise BackupError(
            f"the backup's schema revision {revision!r} is newer than this version of lapor "
            f"knows (it was made by lapor {manifest.get('versions', {}).get('lapor', '?')}): "
            "restore it with that version or a later one"
        )
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(
            f"{data_dir} is not empty: restore only into an empty data directory "
            "(move the old one aside first)"
        )
    if database.exists():
        raise BackupError(f"{database} exists: restore only where there is no database yet")
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = data_dir / f".restore-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        for name, facts in manifest["files"].items():
            try:
                digest, size = _copy_hashing(source / name, staging / name)
            except FileNotFoundError:
                raise BackupError(f"the backup is missing {name}") from None
            if digest != facts["sha256"] or size != facts["bytes"]:
                raise BackupError(f"{name} in the backup does not match its checksum: damaged")
        database.parent.mkdir(parents=True, exist_ok=True)
        # All checked: now into place, the database last, so a server started on a half
        # restored directory finds no database rather than one missing its photos.
        placed: set[Path] = set()
        for name in sorted(manifest["files"], key=lambda n: n == DATABASE):
            final = database if name == DATABASE else data_dir / name
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(staging / name, final)
            placed.add(final.parent)
        for directory in placed:
            _fsync_dir(directory)
    except BaseException:
        # The directory was empty: leave it so, whatever had been put in place.
        shutil.rmtree(staging, ignore_errors=True)
        for child in data_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    child.unlink()
        with contextlib.suppress(OSError):
            database.unlink()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return manifest
