"""The categories a coordinator files a verified report under (the citizen's form has none).

Codes are stored; web/labels.py gives each its words. The list follows the subjects the
SP4N-LAPOR! national portal sorts reports into, shortened to what a regional office meets."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "pelayanan",
    "kesehatan",
    "pendidikan",
    "kependudukan",
    "perizinan",
    "infrastruktur",
    "transportasi",
    "lingkungan",
    "ketertiban",
    "sosial",
    "pajak",
    "ketenagakerjaan",
    "pungli",
    "lainnya",
)
CATEGORY_CODES = frozenset(CATEGORIES)
