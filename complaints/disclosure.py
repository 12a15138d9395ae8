"""What of a report's content its reporter and the public are shown on the status pages. The
staff's side of the same rules is complaints/access.py; this is the citizen's.

The reporter, through the private link, sees everything they sent: the text as it is stored
now, the place and every photo, a withheld one too (it is theirs). Anyone holding only the
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


def for_reporter(report: Report) -> Content:
    return Content(
        report.text,
        report.location,
        report.photos,
        withheld=sum(1 for p in report.photos if p.withheld),
    )


def for_public(report: Report) -> Content:
    if report.identity is Identity.CONFIDENTIAL:
        return Content(None, None, (), Hidden.CONFIDENTIAL)
    if report.status is Status.RECEIVED:
        return Content(None, None, (), Hidden.UNVERIFIED)
    return Content(report.text, report.location, tuple(p for p in report.photos if not p.withheld))
