"""What the poster's form and the widget's have in common once the entry point and the form
token are checked: the honeypot, the rate limits, the fields and the photos. The report then
goes to the submission core (lapor.intake); this part is HTTP's, the core is not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from lapor.complaints.reports import FieldError, Submission, validate_submission
from lapor.store.photos import PhotoError, ProcessedPhoto
from lapor.web.forms import ReportForm
from lapor.web.services import Services, client_address

# The form shown again with these errors (status code), keeping its token and held photos.
FormAgain = Callable[[list[FieldError], int, list[tuple[str, ProcessedPhoto]] | None], Response]


@dataclass(frozen=True)
class CheckedReport:
    """A form that passed every check: what to hand the submission core."""

    submission: Submission
    photos: list[ProcessedPhoto]


async def check_report_form(
    request: Request, svc: Services, form: ReportForm, nonce: str, again: FormAgain
) -> CheckedReport | Response:
    """The report a form carries, or the page to answer with instead (the form again, or the
    same form translated when the citizen only switched language)."""
    settings = svc.settings
    if form.honeypot_filled:
        svc.metrics.rate_limited.labels("honeypot").inc()
        return again([FieldError("form", "honeypot")], 400, None)
    address = client_address(request)
    if not await svc.limits.hit(settings.submit_limit_per_form, "submit-form", nonce):
        svc.metrics.rate_limited.labels("submit_form").inc()
        return again([FieldError("form", "rate_limited")], 429, None)
    if not await svc.limits.hit(settings.submit_limit_per_address, "submit-addr", address):
        svc.metrics.rate_limited.labels("submit_address").inc()
        return again([FieldError("form", "rate_limited")], 429, None)

    submission, errors = validate_submission(form.values)
    errors = form.errors + errors
    held: list[tuple[str, ProcessedPhoto]] = []
    for ref in form.photo_refs:
        name = svc.signing.read_photo_ref(ref, nonce)
        photo = await svc.photos.pending_photo(name) if name else None
        if photo is not None:
            held.append((ref, photo))
    for data in form.uploads:
        try:
            photo = await svc.photos.process(data)
        except PhotoError as exc:
            limit = settings.max_photo_bytes // 1_000_000 if exc.code == "too_large" else None
            errors.append(FieldError("photos", exc.code, limit))
            continue
        held.append((svc.signing.photo_ref(nonce, photo.name), photo))
    if form.switch_language:
        # Nothing was sent yet: only a photo that could not be kept is worth a word.
        return again([e for e in errors if e.field == "photos"], 200, held)
    if errors or submission is None:
        return again(errors, 400, held)
    return CheckedReport(submission, [photo for _, photo in held])
