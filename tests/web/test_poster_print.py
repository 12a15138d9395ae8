"""What a printed poster says that depends on the deployment: its other channels and the
organisation at the top of its unit's tree; and which posters "print all" takes, in what order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from lapor.complaints.records import Poster, Unit
from lapor.settings import Settings
from lapor.web.poster_print import channels, in_subtree, sheets
from lapor.web.signing import Signing

SECRET = "an-sms-gateway-secret-of-24+"
PROVINCE = Unit(1, "prov", "Pemerintah Provinsi Kalimantan Selatan", None, "/1/")
DINAS = Unit(2, "dinas", "Disdukcapil", 1, "/1/2/", sms_word="DUKCAPIL")
UPT = Unit(3, "upt", "UPT Utara", 2, "/1/2/3/")
RSUD = Unit(4, "rsud", "RSUD Ulin", 1, "/1/4/")
UNITS = [PROVINCE, DINAS, UPT, RSUD]


def poster(poster_id: int, unit: Unit) -> Poster:
    created = datetime(2026, 12, 1, tzinfo=UTC)
    return Poster(poster_id, unit.id, f"Loket {poster_id}", 1, created, None, unit.slug, unit.name)


def test_the_national_channels_are_always_there(make_settings: Callable[..., Settings]) -> None:
    assert channels(make_settings(), DINAS) == ("lapor.go.id", "SMS 1708")
    # SMS received but no number to print: nothing to add.
    assert channels(make_settings(sms_secret=SECRET), DINAS) == ("lapor.go.id", "SMS 1708")


def test_the_deployments_own_sms_number_with_the_units_word(
    make_settings: Callable[..., Settings],
) -> None:
    own = make_settings(sms_secret=SECRET, sms_sender="0811 5000 123", sms_keywords="LAPOR,ADU")
    assert channels(own, DINAS) == (
        "lapor.go.id",
        "SMS 1708",
        "SMS LAPOR DUKCAPIL ke 0811 5000 123",
    )
    assert channels(own, RSUD)[-1] == "SMS LAPOR ke 0811 5000 123"  # no word of its own
    # Connected to the national short code itself: said once, with how to write to it.
    national = make_settings(sms_secret=SECRET, sms_sender="1708")
    assert channels(national, DINAS) == ("lapor.go.id", "SMS LAPOR DUKCAPIL ke 1708")


def test_a_sheet_names_the_top_of_its_tree(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    signing = Signing(["print-test-key-0123456789abcdef"])
    [made] = sheets(settings, signing, UNITS, [poster(7, UPT)], date(2026, 12, 2))
    assert made.organisation == "Pemerintah Provinsi Kalimantan Selatan"
    assert made.url == signing.poster_url("https://lapor.example.go.id", 7, 1)
    assert (made.poster_id, made.version, made.unit_name) == (7, 1, "UPT Utara")
    assert made.audit_line == "Poster 7 · versi 1 · dicetak 2 Desember 2026"


def test_print_all_takes_the_unit_and_below_in_tree_order() -> None:
    posters = [
        poster(1, RSUD),
        poster(2, UPT),
        poster(3, DINAS),
        poster(4, DINAS),
        poster(5, PROVINCE),
    ]
    assert [p.id for p in in_subtree(UNITS, posters, DINAS)] == [3, 4, 2]
    assert [p.id for p in in_subtree(UNITS, posters, PROVINCE)] == [5, 3, 4, 2, 1]
    assert in_subtree(UNITS, posters, Unit(9, "x", "X", None, "/9/")) == []
