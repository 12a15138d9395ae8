"""Text messages through the outbox: the words of an SMS notice (a receipt, the help reply),
made to fit, and their delivery through the gateway's HTTP sending interface (Kannel's
sendsms, or any gateway that takes the same parameters). The outbox sender (jobs/mail.py)
claims the rows and hands SMS ones here, so they are retried, recorded and listed in
/admin/outbox like mail."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from lapor.complaints import tracking
from lapor.complaints.notices import ChangeNotice, SmsNotice
from lapor.complaints.reports import TEXT_MAX, Status
from lapor.complaints.sms import ANONYMOUS_WORD, segments
from lapor.settings import SmsSettings
from lapor.web import i18n
from lapor.web.labels import status_label

# What one reply may cost the deployment and the citizen's phone.
MAX_SEGMENTS = 2
TIMEOUT = 15
# The outbox page lists every row with a subject; an SMS has none, and this is no sentence.
SUBJECT = "SMS"


def _fitted(candidates: list[str]) -> str:
    return next((c for c in candidates if segments(c).count <= MAX_SEGMENTS), candidates[-1])


def _shortened(make: Callable[[str], str], text: str) -> str:
    """`make(text)` with as much of `text` as fits in MAX_SEGMENTS (cut at a word, with an
    ellipsis); the link in the rest of the message says the whole."""
    if segments(make(text)).count <= MAX_SEGMENTS:
        return make(text)
    low, high = 0, len(text)
    while low < high:  # the longest start of the text that still fits
        middle = (low + high + 1) // 2
        if segments(make(text[:middle].rstrip() + "...")).count <= MAX_SEGMENTS:
            low = middle
        else:
            high = middle - 1
    start = text[:low]
    if " " in start[len(start) // 2 :]:
        start = start.rsplit(" ", 1)[0]
    return make(start.rstrip() + "...") if start else make("")


def compose_change_sms(base_url: str) -> Callable[[ChangeNotice], tuple[str, str]]:
    """A change the reporter must know, as a text message: the same notice a mail tells
    (jobs/mail.py compose_change_mail), in at most MAX_SEGMENTS: the question and how to
    answer it by SMS, the unit's answer, a closing with its reason, or staff's own words."""

    def compose(notice: ChangeNotice) -> tuple[str, str]:
        code = tracking.format_code(notice.tracking_code)
        url = f"{base_url}/t/{code}"
        text = " ".join((notice.text or "").split())
        with i18n.using(notice.language):
            if notice.event == "staff_message":
                body = _fitted(
                    [
                        f"{code}: {text} " + i18n.gettext("Reply to this SMS to answer."),
                        f"{code}: {text}",
                    ]
                )
            elif notice.status is Status.POSTPONED:
                ask = i18n.gettext("Reply to this SMS with your answer, or open %(url)s", url=url)
                body = _shortened(
                    lambda t: (
                        i18n.gettext("Report %(code)s needs more from you:", code=code)
                        + f" {t} {ask}"
                    ),
                    text,
                )
            elif notice.status is Status.FOLLOWED_UP:
                body = _shortened(
                    lambda t: (
                        i18n.gettext("Report %(code)s was answered:", code=code)
                        + f" {t} "
                        + i18n.gettext("Accept or reply: %(url)s", url=url)
                    ),
                    text,
                )
            elif notice.status in (Status.NOT_AUTHORITY, Status.ARCHIVED, Status.CLOSED):
                body = _shortened(
                    lambda t: (
                        i18n.gettext("Report %(code)s was closed:", code=code) + f" {t} {url}"
                    ),
                    text,
                )
            else:
                body = i18n.gettext(
                    "Report %(code)s: %(status)s. %(url)s",
                    code=code,
                    status=status_label(notice.status),
                    url=url,
                )
        return SUBJECT, body

    return compose


def compose_sms(base_url: str, keyword: str) -> Callable[[SmsNotice], tuple[str, str]]:
    """The words of an SMS notice in the report's language, at most MAX_SEGMENTS long: the
    receipt drops its courtesy before its tracking code or link."""

    def compose(notice: SmsNotice) -> tuple[str, str]:
        with i18n.using(notice.language):
            if notice.reply == "stopped":
                candidates = [
                    i18n.gettext(
                        "You will get no more messages from us. Send %(word)s to get them again.",
                        word="MULAI",
                    )
                ]
            elif notice.reply == "resumed":
                candidates = [
                    i18n.gettext(
                        "You will get our messages again. Send %(word)s to stop them.",
                        word="BERHENTI",
                    )
                ]
            elif notice.reply == "receipt" and notice.tracking_code:
                code = tracking.format_code(notice.tracking_code)
                url = f"{base_url}/t/{code}"
                cut = (
                    " " + i18n.gettext("Your text was cut at %(limit)s characters.", limit=TEXT_MAX)
                    if notice.cut
                    else ""
                )
                candidates = [
                    i18n.gettext(
                        "Your report was received. Tracking code: %(code)s. Status: %(url)s",
                        code=code,
                        url=url,
                    )
                    + cut,
                    f"{code} {url}{cut}",
                    f"{code} {url}",
                ]
            else:
                word = notice.keyword or "LAPOR"
                candidates = [
                    i18n.gettext(
                        "To report, send %(keyword)s followed by your report, e.g. "
                        "%(keyword)s long queue at the ID card counter. Add %(anonymous)s after "
                        "%(keyword)s to stay anonymous.",
                        keyword=word,
                        anonymous=ANONYMOUS_WORD,
                    ),
                    i18n.gettext(
                        "To report, send %(keyword)s followed by your report.", keyword=word
                    ),
                ]
        return SUBJECT, _fitted(candidates)

    return compose


class SmsDeliveryError(Exception):
    """The gateway did not take the message; the outbox tries again later."""


# Kannel's delivery report types we ask for (dlr-mask): 1 delivered to the phone, 2 not
# delivered to the phone; 16 (the SMSC refused it) comes with 2 in the mask on most SMSCs.
DLR_MASK = "19"


def send_sms(sms: SmsSettings, to: str, text: str, dlr_url: str = "") -> None:
    """Hand one message to the gateway's sendsms interface (blocking; the sender runs it in a
    thread). Kannel answers 202 once it accepted or queued the message; with `dlr_url` it
    calls that URL when the SMSC reports the message delivered or not (`%d`: the type)."""
    if not sms.sendsms_url:
        raise SmsDeliveryError("LAPOR_SMS_SENDSMS_URL is not set")
    params = {
        "username": sms.sendsms_user,
        "password": sms.sendsms_password,
        "to": to,
        "text": text,
        # We send UTF-8; coding 2 (UCS-2) when the words leave the GSM alphabet, so Kannel
        # neither drops nor replaces a letter.
        "charset": "UTF-8",
        "coding": "2" if segments(text).encoding == "ucs2" else "0",
    }
    if sms.sender:
        params["from"] = sms.sender
    if dlr_url:
        params["dlr-mask"] = DLR_MASK
        params["dlr-url"] = dlr_url
    url = (
        sms.sendsms_url + ("&" if "?" in sms.sendsms_url else "?") + urllib.parse.urlencode(params)
    )
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            answer = response.read(500).decode(errors="replace").strip()
            if not 200 <= response.status < 300:
                raise SmsDeliveryError(f"gateway answered {response.status}: {answer}")
    except urllib.error.HTTPError as exc:
        answer = exc.read(500).decode(errors="replace").strip()
        exc.close()
        # Never the URL: it carries the gateway's password.
        raise SmsDeliveryError(f"gateway answered {exc.code}: {answer}") from None
    except OSError as exc:
        raise SmsDeliveryError(f"gateway unreachable: {type(exc).__name__}: {exc}") from None
