"""Feedback given at a kiosk: the quick rating (five faces) and the public satisfaction survey
(Survei Kepuasan Masyarakat) whose result is the IKM, Indeks Kepuasan Masyarakat, as
PermenPANRB No. 14 Tahun 2017 defines it: nine items (unsur) answered on a 1-4 scale.

    NRR_i = sum of the answers to item i / number of responses        (nilai rata-rata)
    IKM   = sum over the nine items of NRR_i x 1/9                      (1-4)
    IKM unit pelayanan = IKM x 25                                       (25-100)

The regulation prints the weight rounded as 0.111; we weigh by the exact 1/9, so a unit whose
every answer is 4 scores 100.00 (with 0.111 it would stop at 99.90 and never reach the top of
grade A's interval). The store sums, this module divides: a province's surveys are never pulled
row by row. No HTTP and no SQL; texts are English msgids the web layer translates."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from lapor.complaints.reports import FieldError


def N_(message: str) -> str:
    """Marks a msgid for extraction (pybabel -k N_) without pulling the web layer in here."""
    return message


class FeedbackKind(StrEnum):
    RATING = "rating"  # one of five faces
    IKM = "ikm"  # the nine-item survey


@dataclass(frozen=True)
class IkmItem:
    number: int  # 1-9: the unsur's place, and the digit's position in stored answers
    name: str
    question: str
    answers: tuple[str, str, str, str]  # for the values 1, 2, 3, 4


_SUITABLE = (N_("Not suitable"), N_("Less suitable"), N_("Suitable"), N_("Very suitable"))

# The unsur in the regulation's order (Lampiran, II.B), each with its question and answers as in
# the sample questionnaire. The sample asks about facilities before complaint handling; we keep
# the unsur's order, which is also the order of the digits the store keeps.
IKM_ITEMS: tuple[IkmItem, ...] = (
    IkmItem(
        1,
        N_("Requirements"),
        N_("How well do the requirements of the service match the kind of service?"),
        _SUITABLE,
    ),
    IkmItem(
        2,
        N_("Systems, mechanisms and procedures"),
        N_("How easy are the service's procedures to follow?"),
        (N_("Not easy"), N_("Not very easy"), N_("Easy"), N_("Very easy")),
    ),
    IkmItem(
        3,
        N_("Completion time"),
        N_("How quickly was the service given?"),
        (N_("Not quick"), N_("Not very quick"), N_("Quick"), N_("Very quick")),
    ),
    IkmItem(
        4,
        N_("Cost/tariff"),
        N_("How fair is the cost or tariff of the service?"),
        (N_("Very expensive"), N_("Fairly expensive"), N_("Cheap"), N_("Free")),
    ),
    IkmItem(
        5,
        N_("Product specification by type of service"),
        N_("How well does what you received match what the service standard promises?"),
        _SUITABLE,
    ),
    IkmItem(
        6,
        N_("Staff competence"),
        N_("How competent were the staff who served you?"),
        (N_("Not competent"), N_("Not very competent"), N_("Competent"), N_("Very competent")),
    ),
    IkmItem(
        7,
        N_("Staff conduct"),
        N_("How polite and friendly were the staff who served you?"),
        (
            N_("Not polite and friendly"),
            N_("Not very polite and friendly"),
            N_("Polite and friendly"),
            N_("Very polite and friendly"),
        ),
    ),
    IkmItem(
        8,
        N_("Handling of complaints, suggestions and feedback"),
        N_("How are the complaints of people using the service handled?"),
        (
            N_("There is no way to complain"),
            N_("There is one, but it does not work"),
            N_("It works, but not fully"),
            N_("Well managed"),
        ),
    ),
    IkmItem(
        9,
        N_("Facilities and infrastructure"),
        N_("What is the quality of the facilities and infrastructure?"),
        (N_("Bad"), N_("Adequate"), N_("Good"), N_("Very good")),
    ),
)
ITEM_COUNT = len(IKM_ITEMS)
WEIGHT = Fraction(1, ITEM_COUNT)  # "0.111" in the regulation
SCALE = 25  # from the 1-4 scale to 25-100

# The quick rating's faces, for the values 1 to 5.
FACES: tuple[str, ...] = (
    N_("Very dissatisfied"),
    N_("Dissatisfied"),
    N_("Neutral"),
    N_("Satisfied"),
    N_("Very satisfied"),
)


@dataclass(frozen=True)
class Grade:
    """Mutu pelayanan: a letter and its words for an interval of the 25-100 score."""

    letter: str
    words: str
    low: Decimal  # inclusive, two decimals as the regulation prints them
    high: Decimal


GRADES: tuple[Grade, ...] = (
    Grade("A", N_("Very good"), Decimal("88.31"), Decimal("100.00")),
    Grade("B", N_("Good"), Decimal("76.61"), Decimal("88.30")),
    Grade("C", N_("Poor"), Decimal("65.00"), Decimal("76.60")),
    Grade("D", N_("Very poor"), Decimal("25.00"), Decimal("64.99")),
)
_CENT = Decimal("0.01")


def rounded(value: Fraction | Decimal, places: int = 2) -> Decimal:
    """Half up, as people round by hand: 76.605 is 76.61, grade B."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def grade_of(score: Fraction | Decimal) -> Grade:
    """The grade of a 25-100 score, read at the two decimals it is shown with, so that the
    number and the letter on a page always agree (88.304 shows 88.30 and is a B)."""
    at = rounded(score)
    for grade in GRADES:
        if at >= grade.low:
            return grade
    return GRADES[-1]  # below 25 cannot come from answers 1-4


def nrr(item_sum: int, responses: int) -> Fraction | None:
    """Nilai rata-rata of one item, on the 1-4 scale; None without responses."""
    return Fraction(item_sum, responses) if responses else None


def ikm_index(item_sums: tuple[int, ...], responses: int) -> Fraction | None:
    """The sum of the weighted item averages, on the 1-4 scale; None without responses.
    Exact: the nine averages are fractions, never floats."""
    if not responses:
        return None
    return sum((Fraction(s, responses) * WEIGHT for s in item_sums), Fraction(0))


def ikm_score(item_sums: tuple[int, ...], responses: int) -> Decimal | None:
    """The unit's IKM on the 25-100 scale, rounded to two decimals; None without responses."""
    index = ikm_index(item_sums, responses)
    return None if index is None else rounded(index * SCALE)


def _zeros() -> tuple[int, ...]:
    return (0,) * ITEM_COUNT


@dataclass
class FeedbackFigures:
    """What the store sums for a group of feedback (a unit and month, a sub-unit, a total)."""

    ikm_responses: int = 0
    item_sums: tuple[int, ...] = field(default_factory=_zeros)  # per item, in item order
    ratings: int = 0
    rating_sum: int = 0

    def add(self, other: FeedbackFigures) -> None:
        self.ikm_responses += other.ikm_responses
        self.item_sums = tuple(a + b for a, b in zip(self.item_sums, other.item_sums, strict=True))
        self.ratings += other.ratings
        self.rating_sum += other.rating_sum

    @property
    def index(self) -> Fraction | None:
        return ikm_index(self.item_sums, self.ikm_responses)

    @property
    def ikm(self) -> Decimal | None:
        return ikm_score(self.item_sums, self.ikm_responses)

    @property
    def grade(self) -> Grade | None:
        score = self.ikm
        return None if score is None else grade_of(score)

    @property
    def rating_average(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None

    def items(self) -> list[ItemFigure]:
        return [
            ItemFigure(item, nrr(s, self.ikm_responses))
            for item, s in zip(IKM_ITEMS, self.item_sums, strict=True)
        ]


@dataclass(frozen=True)
class ItemFigure:
    item: IkmItem
    nrr: Fraction | None  # 1-4

    @property
    def weighted(self) -> Fraction | None:
        return None if self.nrr is None else self.nrr * WEIGHT

    @property
    def score(self) -> Decimal | None:
        """The item alone on the 25-100 scale, to set against the grades."""
        return None if self.nrr is None else rounded(self.nrr * SCALE)


# -- what the kiosk sends ---------------------------------------------------------------------

EARLIEST_DEVICE_TIME = datetime(2020, 1, 1, tzinfo=UTC)
DEVICE_CLOCK_AHEAD = timedelta(days=30)
_DEVICE_TIME_MAX = 64  # characters; an ISO 8601 time with offset needs about 32


@dataclass(frozen=True)
class FeedbackSubmission:
    kind: FeedbackKind
    unit_id: int
    rating: int | None  # 1-5, kind RATING
    answers: tuple[int, ...] | None  # nine values 1-4 in item order, kind IKM
    language: str
    reported_at: datetime | None  # the device's clock, in UTC

    @property
    def answers_code(self) -> str | None:
        """The answers as stored: nine digits in item order."""
        return None if self.answers is None else "".join(map(str, self.answers))

    def body_hash(self) -> str:
        """Fingerprint of what was sent, to tell a resend from different feedback that reuses
        an idempotency key."""
        h = hashlib.sha256()
        for part in (
            self.kind,
            str(self.unit_id),
            str(self.rating or ""),
            self.answers_code or "",
            self.language,
            self.reported_at.isoformat() if self.reported_at else "",
        ):
            h.update(part.encode())
            h.update(b"\x00")
        return h.hexdigest()


def _small_int(raw: str, low: int, high: int) -> int | None:
    raw = raw.strip()
    if len(raw) == 1 and raw.isascii() and raw.isdigit() and low <= int(raw) <= high:
        return int(raw)
    return None


def _device_time(raw: str, now: datetime) -> tuple[datetime | None, FieldError | None]:
    raw = raw.strip()
    if not raw:
        return None, None
    try:
        if len(raw) > _DEVICE_TIME_MAX:
            raise ValueError(raw)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None, FieldError("reported_at", "invalid")
    if value.tzinfo is None or value.utcoffset() is None:
        return None, FieldError("reported_at", "invalid")
    value = value.astimezone(UTC)
    # A tablet whose battery died forgets the date: such a time says nothing, and kept it
    # would put the survey years away from when it was given.
    if not EARLIEST_DEVICE_TIME <= value <= now + DEVICE_CLOCK_AHEAD:
        return None, FieldError("reported_at", "out_of_range")
    return value, None


def parse_feedback(
    data: Mapping[str, str], *, now: datetime, languages: Collection[str]
) -> tuple[FeedbackSubmission | None, list[FieldError]]:
    """Read feedback from plain strings (a JSON body's values, or a form).

    Keys: kind ("rating" or "ikm"), unit (the unit's id), rating ("1"-"5") for a rating; for
    a survey either answers (nine digits 1-4 in item order) or q1 ... q9 (one digit each, as
    radio buttons send them); language; reported_at (optional, ISO 8601 with an offset).
    Returns the submission, or None and every error found."""
    errors: list[FieldError] = []
    try:
        kind = FeedbackKind(data.get("kind", "").strip())
    except ValueError:
        errors.append(FieldError("kind", "not_feedback"))
        kind = None
    raw_unit = data.get("unit", "").strip()
    unit_id = 0
    if raw_unit.isascii() and raw_unit.isdigit() and len(raw_unit) < 19 and int(raw_unit) > 0:
        unit_id = int(raw_unit)
    else:
        errors.append(FieldError("unit", "invalid"))
    rating = None
    answers: tuple[int, ...] | None = None
    if kind is FeedbackKind.RATING:
        rating = _small_int(data.get("rating", ""), 1, len(FACES))
        if rating is None:
            errors.append(FieldError("rating", "required"))
    elif kind is FeedbackKind.IKM:
        if "answers" in data:
            code = data["answers"].strip()
            values = [_small_int(c, 1, 4) for c in code] if len(code) == ITEM_COUNT else []
            if len(values) == ITEM_COUNT and all(v is not None for v in values):
                answers = tuple(v for v in values if v is not None)
            else:
                errors.append(FieldError("answers", "invalid"))
        else:
            picked = [_small_int(data.get(f"q{item.number}", ""), 1, 4) for item in IKM_ITEMS]
            errors += [
                FieldError(f"q{item.number}", "required")
                for item, value in zip(IKM_ITEMS, picked, strict=True)
                if value is None
            ]
            if all(v is not None for v in picked):
                answers = tuple(v for v in picked if v is not None)
    language = data.get("language", "").strip()
    if language not in languages:
        errors.append(FieldError("language", "required"))
    reported_at, time_error = _device_time(data.get("reported_at", ""), now)
    if time_error:
        errors.append(time_error)
    if errors or kind is None:
        return None, errors
    return FeedbackSubmission(kind, unit_id, rating, answers, language, reported_at), []


# -- for the kiosk's app ----------------------------------------------------------------------


def ikm_items_for_client(gettext: Callable[[str], str]) -> list[dict[str, object]]:
    """The survey as the kiosk's script renders it, in the current language:
    [{"id": 1, "name": ..., "question": ..., "answers": [four labels for 1..4]}, ...]."""
    return [
        {
            "id": item.number,
            "name": gettext(item.name),
            "question": gettext(item.question),
            "answers": [gettext(a) for a in item.answers],
        }
        for item in IKM_ITEMS
    ]


def faces_for_client(gettext: Callable[[str], str]) -> list[dict[str, object]]:
    """The quick rating's faces: [{"value": 1, "label": ...}, ... {"value": 5, ...}]."""
    return [{"value": n, "label": gettext(label)} for n, label in enumerate(FACES, start=1)]
