"""Every sentence the kiosk app shows. The app is one page that never navigates and must work
offline, so both languages travel inside it and the language switch is instant."""

from __future__ import annotations

from typing import Final

from lapor.complaints.reports import Kind
from lapor.web import i18n
from lapor.web.i18n import N_
from lapor.web.labels import kind_hint, kind_label

STRINGS: Final[dict[str, str]] = {
    "title": N_("Report on a public service"),
    "pair_title": N_("Pair this kiosk"),
    "pair_help": N_("Type the pairing code from the LAPOR! administrator (six or ten digits)."),
    "pair_code": N_("Pairing code"),
    "pair_button": N_("Pair"),
    "pair_wrong": N_("That code is wrong or has expired. Ask the administrator for a new one."),
    "pair_throttled": N_("Too many wrong codes. Wait a few minutes, then try again."),
    "pair_paused": N_(
        "Six-digit codes are paused after many wrong tries. Ask the administrator for a new "
        "pairing code: it will have ten digits."
    ),
    "pair_offline": N_("The server cannot be reached. Check the network and try again."),
    "preparing_title": N_("Preparing the kiosk"),
    "preparing_help": N_(
        "Storing the app on this tablet so it keeps working without a "
        "network. Keep the network on until this screen closes."
    ),
    "preparing_worker": N_("App installed for offline use"),
    "preparing_files": N_("All files stored"),
    "preparing_codes": N_("Tracking codes reserved"),
    "inactive_title": N_("This kiosk is not active"),
    "inactive_help": N_(
        "The administrator has switched this kiosk off. Ask them for a new pairing code."
    ),
    "inactive_queue": N_("Reports still stored on this tablet:"),
    "pair_again": N_("Pair again"),
    "start_lead": N_(
        "Tell us about the service you just received: a complaint, an idea, a "
        "question, or a rating. It takes a minute."
    ),
    "start_button": N_("Start"),
    # The service's own name, as the national channel spells it out.
    "start_identity": N_("Public Service Complaints and Aspirations Online"),
    "start_promise_free": N_("Free of charge"),
    "start_promise_secret": N_("Your identity can be kept confidential"),
    "start_promise_track": N_("Follow your report on your own phone"),
    "start_touch": N_("Touch the screen to start"),
    "agency_title": N_("Which service was it?"),
    "agency_search": N_("Search for a service"),
    "agency_none": N_("No service has that name."),
    "agency_parts": N_("Also: %(names)s"),
    "agency_part_title": N_("Which part of %(name)s?"),
    "agency_itself": N_("This office itself"),
    "agency_under": N_("Part of %(name)s"),
    "choose_title": N_("What would you like to do?"),
    "choose_rating": N_("Rate quickly"),
    "choose_rating_help": N_("One tap: how satisfied are you?"),
    "choose_ikm": N_("Satisfaction survey (IKM)"),
    "choose_ikm_help": N_("Nine short questions from the official survey."),
    "write_title": N_("Write your report"),
    "write_help": N_("What happened, where and when? At least 15 characters."),
    "write_text": N_("Your report"),
    "write_location": N_("Place (optional)"),
    "write_too_short": N_("Write at least 15 characters."),
    "write_progress": N_("At least 15 characters: %(count)s so far"),
    "write_too_long": N_("Write at most 4,000 characters."),
    "identity_title": N_("Who is reporting?"),
    "identity_named": N_("With my name"),
    "identity_named_help": N_("The agency may contact you."),
    "identity_rahasia": N_("Confidential"),
    "identity_rahasia_help": N_("Only the coordinator sees your name and contact."),
    "identity_anonim": N_("Anonymous"),
    "identity_anonim_help": N_("Nothing about you is stored."),
    "name": N_("Name"),
    "phone": N_("Phone number"),
    # Shown under the phone field only when the deployment sends SMS (boot.sms_sending).
    "phone_hint": N_(
        "Without an e-mail address, we send the tracking code, our questions and the answer "
        "to this number by SMS, and you can reply by SMS."
    ),
    "email": N_("E-mail"),
    "name_required": N_("Write your name."),
    "contact_required": N_("Give a phone number or an e-mail address."),
    "phone_invalid": N_("This does not look like a phone number."),
    "email_invalid": N_("This does not look like an e-mail address."),
    "send": N_("Send"),
    "next": N_("Next"),
    "back": N_("Back"),
    "cancel": N_("Cancel and start over"),
    "receipt_title": N_("Your report has been received"),
    "receipt_queued_title": N_("Your report is saved on this kiosk"),
    "receipt_queued_help": N_(
        "The network is down. The kiosk will deliver your report as soon "
        "as the connection returns; your tracking code already works for "
        "following it."
    ),
    "receipt_code": N_("Your tracking code"),
    "receipt_scan": N_("Scan to follow your report on your own phone:"),
    "receipt_private": N_(
        "Scan this with your phone to open your private page. There you can answer the "
        "agency's questions, reply to its answer, accept it and rate the service."
    ),
    "receipt_private_keep": N_("The QR code is your private link: do not share it."),
    "receipt_public": N_("Anyone with the code can follow the report at:"),
    "receipt_idle_title": N_("Are you finished?"),
    "receipt_idle_help": N_(
        "To keep your report private, this screen will be cleared in %(seconds)s s. Scan or "
        "note your code first."
    ),
    "receipt_idle_continue": N_("I am not finished"),
    "receipt_no_code": N_(
        "The kiosk will deliver your report when the connection returns. "
        "It could not give a tracking code this time."
    ),
    "receipt_print": N_("Print"),
    "done": N_("Done"),
    "rating_title": N_("How satisfied are you with the service?"),
    "ikm_title": N_("Satisfaction survey"),
    "ikm_help": N_("Choose one answer for each question."),
    "ikm_missing": N_("Answer every question first."),
    "thanks_title": N_("Thank you"),
    "thanks_help": N_("Your answer helps the agency improve its service."),
    "idle_title": N_("Are you still there?"),
    "idle_help": N_("To protect your privacy the screen will be cleared in %(seconds)s s."),
    "idle_continue": N_("Continue"),
    "status_queue": N_("Waiting to send: %(count)s"),
    "status_offline": N_("No network: reports are kept on this kiosk and sent later."),
    # For staff, on the small dot in the top bar (its tooltip and spoken label).
    "status_contact": N_("Last contact: %(time)s"),
    "status_never": N_("No contact yet"),
    "language": N_("Language"),
}


def strings_for(language: str) -> dict[str, str]:
    with i18n.using(language):
        texts = {key: i18n.gettext(message) for key, message in STRINGS.items()}
        texts.update({f"kind_{kind.value}": kind_label(kind) for kind in Kind})
        texts.update({f"kind_{kind.value}_help": kind_hint(kind) for kind in Kind})
        return texts


def all_strings() -> dict[str, dict[str, str]]:
    return {language: strings_for(language) for language in i18n.LANGUAGES}
