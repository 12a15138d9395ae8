"""The conversation's rules without a server: addresses by channel, STOP and MULAI, the codes
a message names, and what a reply from staff may be."""

from __future__ import annotations

import pytest

from lapor.complaints import tracking
from lapor.complaints.conversation import (
    Command,
    ReplyError,
    ReplyRefusal,
    address,
    channel_of,
    command,
    masked,
    named_codes,
    number_of,
    read_reply,
)


def test_addresses_name_their_channel() -> None:
    where = address("sms", "+6281234567890")
    assert (where, channel_of(where), number_of(where)) == (
        "sms:+6281234567890",
        "sms",
        "+6281234567890",
    )
    assert channel_of("whatsapp:+62812") == "whatsapp"
    assert channel_of("budi@example.id") is None and channel_of("mailto:budi@x.id") is None
    with pytest.raises(ValueError):
        address("fax", "+62")
    assert masked("+6281234567890") == "•••890" and masked("12") == "•••"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", Command.STOP),
        (" stop ", Command.STOP),
        ("Berhenti.", Command.STOP),
        ("mulai", Command.START),
        ("MULAI!", Command.START),
        ("stop lampu mati", None),
        ("LAPOR stop", None),
        ("", None),
    ],
)
def test_stop_and_mulai_are_whole_messages(text: str, expected: Command | None) -> None:
    assert command(text) is expected


def test_codes_a_message_names() -> None:
    code = tracking.new_tracking_code()
    shown = tracking.format_code(code)
    assert named_codes(f"{shown} di jalan Merdeka") == [code]
    assert named_codes(f"kode {shown.lower().replace('-', '')} ya") == [code]
    assert named_codes("di jalan Merdeka nomor lima") == [
        c for c in named_codes("di jalan Merdeka nomor lima") if tracking.is_valid(c)
    ]
    assert named_codes("") == []


def test_a_reply_must_fit_its_channel() -> None:
    assert read_reply("  Petugas datang besok.  ", "sms") == "Petugas datang besok."
    assert read_reply("a" * 293, "sms") == "a" * 293
    for raw, channel, refusal in (
        ("   ", "sms", ReplyRefusal.EMPTY),
        ("a" * 294, "sms", ReplyRefusal.TOO_LONG),
        ("ê" * 130, "sms", ReplyRefusal.TOO_LONG),  # UCS-2: 2 x 67, less the code
        ("Halo", None, ReplyRefusal.NO_CHANNEL),
    ):
        with pytest.raises(ReplyError) as refused:
            read_reply(raw, channel)
        assert refused.value.refusal is refusal
    assert len(read_reply("ê" * 120, "sms")) == 120
