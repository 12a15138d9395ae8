from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.web.signing import FormTokenError, PosterCodeError, Signing, secret_digest

OLD, NEW = "old-key-0123456789abcdef", "new-key-0123456789abcdef"


def test_poster_code_round_trip_and_is_short() -> None:
    signing = Signing([NEW])
    code = signing.poster_code(123_456, 7)
    assert signing.read_poster_code(code) == (123_456, 7)
    # 28 characters behind "/Q/" and a 30-character base URL fit version 3-M alphanumeric.
    assert len(code) <= 28
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]+-[0-9A-HJKMNP-TV-Z]+(-[0-9A-HJKMNP-TV-Z]{4}){4}", code)


def test_a_poster_code_survives_how_people_type_it() -> None:
    """Lower case, O for 0, I or L for 1, U for V, hyphens dropped from the signature: the
    same poster, and the pages go on with the one spelling we print."""
    signing = Signing([NEW])
    code = signing.poster_code(41, 3)
    head, signature = code[:5], code[5:]
    typed = [
        code.lower(),
        code.replace("0", "O").replace("1", "I"),
        code.replace("1", "l").lower(),
        code.replace("V", "U"),
        head + signature.replace("-", ""),
        head + signature.replace("-", "--"),
    ]
    for spelling in typed:
        assert signing.read_poster_code(spelling) == (41, 3), spelling
        assert signing.canonical_poster_code(spelling) == code
    # Not a way round the length limit: the same refusal as reading it.
    padded = head + "-" * 60 + signature
    for read in (signing.read_poster_code, signing.canonical_poster_code):
        with pytest.raises(PosterCodeError) as refused:
            read(padded)
        assert refused.value.reason == "malformed"


def test_posters_printed_in_the_first_format_keep_working() -> None:
    signing = Signing([OLD, NEW])
    printed = Signing([OLD]).first_format_poster_code(12, 2)
    assert "." in printed
    assert signing.read_poster_code(printed) == (12, 2)
    assert signing.canonical_poster_code(printed) == printed
    # base64url is case-sensitive: a first-format code opens only as it was printed.
    with pytest.raises(PosterCodeError):
        signing.read_poster_code(printed.swapcase())
    # The two formats are signed with different salts: a signature never crosses over.
    new = signing.poster_code(12, 2)
    assert new != printed


def test_rotation_new_key_signs_old_key_still_verifies() -> None:
    printed_long_ago = Signing([OLD]).poster_code(5, 1)
    rotated = Signing([OLD, NEW])  # oldest first: NEW signs
    assert rotated.read_poster_code(printed_long_ago) == (5, 1)
    fresh = rotated.poster_code(5, 1)
    assert fresh != printed_long_ago
    assert Signing([NEW]).read_poster_code(fresh) == (5, 1)
    with pytest.raises(PosterCodeError) as retired:
        Signing([NEW]).read_poster_code(printed_long_ago)
    assert retired.value.reason == "bad_signature"


@pytest.mark.parametrize(
    "code, reason",
    [
        ("", "malformed"),
        ("x" * 80, "malformed"),
        ("1-1", "bad_signature"),
        ("1-1.AAAAAAAAAAAA", "bad_signature"),
        ("ünïcode.sig", "malformed"),
        ("1-1-0000-0000-0000-0000", "bad_signature"),
        ("1-1-0000-0000-0000", "bad_signature"),
        ("01-1-0000-0000-0000-0000", "bad_signature"),
        ("1-1-0000-0000-0000-000!", "bad_signature"),
    ],
)
def test_bad_codes_name_their_reason(code: str, reason: str) -> None:
    with pytest.raises(PosterCodeError) as error:
        Signing([NEW]).read_poster_code(code)
    assert error.value.reason == reason


@given(st.integers(1, 10**9), st.integers(1, 10**4), st.integers(0, 17), st.characters())
def test_any_single_character_change_is_refused(
    poster_id: int, version: int, position: int, replacement: str
) -> None:
    signing = Signing([NEW])
    for code in (
        signing.poster_code(poster_id, version),
        signing.first_format_poster_code(poster_id, version),
    ):
        position %= len(code)
        if code[position] == replacement:
            continue
        tampered = code[:position] + replacement + code[position + 1 :]
        try:
            assert signing.read_poster_code(tampered) == (poster_id, version)
        except PosterCodeError:
            continue
        if "." in code:
            # Only a change that decodes to the very same payload may pass (base64 padding).
            assert tampered.split(".")[0] == code.split(".")[0]
        else:
            # Only another spelling of the same code: a case, a look-alike letter, a hyphen.
            assert signing.canonical_poster_code(tampered) == code


def test_form_token_expires_and_cannot_be_forged() -> None:
    signing = Signing([NEW])
    token = signing.new_form_token(3, 2)
    read = signing.read_form_token(token, max_age=60)
    assert (read.poster_id, read.poster_version) == (3, 2)
    assert (
        read.idempotency_key
        != signing.read_form_token(signing.new_form_token(3, 2), max_age=60).idempotency_key
    )
    with pytest.raises(FormTokenError) as forged:
        Signing([OLD]).read_form_token(token, max_age=60)
    assert forged.value.reason == "invalid"
    with pytest.raises(FormTokenError) as expired:
        signing.read_form_token(token, max_age=-1)
    assert expired.value.reason == "expired"


@pytest.mark.parametrize(
    ("mint", "salt", "payload"),
    [
        (lambda s: s.new_form_token(7, 3), "form", {"p": 7, "v": 3}),
        (lambda s: s.new_form_token(123456, 99), "form", {"p": 123456, "v": 99}),
        (lambda s: s.new_unit_form_token(41), "unit-form", {"u": 41}),
        (lambda s: s.new_widget_form_token(5, 2), "widget-form", {"w": 5, "v": 2}),
    ],
)
def test_form_tokens_are_minted_as_itsdangerous_would(
    monkeypatch: pytest.MonkeyPatch, mint: Any, salt: str, payload: dict[str, Any]
) -> None:
    """The form tokens are minted without itsdangerous (it was a third of the form page's CPU)
    but must be exactly its bytes, for every nonce (it would compress a payload that got
    shorter so), and itsdangerous reads them under the newest key."""
    import secrets
    import time

    from itsdangerous import URLSafeTimedSerializer

    monkeypatch.setattr(time, "time", lambda: 1_893_456_000.75)
    nonces: list[str] = []
    draw = secrets.token_urlsafe

    def recorded(n: int) -> str:
        nonces.append(draw(n))
        return nonces[-1]

    monkeypatch.setattr("lapor.web.signing.secrets.token_urlsafe", recorded)
    signing = Signing([OLD, NEW])
    for _ in range(300):
        minted = mint(signing)
        expected = {**payload, "n": nonces[-1]}
        assert minted == URLSafeTimedSerializer([NEW], salt=salt).dumps(expected)
        assert URLSafeTimedSerializer([OLD, NEW], salt=salt).loads(minted) == expected


def test_photo_ref_is_bound_to_its_form() -> None:
    signing = Signing([NEW])
    ref = signing.photo_ref("nonce-a", "a" * 32 + ".jpg")
    assert signing.read_photo_ref(ref, "nonce-a") == "a" * 32 + ".jpg"
    assert signing.read_photo_ref(ref, "nonce-b") is None
    assert signing.read_photo_ref(ref[:-2] + "xx", "nonce-a") is None


def test_widget_keys_round_trip_rotate_and_refuse_tampering() -> None:
    from lapor.web.signing import WidgetKeyError

    old = Signing([OLD]).widget_key(42, 1)
    rotated = Signing([OLD, NEW])
    assert rotated.read_widget_key(old) == (42, 1)
    assert Signing([NEW]).read_widget_key(rotated.widget_key(42, 1)) == (42, 1)
    for bad, reason in [
        ("", "malformed"),
        ("x" * 101, "malformed"),
        ("ü.x", "malformed"),
        (old.replace("16-1", "16-2"), "bad_signature"),
        ("16-1", "bad_signature"),
        # A poster code is signed for another purpose: never a widget key.
        (Signing([OLD]).poster_code(42, 1), "bad_signature"),
    ]:
        with pytest.raises(WidgetKeyError) as error:
            Signing([OLD]).read_widget_key(bad)
        assert error.value.reason == reason, bad
    with pytest.raises(WidgetKeyError):
        Signing([NEW]).read_widget_key(old)


def test_widget_form_tokens_are_not_poster_form_tokens() -> None:
    signing = Signing([NEW])
    token = signing.new_widget_form_token(3, 1)
    read = signing.read_widget_form_token(token, max_age=60)
    assert (read.widget_id, read.widget_version) == (3, 1) and read.idempotency_key
    with pytest.raises(FormTokenError):
        signing.read_form_token(token, max_age=60)
    with pytest.raises(FormTokenError):
        signing.read_widget_form_token(signing.new_form_token(3, 1), max_age=60)


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _spellings(value: str) -> list[str]:
    """Other spellings itsdangerous would read as `value`: padding, characters outside the
    alphabet (dropped by the decoder), and a last character whose spare bits differ."""
    from itsdangerous.encoding import base64_decode

    head, _, signature = value.rpartition(".")
    others = [
        value + "=",
        value + "==",
        f"{head}.!{signature}",
        f"{head}.{signature[:3]}~{signature[3:]}",
        f"{head}.{signature}$$",
        f"{value} ",
        f"{value}\x00",
    ]
    others += [
        f"{head}.{signature[:-1]}{c}"
        for c in _ALPHABET
        if c != signature[-1] and base64_decode(signature[:-1] + c) == base64_decode(signature)
    ]
    return others


def test_a_signed_value_has_one_spelling() -> None:
    """A poster answers to one URL only, so it is counted once and cached once; the same for
    widget keys, kiosk credentials and form tokens."""
    from lapor.web.signing import KioskCredentialError, WidgetKeyError

    signing = Signing([NEW])
    readers: list[tuple[str, Any, type[Exception]]] = [
        (signing.first_format_poster_code(7, 1), signing.read_poster_code, PosterCodeError),
        (signing.widget_key(7, 1), signing.read_widget_key, WidgetKeyError),
        (signing.kiosk_credential(7, 1), signing.read_kiosk_credential, KioskCredentialError),
        (
            signing.new_form_token(7, 1),
            lambda t: signing.read_form_token(t, 3600),
            FormTokenError,
        ),
        (
            signing.new_widget_form_token(7, 1),
            lambda t: signing.read_widget_form_token(t, 3600),
            FormTokenError,
        ),
    ]
    for value, read, refused in readers:
        read(value)  # as handed out: accepted
        others = _spellings(value)
        assert len(others) >= 7
        for other in others:
            with pytest.raises(refused):
                read(other)
    # Ids are written without leading zeros; a zero in front is another spelling.
    with pytest.raises(PosterCodeError):
        signing.read_poster_code("0" + signing.first_format_poster_code(7, 1))
    with pytest.raises(PosterCodeError):
        signing.read_poster_code("0" + signing.poster_code(7, 1))
    # Today's poster codes are typed by hand, so they read in any case and with look-alike
    # letters; the one spelling lies in `canonical_poster_code`, which every page keys by.


def test_a_stored_digest_opens_the_private_link_whatever_the_keys() -> None:
    made = Signing([OLD])
    secret = made.reporter_secret("key-1")
    stored = made.reporter_secret_hash("key-1")
    assert secret_digest(secret) == stored
    later = Signing([NEW])  # OLD removed
    assert later.reporter_secret_ok("key-1", stored, secret)
    assert not later.reporter_secret_ok("key-1", stored, later.reporter_secret("key-1"))
    assert not later.reporter_secret_ok("key-1", stored, "")
    # Without a digest (stored before they were kept), only the configured keys can tell.
    assert made.reporter_secret_ok("key-1", None, secret)
    assert not later.reporter_secret_ok("key-1", None, secret)


def test_the_link_handed_out_again_is_the_one_its_key_made() -> None:
    stored = Signing([OLD]).reporter_secret_hash("key-1")
    rotated = Signing([OLD, NEW])  # NEW signs now
    assert rotated.reporter_secret_for("key-1", stored) == Signing([OLD]).reporter_secret("key-1")
    assert Signing([NEW]).reporter_secret_for("key-1", stored) is None
    assert rotated.reporter_secret_for("key-1", None) == rotated.reporter_secret("key-1")
    # Filled in for an earlier report: one digest per key, either key's link opens it.
    every = rotated.reporter_secret_hashes("key-1")
    assert len(every.split()) == 2
    for key in (OLD, NEW):
        assert Signing([NEW]).reporter_secret_ok(
            "key-1", every, Signing([key]).reporter_secret("key-1")
        )


def test_a_kiosk_credential_names_its_kiosk_without_the_key() -> None:
    from lapor.web.signing import KioskCredentialError

    credential = Signing([OLD]).kiosk_credential(42, 3)
    assert Signing([NEW]).kiosk_credential_ids(credential) == (42, 3)
    with pytest.raises(KioskCredentialError):
        Signing([NEW]).read_kiosk_credential(credential)
    # Not a kiosk's shape: a poster code or a widget key has no random part.
    for other in (Signing([OLD]).widget_key(42, 3), Signing([OLD]).poster_code(42, 3), "x"):
        with pytest.raises(KioskCredentialError):
            Signing([OLD]).kiosk_credential_ids(other)


def test_form_tokens_are_read_as_itsdangerous_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading tokens without itsdangerous (a tenth of a submission's work) must accept and
    refuse exactly what it does: every key, forged, expired, from the future, compressed."""
    import time

    from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
    from itsdangerous.encoding import base64_encode

    def outcome(read: Any, token: str, max_age: int) -> Any:
        try:
            return ("read", read(token, max_age))
        except SignatureExpired:
            return "expired"
        except BadData:
            return "invalid"

    now = 1_893_456_000
    monkeypatch.setattr(time, "time", lambda: now + 0.5)
    theirs = URLSafeTimedSerializer([OLD, NEW], salt="form")
    ours = Signing([OLD, NEW])._form
    old_only = URLSafeTimedSerializer([OLD], salt="form")
    other = URLSafeTimedSerializer(["another-key-0123456789abcdef"], salt="form")
    widget = URLSafeTimedSerializer([NEW], salt="widget-form")
    payload = {"p": 1, "v": 2, "n": "kR9xQ2mZ7vT4pL1wB8nC5d"}
    tokens = [
        theirs.dumps(payload),
        old_only.dumps(payload),
        other.dumps(payload),
        widget.dumps(payload),
        theirs.dumps({"p": 1, "v": 2, "n": "N" * 60}),  # itsdangerous compresses this one
    ]
    good = theirs.dumps(payload)
    value, _, signature = good.rpartition(".")
    tokens += [
        value + "." + signature[:-1] + ("A" if signature[-1] != "A" else "B"),
        value + ".",
        value,
        signature,
        "." + good,
        good.replace(".", "", 1),
    ]
    # A valid signature over a payload that is not base64 JSON, or a bad timestamp.
    mac = ours._macs[0]
    for raw in (b"bm90IGpzb24.AAA", b"%%%.AAA", b"eyJwIjoxfQ.***", b".eJyrVipQsjLXUSpTsjJQ.AAA"):
        tokens.append((raw + b"." + base64_encode(ours._sign(mac, raw))).decode())
    assert tokens[4].startswith(".")  # the compressed one is among them
    for token in tokens:
        for max_age, shift in ((60, 0), (60, 61), (60, -5), (0, 0)):
            monkeypatch.setattr(time, "time", lambda s=shift: now + s + 0.5)
            assert outcome(ours.loads, token, max_age) == outcome(
                lambda t, a: theirs.loads(t, max_age=a), token, max_age
            ), (token, max_age, shift)
