"""What staff read when the workflow refuses a change: one sentence per refusal, for the report
page and the answer templates alike."""

from __future__ import annotations

from lapor.complaints.workflow import Refusal
from lapor.web.i18n import N_

REFUSALS = {
    Refusal.NOT_YOUR_ROLE: N_("Your role cannot do this."),
    Refusal.WRONG_STATUS: N_("This cannot be done in the report's current status."),
    Refusal.STALE: N_(
        "Someone else changed this report while you had it open. Here is the "
        "report as it is now: check it and try again."
    ),
    Refusal.TITLE_REQUIRED: N_("Give the report a short title."),
    Refusal.TITLE_TOO_LONG: N_("The title can have at most 200 characters."),
    Refusal.NOTE_TOO_LONG: N_("The note can have at most 2000 characters."),
    Refusal.UNIT_REQUIRED: N_("Choose the unit that must act."),
    Refusal.UNIT_OUTSIDE: N_("That unit is not in your part of the organisation."),
    Refusal.ANSWER_TOO_SHORT: N_(
        "Write the answer the reporter will read (at least 10 characters)."
    ),
    Refusal.ANSWER_TOO_LONG: N_("The answer can have at most 4000 characters."),
    Refusal.REASON_TOO_SHORT: N_(
        "Write a sentence the reporter will understand (at least 10 characters)."
    ),
    Refusal.REASON_TOO_LONG: N_("Keep it to at most 2000 characters."),
    Refusal.WITHHOLD_REASON_TOO_SHORT: N_(
        "Say why it stays off the public list (at least 5 characters): the audit trail keeps it."
    ),
    Refusal.WITHHOLD_REASON_TOO_LONG: N_("Keep the reason to at most 300 characters."),
    Refusal.ORIGINAL_UNKNOWN: N_(
        "No other report in your part of the organisation has that tracking code."
    ),
    Refusal.CATEGORY_REQUIRED: N_("Choose a category."),
    Refusal.TAGS_INVALID: N_(
        "Give at most 8 tags, separated by commas, each at most 30 characters."
    ),
    Refusal.TEXT_REQUIRED: N_("The report's text cannot be empty: remove only the personal data."),
    Refusal.TEXT_TOO_LONG: N_("The text can have at most 4000 characters."),
    Refusal.NOTE_REQUIRED: N_("Write the note."),
    Refusal.ASSIGNEE_OUTSIDE: N_("That person cannot take this report."),
    Refusal.DAYS_INVALID: N_("Give a number of working days from 1 to 30."),
    Refusal.NOTHING_SELECTED: N_("Select at least one report."),
    Refusal.BULK_ACTION_REQUIRED: N_("Choose what to do with the selected reports."),
    Refusal.TOO_MANY_SELECTED: N_("Select at most 100 reports at a time."),
    Refusal.TOO_MANY_ATTACHMENTS: N_("Attach at most 3 files."),
    Refusal.ATTACHMENT_INVALID: N_(
        "Attach photos (JPEG, PNG, WebP) or PDF letters of at most "
        "the size a citizen's photo may have."
    ),
}
