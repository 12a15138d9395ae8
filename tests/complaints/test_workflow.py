from __future__ import annotations

import pytest

from complaints.reports import Status
from complaints.workflow import (
    Action,
    Refusal,
    WorkflowError,
    allowed,
    available_actions,
    read_answer,
    read_forwarding,
)


@pytest.mark.parametrize("action, role, status, refusal", [
    (Action.FORWARD, "coordinator", Status.RECEIVED, None),
    (Action.FORWARD, "coordinator", Status.POSTPONED, None),
    (Action.FORWARD, "inspector", Status.RECEIVED, Refusal.NOT_YOUR_ROLE),
    (Action.FORWARD, "admin", Status.RECEIVED, Refusal.NOT_YOUR_ROLE),
    (Action.FORWARD, "coordinator", Status.FORWARDED, Refusal.WRONG_STATUS),
    (Action.FOLLOW_UP, "officer", Status.FORWARDED, None),
    (Action.FOLLOW_UP, "officer", Status.RECEIVED, Refusal.WRONG_STATUS),
    (Action.FOLLOW_UP, "coordinator", Status.FORWARDED, Refusal.NOT_YOUR_ROLE),
])
def test_who_may_do_what_when(action: Action, role: str, status: Status,
                              refusal: Refusal | None) -> None:
    assert allowed(action, role, status) == refusal


def test_inspectors_have_no_buttons() -> None:
    assert all(available_actions("inspector", status) == [] for status in Status)


@pytest.mark.parametrize("title, note, unit, refusal", [
    ("", "", "1", Refusal.TITLE_REQUIRED),
    ("t" * 201, "", "1", Refusal.TITLE_TOO_LONG),
    ("Judul", "n" * 2001, "1", Refusal.NOTE_TOO_LONG),
    ("Judul", "", "", Refusal.UNIT_REQUIRED),
    ("Judul", "", "٣", Refusal.UNIT_REQUIRED),
    ("Judul", "", "9", Refusal.UNIT_OUTSIDE),
])
def test_forwarding_is_checked(title: str, note: str, unit: str, refusal: Refusal) -> None:
    with pytest.raises(WorkflowError) as error:
        read_forwarding(title, note, unit, {1, 2})
    assert error.value.refusal is refusal


def test_forwarding_is_cleaned() -> None:
    forwarding = read_forwarding("  Antrean\npanjang ", "  ", "2", {1, 2})
    assert (forwarding.title, forwarding.note, forwarding.unit_id) == ("Antrean panjang", None, 2)


def test_answers_have_bounds() -> None:
    with pytest.raises(WorkflowError):
        read_answer("ok")
    with pytest.raises(WorkflowError):
        read_answer("x" * 4001)
    assert read_answer("  Sudah kami perbaiki.  ") == "Sudah kami perbaiki."
