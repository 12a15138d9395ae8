"""Citizens' photos and the letters units attach to answers: checked before decoding,
re-encoded without metadata, kept where every machine of the deployment reads them.

A photo is processed and parked as soon as it arrives, so a form that comes back with an
error can hold it by a signed reference instead of asking a citizen on 2G to upload it again.
Submitting keeps the parked photo durably before the database commit that refers to it.

Where the bytes live is the one thing that differs, so PhotoStore is an interface with two
implementations: `store/photo_files.py` (the data directory, SQLite's default: one machine)
and `store/photo_blobs.py` (a table of the database, PostgreSQL's default: every machine of a
deployment behind a load balancer sees the same photos, and a backup of the database is one of
the photos). Checking, re-encoding and making small copies are the same for both, here.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import secrets
import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from lapor.complaints.records import NewPhoto

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: what many phone cameras call a JPEG
_NAME_CHARS = set("0123456789abcdef")

# The longest side of a photo's small copy: sharp at the 160 CSS pixels the citizen's pages show
# it at, on a screen of two device pixels per CSS pixel.
THUMB_SIDE = 320


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


@dataclass(frozen=True)
class Blob:
    """A kept file's bytes as the database hands them out, with when they were kept (for the
    response's Last-Modified, as a file's modification time gives it)."""

    data: bytes
    kept_at: datetime


@dataclass(frozen=True)
class BlobStream:
    """A kept file too large to hold whole in memory for each request (a letter of several
    MB): its size, when it was kept, and its bytes piece by piece."""

    size: int
    kept_at: datetime
    pieces: Callable[[], AsyncIterator[bytes]]


# What a store hands out to be served: a file on this machine's disk, or the bytes.
Kept = Path | Blob | BlobStream


def described(name: str, data: bytes) -> ProcessedPhoto:
    """A parked file's description, read back from its bytes (a form sent again)."""
    width = height = 0
    if name.endswith(".jpg"):
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    return ProcessedPhoto(name, width, height, len(data), hashlib.sha256(data).hexdigest())


class PhotoStore(ABC):
    """Photos in, kept durably, and out again to be served. The coroutines run blocking work
    (decoding, encoding, file system calls) in threads, never on the event loop."""

    def __init__(self, *, max_bytes: int, max_pixels: int, max_side: int) -> None:
        # Decoding a 40-megapixel photo takes a few hundred MB: bound how many run at once.
        self._decoding = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.max_side = max_side

    @staticmethod
    def valid_name(name: str) -> bool:
        stem, dot, ext = name.partition(".")
        return len(stem) == 32 and set(stem) <= _NAME_CHARS and dot == "." and ext in ("jpg", "pdf")

    # -- what each storage does its own way -------------------------------------------------
    @abstractmethod
    async def prepare(self) -> None:
        """At start-up, before the first request."""

    @abstractmethod
    async def _park(self, name: str, data: bytes) -> None:
        """Keep `data` as a pending file, durably: a form's error page may name it next."""

    @abstractmethod
    async def _parked_or_kept(self, name: str) -> bytes | None:
        """A pending file's bytes, or a kept one's (a concurrent retry kept it already)."""

    @abstractmethod
    async def commit(self, names: list[str]) -> None:
        """Keep parked files for good, durably, before the report or answer that lists them
        commits. FileNotFoundError when one is neither parked nor kept (swept)."""

    @abstractmethod
    async def kept(self, name: str) -> Kept:
        """A kept file to serve. FileNotFoundError when there is none by that name."""

    @abstractmethod
    async def small(self, name: str) -> Kept:
        """A kept photo's small copy, for the pages that list a report's photos: a few KB on
        a phone's slow network instead of the whole photo. Made on first use, then kept."""

    @abstractmethod
    async def sweep_pending(self, older_than_seconds: int) -> int:
        """Forget files of forms that were never sent; how many went."""

    # -- the same for every storage ---------------------------------------------------------
    async def process(self, data: bytes) -> ProcessedPhoto:
        """Check, re-encode and park a photo."""
        encoded, width, height = await asyncio.to_thread(self.reencode, data)
        name = secrets.token_hex(16) + ".jpg"
        await self._park(name, encoded)
        # Re-encoding is deterministic, so a retry of the same upload gets the same digest as a
        # photo held from an earlier attempt.
        digest = hashlib.sha256(encoded).hexdigest()
        return ProcessedPhoto(name, width, height, len(encoded), digest)

    async def process_document(self, data: bytes) -> ProcessedPhoto:
        """Park a PDF letter a unit attaches to its answer. Kept as sent (it is the agency's
        own document, not a citizen's photo); only served as a download, never inline."""
        if len(data) > self.max_bytes:
            raise PhotoError("too_large")
        if not data.startswith(b"%PDF-"):
            raise PhotoError("unsupported")
        name = secrets.token_hex(16) + ".pdf"
        await self._park(name, data)
        return ProcessedPhoto(name, 0, 0, len(data), hashlib.sha256(data).hexdigest())

    async def pending_photo(self, name: str) -> ProcessedPhoto | None:
        """A photo parked by an earlier attempt of the same form, if it is still there."""
        if not self.valid_name(name):
            return None
        data = await self._parked_or_kept(name)
        if data is None:
            return None
        return await asyncio.to_thread(described, name, data)

    def reencode(self, data: bytes) -> tuple[bytes, int, int]:
        """The photo's pixels as a JPEG with no metadata, its longest side at most max_side,
        and its size. CPU-bound: run it in a thread."""
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
        return out.getvalue(), rgb.width, rgb.height

    def shrink(self, photo: bytes) -> bytes:
        """A kept photo's small copy (THUMB_SIDE), as a JPEG. CPU-bound: run it in a thread."""
        with self._decoding, Image.open(io.BytesIO(photo)) as image:
            image.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
            small = image.convert("RGB")
        small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        small.info = {}
        out = io.BytesIO()
        small.save(out, "JPEG", quality=75, optimize=True)
        return out.getvalue()
