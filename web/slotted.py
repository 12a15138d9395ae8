"""A page rendered and compressed once, with one slot filled per answer: the citizen's blank
form, where only the form token differs between two citizens.

Compressing the whole form for every answer cost more than everything else the form does put
together (half a millisecond of CPU, at gzip's level 9, for 12 KB). Here the text before the
slot and the text after it are compressed once, as raw deflate ended on a byte boundary
(`Z_SYNC_FLUSH`, no final block), and an answer is those two pieces with the slot's value
between them as a stored (uncompressed) deflate block, inside a gzip header and trailer. That
is one valid gzip stream (RFC 1951 allows any sequence of blocks, and a stored block needs no
state from the ones before), so a browser reads it as any other; the per-answer work is a
checksum of the page.

The text after the slot is compressed with the text before it as its dictionary, so it can
still point back to the stylesheet and markup above (the page is no larger than compressed
whole, give or take 40 bytes). The slot's place in that dictionary is filled with NUL bytes,
which the text after it never holds: no back-reference can land on them, so what fills the slot
in an answer does not matter to the bytes after it. Its length does (references are distances),
so the after-part is kept per length of the value, which for one poster is always the same.
"""

from __future__ import annotations

import struct
import zlib

# The gzip member header: magic, deflate, no flags, no time, no extra flags, unknown OS.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_WINDOW = 32_768  # deflate's back-references reach this far
_STORED_MAX = 65_535


def _raw(level: int, zdict: bytes | None = None) -> zlib._Compress:
    if zdict is None:
        return zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=zdict)


def _stored_block(data: bytes) -> bytes:
    """`data` as one non-final stored deflate block, after a byte-aligned block end: the
    header byte (BFINAL 0, BTYPE 00, padding), its length and the length's complement."""
    return b"\x00" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data


class SlottedPage:
    """`before` + value + `after`, plain or gzipped, for any value of the slot."""

    def __init__(self, before: str, after: str, *, level: int = 9) -> None:
        self.before = before.encode()
        self.after = after.encode()
        if b"\x00" in self.after:
            raise ValueError("the text after the slot must not hold NUL bytes")
        self.level = level
        compressor = _raw(level)
        self._before_deflated = compressor.compress(self.before) + compressor.flush(
            zlib.Z_SYNC_FLUSH
        )
        self._before_crc = zlib.crc32(self.before)
        self._after_deflated: dict[int, bytes] = {}

    def plain(self, value: str) -> bytes:
        return self.before + value.encode() + self.after

    def gzipped(self, value: str) -> bytes:
        filled = value.encode()
        if len(filled) > _STORED_MAX or b"\x00" in filled:
            raise ValueError("a slot's value is short text")
        after = self._after_deflated.get(len(filled))
        if after is None:
            history = (self.before + b"\x00" * len(filled))[-_WINDOW:]
            compressor = _raw(self.level, history)
            after = compressor.compress(self.after) + compressor.flush(zlib.Z_FINISH)
            self._after_deflated[len(filled)] = after
        crc = zlib.crc32(self.after, zlib.crc32(filled, self._before_crc))
        size = len(self.before) + len(filled) + len(self.after)
        return b"".join(
            (
                _HEADER,
                self._before_deflated,
                _stored_block(filled),
                after,
                struct.pack("<II", crc, size & 0xFFFFFFFF),
            )
        )
