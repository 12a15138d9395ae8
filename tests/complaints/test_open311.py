"""Open311's rules without a server: the services, the attributes, what a POST may carry, the
date window, and which statuses are public."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lapor.complaints import open311 as rules
from lapor.complaints.categories import CATEGORIES
from lapor.complaints.reports import Identity, Kind, Status

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)


# Clients store these codes with the requests they filed: a code may be added, never renamed
# or removed (a retired category still answers as a service, reports filed under it need one).
SERVICE_CODES = (
    "pelayanan",
    "kesehatan",
    "pendidikan",
    "kependudukan",
    "perizinan",
    "infrastruktur",
    "transportasi",
    "lingkungan",
    "ketertiban",
    "sosial",
    "pajak",
    "ketenagakerjaan",
    "pungli",
    "lainnya",
)


def test_service_codes_stay_as_clients_know_them() -> None:
    assert set(SERVICE_CODES) <= set(CATEGORIES)


def test_every_category_is_one_service_in_one_group() -> None:
    assert sorted(rules.GROUP_OF) == sorted(CATEGORIES)
    assert rules.service_of("kesehatan") == "kesehatan"
    assert rules.service_of(None) == rules.service_of("retired") == "lainnya"


def test_only_verified_statuses_are_public_and_read_as_open_or_closed() -> None:
    assert Status.RECEIVED not in rules.PUBLIC_STATUSES
    assert Status.POSTPONED not in rules.PUBLIC_STATUSES
    assert Status.ARCHIVED not in rules.PUBLIC_STATUSES
    assert rules.open_closed(Status.FORWARDED) is rules.OpenClosed.OPEN
    assert rules.open_closed(Status.NOT_AUTHORITY) is rules.OpenClosed.CLOSED
    assert rules.statuses_for([rules.OpenClosed.CLOSED]) == {Status.CLOSED, Status.NOT_AUTHORITY}
    assert rules.statuses_for([]) == rules.PUBLIC_STATUSES
    assert "reporter_reply" not in rules.PUBLIC_EVENT_KINDS
    assert set(rules.UPDATE_STATUS) == set(Status)


def test_attributes_are_read_against_the_definition() -> None:
    units = ["prov", "rsud"]
    assert rules.read_attributes({}, units) == rules.Filing(Kind.COMPLAINT, None, None)
    chosen = rules.read_attributes(
        {"kind": ["aspirasi"], "identity": ["rahasia"], "unit": ["rsud"]}, units
    )
    assert chosen == rules.Filing(Kind.ASPIRATION, Identity.CONFIDENTIAL, "rsud")
    assert rules.read_attributes({"kind": [" "]}, units).kind is Kind.COMPLAINT
    for given, problem in (
        ({"colour": ["red"]}, rules.AttributeProblem.UNKNOWN),
        ({"kind": ["pothole"]}, rules.AttributeProblem.VALUE),
        ({"identity": ["NAMED"]}, rules.AttributeProblem.VALUE),
        ({"unit": ["dinas"]}, rules.AttributeProblem.VALUE),
        ({"kind": ["pengaduan", "aspirasi"]}, rules.AttributeProblem.REPEATED),
    ):
        with pytest.raises(rules.BadAttribute) as raised:
            rules.read_attributes(given, units)
        assert raised.value.problem is problem


@pytest.mark.parametrize(
    "text", ["<b>bold</b>", "x <!-- c -->", "&lt;b&gt;", "&#60;", "</p>", "<?php"]
)
def test_markup_is_refused(text: str) -> None:
    assert rules.has_markup(text)


@pytest.mark.parametrize("text", ["antrean < 5 menit", "a <= b", "Tom & Jerry", "R&D"])
def test_prose_is_not_markup(text: str) -> None:
    assert not rules.has_markup(text)


def test_points_and_media_links() -> None:
    assert rules.read_point("", "") is None
    assert rules.read_point("-3.31941234567", "114.59") == (-3.3194123, 114.59)
    for lat, long in (("1", ""), ("91", "0"), ("0", "181"), ("nan", "0"), ("inf", "0"), ("x", "1")):
        with pytest.raises(ValueError):
            rules.read_point(lat, long)
    assert rules.read_media_url(" https://a.example/p.jpg ") == "https://a.example/p.jpg"
    assert rules.read_media_url("") is None
    for bad in (
        "javascript:alert(1)",
        "data:image/png;base64,AA",
        "https:///x",
        "ftp://a/b",
        "https://a/" + "x" * 500,
        "https://a/b c",
    ):
        with pytest.raises(ValueError):
            rules.read_media_url(bad)


def test_the_window_is_the_last_90_days_unless_asked() -> None:
    day = timedelta(days=1)
    assert rules.window(None, None, NOW) == (NOW - 90 * day, NOW)
    assert rules.window(NOW - day, None, NOW) == (NOW - day, NOW + 89 * day)
    assert rules.window(None, NOW, NOW) == (NOW - 90 * day, NOW)
    assert rules.window(NOW - 90 * day, NOW, NOW) == (NOW - 90 * day, NOW)
    with pytest.raises(rules.BadWindow):
        rules.window(NOW - 91 * day, NOW, NOW)
    with pytest.raises(rules.BadWindow):
        rules.window(NOW, NOW - day, NOW)


def test_w3c_date_times_need_their_zone() -> None:
    assert rules.read_datetime("2026-12-01T08:00:00+08:00") == datetime(2026, 12, 1, tzinfo=UTC)
    assert rules.read_datetime("2026-12-01T00:00Z") == datetime(2026, 12, 1, tzinfo=UTC)
    assert rules.read_datetime("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    for bad in ("2026-12-01T00:00:00", "yesterday", "2026-13-01", "2026-12-01T00:00:00+0800", ""):
        with pytest.raises(ValueError):
            rules.read_datetime(bad)
    assert rules.w3c(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "2026-01-02T03:04:05+00:00"


def test_keys_and_client_names() -> None:
    key = rules.new_api_key()
    assert key.startswith(rules.KEY_PREFIX) and key != rules.new_api_key()
    assert rules.api_key_hash(key) == rules.api_key_hash(f" {key}\n")
    assert len(rules.api_key_hash(key)) == 64 and key not in rules.api_key_hash(key)
    assert rules.read_client_name("  FixMyStreet\n Banjarmasin ") == "FixMyStreet Banjarmasin"
    for bad in ("", "  ", "x" * 121):
        with pytest.raises(ValueError):
            rules.read_client_name(bad)


@pytest.mark.parametrize(
    ("written", "secret"),
    [
        ("hubungi saya di 0812 3456 7890 ya", "3456 7890"),
        ("WA +62 812-3456-7890", "812-3456"),
        ("nomor 6281234567890.", "81234567890"),
        ("telp kantor 021-5551234", "5551234"),
        ("email budi.s+lapor@mail.example.co.id", "budi.s"),
        ("NIK 6371012345678901 saya", "6371012345678901"),
    ],
)
def test_contacts_in_the_text_are_masked(written: str, secret: str) -> None:
    masked = rules.mask_contacts(written)
    assert rules.MASK in masked and secret not in masked


@pytest.mark.parametrize(
    "written",
    [
        "pungutan Rp 15.000.000 di loket",
        "sejak tahun 2019",
        "jam 08.00 sampai 12.00",
        "RT 03/RW 05",
    ],
)
def test_sums_dates_and_addresses_stay(written: str) -> None:
    assert rules.mask_contacts(written) == written
