"""Photos uploaded with a form that was never sent stay in the pending area; this sweeps them."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from lapor.settings import Settings
from lapor.store.photos import PhotoStore
from lapor.web import logs

log = logging.getLogger("lapor")

PENDING_PHOTO_SWEEP_SECONDS = 3600


async def sweep_forever(photos: PhotoStore, settings: Settings) -> None:
    """Every hour, drop pending uploads older than a form token lives (plus the hour): no
    form still open can send them any more."""
    while True:
        await asyncio.sleep(PENDING_PHOTO_SWEEP_SECONDS)
        try:
            started = time.monotonic()
            removed = await photos.sweep_pending(
                settings.form_token_max_age + PENDING_PHOTO_SWEEP_SECONDS
            )
            logs.job_run("photo_sweep", started, removed=removed)
        except (OSError, SQLAlchemyError):
            log.exception("sweeping pending photos failed")
