from __future__ import annotations

from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.complaints.reports import TEXT_MAX
from lapor.complaints.sms import idempotency_key, parse, read_unit_word, segments

KEYWORDS = ("LAPOR", "LAPORPAMAN", "LAPOR PAMAN")
UNITS = {"DISDUKCAPIL": 7, "RSUD": 9}


def test_keyword_is_case_and_space_insensitive() -> None:
    for message in (
        "LAPOR antrean KTP panjang",
        "lapor antrean KTP panjang",
        "Lapor   antrean KTP panjang",
        "LAPORPAMAN antrean KTP panjang",
        "lapor paman antrean KTP panjang",
        "  Lapor Paman antrean KTP panjang",
    ):
        parsed = parse(message, KEYWORDS, UNITS)
        assert parsed is not None, message
        assert parsed.text == "antrean KTP panjang"
        assert not parsed.anonymous and parsed.unit_word is None


def test_unit_word_and_anonymous_in_either_order() -> None:
    parsed = parse("LAPOR DISDUKCAPIL antrean KTP", KEYWORDS, UNITS)
    assert parsed is not None and parsed.unit_word == "DISDUKCAPIL"
    assert parsed.text == "antrean KTP"
    for message in ("lapor anonim rsud IGD penuh", "LAPOR RSUD ANONIM IGD penuh"):
        parsed = parse(message, KEYWORDS, UNITS)
        assert parsed is not None
        assert parsed.anonymous and parsed.unit_word == "RSUD" and parsed.text == "IGD penuh"


def test_unknown_word_is_part_of_the_text() -> None:
    parsed = parse("LAPOR DISHUB lampu mati", KEYWORDS, UNITS)
    assert parsed is not None and parsed.unit_word is None
    assert parsed.text == "DISHUB lampu mati"


def test_no_keyword_or_no_text_is_no_report() -> None:
    for message in ("", "halo", "LAPORKAN jalan rusak", "LAPOR", "lapor paman", "LAPOR ANONIM"):
        assert parse(message, KEYWORDS, UNITS) is None, message


def test_long_text_is_kept_up_to_the_limit() -> None:
    parsed = parse("LAPOR " + "a" * (TEXT_MAX + 50), KEYWORDS)
    assert parsed is not None and parsed.cut and len(parsed.text) == TEXT_MAX
    exact = parse("LAPOR " + "a" * TEXT_MAX, KEYWORDS)
    assert exact is not None and not exact.cut


def test_segments_gsm7_and_ucs2() -> None:
    assert segments("a" * 160) == segments("a" * 160)
    assert segments("a" * 160).encoding == "gsm7" and segments("a" * 160).count == 1
    assert segments("a" * 161).count == 2
    assert segments("a" * 306).count == 2 and segments("a" * 307).count == 3
    # An extension character takes two septets.
    assert segments("€" * 80).count == 1 and segments("€" * 81).count == 2
    assert segments("é" * 10).encoding == "gsm7"
    assert segments("ā").encoding == "ucs2"
    assert segments("ā" * 70).count == 1 and segments("ā" * 71).count == 2
    assert segments("ā" * 134).count == 2 and segments("ā" * 135).count == 3
    # An emoji is a surrogate pair: two UTF-16 units.
    assert segments("🙂" * 35).count == 1 and segments("🙂" * 36).count == 2


@given(st.text(max_size=500))
def test_segments_never_undercount(text: str) -> None:
    counted = segments(text)
    capacity = 160 if counted.encoding == "gsm7" else 70
    part = 153 if counted.encoding == "gsm7" else 67
    units = sum(
        2 if (c in "^{}\\[~]|€\f" if counted.encoding == "gsm7" else ord(c) > 0xFFFF) else 1
        for c in text
    )
    assert counted.count >= (1 if units <= capacity else -(-units // part))


def test_dedup_keys() -> None:
    key = partial(idempotency_key, sender="+6281234567890", text="LAPOR jalan rusak")
    # The gateway's id wins: another text under the same id is the same delivery.
    assert key(message_id="a1", smsc="m") == idempotency_key(
        sender="x", text="y", message_id="a1", smsc="m"
    )
    assert key(message_id="a1") != key(message_id="a2")
    t = "2026-12-02 10:00"
    assert key(gateway_time=t) == key(gateway_time=t)
    assert key(gateway_time=t) != key(gateway_time="2026-12-02 10:01")
    # Without either: the same words within the window are one message, a week later another.
    early = key(received_epoch=1_000_000.0)
    assert early == key(received_epoch=1_000_100.0)
    assert early != key(received_epoch=1_000_000.0 + 7 * 86400)
    assert len(early) <= 64 and early.startswith("sms:")


def test_unit_words_are_one_typeable_word() -> None:
    assert read_unit_word(" Dis Dukcapil ") == "DISDUKCAPIL"
    assert read_unit_word("") is None
    for bad in ("anonim", "dinas-kesehatan", "x" * 33):
        with pytest.raises(ValueError):
            read_unit_word(bad)
