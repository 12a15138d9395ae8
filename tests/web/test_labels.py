"""Labels staff read for values the code holds as numbers."""

from __future__ import annotations

import pytest

from lapor.web import i18n
from lapor.web.labels import clock_offset_label


@pytest.mark.parametrize(
    ("offset_ms", "indonesian", "english"),
    [
        (None, "–", "–"),
        (-40, "sama dengan server", "in step with the server"),  # it said "-0.0 s"
        (0, "sama dengan server", "in step with the server"),
        (99, "sama dengan server", "in step with the server"),
        (-2500, "2,5 detik lebih lambat", "2.5 s behind"),
        (1200, "1,2 detik lebih cepat", "1.2 s ahead"),
        (65_400, "1 menit 5 detik lebih cepat", "1 min 5 s ahead"),
    ],
)
def test_a_kiosk_clock_offset_reads_as_words(
    offset_ms: int | None, indonesian: str, english: str
) -> None:
    with i18n.using("id"):
        assert clock_offset_label(offset_ms) == indonesian
    with i18n.using("en"):
        assert clock_offset_label(offset_ms) == english
