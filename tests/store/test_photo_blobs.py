"""DatabasePhotoStore: photos as rows of photo_blobs, on both backends (PostgreSQL is where it
serves; SQLite runs the same SQL)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from lapor.store import schema as t
from lapor.store.db import Database
from lapor.store.photo_blobs import DatabasePhotoStore
from lapor.store.photo_files import FilePhotoStore
from lapor.store.photos import THUMB_SIDE, Blob, BlobStream
from tests.conftest import jpeg_bytes

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 50_000_000, "max_side": 1600}


@pytest.fixture
def files(tmp_path: Path) -> FilePhotoStore:
    return FilePhotoStore(tmp_path / "photos", **LIMITS)


@pytest.fixture
def blobs(database: Database, files: FilePhotoStore) -> DatabasePhotoStore:
    return DatabasePhotoStore(database, files, **LIMITS)


async def rows(database: Database) -> dict[str, tuple[bool, bool]]:
    """Each row's name: whether it is kept, and whether it has its small copy."""
    query = select(t.photo_blobs.c.name, t.photo_blobs.c.kept, t.photo_blobs.c.small)
    found = await database.read(lambda conn: conn.execute(query).all())
    return {r.name: (r.kept, r.small is not None) for r in found}


async def test_a_photo_is_parked_kept_and_served_from_the_table(
    blobs: DatabasePhotoStore, database: Database, files: FilePhotoStore
) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    photo = await blobs.process(jpeg_bytes(2400, 1800, exif=exif.tobytes()))
    assert (photo.width, photo.height) == (1600, 1200)
    assert await rows(database) == {photo.name: (False, False)}
    # A form sent again finds what it parked, described as when it was processed.
    assert await blobs.pending_photo(photo.name) == photo
    await blobs.commit([photo.name])
    assert await rows(database) == {photo.name: (True, False)}
    kept = await blobs.kept(photo.name)
    assert isinstance(kept, Blob) and len(kept.data) == photo.size_bytes
    assert b"SecretCam" not in kept.data
    with Image.open(io.BytesIO(kept.data)) as image:
        assert image.size == (1600, 1200) and not image.getexif()
    # Nothing of it on this machine's disk: another machine has no such directory.
    assert not files.root.exists() or not any(files.root.rglob("*.jpg"))


async def test_the_small_copy_is_made_once_and_kept_in_the_row(
    blobs: DatabasePhotoStore, database: Database
) -> None:
    photo = await blobs.process(jpeg_bytes(1200, 900))
    await blobs.commit([photo.name])
    small = await blobs.small(photo.name)
    assert isinstance(small, Blob)
    with Image.open(io.BytesIO(small.data)) as image:
        assert max(image.size) == THUMB_SIDE
    assert await rows(database) == {photo.name: (True, True)}
    again = await blobs.small(photo.name)
    assert isinstance(again, Blob) and again.data == small.data


async def test_a_letter_is_kept_as_sent(blobs: DatabasePhotoStore) -> None:
    letter = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    parked = await blobs.process_document(letter)
    await blobs.commit([parked.name])
    kept = await blobs.kept(parked.name)
    assert isinstance(kept, Blob) and kept.data == letter
    with pytest.raises(ValueError):
        await blobs.small(parked.name)


async def test_keeping_a_swept_photo_fails_and_nothing_is_served(
    blobs: DatabasePhotoStore, database: Database
) -> None:
    photo = await blobs.process(jpeg_bytes())
    assert await blobs.sweep_pending(3600) == 0  # parked a moment ago: a form may still send it
    assert await blobs.sweep_pending(0) == 1
    assert await rows(database) == {}
    assert await blobs.pending_photo(photo.name) is None
    with pytest.raises(FileNotFoundError):
        await blobs.commit([photo.name])
    with pytest.raises(FileNotFoundError):
        await blobs.kept(photo.name)


async def test_the_sweep_leaves_kept_photos(blobs: DatabasePhotoStore, database: Database) -> None:
    kept = await blobs.process(jpeg_bytes())
    await blobs.commit([kept.name])
    forgotten = await blobs.process(jpeg_bytes(color=(0, 0, 200)))
    assert await blobs.sweep_pending(0) == 1
    assert set(await rows(database)) == {kept.name}
    assert forgotten.name not in await rows(database)


async def test_a_parked_photo_is_not_served(blobs: DatabasePhotoStore) -> None:
    photo = await blobs.process(jpeg_bytes())
    with pytest.raises(FileNotFoundError):
        await blobs.kept(photo.name)


async def test_photos_kept_as_files_before_are_served_then_imported(
    blobs: DatabasePhotoStore, database: Database, files: FilePhotoStore
) -> None:
    # A deployment that kept photos in its data directory until now.
    await files.prepare()
    old = await files.process(jpeg_bytes(800, 600))
    await files.commit([old.name])
    parked_across_the_upgrade = await files.process(jpeg_bytes(color=(0, 200, 0)))
    served = await blobs.kept(old.name)
    assert isinstance(served, Path) and served == files.path(old.name)
    assert isinstance(await blobs.small(old.name), Path)
    # A form opened before the upgrade and sent after it: its photo goes into the table.
    assert await blobs.pending_photo(parked_across_the_upgrade.name) == parked_across_the_upgrade
    await blobs.commit([parked_across_the_upgrade.name])
    assert await rows(database) == {parked_across_the_upgrade.name: (True, False)}
    # `lapor photos import` copies the kept files in, once.
    assert await blobs.import_files() == (1, 0)
    assert await blobs.import_files() == (0, 1)
    imported = await blobs.kept(old.name)
    assert isinstance(imported, Blob) and imported.data == files.path(old.name).read_bytes()


async def test_a_machine_serves_what_it_served_last_from_memory(
    blobs: DatabasePhotoStore, database: Database, files: FilePhotoStore
) -> None:
    photo = await blobs.process(jpeg_bytes(1200, 900))
    await blobs.commit([photo.name])
    first, small = await blobs.kept(photo.name), await blobs.small(photo.name)
    # A kept photo never changes, so this machine need not ask again: with the row gone
    # (which nothing but this test does), it still serves its copy; another machine cannot.
    await database.write(lambda conn: conn.execute(t.photo_blobs.delete()))
    assert await blobs.kept(photo.name) == first and await blobs.small(photo.name) == small
    other = DatabasePhotoStore(database, files, **LIMITS)
    with pytest.raises(FileNotFoundError):
        await other.kept(photo.name)


async def test_a_large_letter_is_read_in_pieces(database: Database, files: FilePhotoStore) -> None:
    blobs = DatabasePhotoStore(database, files, **LIMITS, stream_above=1000, stream_piece=300)
    letter = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"%%EOF\n"  # 2063 bytes
    parked = await blobs.process_document(letter)
    await blobs.commit([parked.name])
    kept = await blobs.kept(parked.name)
    assert isinstance(kept, BlobStream) and kept.size == len(letter)
    pieces = [piece async for piece in kept.pieces()]
    assert [len(p) for p in pieces] == [300] * 6 + [263]
    assert b"".join(pieces) == letter
    # A photo within the limit comes whole, as before.
    photo = await blobs.process(jpeg_bytes())
    await blobs.commit([photo.name])
    assert isinstance(await blobs.kept(photo.name), Blob)
