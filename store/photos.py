"""Citizens' photos: checked before decoding, re-encoded without metadata, kept on disk.

A photo is processed into `pending/` as soon as it arrives, so a form that comes back with an
error can hold it by a signed reference instead of asking a citizen on 2G to upload it again.
Submitting moves it into place and fsyncs it before the database commit that refers to it.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from lapor.complaints.records import NewPhoto

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: what many phone cameras call a JPEG
_NAME_CHARS = set("0123456789abcdef")


class PhotoError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "too_large", "too_many_pixels", "not_an_image", "unsupported"


@dataclass(frozen=True)
class ProcessedPhoto:
    name: str
    width: int
    height: int
    size_bytes: int
    digest: str  # of the re-encoded bytes, so a retry is recognised as the same report

    def as_new_photo(self) -> NewPhoto:
        content_type = "application/pdf" if self.name.endswith(".pdf") else "image/jpeg"
        return NewPhoto(
            self.name, content_type, self.width, self.height, self.size_bytes, self.digest
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# The longest side of a photo's small copy: sharp at the 160 CSS pixels the citizen's pages show
# it at, on a screen of two device pixels per CSS pixel.
THUMB_SIDE = 320


class PhotoStore:
    def __init__(self, root: Path, *, max_bytes: int, max_pixels: int, max_side: int) -> None:
        # Decoding a 40-megapixel photo takes a few hundred MB: bound how many run at once.
        self._decoding = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        self.root = root
        self.pending = root / "pending"
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.max_side = max_side

    def prepare(self) -> None:
        self.pending.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def valid_name(name: str) -> bool:
        stem, dot, ext = name.partition(".")
        return len(stem) == 32 and set(stem) <= _NAME_CHARS and dot == "." and ext in ("jpg", "pdf")

    def path(self, name: str) -> Path:
        if not self.valid_name(name):
            raise ValueError("not a photo name")
        return self.root / name[:2] / name

    def process(self, data: bytes) -> ProcessedPhoto:
        """Check, re-encode and park a photo in pending/. CPU-bound: run it in a thread."""
        if len(data) > self.max_bytes:
            raise PhotoError("too_large")
        if not data:
            raise PhotoError("not_an_image")
        with warnings.catch_warnings():
            # Pillow warns about decompression bombs; we refuse them ourselves, by pixel count,
            # before decoding anything. It also warns about a file's broken metadata ("Corrupt
            # EXIF data", which phones write): that is the sender's file, not our code, and
            # the photo is either decoded below or refused.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)
            try:
                with Image.open(io.BytesIO(data)) as image:
                    if image.format not in ACCEPTED_FORMATS:
                        raise PhotoError("unsupported")
                    width, height = image.size
                    if width * height > self.max_pixels:
                        raise PhotoError("too_many_pixels")
                    # JPEG can decode straight at a fraction of its size: no need to hold the
                    # full 40 MP in memory to end up with 1600 px.
                    image.draft("RGB", (self.max_side, self.max_side))
                    with self._decoding:
                        image.load()
                        upright = ImageOps.exif_transpose(image)
                        rgb = upright.convert("RGB")
            except PhotoError:
                raise
            except (
                UnidentifiedImageError,
                OSError,
                SyntaxError,
                ValueError,
                Image.DecompressionBombError,
            ):
                raise PhotoError("not_an_image") from None
        rgb.thumbnail((self.max_side, self.max_side), Image.Resampling.LANCZOS)
        # The pixels are all we keep. convert() and thumbnail() copy the original's `info`
        # (a JPEG's COM comment, a PNG's text chunks, EXIF, XMP, its ICC profile...), and
        # Pillow's JPEG encoder writes `info["comment"]` back out as a COM segment: empty it, and
        # name no EXIF, XMP or ICC profile when saving, so what is kept carries no metadata.
        # The EXIF orientation has been applied to the pixels above, before it goes.
        rgb.info = {}
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=82, optimize=True, progressive=True)
        encoded = out.getvalue()
        # Re-encoding is deterministic, so a retry of the same upload gets the same digest as a
        # photo held from an earlier attempt.
        digest = hashlib.sha256(encoded).hexdigest()
        name = secrets.token_hex(16) + ".jpg"
        self.pending.mkdir(parents=True, exist_ok=True)
        _write_durably(self.pending / name, encoded)
        return ProcessedPhoto(name, rgb.width, rgb.height, len(encoded), digest)

    def thumbnail(self, name: str) -> Path:
        """A small copy of a kept photo, for the pages that list a report's photos: a few KB
        on a phone's slow network instead of the whole photo. Made on first use and kept
        under thumbs/ as a cache (removing it costs only the remaking). CPU-bound: run it in
        a thread."""
        source = self.path(name)
        if not name.endswith(".jpg"):
            raise ValueError("only photos have a small copy")
        target = self.root / "thumbs" / name[:2] / name
        if target.exists():
            return target
        with self._decoding, Image.open(source) as image:
            image.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
            small = image.convert("RGB")
        small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        small.info = {}
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a request at the same moment never reads half a file.
        aside = target.with_name(f"{name}.{secrets.token_hex(4)}.tmp")
        small.save(aside, "JPEG", quality=75, optimize=True)
        os.replace(aside, target)
        return target

    def process_document(self, data: bytes) -> ProcessedPhoto:
        """Park a PDF letter a unit attaches to its answer. Kept as sent (it is the agency's
        own document, not a citizen's photo); only served as a download, never inline."""
        if len(data) > self.max_bytes:
            raise PhotoError("too_large")
        if not data.startswith(b"%PDF-"):
            raise PhotoError("unsupported")
        name = secrets.token_hex(16) + ".pdf"
        self.pending.mkdir(parents=True, exist_ok=True)
        _write_durably(self.pending / name, data)
        return ProcessedPhoto(name, 0, 0, len(data), hashlib.sha256(data).hexdigest())

    def pending_photo(self, name: str) -> ProcessedPhoto | None:
        """A photo parked by an earlier attempt of the same form, if it is still there."""
        if not self.valid_name(name):
            return None
        for path in (self.pending / name, self.path(name)):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
            return ProcessedPhoto(name, width, height, len(data), hashlib.sha256(data).hexdigest())
        return None

    def commit(self, names: list[str]) -> None:
        """Move parked photos into place, durably, before the report that lists them commits."""
        directories: set[Path] = set()
        for name in names:
            target = self.path(name)
            if not target.parent.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                directories.add(self.root)  # the new shard directory's own entry
            try:
                os.replace(self.pending / name, target)
            except FileNotFoundError:
                if not target.exists():  # a concurrent retry of the same form moved it already
                    raise
            directories.add(target.parent)
        for directory in directories:
            _fsync_dir(directory)

    def sweep_pending(self, older_than_seconds: int) -> int:
        """Forget photos of forms that were never sent."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.pending.glob("*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
