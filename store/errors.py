"""What the store refuses with: the data, not the caller, decides (unknown unit, duplicate
slug, a resent key with another report)."""

from __future__ import annotations


class StoreError(Exception):
    """A command refused because of the data (unknown unit, duplicate slug...)."""


class NotFound(StoreError):
    pass


class Duplicate(StoreError):
    pass


class InUse(StoreError):
    """A unit still has sub-units, staff, posters or reports: deleting it would orphan them."""


class IdempotencyConflict(StoreError):
    """The same idempotency key came back with a different report."""

    def __init__(self, tracking_code: str) -> None:
        super().__init__(tracking_code)
        self.tracking_code = tracking_code


class FeedbackConflict(StoreError):
    """The same idempotency key came back with different feedback."""

    def __init__(self, feedback_id: int) -> None:
        super().__init__(feedback_id)
        self.feedback_id = feedback_id
