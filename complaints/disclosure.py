"""What of a report's content its reporter and the public are shown on the status pages. The
staff's side of the same rules is complaints/access.py; this is the citizen's.

The reporter, through the private link, sees everything they sent: their own text (the one
they typed, also after a coordinator redacted what others read), the place and every photo, a
withheld one too (it is theirs). Anyone holding only the
tracking code sees the content when the public may: never for a confidential (rahasia) report,
and only once the coordinator has verified it, because verification is when personal data is
redacted and photos withheld (which the public then never sees)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lapor.complaints.records import Photo, Report
from lapor.complaints.reports import Identity, Status


class Hidden(StrEnum):
    CONFIDENTIAL = "confidential"  # a rahasia report is never public
    UNVERIFIED = "unverified"  # not verified yet: nothing redacted yet


@dataclass(frozen=True)
class Content:
    text: str | None
    location: str | None
    photos: tuple[Photo, ...]
    hidden: Hidden | None = None  # why the public sees no content
    withheld: int = 0  # photos the reporter sees that nobody downstream of the coordinator does
    redacted: bool = False  # others read the text with personal data removed


def for_reporter(report: Report, sent_text: str | None = None) -> Content:
    """`sent_text`: the text as the reporter typed it, when it was redacted since (the store
    keeps it in the redaction's internal event)."""
    return Content(
        sent_text if sent_text is not None else report.text,
        report.location,
        report.photos,
        withheld=sum(1 for p in report.photos if p.withheld),
        redacted=sent_text is not None and sent_text != report.text,
    )


def for_public(report: Report) -> Content:
    if report.identity is Identity.CONFIDENTIAL:
        return Content(None, None, (), Hidden.CONFIDENTIAL)
    if report.status is Status.RECEIVED:
        return Content(None, None, (), Hidden.UNVERIFIED)
    return Content(report.text, report.location, tuple(p for p in report.photos if not p.withheld))
