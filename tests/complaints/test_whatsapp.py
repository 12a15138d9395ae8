"""What a WhatsApp webhook means, without a server: Meta's payload read into messages and
statuses, which text is a report, the order of delivery statuses and the 24-hour window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lapor.complaints.whatsapp import (
    NotAWebhook,
    in_service_window,
    later_delivery,
    parse_text,
    read_event,
)


def payload(value: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": field, "value": value}]}],
    }


META = {"display_phone_number": "628115001708", "phone_number_id": "1065"}


def test_meta_documented_messages_are_read() -> None:
    event = read_event(
        payload(
            {
                "messaging_product": "whatsapp",
                "metadata": META,
                "contacts": [{"profile": {"name": "Siti\u200b Rahmah"}, "wa_id": "6281234567890"}],
                "messages": [
                    {
                        "from": "6281234567890",
                        "id": "wamid.A",
                        "timestamp": "1764670000",
                        "type": "text",
                        "text": {"body": "jalan rusak"},
                    },
                    {
                        "from": "6281234567890",
                        "id": "wamid.B",
                        "timestamp": "1764670005",
                        "type": "image",
                        "image": {"id": "777", "mime_type": "image/jpeg", "caption": "ini"},
                    },
                    {
                        "from": "6281234567890",
                        "id": "wamid.C",
                        "timestamp": "1764670009",
                        "type": "location",
                        "location": {"latitude": -3.3194, "longitude": 114.5906},
                    },
                    {"from": "6281234567890", "id": "wamid.D", "type": "text"},
                ],
            }
        ),
        "1065",
    )
    text, image, location = event.messages
    assert (text.phone, text.text, text.profile_name) == (
        "+6281234567890",
        "jalan rusak",
        "Siti Rahmah",
    )
    assert text.sent_at == datetime.fromtimestamp(1764670000, UTC)
    assert (image.kind, image.media_id, image.text) == ("image", "777", "ini")
    assert location.location == "-3.319400, 114.590600"
    assert event.unreadable == 1 and event.statuses == ()


def test_statuses_and_other_numbers() -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": META,
        "statuses": [
            {
                "id": "wamid.X",
                "status": "delivered",
                "timestamp": "1764670000",
                "recipient_id": "62",
            },
            {
                "id": "wamid.Y",
                "status": "failed",
                "timestamp": "1764670001",
                "errors": [{"code": 131047, "title": "Re-engagement message"}],
            },
            {"id": "wamid.Z", "status": "deleted", "timestamp": "1764670001"},
        ],
    }
    event = read_event(payload(value), "1065")
    assert [(s.wamid, s.status) for s in event.statuses] == [
        ("wamid.X", "delivered"),
        ("wamid.Y", "failed"),
    ]
    assert event.statuses[1].error == "131047 Re-engagement message" and event.unreadable == 1
    # Another business number of the same account, or another field: not ours to read.
    assert read_event(payload(value), "9999").statuses == ()
    assert read_event(payload(value, field="account_update"), "1065").statuses == ()


@pytest.mark.parametrize(
    "body", [[], {"object": "page", "entry": []}, {"object": "whatsapp_business_account"}]
)
def test_not_a_webhook(body: Any) -> None:
    with pytest.raises(NotAWebhook):
        read_event(body, "")


def test_which_text_is_a_report() -> None:
    words = {"RSUD": 3}
    parsed = parse_text(["Anonim rsud IGD penuh sejak pagi"], ["LAPOR"], words)
    assert parsed is not None and parsed.anonymous and parsed.unit_word == "RSUD"
    assert parsed.text == "IGD penuh sejak pagi"
    keyworded = parse_text(["LAPOR jalan rusak di depan pasar"], ["LAPOR"], words)
    assert keyworded is not None and keyworded.text == "jalan rusak di depan pasar"
    joined = parse_text(["jalan rusak di depan", "", "pasar lama"], ["LAPOR"], words)
    assert joined is not None and joined.text == "jalan rusak di depan\npasar lama"
    for noise in (["P"], ["halo"], ["selamat pagi"], ["LAPOR"], ["🙏🙏"], []):
        assert parse_text(noise, ["LAPOR"], words) is None


def test_delivery_never_goes_back_and_failure_is_final() -> None:
    assert later_delivery(None, "sent") and later_delivery("sent", "read")
    assert not later_delivery("read", "delivered") and not later_delivery("read", "sent")
    assert later_delivery("read", "failed") and not later_delivery("failed", "read")


def test_the_24_hour_window() -> None:
    at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert in_service_window(at - timedelta(hours=23, minutes=59), at)
    assert not in_service_window(at - timedelta(hours=24), at)
    assert not in_service_window(None, at)
