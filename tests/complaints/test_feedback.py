"""The IKM of PermenPANRB No. 14/2017, its grades, and what a kiosk's feedback must look like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from lapor.complaints.feedback import (
    FACES,
    IKM_ITEMS,
    FeedbackFigures,
    FeedbackKind,
    FeedbackSubmission,
    faces_for_client,
    grade_of,
    ikm_items_for_client,
    ikm_score,
    parse_feedback,
)
from lapor.complaints.reports import FieldError
from lapor.web import i18n
from lapor.web.labels import ERROR_MESSAGES

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LANGUAGES = i18n.LANGUAGES


def parse(**data: str) -> tuple[FeedbackSubmission | None, list[FieldError]]:
    return parse_feedback(data, now=NOW, languages=LANGUAGES)


def test_the_nine_items_in_the_regulations_order_with_four_answers_each() -> None:
    assert [i.number for i in IKM_ITEMS] == list(range(1, 10))
    assert all(len(i.answers) == 4 and len(set(i.answers)) == 4 for i in IKM_ITEMS)
    with i18n.using("id"):
        names = [i18n.gettext(i.name) for i in IKM_ITEMS]
        cost = [i18n.gettext(a) for a in IKM_ITEMS[3].answers]
        complaints = [i18n.gettext(a) for a in IKM_ITEMS[7].answers]
    assert names == [
        "Persyaratan",
        "Sistem, mekanisme, dan prosedur",
        "Waktu penyelesaian",
        "Biaya/tarif",
        "Produk spesifikasi jenis pelayanan",
        "Kompetensi pelaksana",
        "Perilaku pelaksana",
        "Penanganan pengaduan, saran dan masukan",
        "Sarana dan prasarana",
    ]
    assert cost == ["Sangat mahal", "Cukup mahal", "Murah", "Gratis"]
    assert complaints == [
        "Tidak ada",
        "Ada tetapi tidak berfungsi",
        "Berfungsi kurang maksimal",
        "Dikelola dengan baik",
    ]


def test_the_formula_on_a_worked_example() -> None:
    # Four respondents, answers to items 1..9:
    #   r1: 3 3 3 2 3 3 4 2 3
    #   r2: 4 3 3 4 3 3 4 3 3
    #   r3: 3 2 3 4 3 4 4 2 3
    #   r4: 3 3 2 4 3 3 3 1 4
    # Item sums 13 11 11 14 12 13 15 8 13, so NRR (sum / 4):
    #   3.25 2.75 2.75 3.50 3.00 3.25 3.75 2.00 3.25, together 27.5.
    # IKM = 27.5 x 1/9 = 3.0556 on the 1-4 scale; x 25 = 76.3888... -> 76.39, grade C
    # (65.00-76.60, "Kurang Baik"). Item 8 (complaint handling, NRR 2.00) drags it down.
    answers = ["333233423", "433433433", "323434423", "332433314"]
    figures = FeedbackFigures(
        len(answers), tuple(sum(int(a[i]) for a in answers) for i in range(9))
    )
    assert figures.item_sums == (13, 11, 11, 14, 12, 13, 15, 8, 13)
    items = figures.items()
    assert [i.nrr for i in items] == [Fraction(n, 4) for n in figures.item_sums]
    assert items[0].weighted == Fraction(13, 36)  # 3.25 / 9 = 0.3611
    assert items[7].score == Decimal("50.00")
    assert figures.index == Fraction(55, 18)
    assert figures.ikm == Decimal("76.39")
    assert figures.grade is not None and figures.grade.letter == "C"
    with i18n.using("id"):
        assert i18n.gettext(figures.grade.words) == "Kurang baik"
        assert i18n.format_fixed(figures.ikm) == "76,39"
    with i18n.using("en"):
        assert i18n.format_fixed(figures.ikm) == "76.39"


def test_all_fours_is_a_hundred_and_all_ones_twenty_five() -> None:
    # With the exact 1/9, not the regulation's printed 0.111 (which would give 99.90).
    assert ikm_score((4 * 7,) * 9, 7) == Decimal("100.00")
    assert ikm_score((3,) * 9, 3) == Decimal("25.00")
    assert ikm_score((0,) * 9, 0) is None
    empty = FeedbackFigures()
    assert empty.ikm is None and empty.grade is None and empty.rating_average is None
    assert [i.nrr for i in empty.items()] == [None] * 9


@pytest.mark.parametrize(
    ("score", "letter"),
    [
        ("100.00", "A"),
        ("88.31", "A"),
        ("88.30", "B"),
        ("76.61", "B"),
        ("76.60", "C"),
        ("65.00", "C"),
        ("64.99", "D"),
        ("25.00", "D"),
        # Read at the two decimals shown: 88.305 shows 88.31, 88.3049 shows 88.30.
        ("88.305", "A"),
        ("88.3049", "B"),
        ("64.995", "C"),
    ],
)
def test_grade_boundaries(score: str, letter: str) -> None:
    assert grade_of(Decimal(score)).letter == letter


def test_a_score_on_a_boundary_from_sums() -> None:
    # 25 x T / (9 n) = 88.30 needs T / n = 31.788 = 7947 / 250: 250 responses whose nine
    # items each add up to 883. One more point anywhere makes 88.3111, shown 88.31, an A.
    sums = (883,) * 9
    assert ikm_score(sums, 250) == Decimal("88.30")
    assert grade_of(Decimal("88.30")).letter == "B"
    assert ikm_score((sums[0] + 1, *sums[1:]), 250) == Decimal("88.31")


def test_quick_ratings_average() -> None:
    figures = FeedbackFigures(ratings=3, rating_sum=12)
    assert figures.rating_average == 4
    figures.add(FeedbackFigures(1, (4,) * 9, 1, 1))
    assert (figures.ratings, figures.rating_sum, figures.ikm_responses) == (4, 13, 1)
    assert figures.ikm == Decimal("100.00")


def test_a_rating_and_a_survey_parse() -> None:
    rating, errors = parse(kind="rating", unit="7", rating="4", language="id")
    assert errors == [] and rating is not None
    assert (rating.kind, rating.unit_id, rating.rating, rating.answers) == (
        FeedbackKind.RATING,
        7,
        4,
        None,
    )
    assert rating.reported_at is None
    survey, errors = parse(
        kind="ikm",
        unit="7",
        answers="342334421",
        language="en",
        reported_at="2026-11-23T10:15:00+08:00",
    )
    assert errors == [] and survey is not None
    assert survey.answers == (3, 4, 2, 3, 3, 4, 4, 2, 1)
    assert survey.answers_code == "342334421"
    assert survey.reported_at == datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    # The same survey from radio buttons named q1..q9, with a UTC "Z".
    from_form, errors = parse(
        kind="ikm",
        unit="7",
        language="en",
        reported_at="2026-11-23T02:15:00Z",
        **{f"q{n}": d for n, d in enumerate("342334421", start=1)},
    )
    assert errors == [] and from_form == survey


def test_body_hash_tells_a_resend_from_different_feedback() -> None:
    a, _ = parse(kind="ikm", unit="7", answers="342334421", language="id")
    b, _ = parse(kind="ikm", unit="7", answers="342334421", language="id")
    c, _ = parse(kind="ikm", unit="7", answers="342334422", language="id")
    d, _ = parse(
        kind="ikm",
        unit="7",
        answers="342334421",
        language="id",
        reported_at="2026-11-23T10:15:00+08:00",
    )
    assert a is not None and b is not None and c is not None and d is not None
    assert a.body_hash() == b.body_hash()
    assert len({a.body_hash(), c.body_hash(), d.body_hash()}) == 3
    # The same moment written in another zone is the same body.
    e, _ = parse(
        kind="ikm",
        unit="7",
        answers="342334421",
        language="id",
        reported_at="2026-11-23T02:15:00+00:00",
    )
    assert e is not None and e.body_hash() == d.body_hash()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "survey", "unit": "7", "language": "id"}, [("kind", "not_feedback")]),
        ({"kind": "rating", "unit": "x", "rating": "3", "language": "id"}, [("unit", "invalid")]),
        ({"kind": "rating", "unit": "0", "rating": "3", "language": "id"}, [("unit", "invalid")]),
        (
            {"kind": "rating", "unit": "7", "rating": "6", "language": "id"},
            [("rating", "required")],
        ),
        ({"kind": "rating", "unit": "7", "rating": "", "language": "id"}, [("rating", "required")]),
        (
            {"kind": "rating", "unit": "7", "rating": "٣", "language": "id"},
            [("rating", "required")],
        ),
        (
            {"kind": "ikm", "unit": "7", "answers": "34233442", "language": "id"},
            [("answers", "invalid")],
        ),
        (
            {"kind": "ikm", "unit": "7", "answers": "342334425", "language": "id"},
            [("answers", "invalid")],
        ),
        (
            {"kind": "ikm", "unit": "7", "answers": "3423344210", "language": "id"},
            [("answers", "invalid")],
        ),
        (
            {"kind": "ikm", "unit": "7", "q1": "3", "q2": "4", "q3": "5", "language": "id"},
            [(f"q{n}", "required") for n in range(3, 10)],
        ),
        (
            {"kind": "rating", "unit": "7", "rating": "3", "language": "fr"},
            [("language", "required")],
        ),
        (
            {
                "kind": "rating",
                "unit": "7",
                "rating": "3",
                "language": "id",
                "reported_at": "2026-11-23T10:15:00",
            },
            [("reported_at", "invalid")],
        ),
        (
            {
                "kind": "rating",
                "unit": "7",
                "rating": "3",
                "language": "id",
                "reported_at": "kemarin",
            },
            [("reported_at", "invalid")],
        ),
        (
            {
                "kind": "rating",
                "unit": "7",
                "rating": "3",
                "language": "id",
                "reported_at": "2019-12-31T23:59:59+00:00",
            },
            [("reported_at", "out_of_range")],
        ),
        (
            {
                "kind": "rating",
                "unit": "7",
                "rating": "3",
                "language": "id",
                "reported_at": (NOW + timedelta(days=30, seconds=1)).isoformat(),
            },
            [("reported_at", "out_of_range")],
        ),
        ({}, [("kind", "not_feedback"), ("unit", "invalid"), ("language", "required")]),
    ],
)
def test_bad_feedback_is_refused_with_every_reason(
    data: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    submission, errors = parse(**data)
    assert submission is None
    assert [(e.field, e.code) for e in errors] == expected
    # Every code has its own sentence, not the generic "Check this field."
    assert all((e.field, e.code) in ERROR_MESSAGES for e in errors)


def test_device_time_at_the_edges_is_kept() -> None:
    for raw in ("2020-01-01T00:00:00+00:00", (NOW + timedelta(days=30)).isoformat()):
        submission, errors = parse(
            kind="rating", unit="7", rating="5", language="id", reported_at=raw
        )
        assert errors == [] and submission is not None


def test_the_kiosk_gets_the_survey_and_faces_in_the_current_language() -> None:
    with i18n.using("id"):
        items = ikm_items_for_client(i18n.gettext)
        faces = faces_for_client(i18n.gettext)
    assert [i["id"] for i in items] == list(range(1, 10))
    assert items[3]["name"] == "Biaya/tarif"
    assert items[3]["answers"] == ["Sangat mahal", "Cukup mahal", "Murah", "Gratis"]
    assert str(items[0]["question"]).startswith("Bagaimana pendapat Saudara")
    assert faces == [
        {"value": 1, "label": "Sangat tidak puas"},
        {"value": 2, "label": "Tidak puas"},
        {"value": 3, "label": "Biasa saja"},
        {"value": 4, "label": "Puas"},
        {"value": 5, "label": "Sangat puas"},
    ]
    with i18n.using("en"):
        assert faces_for_client(i18n.gettext)[0]["label"] == FACES[0]
        answers = ikm_items_for_client(i18n.gettext)[8]["answers"]
        assert isinstance(answers, list) and answers[3] == "Very good"
