"""Full-text search over reports, the same on SQLite and PostgreSQL.

Text is folded here, in Python, before either database sees it: lower case, accents and other
combining marks dropped, compatibility forms unified ("Ｊａｌａｎ", "JALAN" and "jalán" all become
"jalan"). Both backends then index the folded text with a plain word tokenizer, so a search
finds the same reports on both, and a citizen's "Puskesmas" matches a query for "puskesmas"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Longer queries add nothing but work; a token shorter than MIN_TOKEN would match half of all
# reports as a prefix.
MAX_TOKENS = 8
MIN_TOKEN = 2
MAX_TOKEN = 40

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
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


def fts5_match(words: Iterable[str]) -> str:
    """SQLite FTS5: every word as a quoted prefix, all required."""
    return " AND ".join(f'"{w}"*' for w in words)


def tsquery(words: Iterable[str]) -> str:
    """PostgreSQL to_tsquery('simple', ...): every word as a prefix, all required."""
    return " & ".join(f"{w}:*" for w in words)
