"""Folding text for the search index: the same words whatever their case, accents or forms."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from lapor.complaints.search import fold, search_text


def _fold_by_characters(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def test_case_accents_and_compatibility_forms_fold_to_one_word() -> None:
    assert {fold(w) for w in ("Ｊａｌａｎ", "JALAN", "jalán", "Jalan")} == {"jalan"}
    assert search_text("Jalan Rusak", "Sudah LAMA") == "jalan rusak\nsudah lama"


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_folds_as_the_character_by_character_way_does(text: str) -> None:
    assert fold(text) == _fold_by_characters(text)


@given(st.text())
def test_any_text_folds_as_the_character_by_character_way_does(text: str) -> None:
    assert fold(text) == _fold_by_characters(text)
