from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.complaints.access import can_see_identity
from lapor.complaints.reports import (
    TRANSITIONS,
    Identity,
    Status,
    can_move,
    clean_text,
    normalize_phone,
    route,
    validate_submission,
)

GOOD = {"kind": "pengaduan", "text": "Antrean panjang sekali di loket tiga.", "identity": "anonim"}


def test_anonymous_submission_drops_identity_even_if_sent() -> None:
    submission, errors = validate_submission({**GOOD, "name": "Ani", "phone": "0812345678"})
    assert errors == [] and submission is not None
    assert (submission.name, submission.phone, submission.email) == (None, None, None)


def test_named_needs_name_and_a_contact() -> None:
    _, errors = validate_submission({**GOOD, "identity": "named"})
    assert {(e.field, e.code) for e in errors} == {("name", "required"), ("contact", "required")}


def test_the_channel_chosen_for_a_phone_is_kept_only_with_a_phone() -> None:
    named = {**GOOD, "identity": "named", "name": "Ani"}
    submission, _ = validate_submission({**named, "phone": "0812345678", "notify_by": "whatsapp"})
    assert submission is not None and submission.notify_by == "whatsapp"
    submission, _ = validate_submission({**named, "email": "ani@example.id", "notify_by": "sms"})
    assert submission is not None and submission.notify_by is None
    _, errors = validate_submission({**named, "phone": "0812345678", "notify_by": "pos"})
    assert [(e.field, e.code) for e in errors] == [("notify_by", "invalid")]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("(0511) 335 4321", "+625113354321"),
        ("12", None),
        ("08123abc", None),
    ],
)
def test_phone_numbers(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


def test_text_is_cleaned_of_invisible_characters() -> None:
    assert clean_text("  antre\u200b\u202ean \r\n ok\x00 ") == "antrean \n ok"


@given(st.text(max_size=5000))
def test_validation_never_raises(text: str) -> None:
    validate_submission({**GOOD, "text": text, "location": text, "name": text})


def test_routing_takes_the_nearest_coordinator() -> None:
    chain = [12, 5, 1]  # sub-unit, agency, province
    assert route(chain, {1, 5}) == 5
    assert route(chain, {1}) == 1
    assert route(chain, {99}) is None


def test_every_status_can_be_left_and_closed_reports_can_reopen() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert can_move(Status.RECEIVED, Status.FORWARDED)
    assert not can_move(Status.RECEIVED, Status.CLOSED)
    assert can_move(Status.CLOSED, Status.FORWARDED)


@pytest.mark.parametrize(
    "role, identity, visible",
    [
        ("coordinator", Identity.CONFIDENTIAL, True),
        ("admin", Identity.CONFIDENTIAL, False),
        ("inspector", Identity.CONFIDENTIAL, False),
        ("officer", Identity.CONFIDENTIAL, False),
        ("inspector", Identity.NAMED, True),
        ("coordinator", Identity.ANONYMOUS, False),
    ],
)
def test_who_sees_the_reporter(role: str, identity: Identity, visible: bool) -> None:
    assert can_see_identity(role, identity) is visible


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Budi@Example.ID", "budi@example.id"),
        ("siti.rahma+lapor@mail.example.id", "siti.rahma+lapor@mail.example.id"),
        ("budi@bücher.example", "budi@bücher.example"),  # an internationalised domain
        # Each of these would make a second recipient of the answer to the reporter.
        ("budi@example.id,postmaster", None),
        ("budi@example.id;admin@example.id", None),
        ('"budi,postmaster"@example.id', None),
        ("budi(postmaster)@example.id", None),
        ("Budi <budi@example.id>", None),
        ("budi@example", None),
        ("budi", None),
    ],
)
def test_an_email_is_one_mailbox(raw: str, expected: str | None) -> None:
    named = {**GOOD, "identity": "named", "name": "Budi", "email": raw}
    submission, errors = validate_submission(named)
    if expected is None:
        assert submission is None and [(e.field, e.code) for e in errors] == [("email", "invalid")]
    else:
        assert submission is not None and submission.email == expected
