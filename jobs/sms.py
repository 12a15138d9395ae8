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
from lapor.complaints.notices import SmsNotice
from lapor.complaints.reports import TEXT_MAX
from lapor.complaints.sms import ANONYMOUS_WORD, segments
from lapor.settings import SmsSettings
from lapor.web import i18n

# What one reply may cost the deployment and the citizen's phone.
MAX_SEGMENTS = 2
TIMEOUT = 15
# The outbox page lists every row with a subject; an SMS has none, and this is no sentence.
SUBJECT = "SMS"


def compose_sms(base_url: str, keyword: str) -> Callable[[SmsNotice], tuple[str, str]]:
    """The words of an SMS notice in the report's language, at most MAX_SEGMENTS long: the
    receipt drops its courtesy before its tracking code or link."""

    def compose(notice: SmsNotice) -> tuple[str, str]:
        with i18n.using(notice.language):
            if notice.reply == "receipt" and notice.tracking_code:
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
        body = next((c for c in candidates if segments(c).count <= MAX_SEGMENTS), candidates[-1])
        return SUBJECT, body

    return compose


class SmsDeliveryError(Exception):
    """The gateway did not take the message; the outbox tries again later."""


def send_sms(sms: SmsSettings, to: str, text: str) -> None:
    """Hand one message to the gateway's sendsms interface (blocking; the sender runs it in a
    thread). Kannel answers 202 once it accepted or queued the message."""
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
