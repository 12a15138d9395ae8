"""Who may move a report, and where: the rules behind the workspace's buttons.

Pure functions over the report's status and the actor's role; the store applies a decision in
one transaction with a version check, the views only translate the refusal codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lapor.complaints.reports import TEXT_MAX, Status, can_move, clean_text

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
    REROUTE = "reroute"  # the unit says the report is not theirs: back to the coordinator


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
    Action.REROUTE: frozenset({"officer"}),
}
TARGET: dict[Action, Status] = {
    Action.FORWARD: Status.FORWARDED,
    Action.FOLLOW_UP: Status.FOLLOWED_UP,
    Action.POSTPONE: Status.POSTPONED,
    Action.NOT_AUTHORITY: Status.NOT_AUTHORITY,
    Action.ARCHIVE: Status.ARCHIVED,
    Action.ACCEPT: Status.CLOSED,
    Action.AUTO_CLOSE: Status.CLOSED,
    Action.REROUTE: Status.RECEIVED,
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
    CATEGORY_REQUIRED = "category_required"
    TAGS_INVALID = "tags_invalid"
    TEXT_REQUIRED = "text_required"
    TEXT_TOO_LONG = "text_too_long"
    NOTE_REQUIRED = "note_required"
    ASSIGNEE_OUTSIDE = "assignee_outside"  # nobody of that id may take this report
    DAYS_INVALID = "days_invalid"
    NOTHING_SELECTED = "nothing_selected"
    TEMPLATE_TITLE_TOO_LONG = "template_title_too_long"
    BULK_ACTION_REQUIRED = "bulk_action_required"
    TOO_MANY_SELECTED = "too_many_selected"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"
    ATTACHMENT_INVALID = "attachment_invalid"
    WITHHOLD_REASON_TOO_SHORT = "withhold_reason_too_short"
    WITHHOLD_REASON_TOO_LONG = "withhold_reason_too_long"


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


class Edit(StrEnum):
    """Changes to a report that leave its status alone; each still names the version it saw."""

    CLASSIFY = "classify"  # title, category and tags
    REDACT = "redact"  # personal data out of the text and photos, the original kept internal
    NOTE = "note"  # an internal note between staff
    ASSIGN = "assign"  # one named person inside the unit takes it
    EXTEND = "extend"  # more working days for the unit's follow-up, with a reason
    PUBLISH = "publish"  # on or off the public list of answered reports, with a reason off it


_OPEN = frozenset({Status.RECEIVED, Status.POSTPONED, Status.FORWARDED, Status.FOLLOWED_UP})
EDITORS: dict[Edit, frozenset[str]] = {
    Edit.CLASSIFY: frozenset({"coordinator"}),
    Edit.REDACT: frozenset({"coordinator"}),
    Edit.NOTE: frozenset({"coordinator", "officer"}),
    Edit.ASSIGN: frozenset({"coordinator", "officer"}),
    Edit.EXTEND: frozenset({"coordinator"}),
    Edit.PUBLISH: frozenset({"coordinator"}),
}
EDIT_STATUSES: dict[Edit, frozenset[Status]] = {
    Edit.CLASSIFY: frozenset(Status),
    Edit.REDACT: frozenset(Status),
    Edit.NOTE: frozenset(Status),
    Edit.ASSIGN: _OPEN,
    Edit.EXTEND: frozenset({Status.FORWARDED}),
    Edit.PUBLISH: frozenset(Status),
}


def edit_allowed(edit: Edit, role: str, status: Status) -> Refusal | None:
    if role not in EDITORS[edit]:
        return Refusal.NOT_YOUR_ROLE
    if status not in EDIT_STATUSES[edit]:
        return Refusal.WRONG_STATUS
    return None


def available_edits(role: str, status: Status) -> list[Edit]:
    return [edit for edit in Edit if edit_allowed(edit, role, status) is None]


TAGS_MAX = 8
TAG_MAX = 30
EXTENSION_MAX_DAYS = 30


@dataclass(frozen=True)
class Classification:
    title: str
    category: str
    tags: tuple[str, ...]


def read_title(raw: str) -> str:
    title = clean_text(raw).replace("\n", " ")
    if not title:
        raise WorkflowError(Refusal.TITLE_REQUIRED)
    if len(title) > TITLE_MAX:
        raise WorkflowError(Refusal.TITLE_TOO_LONG)
    return title


def read_tags(raw: str) -> tuple[str, ...]:
    """Comma-separated words, lower-cased and de-duplicated in the order typed; a tag is what
    staff filter and count by, so "Jalan Rusak" and "jalan rusak " are one tag."""
    tags: list[str] = []
    for part in clean_text(raw).replace("\n", ",").split(","):
        tag = " ".join(part.split()).casefold()
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            raise WorkflowError(Refusal.TAGS_INVALID)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise WorkflowError(Refusal.TAGS_INVALID)
    return tuple(tags)


def read_classification(
    title: str, category: str, tags: str, categories: frozenset[str]
) -> Classification:
    title = read_title(title)
    if category not in categories:
        raise WorkflowError(Refusal.CATEGORY_REQUIRED)
    return Classification(title, category, read_tags(tags))


@dataclass(frozen=True)
class Forwarding:
    title: str
    note: str | None
    unit_id: int
    category: str | None = None
    tags: tuple[str, ...] = ()


def read_unit_choice(unit_id: str, units_in_scope: set[int]) -> int:
    if not unit_id.isascii() or not unit_id.isdigit() or len(unit_id) > 18:
        raise WorkflowError(Refusal.UNIT_REQUIRED)
    if int(unit_id) not in units_in_scope:
        raise WorkflowError(Refusal.UNIT_OUTSIDE)
    return int(unit_id)


def read_forwarding(
    classification: Classification, note: str, unit_id: str, units_in_scope: set[int]
) -> Forwarding:
    cleaned_note = clean_text(note) or None
    if cleaned_note and len(cleaned_note) > NOTE_MAX:
        raise WorkflowError(Refusal.NOTE_TOO_LONG)
    return Forwarding(
        classification.title,
        cleaned_note,
        read_unit_choice(unit_id, units_in_scope),
        classification.category,
        classification.tags,
    )


def read_note(raw: str) -> str:
    note = clean_text(raw)
    if not note:
        raise WorkflowError(Refusal.NOTE_REQUIRED)
    if len(note) > NOTE_MAX:
        raise WorkflowError(Refusal.NOTE_TOO_LONG)
    return note


@dataclass(frozen=True)
class Redaction:
    text: str
    withheld: frozenset[int]  # photo positions only the coordinator may still see


def read_redaction(text: str, withheld: list[str], positions: set[int]) -> Redaction:
    """The report's text as others will read it, and the photos to withhold. The text may be
    shortened but not emptied: staff still need to know what the report is about."""
    cleaned = clean_text(text)
    if not cleaned:
        raise WorkflowError(Refusal.TEXT_REQUIRED)
    if len(cleaned) > TEXT_MAX:
        raise WorkflowError(Refusal.TEXT_TOO_LONG)
    chosen = {int(p) for p in withheld if p.isascii() and p.isdigit() and len(p) < 4}
    return Redaction(cleaned, frozenset(chosen & positions))


def read_extension(days: str, reason: str) -> tuple[int, str]:
    if not days.isascii() or not days.isdigit() or not 1 <= int(days) <= EXTENSION_MAX_DAYS:
        raise WorkflowError(Refusal.DAYS_INVALID)
    return int(days), read_reason(reason)


def _bounded_text(
    text: str, shortest: int, longest: int, too_short: Refusal, too_long: Refusal
) -> str:
    cleaned = clean_text(text)
    if len(cleaned) < shortest:
        raise WorkflowError(too_short)
    if len(cleaned) > longest:
        raise WorkflowError(too_long)
    return cleaned


def read_reason(text: str) -> str:
    """The question (tunda) or reason (bukan wewenang, archive) the reporter will read."""
    return _bounded_text(
        text, REASON_MIN, REASON_MAX, Refusal.REASON_TOO_SHORT, Refusal.REASON_TOO_LONG
    )


def read_answer(text: str) -> str:
    return _bounded_text(
        text, ANSWER_MIN, ANSWER_MAX, Refusal.ANSWER_TOO_SHORT, Refusal.ANSWER_TOO_LONG
    )


def read_seen_version(raw: str) -> int:
    """The report version a form was rendered with; -1 (never current) when unreadable, so a
    mangled form is refused as stale rather than applied blindly."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1


TEMPLATE_TITLE_MAX = 120


@dataclass(frozen=True)
class AnswerTemplateDraft:
    unit_id: int
    category: str | None  # None: offered whatever the report's category
    title: str
    body: str


def read_answer_template(
    unit_id: str,
    category: str,
    title: str,
    body: str,
    units_in_scope: set[int],
    categories: frozenset[str],
) -> AnswerTemplateDraft:
    """An answer template as staff typed it; its body obeys the same bounds as an answer."""
    unit = read_unit_choice(unit_id, units_in_scope)
    if category and category not in categories:
        raise WorkflowError(Refusal.CATEGORY_REQUIRED)
    cleaned_title = clean_text(title).replace("\n", " ")
    if not cleaned_title:
        raise WorkflowError(Refusal.TITLE_REQUIRED)
    if len(cleaned_title) > TEMPLATE_TITLE_MAX:
        raise WorkflowError(Refusal.TEMPLATE_TITLE_TOO_LONG)
    return AnswerTemplateDraft(unit, category or None, cleaned_title, read_answer(body))


class Bulk(StrEnum):
    """What the inbox can do to several selected reports at once."""

    ASSIGN = "assign"
    FORWARD = "forward"
    ARCHIVE = "archive"


BULK_ROLES: dict[Bulk, frozenset[str]] = {
    Bulk.ASSIGN: EDITORS[Edit.ASSIGN],
    Bulk.FORWARD: ACTORS[Action.FORWARD],
    Bulk.ARCHIVE: ACTORS[Action.ARCHIVE],
}
BULK_MAX = 100


def bulk_actions(role: str) -> list[Bulk]:
    return [bulk for bulk in Bulk if role in BULK_ROLES[bulk]]


def read_bulk(action: str, role: str) -> Bulk:
    try:
        bulk = Bulk(action)
    except ValueError:
        raise WorkflowError(Refusal.BULK_ACTION_REQUIRED) from None
    if role not in BULK_ROLES[bulk]:
        raise WorkflowError(Refusal.NOT_YOUR_ROLE)
    return bulk


def read_selection(values: list[str]) -> list[tuple[int, int]]:
    """(report id, version seen) pairs from the inbox's check boxes ("12.3"), in list order,
    each once; each report is then refused on its own if it changed since the list was shown."""
    chosen: dict[int, int] = {}
    for value in values:
        report_id, _, version = value.partition(".")
        if not (
            report_id.isascii()
            and report_id.isdigit()
            and 0 < len(report_id) < 19
            and version.isascii()
            and version.isdigit()
            and 0 < len(version) < 10
        ):
            raise WorkflowError(Refusal.NOTHING_SELECTED)
        chosen.setdefault(int(report_id), int(version))
    if not chosen:
        raise WorkflowError(Refusal.NOTHING_SELECTED)
    if len(chosen) > BULK_MAX:
        raise WorkflowError(Refusal.TOO_MANY_SELECTED)
    return list(chosen.items())
