"""Reading the citizen's report form, the poster's and the widget's alike: fields, photos and
held photo references, within limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request

from lapor.complaints.reports import FieldError

TEXT_FIELDS = ("kind", "text", "location", "identity", "name", "phone", "email", "notify_by")
HONEYPOT = "website"
MAX_FIELD_BYTES = 20_000  # the longest text is 4,000 characters, up to 4 bytes each
# Parser limits are generous on purpose: a citizen who picks six photos must get "at most 3
# photos" with their text kept, not a parser refusal. The body size limit bounds the total.
MAX_PARSED_FILES = 20
MAX_PARSED_FIELD_BYTES = 64_000


class FormTooLarge(Exception):
    pass


class FormAbandoned(Exception):
    pass


@dataclass
class ReportForm:
    values: dict[str, str]
    token: str
    uploads: list[bytes] = field(default_factory=list)
    photo_refs: list[str] = field(default_factory=list)
    honeypot_filled: bool = False
    # The language switch on the form re-posts it: show it again, translated, store nothing.
    switch_language: bool = False
    errors: list[FieldError] = field(default_factory=list)
    # The widget's form only: the page of the agency's site it sits on, as the loader said.
    page: str = ""


async def read_report_form(
    request: Request, *, max_photos: int, max_photo_bytes: int
) -> ReportForm:
    try:
        form: FormData = await request.form(
            max_files=MAX_PARSED_FILES, max_fields=60, max_part_size=MAX_PARSED_FIELD_BYTES
        )
    except (MultiPartException, HTTPException) as exc:
        # Starlette turns the parser's refusal into HTTPException(400) inside an app.
        raise FormTooLarge(str(exc)) from None
    except ClientDisconnect:
        # The citizen's connection dropped mid-upload; their browser will retry with the same
        # token. Nothing to store, nothing to log as an error.
        raise FormAbandoned from None
    values = {name: _text(form, name) for name in TEXT_FIELDS}
    report = ReportForm(
        values=values,
        token=_text(form, "token"),
        photo_refs=[r for r in form.getlist("photo_ref") if isinstance(r, str) and r][:max_photos],
        honeypot_filled=bool(_text(form, HONEYPOT)),
        switch_language=bool(_text(form, "switch_language")),
        page=_text(form, "page")[:2000],
    )
    files = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    if len(files) + len(report.photo_refs) > max_photos:
        report.errors.append(FieldError("photos", "too_many", max_photos))
        files = files[: max(0, max_photos - len(report.photo_refs))]
    for upload in files:
        # Read one byte past the limit: enough to know it is too big without reading it all.
        data = await upload.read(max_photo_bytes + 1)
        await upload.close()
        report.uploads.append(data)
    await form.close()
    return report


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD_BYTES] if isinstance(value, str) else ""
