"""The store's clock: one place, so every module stamps its rows alike (UTC, aware)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
