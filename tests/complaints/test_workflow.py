from __future__ import annotations

import pytest

from lapor.complaints.categories import CATEGORIES, CATEGORY_CODES
from lapor.complaints.reports import Status
from lapor.complaints.workflow import (
    Action,
    Edit,
    Refusal,
    WorkflowError,
    allowed,
    available_actions,
    available_edits,
    edit_allowed,
    read_answer,
    read_classification,
    read_extension,
    read_forwarding,
    read_note,
    read_redaction,
    read_tags,
)
from lapor.web.labels import CATEGORY


@pytest.mark.parametrize(
    "action, role, status, refusal",
    [
        (Action.FORWARD, "coordinator", Status.RECEIVED, None),
        (Action.FORWARD, "coordinator", Status.POSTPONED, None),
        (Action.FORWARD, "inspector", Status.RECEIVED, Refusal.NOT_YOUR_ROLE),
        (Action.FORWARD, "admin", Status.RECEIVED, Refusal.NOT_YOUR_ROLE),
        (Action.FORWARD, "coordinator", Status.FORWARDED, Refusal.WRONG_STATUS),
        (Action.FOLLOW_UP, "officer", Status.FORWARDED, None),
        (Action.FOLLOW_UP, "officer", Status.RECEIVED, Refusal.WRONG_STATUS),
        (Action.FOLLOW_UP, "coordinator", Status.FORWARDED, Refusal.NOT_YOUR_ROLE),
    ],
)
def test_who_may_do_what_when(
    action: Action, role: str, status: Status, refusal: Refusal | None
) -> None:
    assert allowed(action, role, status) == refusal


def test_inspectors_have_no_buttons() -> None:
    assert all(available_actions("inspector", status) == [] for status in Status)


@pytest.mark.parametrize(
    "title, category, tags, note, unit, refusal",
    [
        ("", "lainnya", "", "", "1", Refusal.TITLE_REQUIRED),
        ("t" * 201, "lainnya", "", "", "1", Refusal.TITLE_TOO_LONG),
        ("Judul", "", "", "", "1", Refusal.CATEGORY_REQUIRED),
        ("Judul", "Kesehatan", "", "", "1", Refusal.CATEGORY_REQUIRED),  # codes, not labels
        ("Judul", "lainnya", "a" * 31, "", "1", Refusal.TAGS_INVALID),
        ("Judul", "lainnya", ",".join("abcdefghi"), "", "1", Refusal.TAGS_INVALID),
        ("Judul", "lainnya", "", "n" * 2001, "1", Refusal.NOTE_TOO_LONG),
        ("Judul", "lainnya", "", "", "", Refusal.UNIT_REQUIRED),
        ("Judul", "lainnya", "", "", "٣", Refusal.UNIT_REQUIRED),
        ("Judul", "lainnya", "", "", "9", Refusal.UNIT_OUTSIDE),
    ],
)
def test_forwarding_is_checked(
    title: str, category: str, tags: str, note: str, unit: str, refusal: Refusal
) -> None:
    with pytest.raises(WorkflowError) as error:
        read_forwarding(
            read_classification(title, category, tags, CATEGORY_CODES), note, unit, {1, 2}
        )
    assert error.value.refusal is refusal


def test_forwarding_is_cleaned() -> None:
    classification = read_classification(
        "  Antrean\npanjang ", "pelayanan", " Loket ,loket, antrean  panjang,, ", CATEGORY_CODES
    )
    forwarding = read_forwarding(classification, "  ", "2", {1, 2})
    assert (forwarding.title, forwarding.note, forwarding.unit_id) == ("Antrean panjang", None, 2)
    assert (forwarding.category, forwarding.tags) == ("pelayanan", ("loket", "antrean panjang"))


def test_every_category_has_words() -> None:
    assert set(CATEGORIES) == set(CATEGORY)


def test_eight_tags_are_fine() -> None:
    assert len(read_tags(",".join("abcdefgh"))) == 8
    assert read_tags("") == ()


@pytest.mark.parametrize(
    "edit, role, status, refusal",
    [
        (Edit.CLASSIFY, "coordinator", Status.CLOSED, None),
        (Edit.CLASSIFY, "officer", Status.FORWARDED, Refusal.NOT_YOUR_ROLE),
        (Edit.REDACT, "coordinator", Status.FORWARDED, None),
        (Edit.REDACT, "admin", Status.RECEIVED, Refusal.NOT_YOUR_ROLE),
        (Edit.NOTE, "officer", Status.FORWARDED, None),
        (Edit.NOTE, "inspector", Status.FORWARDED, Refusal.NOT_YOUR_ROLE),
        (Edit.ASSIGN, "officer", Status.FORWARDED, None),
        (Edit.ASSIGN, "coordinator", Status.CLOSED, Refusal.WRONG_STATUS),
        (Edit.EXTEND, "coordinator", Status.FORWARDED, None),
        (Edit.EXTEND, "coordinator", Status.RECEIVED, Refusal.WRONG_STATUS),
        (Edit.EXTEND, "officer", Status.FORWARDED, Refusal.NOT_YOUR_ROLE),
    ],
)
def test_who_may_edit_what_when(
    edit: Edit, role: str, status: Status, refusal: Refusal | None
) -> None:
    assert edit_allowed(edit, role, status) == refusal


def test_inspectors_change_nothing() -> None:
    assert all(available_edits("inspector", status) == [] for status in Status)


def test_only_the_unit_returns_a_report_for_rerouting() -> None:
    assert allowed(Action.REROUTE, "officer", Status.FORWARDED) is None
    assert allowed(Action.REROUTE, "officer", Status.FOLLOWED_UP) == Refusal.WRONG_STATUS
    assert allowed(Action.REROUTE, "coordinator", Status.FORWARDED) == Refusal.NOT_YOUR_ROLE


def test_redaction_keeps_some_text_and_only_real_photos() -> None:
    with pytest.raises(WorkflowError) as error:
        read_redaction("  \u200b ", [], {0})
    assert error.value.refusal is Refusal.TEXT_REQUIRED
    with pytest.raises(WorkflowError) as error:
        read_redaction("x" * 4001, [], {0})
    assert error.value.refusal is Refusal.TEXT_TOO_LONG
    redaction = read_redaction(" Antrean lama. ", ["1", "7", "x", "-1", "1"], {0, 1, 2})
    assert (redaction.text, redaction.withheld) == ("Antrean lama.", frozenset({1}))


@pytest.mark.parametrize("days", ["", "0", "31", "3.5", "٣", "-2"])
def test_extensions_are_bounded(days: str) -> None:
    with pytest.raises(WorkflowError) as error:
        read_extension(days, "Menunggu anggaran perbaikan.")
    assert error.value.refusal is Refusal.DAYS_INVALID


def test_notes_need_words() -> None:
    with pytest.raises(WorkflowError):
        read_note("   ")
    with pytest.raises(WorkflowError):
        read_note("n" * 2001)
    assert read_extension("5", "  Menunggu anggaran perbaikan. ") == (
        5,
        "Menunggu anggaran perbaikan.",
    )


def test_answers_have_bounds() -> None:
    with pytest.raises(WorkflowError):
        read_answer("ok")
    with pytest.raises(WorkflowError):
        read_answer("x" * 4001)
    assert read_answer("  Sudah kami perbaiki.  ") == "Sudah kami perbaiki."
