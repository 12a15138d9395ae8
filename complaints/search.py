"""Full-text search over reports, the same on SQLite and PostgreSQL.

Text is folded here, in Python, before either database sees it: lower case, accents and other
combining marks dropped, compatibility forms unified ("Ｊａｌａｎ", "JALAN" and "jalán" all become
"jalan"). Both backends then index the folded text with a plain word tokenizer, so a search
finds the same reports on both, and a citizen's "Puskesmas" matches a query for "puskesmas"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

# Longer queries add nothing but work; a token shorter than MIN_TOKEN would match half of all
# reports as a prefix.
MAX_TOKENS = 8
MIN_TOKEN = 2
MAX_TOKEN = 40

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    if text.isascii():
        # NFKD leaves ASCII as it is and it has no combining marks: the same result, without
        # a Python step per character (a third of the cost of storing a report's search text).
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold()


def search_text(title: str | None, text: str) -> str:
    """What a report is indexed by: its staff-given title and the citizen's text."""
    return fold(f"{title or ''}\n{text}")


def tokens(query: str) -> tuple[str, ...]:
    """The words of a search box entry, folded, each to be matched as a word prefix. Only
    letters and digits survive, so nothing of the query can reach either engine's syntax."""
    found: list[str] = []
    for word in _WORD.findall(fold(query)):
        if len(word) >= MIN_TOKEN and word not in found:
            found.append(word[:MAX_TOKEN])
    return tuple(found[:MAX_TOKENS])


# A word's completions: the index's terms that start with it, when the store looked them up
# (None: too many to list, the word stays a prefix query).
Completions = Mapping[str, Sequence[str] | None]


def _quoted(term: str) -> str:
    # The index's own terms are letters and digits as the words are; quoted all the same.
    return '"' + term.replace('"', '""') + '"'


def _fts5_word(word: str, completions: Completions) -> str:
    terms = completions.get(word)
    if terms is None:
        return f"{_quoted(word)}*"
    if not terms:
        return _quoted(word)  # in no report: an exact term the index does not hold
    if len(terms) == 1:
        return _quoted(terms[0])
    return "(" + " OR ".join(_quoted(term) for term in terms) + ")"


def fts5_match(words: Iterable[str], completions: Completions | None = None) -> str:
    """SQLite FTS5: every word required, as a quoted prefix or as any of its `completions`
    (same matches; FTS5 reads exact terms far more cheaply than a prefix)."""
    return " AND ".join(_fts5_word(w, completions or {}) for w in words)


def tsquery(words: Iterable[str]) -> str:
    """PostgreSQL to_tsquery('simple', ...): every word as a prefix, all required."""
    return " & ".join(f"{w}:*" for w in words)


# Words too common in Indonesian complaints to say what one is about.
_EVERYDAY = """
yang dan di ke dari untuk dengan ini itu sudah tidak ada saya kami kita mereka sangat karena
pada juga akan bisa atau oleh dalam agar masih belum hari jam tadi sejak sampai setelah
sebelum hanya lagi saja mohon tolong terima kasih bapak ibu pak bu sekali banyak para kepada
bahwa seperti namun tetapi tapi lebih kurang harus dapat telah sedang semua setiap this that
the and with from have been were will would there their what when which about after
"""
_STOPWORDS = frozenset(_EVERYDAY.split())
KEY_WORDS = 4
KEY_WORD_MIN = 4


def key_words(text: str, count: int = KEY_WORDS) -> tuple[str, ...]:
    """What a report is about, for finding others like it: its longest words that are not
    everyday ones, folded (ties keep the order they were written in)."""
    found: list[str] = []
    for word in _WORD.findall(fold(text)):
        if len(word) >= KEY_WORD_MIN and word not in _STOPWORDS and word not in found:
            found.append(word[:MAX_TOKEN])
    ranked = sorted(found, key=lambda w: -len(w))[:count]
    return tuple(w for w in found if w in ranked)


def _pairs(words: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(words) for b in words[i + 1 :]]


def fts5_similar(words: tuple[str, ...], completions: Completions | None = None) -> str:
    """SQLite FTS5: at least two of the words (one, if only one was found)."""
    if len(words) < 2:
        return fts5_match(words, completions)
    return " OR ".join(f"({fts5_match(pair, completions)})" for pair in _pairs(words))


def tsquery_similar(words: tuple[str, ...]) -> str:
    """PostgreSQL: at least two of the words (one, if only one was found)."""
    if len(words) < 2:
        return tsquery(words)
    return " | ".join(f"({tsquery(pair)})" for pair in _pairs(words))
