"""What a text message means to us, and what fits in one: the keyword that asks for a report,
the words after it (a unit, ANONIM), how many segments a reply costs, and when two deliveries
are one message. No HTTP: the SMS channel reads the gateway's request, the jobs compose."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lapor.complaints.reports import TEXT_MAX, clean_text

ANONYMOUS_WORD = "ANONIM"
_WORD = re.compile(r"\S+")


def squash(word: str) -> str:
    """A keyword or unit word as it is compared: case and spaces do not count, because phones
    capitalise the first letter and posters print `LAPOR PAMAN` as well as `LAPORPAMAN`."""
    return "".join(word.split()).upper()


UNIT_WORD_MAX = 32


def read_unit_word(raw: str) -> str | None:
    """A unit's SMS word as it is kept (squashed), None for none; ValueError when a citizen
    could not type it as one word, or it would read as ANONIM."""
    word = squash(raw)
    if not word:
        return None
    if len(word) > UNIT_WORD_MAX or not word.isalnum() or word == ANONYMOUS_WORD:
        raise ValueError(word)
    return word


@dataclass(frozen=True)
class ParsedSms:
    """A message that asks for a report. `unit_word` is the squashed unit word it named, or
    None (the root coordinator takes it); `cut` says the text was kept up to TEXT_MAX."""

    text: str
    anonymous: bool
    unit_word: str | None
    cut: bool


def parse(
    message: str,
    keywords: Sequence[str],
    unit_words: Mapping[str, int] | None = None,
    *,
    keyword_required: bool = True,
) -> ParsedSms | None:
    """The report a message asks for, or None when it starts with none of `keywords` or has
    no text after them (the sender is sent the help reply). `unit_words` maps squashed words
    to units: a known word right after the keyword routes the report there; an unknown one is
    the start of the text, as a citizen may well begin with any word. Without
    `keyword_required` (a number that serves nothing but reports, as on WhatsApp) a keyword
    may lead but need not, and ANONIM and a unit word are read at the start either way."""
    words = list(_WORD.finditer(clean_text(message)))
    wanted = {squash(k) for k in keywords if squash(k)}
    used = 0
    # The longest keyword that whole words spell: `LAPOR PAMAN` must not stop at `LAPOR`.
    for count in range(1, len(words) + 1):
        spelled = "".join(w.group() for w in words[:count]).upper()
        if spelled in wanted:
            used = count
        if not any(k.startswith(spelled) for k in wanted):
            break
    if used == 0 and keyword_required:
        return None
    anonymous = False
    unit_word = None
    # ANONIM and a unit word, each at most once, in either order: people type both.
    while used < len(words):
        word = words[used].group().upper()
        if word == ANONYMOUS_WORD and not anonymous:
            anonymous = True
        elif unit_word is None and unit_words and word in unit_words:
            unit_word = word
        else:
            break
        used += 1
    if used >= len(words):
        return None
    text = clean_text(message)[words[used].start() :]
    cut = len(text) > TEXT_MAX
    return ParsedSms(text[:TEXT_MAX].rstrip() if cut else text, anonymous, unit_word, cut)


# GSM 03.38: the default alphabet (one septet each) and its extension table (an escape and
# a septet: two). Anything else sends the whole message as UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "gsm7" or "ucs2"
    count: int


def segments(text: str) -> Segments:
    """How many SMS `text` takes. One GSM-7 SMS holds 160 septets, a part of a long one 153
    (the rest is the concatenation header), and an escape never straddles two parts; UCS-2
    holds 70 UTF-16 units, 67 a part, and a surrogate pair never straddles two parts."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        sizes = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return Segments("gsm7", _parts(sizes, single=160, part=153))
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return Segments("ucs2", _parts(sizes, single=70, part=67))


def _parts(sizes: Sequence[int], *, single: int, part: int) -> int:
    total = sum(sizes)
    if total <= single:
        return 1
    count, filled = 1, 0
    for size in sizes:
        if filled + size > part:
            count, filled = count + 1, 0
        filled += size
    return max(count, math.ceil(total / part))


def idempotency_key(
    *,
    sender: str,
    text: str,
    message_id: str = "",
    smsc: str = "",
    gateway_time: str = "",
    received_epoch: float = 0.0,
    window_seconds: int = 600,
) -> str:
    """The submission key of an inbound message: a gateway that retries sends the same one,
    so it is stored once. The gateway's own message id where it sends one; else the sender,
    the text and the gateway's time of the message (the same on every retry); else the
    sender and the text within a window of our clock, so a retry minutes later is the same
    report while the same words sent again next week are a new one."""
    if message_id:
        parts = ["id", smsc, message_id]
    elif gateway_time:
        parts = ["time", sender, text, gateway_time]
    else:
        parts = ["window", sender, text, str(int(received_epoch // window_seconds))]
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    # The store keeps 64 characters; the prefix keeps SMS keys apart from form tokens.
    return "sms:" + digest[:60]
