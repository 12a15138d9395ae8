"""The public list of answered reports (`/jawaban`): which reports are on it, what staff may
keep off it and why, and the personal data a text may still hold before it goes public. No
HTTP, no SQL: the openness surface shows the list, store/publication.py reads it.

On the list: a report the unit answered (ditindaklanjuti, or closed after the answer), never a
confidential (rahasia) one, with the text as the coordinator left it (redacted where they
redacted it), the unit and the unit's answer, and nothing of who reported. Staff keep a report
off it with a reason the audit trail keeps; an answer whose text or report still looks like it
holds a phone number, an e-mail address or an NIK waits for staff to look first."""

from __future__ import annotations

import re
from enum import StrEnum

from lapor.complaints.reports import Identity, Status, clean_text
from lapor.complaints.workflow import Refusal, WorkflowError


class ListHold(StrEnum):
    WITHHELD = "withheld"  # staff keep it off the list, with a reason
    REVIEW = "review"  # it looks like it holds personal data: staff look before it goes public


class PersonalData(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    NIK = "nik"  # the 16-digit national identity number


# Statuses of a report the unit has answered.
ANSWERED = frozenset({Status.FOLLOWED_UP, Status.CLOSED})

# Indonesian numbers as people write them: 0812-3456-7890, +62 812 3456 7890, 62812....; mobile
# (08) and landline ((0511) ...) alike, 9 to 13 digits after the prefix, spaces, dots or dashes.
_PHONE = re.compile(r"(?<![\w+(])(?:\+62|62|\(0|0)[\s.-]?\d{2,4}\)?(?:[\s.-]?\d){6,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# An NIK is 16 digits, sometimes grouped by spaces or dots (province, regency, ...).
_NIK = re.compile(r"(?<!\d)(?:\d[\s.]?){15}\d(?!\d)")


def personal_data(*texts: str | None) -> tuple[PersonalData, ...]:
    """What in `texts` still looks like somebody's contact or identity number, in a fixed
    order; nothing found is ()."""
    found: set[PersonalData] = set()
    for text in texts:
        if not text:
            continue
        if _EMAIL.search(text):
            found.add(PersonalData.EMAIL)
        # An NIK is checked first: its 16 digits would read as a phone number too.
        without_nik = _NIK.sub(" ", text)
        if without_nik != text:
            found.add(PersonalData.NIK)
        if _PHONE.search(_EMAIL.sub(" ", without_nik)):
            found.add(PersonalData.PHONE)
    return tuple(p for p in PersonalData if p in found)


def may_be_listed(identity: Identity, status: Status) -> bool:
    """Whether a report of this identity and status belongs on the list at all."""
    return identity is not Identity.CONFIDENTIAL and status in ANSWERED


def hold_on_answer(current: ListHold | None, text: str, answer: str) -> ListHold | None:
    """The hold a report gets when its unit answers: staff's own choice stays; else a text or
    answer that looks like it holds personal data waits for staff."""
    if current is not None:
        return current
    return ListHold.REVIEW if personal_data(text, answer) else None


REASON_MIN = 5
REASON_MAX = 300


def read_withhold_reason(raw: str) -> str:
    """Why staff keep a report off the public list: said in words, for the audit trail."""
    reason = clean_text(raw).replace("\n", " ")
    if len(reason) < REASON_MIN:
        raise WorkflowError(Refusal.WITHHOLD_REASON_TOO_SHORT)
    if len(reason) > REASON_MAX:
        raise WorkflowError(Refusal.WITHHOLD_REASON_TOO_LONG)
    return reason


PAGE_SIZE = 20
QUERY_MAX = 100


def read_query(raw: str) -> str:
    """The words a visitor searches the list for, cut to QUERY_MAX."""
    return " ".join(clean_text(raw).split())[:QUERY_MAX]


def read_page(raw: str) -> int | None:
    """The page asked for (1 when none); None when it is not a page number."""
    if not raw:
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        return None
    return int(raw)
