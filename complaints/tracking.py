"""Tracking codes (kode lacak) handed to a citizen after sending a report.

A code is 9 random Crockford base32 symbols (45 bits from `secrets`) followed by one check
symbol, shown as ``XXXXX-XXXXX``. It must survive being read aloud over a phone, copied by hand
from a kiosk screen and typed on a cheap Android keyboard, so input is forgiving (case, spaces,
hyphens, O/0, I/L/1, U/V) while the check symbol catches the slips people actually make.

Why a check over GF(32) and not Crockford's own mod-37 check: mod 37 needs five extra symbols
(``*~$=U``) that are awful to dictate. A weighted sum mod 32 would stay inside the alphabet, but
any even weight loses a bit and lets some substitutions through. Instead each symbol is read as
an element of GF(2^5) and the whole 10-symbol code must satisfy

    sum(alpha**i * d_i for i in 0..9) == 0        (d_9 is the check symbol)

with alpha a primitive element. The weights alpha**0..alpha**9 are distinct and nonzero (alpha
has order 31), so:

* replacing d_i by d_i + e (e != 0) changes the sum by alpha**i * e != 0, at any position,
  the check symbol included;
* swapping different neighbours a, b at positions i, i+1 changes it by
  (a - b) * (alpha**i - alpha**(i+1)) = (a - b) * alpha**i * (1 - alpha) != 0, since alpha != 1.

A field has no zero divisors, so neither change can cancel: every such error is detected.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Final, Literal

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_CODE_LENGTH: Final = 10
BODY_LENGTH: Final = TRACKING_CODE_LENGTH - 1
GROUP_LENGTH: Final = 5

Explanation = Literal["empty", "too_short", "too_long", "bad_symbol", "bad_check", "ok"]

_VALUE: Final[dict[str, int]] = {symbol: value for value, symbol in enumerate(ALPHABET)}

# x^5 + x^2 + 1 is primitive over GF(2), so x (= 2) generates the multiplicative group of GF(32).
_MODULUS: Final = 0b100101
_ALPHA: Final = 0b00010


def _gf_mul(a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _MODULUS
    return product


def _powers(base: int, count: int) -> tuple[int, ...]:
    result = [1]
    for _ in range(count - 1):
        result.append(_gf_mul(result[-1], base))
    return tuple(result)


_WEIGHTS: Final = _powers(_ALPHA, TRACKING_CODE_LENGTH)
# Multiplying by the inverse of the check symbol's weight solves the equation for d_9;
# in GF(32) every nonzero w satisfies w**31 == 1, so w**30 is its inverse.
_CHECK_WEIGHT_INVERSE: Final = _powers(_WEIGHTS[-1], 31)[30]

# Crockford's decoding rules: letters that look or sound like digits mean those digits,
# and U (left out of the alphabet) is taken as the V it is most often mistaken for.
_ALIASES: Final = {"O": "0", "I": "1", "L": "1", "U": "V"}
# Separators people put in when copying a grouped code; phones often autocorrect "-" to a dash.
_SEPARATORS: Final = frozenset(" -._\u2010\u2011\u2012\u2013\u2014\u2212")


def _weighted_sum(values: list[int]) -> int:
    total = 0
    for weight, value in zip(_WEIGHTS, values, strict=False):
        total ^= _gf_mul(weight, value)
    return total


def checksum(body: str) -> str:
    """Return the check symbol for a 9-symbol canonical body (uppercase Crockford symbols)."""
    if len(body) != BODY_LENGTH or any(symbol not in _VALUE for symbol in body):
        raise ValueError(f"a tracking code body is {BODY_LENGTH} Crockford symbols, got {body!r}")
    partial = _weighted_sum([_VALUE[symbol] for symbol in body])
    # Addition is XOR in GF(2^5), so the value that brings the total to zero is the total itself.
    return ALPHABET[_gf_mul(partial, _CHECK_WEIGHT_INVERSE)]


def new_tracking_code() -> str:
    """Return a fresh canonical code: 10 uppercase symbols, no hyphen."""
    bits = secrets.randbits(5 * BODY_LENGTH)
    body = "".join(ALPHABET[(bits >> (5 * i)) & 0b11111] for i in range(BODY_LENGTH))
    return body + checksum(body)


def _clean(text: str) -> str:
    # NFKC turns full-width characters and non-breaking spaces from some keyboards into ASCII.
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(c for c in folded if c not in _SEPARATORS and not c.isspace())
    # Only ASCII is upper-cased: str.upper() would turn "ß" into "SS" and change the length.
    return "".join(_ALIASES.get(c.upper(), c.upper()) if c.isascii() else c for c in kept)


def _diagnose(cleaned: str) -> Explanation:
    if not cleaned:
        return "empty"
    # A stray symbol is named before a length problem: it is the more specific advice.
    if any(symbol not in _VALUE for symbol in cleaned):
        return "bad_symbol"
    if len(cleaned) < TRACKING_CODE_LENGTH:
        return "too_short"
    if len(cleaned) > TRACKING_CODE_LENGTH:
        return "too_long"
    if _weighted_sum([_VALUE[symbol] for symbol in cleaned]) != 0:
        return "bad_check"
    return "ok"


def explain(text: str) -> Explanation:
    """Say what is wrong with a code as typed, so the status page can give the right hint."""
    return _diagnose(_clean(text))


def normalize(text: str) -> str | None:
    """Return the canonical code for human input, or None if it is not a valid code."""
    cleaned = _clean(text)
    return cleaned if _diagnose(cleaned) == "ok" else None


def is_valid(code: str) -> bool:
    """Whether `code` is canonical (as stored and put in links); human input goes to `normalize`."""
    return len(code) == TRACKING_CODE_LENGTH and _diagnose(code) == "ok"


def format_code(code: str) -> str:
    """Return the grouped display form ``XXXXX-XXXXX`` of any accepted spelling of a valid code."""
    canonical = normalize(code)
    if canonical is None:
        raise ValueError(f"not a valid tracking code: {code!r}")
    return f"{canonical[:GROUP_LENGTH]}-{canonical[GROUP_LENGTH:]}"


def group(code: str) -> str:
    """The display form of a code that is canonical already, as the store keeps them: what
    `format_code` gives for it, without cleaning and checking it again. For exports, which
    format a million stored codes (checking each was a third of the CSV's CPU time)."""
    return f"{code[:GROUP_LENGTH]}-{code[GROUP_LENGTH:]}"
