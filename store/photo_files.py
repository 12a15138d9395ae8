"""Photos as files in the data directory: SQLite's default, for a deployment on one machine.

Parked files wait in `pending/`; keeping one renames it into a shard directory (`ab/ab12...jpg`)
and fsyncs the directories, so a kept photo survives a power cut as the report naming it does.
Small copies are a cache under `thumbs/` (removing it costs only the remaking).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from pathlib import Path

from lapor.store.photos import Kept, PhotoStore


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


class FilePhotoStore(PhotoStore):
    def __init__(self, root: Path, *, max_bytes: int, max_pixels: int, max_side: int) -> None:
        super().__init__(max_bytes=max_bytes, max_pixels=max_pixels, max_side=max_side)
        self.root = root
        self.pending = root / "pending"

    async def prepare(self) -> None:
        self.pending.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        if not self.valid_name(name):
            raise ValueError("not a photo name")
        return self.root / name[:2] / name

    async def _park(self, name: str, data: bytes) -> None:
        def park() -> None:
            self.pending.mkdir(parents=True, exist_ok=True)
            _write_durably(self.pending / name, data)

        await asyncio.to_thread(park)

    async def _parked_or_kept(self, name: str) -> bytes | None:
        return await asyncio.to_thread(self.read_parked_or_kept, name)

    def read_parked_or_kept(self, name: str) -> bytes | None:
        for path in (self.pending / name, self.path(name)):
            try:
                return path.read_bytes()
            except FileNotFoundError:
                continue
        return None

    async def commit(self, names: list[str]) -> None:
        await asyncio.to_thread(self._commit, names)

    def _commit(self, names: list[str]) -> None:
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

    async def kept(self, name: str) -> Kept:
        path = self.path(name)
        if not await asyncio.to_thread(path.is_file):
            raise FileNotFoundError(name)
        return path

    async def small(self, name: str) -> Kept:
        return await asyncio.to_thread(self.thumbnail, name)

    def thumbnail(self, name: str) -> Path:
        source = self.path(name)
        if not name.endswith(".jpg"):
            raise ValueError("only photos have a small copy")
        target = self.root / "thumbs" / name[:2] / name
        if target.exists():
            return target
        small = self.shrink(source.read_bytes())
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a request at the same moment never reads half a file.
        aside = target.with_name(f"{name}.{secrets.token_hex(4)}.tmp")
        aside.write_bytes(small)
        os.replace(aside, target)
        return target

    async def sweep_pending(self, older_than_seconds: int) -> int:
        return await asyncio.to_thread(self._sweep, older_than_seconds)

    def _sweep(self, older_than_seconds: int) -> int:
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
