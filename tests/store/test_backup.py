"""store/backup.py: what a backup holds, and the restores it refuses, each leaving the data
directory as it was. Through the operator's commands, as they are run."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lapor.store import migrate
from tests.test_cli import refused, runner


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with one unit, a poster and a photo file a report names, backed up:
    made once, copied for each test."""
    tmp_path = tmp_path_factory.mktemp("template")
    run = runner(tmp_path / "data")
    run("unit", "add", "kalsel", "--name", "Provinsi")
    run("poster", "add", "kalsel", "--label", "Loket")
    name = "ab" + "0" * 30 + ".jpg"
    photo = tmp_path / "data" / "photos" / "ab" / name
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8 a kept photo")
    with sqlite3.connect(tmp_path / "data" / "lapor.db") as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(
            "INSERT INTO report_photos (report_id, position, filename, content_type, width, "
            "height, size_bytes, withheld) VALUES (1, 0, ?, 'image/jpeg', 1, 1, 16, 0)",
            (name,),
        )
    done = run("backup", str(tmp_path / "backup"))
    assert "into" in done.stdout
    return tmp_path


@pytest.fixture
def backed_up(template: Path, tmp_path: Path) -> Path:
    for name in ("data", "backup"):
        shutil.copytree(template / name, tmp_path / name)
    return tmp_path / "backup"


def test_a_backup_holds_the_database_photos_key_and_a_manifest(
    backed_up: Path, tmp_path: Path
) -> None:
    manifest = json.loads((backed_up / "manifest.json").read_text())
    assert manifest["format"] == "lapor-backup"
    assert manifest["schema_revision"] == migrate.head()
    assert manifest["counts"]["units"] == 1 and manifest["counts"]["posters"] == 1
    assert manifest["counts"]["report_photos"] == 1
    assert {"lapor", "sqlite", "python"} <= set(manifest["versions"])
    assert set(manifest["files"]) == {
        "lapor.db",
        "secret.key",
        f"photos/ab/ab{'0' * 30}.jpg",
    }
    assert (backed_up / "secret.key").read_text() == (tmp_path / "data" / "secret.key").read_text()
    # It holds personal data and the signing key: for its owner only.
    assert (backed_up / "secret.key").stat().st_mode & 0o077 == 0
    assert (backed_up / "lapor.db").stat().st_mode & 0o077 == 0
    # No half-written directory left beside it.
    assert [p.name for p in backed_up.parent.iterdir() if p.name.startswith(".")] == []


def test_restore_brings_everything_back_into_an_empty_directory(
    backed_up: Path, tmp_path: Path
) -> None:
    run = runner(tmp_path / "restored")
    done = run("restore", str(backed_up))
    assert "restored 0 report(s) and 1 photo(s)" in done.stdout
    assert run("unit", "list").stdout.startswith("kalsel\tProvinsi")
    assert (tmp_path / "restored" / "secret.key").read_text() == (
        tmp_path / "data" / "secret.key"
    ).read_text()
    name = f"ab{'0' * 30}.jpg"
    assert (tmp_path / "restored" / "photos" / "ab" / name).read_bytes() == b"\xff\xd8 a kept photo"
    # The poster signed before the backup is signed the same after it.
    assert run("poster", "list").stdout == runner(tmp_path / "data")("poster", "list").stdout


def test_restore_refuses_a_data_directory_that_is_not_empty(
    backed_up: Path, tmp_path: Path
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    line = refused(runner(tmp_path / "busy")("restore", str(backed_up), ok=False))
    assert "is not empty" in line
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    "damage, said",
    [
        ("photo", "does not match its checksum"),
        ("database", "does not match its checksum"),
        ("missing", "the backup is missing photos/ab/"),
        ("manifest", "is not readable JSON"),
        ("no manifest", "has no manifest.json"),
        ("escape", "has a bad entry"),
        ("newer schema", "is newer than this version of lapor knows"),
    ],
)
def test_a_damaged_backup_is_refused_and_changes_nothing(
    backed_up: Path, tmp_path: Path, damage: str, said: str
) -> None:
    name = f"photos/ab/ab{'0' * 30}.jpg"
    manifest_path = backed_up / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    if damage == "photo":
        (backed_up / name).write_bytes(b"\xff\xd8 another photo")
    elif damage == "database":
        with open(backed_up / "lapor.db", "r+b") as fh:
            fh.seek(200)
            fh.write(b"\x00\x01")
    elif damage == "missing":
        (backed_up / name).unlink()
    elif damage == "manifest":
        manifest_path.write_text("{not json")
    elif damage == "no manifest":
        manifest_path.unlink()
    elif damage == "escape":
        manifest["files"]["../outside"] = {"sha256": "0" * 64, "bytes": 1}
        manifest_path.write_text(json.dumps(manifest))
    elif damage == "newer schema":
        manifest["schema_revision"] = "9999"
        manifest_path.write_text(json.dumps(manifest))
    target = tmp_path / "restored"
    target.mkdir()
    line = refused(runner(target)("restore", str(backed_up), ok=False))
    assert said in line
    assert list(target.iterdir()) == []


def test_backup_refuses_a_path_in_use_and_postgresql(backed_up: Path, tmp_path: Path) -> None:
    line = refused(runner(tmp_path / "data")("backup", str(backed_up), ok=False))
    assert "is not an empty directory" in line
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(
        LAPOR_DATA_DIR=str(tmp_path / "data"),
        LAPOR_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test",
    )
    for command in ("backup", "restore"):
        done = subprocess.run(
            [sys.executable, "-m", "lapor", command, str(tmp_path / "elsewhere")],
            env=env,
            capture_output=True,
            text=True,
        )
        assert "on PostgreSQL use pg_dump and pg_restore" in refused(done)
    assert not (tmp_path / "elsewhere").exists()


def test_a_key_set_in_the_environment_is_named_not_lost(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(LAPOR_DATA_DIR=str(tmp_path / "data"), LAPOR_SECRET_KEYS="k" * 32)
    lapor = [sys.executable, "-m", "lapor"]
    subprocess.run([*lapor, "unit", "add", "a", "--name", "A"], env=env, check=True)
    done = subprocess.run(
        [*lapor, "backup", str(tmp_path / "b")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "keep them with the backup" in done.stdout
    assert "secret.key" not in json.loads((tmp_path / "b" / "manifest.json").read_text())["files"]
    shutil.rmtree(tmp_path / "data")
    env.pop("LAPOR_SECRET_KEYS")
    done = subprocess.run(
        [*lapor, "restore", str(tmp_path / "b")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "holds no secret.key" in done.stderr


def test_photos_kept_in_the_database_are_in_the_snapshot_not_missing(tmp_path: Path) -> None:
    # SQLite with LAPOR_PHOTO_STORAGE=database: the photo is a row of the snapshot, so the
    # backup neither copies a file for it nor warns that one is missing.
    run = runner(tmp_path / "data", LAPOR_PHOTO_STORAGE="database")
    run("unit", "add", "kalsel", "--name", "Provinsi")
    name = "cd" + "0" * 30 + ".jpg"
    with sqlite3.connect(tmp_path / "data" / "lapor.db") as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(
            "INSERT INTO photo_blobs (name, data, kept, created_at) VALUES (?, ?, 1, ?)",
            (name, b"\xff\xd8 a photo in the database", "2026-12-03 08:00:00.000000"),
        )
        conn.execute(
            "INSERT INTO report_photos (report_id, position, filename, content_type, width, "
            "height, size_bytes, withheld) VALUES (1, 0, ?, 'image/jpeg', 1, 1, 16, 0)",
            (name,),
        )
    done = run("backup", str(tmp_path / "backup"))
    assert "warning" not in done.stderr
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["missing_photos"] == [] and not any("photos/" in f for f in manifest["files"])
