"""The national portal's rules without a server: the field mapping and its setting, the
identity rules of a sent report, the idempotency key, signatures and the callback's shape."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from lapor.complaints import national
from lapor.complaints.records import Report
from lapor.complaints.reports import Channel, Identity, Kind, Status
from lapor.complaints.signatures import body_signature, body_signature_ok
from lapor.settings import Settings, SettingsError

REPORT = Report(
    id=1,
    tracking_code="R4YZ6X81N2",
    kind=Kind.COMPLAINT,
    status=Status.FORWARDED,
    text="Antrean sangat panjang.",
    location=None,
    identity=Identity.NAMED,
    reporter_name="Ani",
    reporter_phone="+6281234567890",
    reporter_email=None,
    channel=Channel.POSTER,
    unit_id=2,
    unit_name="Dinas",
    poster_id=None,
    poster_label=None,
    routed_unit_id=1,
    routed_unit_name="Provinsi",
    language="id",
    received_at=datetime(2026, 12, 3, 2, 15, tzinfo=UTC),
    verify_due=date(2026, 12, 8),
)
URL = "https://lapor.example.go.id/t/R4YZ6-X81N2"


def test_the_default_mapping_leaves_out_what_we_do_not_have() -> None:
    body = national.payload(REPORT, national.DEFAULT_FIELDS, URL)
    assert body["external_id"] == "R4YZ6-X81N2" and body["description"] == REPORT.text
    assert body["reporter"] == {"name": "Ani", "phone": "+6281234567890"}
    assert "location" not in body and "title" not in body


@pytest.mark.parametrize(
    "identity,anonymous,confidential,reporter",
    [
        (Identity.NAMED, False, False, True),
        (Identity.CONFIDENTIAL, False, True, True),
        (Identity.ANONYMOUS, True, False, False),
    ],
)
def test_identity_travels_by_the_rules(
    identity: Identity, anonymous: bool, confidential: bool, reporter: bool
) -> None:
    # Even a row that kept a name (it never should for an anonymous report) sends none.
    body = national.payload(replace(REPORT, identity=identity), national.DEFAULT_FIELDS, URL)
    assert (body["anonymous"], body["confidential"], "reporter" in body) == (
        anonymous,
        confidential,
        reporter,
    )


def test_the_setting_renames_nests_and_drops() -> None:
    fields = national.read_fields('{"text": "isi", "reporter_name": "a.b.nama", "kind": null}')
    body = national.payload(REPORT, fields, URL)
    assert body["isi"] == REPORT.text and body["a"] == {"b": {"nama": "Ani"}}
    assert "type" not in body and "description" not in body
    assert national.read_fields("") == dict(national.DEFAULT_FIELDS)


@pytest.mark.parametrize(
    "raw,says",
    [
        ("{", "not JSON"),
        ("[]", "JSON object"),
        ('{"nama": "x"}', "names no field"),
        ('{"text": "bad name"}', "not a JSON name"),
        ('{"text": 3}', "not a JSON name"),
        ('{"text": "title"}', "two fields"),
        ('{"text": "reporter"}', "two fields"),
    ],
)
def test_a_wrong_mapping_stops_the_server_with_the_reason(raw: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        national.read_fields(raw)
    with pytest.raises(SettingsError, match="LAPOR_NATIONAL_FIELDS"):
        Settings.load(environ={}, env_file=None, national_fields=raw)


def test_settings_refuse_a_short_secret_and_a_url_that_is_not_one() -> None:
    with pytest.raises(SettingsError, match="LAPOR_NATIONAL_SECRET"):
        Settings.load(environ={}, env_file=None, national_secret="short")
    with pytest.raises(SettingsError, match="LAPOR_NATIONAL_URL"):
        Settings.load(environ={}, env_file=None, national_url="lapor.go.id/api")


def test_the_idempotency_key_is_the_reports_own() -> None:
    assert national.idempotency_key("R4YZ6X81N2") == "lapor-R4YZ6X81N2"
    assert national.idempotency_key("r4yz6-x81n2") == "lapor-R4YZ6X81N2"


def test_which_reports_may_go() -> None:
    assert national.refusal(Status.FORWARDED, None, False) is None
    assert national.refusal(Status.CLOSED, None, False) is None
    assert national.refusal(Status.RECEIVED, None, False) is national.Refusal.NOT_VERIFIED
    assert national.refusal(Status.ARCHIVED, None, False) is national.Refusal.NOT_VERIFIED
    assert national.refusal(Status.FORWARDED, "LPR-1", False) is national.Refusal.ALREADY_SENT
    assert national.refusal(Status.FORWARDED, None, True) is national.Refusal.ALREADY_QUEUED


def test_signatures() -> None:
    body = b'{"event_id": "e"}'
    good = body_signature("s" * 20, body)
    assert body_signature_ok("s" * 20, body, good)
    assert not body_signature_ok("s" * 20, body + b" ", good)
    assert not body_signature_ok("t" * 20, body, good)
    assert not body_signature_ok("s" * 20, body, None)
    assert not body_signature_ok("", body, body_signature("", body))


def test_the_callback_shape() -> None:
    event = national.read_callback(
        json.dumps({"event_id": "e1", "tracking_id": "LPR-1", "status": "ANSWERED"}).encode()
    )
    assert (event.kind, event.public, event.timeline_note()) == ("national_answered", True, None)
    odd = national.PortalEvent("e2", "LPR-1", "dialihkan", "ke kementerian")
    assert (odd.kind, odd.public, odd.timeline_note()) == (
        "national_update",
        False,
        "dialihkan: ke kementerian",
    )
    for wrong in (b"[]", b"{}", b'{"event_id": "e", "tracking_id": "a b", "status": "x"}'):
        with pytest.raises(national.CallbackError):
            national.read_callback(wrong)


def test_national_ids_as_staff_type_them() -> None:
    assert national.read_national_id("  LPR-2026/01.5 ") == "LPR-2026/01.5"
    assert national.read_national_id("") is None
    for wrong in ("a b", "-x", "x" * 65, "<b>"):
        with pytest.raises(ValueError):
            national.read_national_id(wrong)
