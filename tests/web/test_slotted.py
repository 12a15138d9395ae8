from __future__ import annotations

import gzip
import secrets
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.web.slotted import SlottedPage

STYLE = "<style>" + "".join(f".c{i}{{margin:{i}px}}" for i in range(400)) + "</style>"
BEFORE = f'<!doctype html><html><head>{STYLE}</head><body><form><input name=token value="'
AFTER = '"><p class="c1 c2 c3">' + "Laporan Anda " * 200 + "</p></form></body></html>"


@given(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FFF), max_size=300))
def test_every_value_reads_back_as_the_whole_page(value: str) -> None:
    page = SlottedPage(BEFORE, AFTER)
    assert gzip.decompress(page.gzipped(value)) == page.plain(value)
    assert page.plain(value) == (BEFORE + value + AFTER).encode()


def test_values_of_other_lengths_and_many_answers_stay_right() -> None:
    page = SlottedPage(BEFORE, AFTER)
    for length in (0, 1, 95, 96, 97, 3000, 40_000):
        for _ in range(3):
            value = secrets.token_urlsafe(length)[:length]
            body = page.gzipped(value)
            # One gzip member that zlib reads to its end, checksum and length included.
            reader = zlib.decompressobj(16 + zlib.MAX_WBITS)
            assert reader.decompress(body) == page.plain(value)
            assert reader.eof and not reader.unused_data


def test_it_is_about_as_small_as_the_page_compressed_whole() -> None:
    page = SlottedPage(BEFORE, AFTER)
    value = secrets.token_urlsafe(72)
    whole = len(gzip.compress(page.plain(value), 9))
    assert len(page.gzipped(value)) <= whole + 120


def test_text_that_could_be_confused_with_the_slot_is_refused() -> None:
    with pytest.raises(ValueError):
        SlottedPage(BEFORE, "after\x00")
    with pytest.raises(ValueError):
        SlottedPage(BEFORE, AFTER).gzipped("a\x00b")
