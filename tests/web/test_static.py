"""Vendored files are exactly what static/VENDORED.md says they are."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_vendored_files_match_their_recorded_hashes() -> None:
    rows = re.findall(
        r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$",
        (STATIC / "VENDORED.md").read_text(),
        flags=re.MULTILINE,
    )
    assert rows, "VENDORED.md lists no files"
    for name, digest in rows:
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name
