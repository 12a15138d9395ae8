"""Who may move a report, and where: the rules behind the workspace's buttons.

Pure functions over the report's status and the actor's role; the store applies a decision in
one transaction with a version check, the views only translate the refusal codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from complaints.reports import Status, can_move, clean_text

TITLE_MAX = 200
NOTE_MAX = 2000
ANSWER_MIN = 10
ANSWER_MAX = 4000


class Action(StrEnum):
    FORWARD = "forward"  # disposisi: the coordinator sends a verified report to a unit
    FOLLOW_UP = "follow_up"  # tindak lanjut: the unit's answer, shown to the reporter
    POSTPONE = "postpone"  # tunda: the coordinator asks the reporter for more information
    NOT_AUTHORITY = "not_authority"  # bukan wewenang: not for this organisation, with a reason
    ARCHIVE = "archive"  # spam, unclear, or a duplicate of another report
    REPLY = "reply"  # the reporter answers a question or an answer, re-opening the report
    ACCEPT = "accept"  # the reporter accepts the unit's answer and rates the handling
    AUTO_CLOSE = "auto_close"  # the reporter stayed silent after the answer past the deadline


# The decisions a coordinator takes with a sentence the reporter reads on the status page.
DECISIONS = (Action.POSTPONE, Action.NOT_AUTHORITY, Action.ARCHIVE)

ACTORS: dict[Action, frozenset[str]] = {
    Action.FORWARD: frozenset({"coordinator"}),
    Action.FOLLOW_UP: frozenset({"officer"}),
    Action.POSTPONE: frozenset({"coordinator"}),
    Action.NOT_AUTHORITY: frozenset({"coordinator"}),
    Action.ARCHIVE: frozenset({"coordinator"}),
    Action.REPLY: frozenset({"reporter"}),
    Action.ACCEPT: frozenset({"reporter"}),
    Action.AUTO_CLOSE: frozenset({"system"}),
}
TARGET: dict[Action, Status] = {
    Action.FORWARD: Status.FORWARDED,
    Action.FOLLOW_UP: Status.FOLLOWED_UP,
    Action.POSTPONE: Status.POSTPONED,
    Action.NOT_AUTHORITY: Status.NOT_AUTHORITY,
    Action.ARCHIVE: Status.ARCHIVED,
    Action.ACCEPT: Status.CLOSED,
    Action.AUTO_CLOSE: Status.CLOSED,
}
# A reply goes back to whoever asked: the coordinator after a question (tunda), the unit after
# an answer the reporter is not satisfied with.
REPLY_TARGET: dict[Status, Status] = {
    Status.POSTPONED: Status.RECEIVED,
    Status.FOLLOWED_UP: Status.FORWARDED,
}
RATINGS = range(1, 6)
REASON_MIN = 10
REASON_MAX = 2000


class Refusal(StrEnum):
    NOT_YOUR_ROLE = "not_your_role"
    WRONG_STATUS = "wrong_status"
    STALE = "stale"  # somebody else changed the report since the page was opened
    TITLE_REQUIRED = "title_required"
    TITLE_TOO_LONG = "title_too_long"
    NOTE_TOO_LONG = "note_too_long"
    UNIT_REQUIRED = "unit_required"
    UNIT_OUTSIDE = "unit_outside"
    ANSWER_TOO_SHORT = "answer_too_short"
    ANSWER_TOO_LONG = "answer_too_long"
    REASON_TOO_SHORT = "reason_too_short"
    REASON_TOO_LONG = "reason_too_long"
    ORIGINAL_UNKNOWN = "original_unknown"  # "duplicate of" names no report the coordinator sees
    RATING_REQUIRED = "rating_required"


class WorkflowError(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def target_of(action: Action, status: Status) -> Status | None:
    """Where `action` takes a report that is in `status`; None if it cannot."""
    target = REPLY_TARGET.get(status) if action is Action.REPLY else TARGET[action]
    return target if target is not None and can_move(status, target) else None


def allowed(action: Action, role: str, status: Status) -> Refusal | None:
    if role not in ACTORS[action]:
        return Refusal.NOT_YOUR_ROLE
    if target_of(action, status) is None:
        return Refusal.WRONG_STATUS
    return None


def read_rating(raw: str) -> int:
    if raw.isascii() and raw.isdigit() and int(raw) in RATINGS:
        return int(raw)
    raise WorkflowError(Refusal.RATING_REQUIRED)


def available_actions(role: str, status: Status) -> list[Action]:
    return [action for action in Action if allowed(action, role, status) is None]


@dataclass(frozen=True)
class Forwarding:
    title: str
    note: str | None
    unit_id: int


def read_forwarding(title: str, note: str, unit_id: str,
                    units_in_scope: set[int]) -> Forwarding:
    title = clean_text(title).replace("\n", " ")
    if not title:
        raise WorkflowError(Refusal.TITLE_REQUIRED)
    if len(title) > TITLE_MAX:
        raise WorkflowError(Refusal.TITLE_TOO_LONG)
    cleaned_note = clean_text(note) or None
    if cleaned_note and len(cleaned_note) > NOTE_MAX:
        raise WorkflowError(Refusal.NOTE_TOO_LONG)
    if not unit_id.isascii() or not unit_id.isdigit() or len(unit_id) > 18:
        raise WorkflowError(Refusal.UNIT_REQUIRED)
    if int(unit_id) not in units_in_scope:
        raise WorkflowError(Refusal.UNIT_OUTSIDE)
    return Forwarding(title, cleaned_note, int(unit_id))


def _bounded_text(text: str, shortest: int, longest: int, too_short: Refusal,
                  too_long: Refusal) -> str:
    cleaned = clean_text(text)
    if len(cleaned) < shortest:
        raise WorkflowError(too_short)
    if len(cleaned) > longest:
        raise WorkflowError(too_long)
    return cleaned


def read_reason(text: str) -> str:
    """The question (tunda) or reason (bukan wewenang, archive) the reporter will read."""
    return _bounded_text(text, REASON_MIN, REASON_MAX, Refusal.REASON_TOO_SHORT,
                         Refusal.REASON_TOO_LONG)


def read_answer(text: str) -> str:
    return _bounded_text(text, ANSWER_MIN, ANSWER_MAX, Refusal.ANSWER_TOO_SHORT,
                         Refusal.ANSWER_TOO_LONG)


def read_seen_version(raw: str) -> int:
    """The report version a form was rendered with; -1 (never current) when unreadable, so a
    mangled form is refused as stale rather than applied blindly."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1
