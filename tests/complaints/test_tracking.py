from __future__ import annotations

import random
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.complaints.tracking import (
    ALPHABET,
    TRACKING_CODE_LENGTH,
    checksum,
    explain,
    format_code,
    group,
    is_valid,
    new_tracking_code,
    normalize,
)

bodies = st.text(alphabet=ALPHABET, min_size=9, max_size=9)


def with_check(body: str) -> str:
    return body + checksum(body)


def substituted(code: str, position: int, symbol: str) -> str:
    return code[:position] + symbol + code[position + 1 :]


def transposed(code: str, position: int) -> str:
    return code[:position] + code[position + 1] + code[position] + code[position + 2 :]


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == 32 == len(set(ALPHABET))
    assert not set("ILOU") & set(ALPHABET)


def test_new_code_is_canonical_and_valid() -> None:
    for _ in range(500):
        code = new_tracking_code()
        assert len(code) == TRACKING_CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        assert is_valid(code)
        assert normalize(code) == code


def test_new_codes_do_not_repeat() -> None:
    # 45 random bits: a repeat among a few thousand codes would mean the randomness is broken.
    assert len({new_tracking_code() for _ in range(5000)}) == 5000


def test_new_code_takes_all_45_bits_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    requested: list[int] = []

    def fake_randbits(k: int) -> int:
        requested.append(k)
        return (1 << k) - 1

    monkeypatch.setattr(secrets, "randbits", fake_randbits)
    assert new_tracking_code()[:9] == "ZZZZZZZZZ"
    assert requested == [45]


@given(bodies)
def test_checksum_makes_a_valid_code(body: str) -> None:
    code = with_check(body)
    assert is_valid(code)
    assert explain(code) == "ok"


@given(bodies, st.integers(0, TRACKING_CODE_LENGTH - 1), st.sampled_from(ALPHABET))
def test_every_single_substitution_is_caught(body: str, position: int, symbol: str) -> None:
    code = with_check(body)
    if code[position] == symbol:
        return
    wrong = substituted(code, position, symbol)
    assert not is_valid(wrong)
    assert normalize(wrong) is None
    assert explain(wrong) == "bad_check"


@given(bodies, st.integers(0, TRACKING_CODE_LENGTH - 2))
def test_every_adjacent_transposition_is_caught(body: str, position: int) -> None:
    code = with_check(body)
    if code[position] == code[position + 1]:
        return
    wrong = transposed(code, position)
    assert not is_valid(wrong)
    assert explain(wrong) == "bad_check"


def test_exhaustively_for_random_codes() -> None:
    rng = random.Random(20260321)
    for _ in range(300):
        code = with_check("".join(rng.choice(ALPHABET) for _ in range(9)))
        for position in range(TRACKING_CODE_LENGTH):
            substitutes = [s for s in ALPHABET if s != code[position]]
            assert len(substitutes) == 31
            for symbol in substitutes:
                assert not is_valid(substituted(code, position, symbol)), (code, position, symbol)
        for position in range(TRACKING_CODE_LENGTH - 1):
            if code[position] != code[position + 1]:
                assert not is_valid(transposed(code, position)), (code, position)


def test_every_adjacent_transposition_of_every_symbol_pair() -> None:
    # The check is linear, so a swap changes the weighted sum by an amount that depends only on
    # the two symbols and their position, never on the rest of the code. Covering every pair at
    # every position once therefore covers every code.
    for position in range(TRACKING_CODE_LENGTH - 2):
        for a in ALPHABET:
            for b in ALPHABET:
                if a == b:
                    continue
                body = ["0"] * 9
                body[position], body[position + 1] = a, b
                code = with_check("".join(body))
                assert not is_valid(transposed(code, position)), (code, position)
    # The last body symbol next to the check symbol: varying the first symbol drives the check
    # symbol through all 32 values, so every pair occurs.
    seen: set[tuple[str, str]] = set()
    for a in ALPHABET:
        for first in ALPHABET:
            code = with_check(first + "0000000" + a)
            pair = (code[8], code[9])
            seen.add(pair)
            if pair[0] != pair[1]:
                assert not is_valid(transposed(code, 8)), code
    assert len(seen) == 32 * 32


def test_format_code_groups_five_and_five() -> None:
    code = with_check("ABCDE1234")
    assert format_code(code) == f"ABCDE-1234{code[-1]}"
    assert format_code(format_code(code).lower()) == format_code(code)


def test_group_of_a_stored_code_is_its_display_form() -> None:
    for _ in range(100):
        code = new_tracking_code()
        assert group(code) == format_code(code)


def test_format_code_rejects_an_invalid_code() -> None:
    with pytest.raises(ValueError):
        format_code("ABCDE")


@given(bodies)
def test_normalize_accepts_the_display_form_in_any_case(body: str) -> None:
    code = with_check(body)
    assert normalize(format_code(code)) == code
    assert normalize(format_code(code).lower()) == code
    assert normalize(" " + " ".join(code) + " ") == code


def test_normalize_ignores_separators() -> None:
    code = with_check("ABCDE1234")
    for typed in (
        f"{code[:5]} {code[5:]}",
        f"{code[:5]}.{code[5:]}",
        f"{code[:5]}_{code[5:]}",
        f"{code[:3]}-{code[3:6]}-{code[6:]}",
        f"{code[:5]}\u2013{code[5:]}",  # en dash from phone autocorrect
        f"{code[:5]}\u00a0{code[5:]}",  # non-breaking space from a copied message
        f"\t{code}\n",
    ):
        assert normalize(typed) == code, typed


def test_normalize_maps_look_alike_letters() -> None:
    code = with_check("0011V0011")
    assert normalize("OoIL" + "u" + "oOil" + code[-1]) == code


def test_normalize_accepts_full_width_input() -> None:
    code = with_check("ABCDE1234")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert normalize(full_width) == code


def test_normalize_rejects_bad_input() -> None:
    code = with_check("ABCDE1234")
    assert normalize("") is None
    assert normalize(code[:-1]) is None
    assert normalize(code + "0") is None
    assert normalize(code[:-1] + "!") is None
    assert normalize(code[:-1] + "ß") is None


def test_is_valid_accepts_only_the_canonical_form() -> None:
    code = with_check("ABCDE1234")
    assert is_valid(code)
    assert not is_valid(code.lower())
    assert not is_valid(format_code(code))
    assert not is_valid("")


def test_checksum_rejects_a_bad_body() -> None:
    for body in ("", "ABCDE123", "ABCDE12345", "ABCDE123U", "abcde1234"):
        with pytest.raises(ValueError):
            checksum(body)


def test_explain_names_the_kind_of_error() -> None:
    code = with_check("ABCDE1234")
    wrong_check = substituted(code, 9, "0" if code[9] != "0" else "1")
    assert explain("") == "empty"
    assert explain(" - ") == "empty"
    assert explain(code[:7]) == "too_short"
    assert explain(code + "AB") == "too_long"
    assert explain(code[:5] + "#" + code[6:]) == "bad_symbol"
    assert explain(wrong_check) == "bad_check"
    assert explain(format_code(code).lower()) == "ok"
