from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import URL

from lapor.web import i18n
from tests.conftest import AppHarness
from tests.html import tag

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_indonesian_catalog_is_complete_and_placeholders_match() -> None:
    with (ROOT / "locale/id/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    missing, broken = [], []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            missing.append(ids[0])
        else:
            # babel types an id or string as possibly a list too; read_po gives str or tuple.
            source, translation = ids[-1], strings[0]
            assert isinstance(source, str) and isinstance(translation, str), message.id
            if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(translation)):
                broken.append(ids[0])
    assert missing == [] and broken == []


def test_catalogs_hold_every_message_the_code_uses(tmp_path: Path) -> None:
    pot = tmp_path / "fresh.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [
            str(pybabel),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "--omit-header",
            "--ignore-dirs=.venv tests bench",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        used = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with (ROOT / "locale/id/LC_MESSAGES/messages.po").open("rb") as fh:
        translated = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert used - translated == set(), "add these to locale/id and locale/en (see README)"


def test_dates_read_as_indonesians_write_them() -> None:
    moment = datetime(2026, 3, 17, 6, 5, tzinfo=UTC)
    with i18n.using("id"):
        makassar = ZoneInfo("Asia/Makassar")
        assert i18n.format_datetime(moment, makassar) == "17 Maret 2026, 14.05 WITA"
        assert i18n.format_datetime(moment, ZoneInfo("Asia/Jakarta")).endswith("13.05 WIB")
        assert i18n.format_date(date(2026, 3, 17)) == "Selasa, 17 Maret 2026"
        assert i18n.format_number(1234567) == "1.234.567"
    with i18n.using("en"):
        assert i18n.format_datetime(moment, ZoneInfo("Asia/Jayapura")) == "17 March 2026, 15:05 WIT"


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    aware=st.booleans(),
    language=st.sampled_from(i18n.LANGUAGES),
    zone=st.sampled_from(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC"]),
)
def test_moments_read_as_babel_writes_them(
    moment: datetime, aware: bool, language: str, zone: str
) -> None:
    # format_datetime assembles the clock time itself around Babel's words for the day.
    from babel.dates import format_datetime as babel_format_datetime

    value = moment.replace(tzinfo=UTC) if aware else moment
    tz = ZoneInfo(zone)
    pattern = "d MMMM y, HH.mm" if language == "id" else "d MMMM y, HH:mm"
    expected = babel_format_datetime(value, pattern, tzinfo=tz, locale=language)
    with i18n.using(language):
        assert i18n.format_datetime(value, tz) == f"{expected} {i18n.zone_name(tz)}"


async def test_language_follows_the_choice_then_the_product_not_the_browser(
    harness: AppHarness,
) -> None:
    path = f"/q/{harness.world.code('loket')}"

    def lang(response: httpx.Response) -> str:
        page = BeautifulSoup(response.text, "html.parser")
        return str(tag(page.html)["lang"])

    default = await harness.client.get(path)
    assert lang(default) == "id" and "Kirim laporan" in default.text
    # An Indonesian phone set to English still gets the Indonesian service.
    browser = await harness.client.get(path, headers={"accept-language": "en-US,en;q=0.9"})
    assert lang(browser) == "id" and "Kirim laporan" in browser.text
    assert "accept-language" not in browser.headers["vary"].lower()
    assert "set-cookie" not in browser.headers
    chosen = await harness.client.get(path + "?lang=en")
    assert lang(chosen) == "en" and "lang=en" in chosen.headers["set-cookie"]
    # The cookie keeps the choice for the next page and for the form's POST.
    assert lang(await harness.client.get(path)) == "en"
    assert lang(await harness.client.get(path + "?lang=id")) == "id"


async def test_errors_are_in_the_citizens_language(harness: AppHarness) -> None:
    response = await harness.submit(text="pendek")
    assert "Tulis" in response.text or "karakter" in response.text
    harness.client.cookies.set("lang", "en")
    response = await harness.submit(text="pendek")
    assert "characters" in response.text


def test_the_switch_keeps_the_page_and_its_query() -> None:
    url = URL("https://lapor.example.go.id/admin?status=masuk&q=KTP+el&lang=en")
    assert i18n.language_url(url, "id") == "/admin?status=masuk&q=KTP+el&lang=id"
    assert i18n.language_url(URL("https://x.example/t/ABC"), "en") == "/t/ABC?lang=en"
