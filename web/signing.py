"""Everything we hand out and later trust: poster codes, citizens' form tokens, references to
photos already uploaded. All signed with itsdangerous over the same key list (oldest first,
newest signs, every key verifies) so keys rotate without reprinting every poster at once.

Two things outlive any key: a reporter's private link and a kiosk's credential are made here
too, but checked against the digest (`secret_digest`) stored with the report or the kiosk when
they were issued, so removing the key that made them changes nothing (docs/security.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import zlib
from dataclasses import dataclass
from typing import Any

from itsdangerous import (
    BadData,
    BadPayload,
    BadSignature,
    BadTimeSignature,
    SignatureExpired,
    Signer,
)
from itsdangerous.encoding import base64_decode, base64_encode, bytes_to_int, int_to_bytes
from itsdangerous.signer import SigningAlgorithm

from lapor.complaints.tracking import ALPHABET as _CROCKFORD

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
# What we hand out, exactly: an id and a version in base 36 (a kiosk's also a random part), a
# dot, a base64url signature without padding. itsdangerous reads more than it writes (padding,
# characters outside the alphabet, a last character whose spare bits differ): one poster would
# answer to many URLs, be counted under each, and thrash the blank-form cache.
_SIGNED_IDS = re.compile(r"[0-9a-z]+-[0-9a-z]+(?:-[A-Za-z0-9_-]+)?\.[A-Za-z0-9_-]+")
_TOKEN = re.compile(r"\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+")


def secret_digest(value: str) -> str:
    """sha256 in hex: what the store keeps of a secret we hand out and later check (a
    reporter's link, a kiosk's credential). No key, on purpose: the digest must verify after
    every signing key it was made under is gone. The values are random or HMAC output of
    120 bits or more, so a plain hash is as hard to reverse as a salted one."""
    return hashlib.sha256(value.encode()).hexdigest()


def _canonical_base64(part: str) -> bool:
    try:
        return base64_encode(base64_decode(part)).decode() == part
    except BadData:
        return False


def _canonical_signed_ids(value: str) -> bool:
    """`value` is spelled as we sign it: only our characters, and each base64 part (the
    signature, a kiosk's random part) the one spelling of its bytes."""
    if not _SIGNED_IDS.fullmatch(value):
        return False
    ids, _, signature = value.rpartition(".")
    parts = ids.split("-", 2)  # a kiosk's random part may hold "-" itself
    if any(len(p) > 1 and p.startswith("0") for p in parts[:2]):
        return False  # base 36 without leading zeros, as _b36 writes it
    return all(_canonical_base64(p) for p in (signature, *parts[2:]))


def _canonical_token(token: str) -> bool:
    """A form token (payload.timestamp.signature, payload compressed after a leading dot) as
    itsdangerous writes it."""
    return bool(_TOKEN.fullmatch(token)) and all(
        _canonical_base64(part) for part in token.lstrip(".").split(".")
    )


class _ShortHMAC(SigningAlgorithm):
    """HMAC-SHA256 cut short: 72 bits in the first poster codes, 80 in today's. A poster code
    must fit a small QR code; 2^72 forgery attempts against an online endpoint with rate limits
    is out of reach."""

    def __init__(self, length: int = 9) -> None:
        self.length = length

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.new(key, value, hashlib.sha256).digest()[: self.length]


class _FormTokens:
    """Form tokens exactly as itsdangerous's `URLSafeTimedSerializer(keys, salt=salt)` writes
    and reads them, byte for byte and refusal for refusal (tests/web/test_signing.py compares
    the two on valid, forged, expired and compressed tokens), without its layers: it derived the
    key afresh and built a signer per key for every token, and a token is minted for every
    citizen who opens a form and read for every report sent (a third of the form page's CPU).
    itsdangerous would compress a payload only when that made it shorter, which a payload this
    small with a random nonce never is; a compressed one is still read."""

    def __init__(self, keys_oldest_first: list[str], salt: str) -> None:
        # itsdangerous's default key derivation ("django-concat") and digest (SHA-1); it signs
        # with the newest key and tries every key, newest first, when reading.
        self._macs = [
            hmac.new(
                hashlib.sha1(salt.encode() + b"signer" + key.encode()).digest(),
                digestmod=hashlib.sha1,
            )
            for key in reversed(keys_oldest_first)
        ]

    def dumps(self, compact_json: str) -> str:
        value = b"%s.%s" % (
            base64_encode(compact_json.encode()),
            base64_encode(int_to_bytes(int(time.time()))),
        )
        return (value + b"." + base64_encode(self._sign(self._macs[0], value))).decode()

    def loads(self, token: str, max_age: int) -> Any:
        """The payload; raises SignatureExpired or another BadData as itsdangerous would."""
        value, dot, signature = token.encode("ascii").rpartition(b".")
        try:
            claimed = base64_decode(signature) if dot else b""
        except BadData:
            claimed = b""
        if not any(hmac.compare_digest(self._sign(mac, value), claimed) for mac in self._macs):
            raise BadSignature("signature does not match")
        payload, dot, stamp = value.rpartition(b".")
        if not dot:
            raise BadTimeSignature("timestamp missing")
        try:
            age = int(time.time()) - bytes_to_int(base64_decode(stamp))
        except (BadData, ValueError):
            raise BadTimeSignature("malformed timestamp") from None
        if age > max_age or age < 0:
            raise SignatureExpired(f"signature age {age} outside 0..{max_age} seconds")
        try:
            text = base64_decode(payload.removeprefix(b"."))
            if payload.startswith(b"."):
                text = zlib.decompress(text)
            return json.loads(text)
        except (BadData, zlib.error, ValueError) as exc:
            raise BadPayload("unreadable payload") from exc

    @staticmethod
    def _sign(mac: Any, value: bytes) -> bytes:
        signing = mac.copy()
        signing.update(value)
        digest: bytes = signing.digest()
        return digest


# Poster codes as printed since issue 18: `ID-VERSION-SSSS-SSSS-SSSS-SSSS`, all in the tracking
# codes' Crockford base 32 (no I, L, O, U), the 16 S an 80-bit signature. Uppercase letters,
# digits and "-" are all in the QR code's alphanumeric mode, so the whole URL, uppercased,
# fits version 3 at error correction M behind a 30-character base URL. A person typing it may
# use any case, O for 0, I or L for 1, U for V and drop or add the hyphens in the signature:
# every spelling reads as the one canonical code (`canonical_poster_code`), which the pages
# use from there on. The first codes (base 36, a dot, base64url: `1-1.AbC...`) still open
# their form, spelled exactly as printed.
_SIGNATURE_SYMBOLS = 16
_CODES_KEPT = 10_000  # poster codes read and spelled, per process
_SIGNATURE_GROUP = 4
_B32_VALUE = {symbol: value for value, symbol in enumerate(_CROCKFORD)}
_B32_ALIASES = str.maketrans("OILU", "011V")
_POSTER_CODE = re.compile(r"[0-9A-Z]+-[0-9A-Z]+-[0-9A-Z-]+")


def _b32(number: int) -> str:
    if number < 0:
        raise ValueError("negative")
    digits = ""
    while True:
        number, rest = divmod(number, 32)
        digits = _CROCKFORD[rest] + digits
        if not number:
            return digits


def _b32_value(symbols: str) -> int:
    value = 0
    for symbol in symbols:
        value = value * 32 + _B32_VALUE[symbol]
    return value


def _signature_symbols(signature: bytes) -> str:
    value = int.from_bytes(signature, "big")
    return "".join(
        _CROCKFORD[(value >> (5 * i)) & 0b11111] for i in reversed(range(_SIGNATURE_SYMBOLS))
    )


@dataclass(frozen=True)
class _PosterCode:
    poster_id: int
    version: int
    signature: str  # 16 Crockford symbols, no hyphens

    @property
    def payload(self) -> bytes:
        return f"{_b32(self.poster_id)}-{_b32(self.version)}".encode()

    @property
    def spelling(self) -> str:
        groups = (
            self.signature[i : i + _SIGNATURE_GROUP]
            for i in range(0, _SIGNATURE_SYMBOLS, _SIGNATURE_GROUP)
        )
        return f"{_b32(self.poster_id)}-{_b32(self.version)}-{'-'.join(groups)}"


def _parse_poster_code(code: str) -> _PosterCode:
    """A code as a person may type it, read into its parts; its signature is not checked."""
    cleaned = code.upper().translate(_B32_ALIASES)
    if not _POSTER_CODE.fullmatch(cleaned):
        raise PosterCodeError("bad_signature")  # not as we write them: not ours
    id_part, version_part, signature = cleaned.split("-", 2)
    signature = signature.replace("-", "")
    if len(signature) != _SIGNATURE_SYMBOLS or any(
        len(p) > 1 and p.startswith("0") for p in (id_part, version_part)
    ):
        raise PosterCodeError("bad_signature")
    return _PosterCode(_b32_value(id_part), _b32_value(version_part), signature)


def _b36(number: int) -> str:
    if number < 0:
        raise ValueError("negative")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _B36[rest] + digits
        if not number:
            return digits


class PosterCodeError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "malformed" or "bad_signature"; counted in metrics


@dataclass(frozen=True)
class FormToken:
    poster_id: int
    poster_version: int
    nonce: str  # the submission's idempotency key

    @property
    def idempotency_key(self) -> str:
        return self.nonce


@dataclass(frozen=True)
class WidgetFormToken:
    widget_id: int
    widget_version: int
    nonce: str  # the submission's idempotency key

    @property
    def idempotency_key(self) -> str:
        return self.nonce


@dataclass(frozen=True)
class UnitFormToken:
    """A form opened at `/u/{slug}`, the unit chosen by name without a poster."""

    unit_id: int
    nonce: str  # the submission's idempotency key

    @property
    def idempotency_key(self) -> str:
        return self.nonce


class WidgetKeyError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "malformed" or "bad_signature"; counted in metrics


class KioskCredentialError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "malformed" or "bad_signature"


class FormTokenError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired" or "invalid"


class Signing:
    def __init__(self, keys_oldest_first: list[str]) -> None:
        if not keys_oldest_first:
            raise ValueError("at least one signing key is needed")
        # The first poster codes' signer, kept so that posters printed with them still work.
        self._poster = Signer(keys_oldest_first, salt="poster", algorithm=_ShortHMAC())
        # Its own salt: a signature from the first format never passes in the second.
        self._poster32 = Signer(keys_oldest_first, salt="poster-b32", algorithm=_ShortHMAC(10))
        self._form = _FormTokens(keys_oldest_first, "form")
        self._photo = Signer(keys_oldest_first, salt="photo", digest_method=hashlib.sha256)
        # Full-length signatures: a widget key is pasted, never printed into a QR code.
        self._widget = Signer(keys_oldest_first, salt="widget", digest_method=hashlib.sha256)
        # Its own salt: a poster's form token never passes for a widget's, nor the reverse.
        self._widget_form = _FormTokens(keys_oldest_first, "widget-form")
        # And the unit's own form (no poster): a token of one kind never passes for another.
        self._unit_form = _FormTokens(keys_oldest_first, "unit-form")
        self._kiosk = Signer(keys_oldest_first, salt="kiosk", digest_method=hashlib.sha256)
        self._device = Signer(keys_oldest_first, salt="staff-device", digest_method=hashlib.sha256)
        self._keys = [k.encode() for k in keys_oldest_first]
        self._posters_read: dict[str, tuple[int, int]] = {}

    # -- poster codes ----------------------------------------------------------------------
    def poster_code(self, poster_id: int, version: int) -> str:
        payload = f"{_b32(poster_id)}-{_b32(version)}".encode()
        signature = base64_decode(self._poster32.get_signature(payload))
        return _PosterCode(poster_id, version, _signature_symbols(signature)).spelling

    def poster_url(self, base_url: str, poster_id: int, version: int) -> str:
        """What a poster's caption prints (its QR code carries it uppercased)."""
        return f"{base_url}/q/{self.poster_code(poster_id, version)}"

    def read_poster_code(self, code: str) -> tuple[int, int]:
        """The poster and version a code names, in either format, proved by its signature."""
        known = self._posters_read.get(code)
        if known is not None:
            return known
        if not code or len(code) > 64 or not code.isascii():
            raise PosterCodeError("malformed")
        if "." in code:
            read = self._read_first_poster_code(code)
        else:
            parsed = _parse_poster_code(code)
            signature = base64_encode(_b32_value(parsed.signature).to_bytes(10, "big"))
            if not self._poster32.verify_signature(parsed.payload, signature):
                raise PosterCodeError("bad_signature")
            read = parsed.poster_id, parsed.version
            if parsed.spelling != code:
                return read  # kept only as printed, which is what the pages read again
        # Every form and every submission reads its poster's code: a signature checked once
        # holds for as long as the keys do, which is this object's life. Codes that fail are
        # not kept, so made-up ones cannot fill this; a full one starts afresh.
        if len(self._posters_read) >= _CODES_KEPT:
            self._posters_read.clear()
        self._posters_read[code] = read
        return read

    def canonical_poster_code(self, code: str) -> str:
        """The one spelling of a code `read_poster_code` accepted: what the form posts back to
        and what caches are keyed by, however the citizen typed it."""
        if code in self._posters_read:
            return code  # proven, and kept only in the one spelling
        if not code or len(code) > 64 or not code.isascii():
            raise PosterCodeError("malformed")  # as `read_poster_code` refuses it
        return code if "." in code else _parse_poster_code(code).spelling

    def _read_first_poster_code(self, code: str) -> tuple[int, int]:
        """A code of the first format (`1-1.AbC...`), accepted only exactly as it was signed:
        base64url is case-sensitive, so these never were case-insensitive."""
        if not _canonical_signed_ids(code):
            raise PosterCodeError("bad_signature")  # not spelled as we sign: not ours
        try:
            payload = self._poster.unsign(code).decode()
        except BadSignature:
            raise PosterCodeError("bad_signature") from None
        try:
            id_part, version_part = payload.split("-")
            return int(id_part, 36), int(version_part, 36)
        except ValueError:
            # Only reachable with a valid signature over a payload we never produce.
            raise PosterCodeError("malformed") from None

    def first_format_poster_code(self, poster_id: int, version: int) -> str:
        """A code as posters printed before issue 18 carry it: for tests and the benchmark
        that prove those prints keep working. Nothing hands these out any more."""
        return self._poster.sign(f"{_b36(poster_id)}-{_b36(version)}").decode()

    # -- widget keys -----------------------------------------------------------------------
    def widget_key(self, widget_id: int, version: int) -> str:
        """What the snippet's data-key (or ?key=) carries."""
        return self._widget.sign(f"{_b36(widget_id)}-{_b36(version)}").decode()

    def read_widget_key(self, key: str) -> tuple[int, int]:
        if not key or len(key) > 100 or not key.isascii():
            raise WidgetKeyError("malformed")
        if not _canonical_signed_ids(key):
            raise WidgetKeyError("bad_signature")  # not spelled as we sign: not ours
        try:
            payload = self._widget.unsign(key).decode()
        except BadSignature:
            raise WidgetKeyError("bad_signature") from None
        try:
            id_part, version_part = payload.split("-")
            return int(id_part, 36), int(version_part, 36)
        except ValueError:
            raise WidgetKeyError("malformed") from None

    # -- kiosk credentials -------------------------------------------------------------------
    def kiosk_credential(self, kiosk_id: int, version: int) -> str:
        """What a paired tablet keeps and sends with every request. The random part makes two
        pairings of one kiosk at the same version impossible to confuse in a log, and is long
        enough that the stored digest alone, without any key, makes the credential unguessable.
        The signature stays so that a credential issued before digests were kept still
        proves itself, and so the format the kiosk app knows does not change."""
        nonce = secrets.token_urlsafe(16)
        return self._kiosk.sign(f"{_b36(kiosk_id)}-{_b36(version)}-{nonce}").decode()

    def kiosk_credential_ids(self, credential: str) -> tuple[int, int]:
        """The kiosk and version a credential names, if it is spelled as we issue them. Not
        proof of anything: check it against the kiosk's stored digest (`secret_digest`), or
        its signature (`read_kiosk_credential`)."""
        if not credential or len(credential) > 200 or not credential.isascii():
            raise KioskCredentialError("malformed")
        if not _canonical_signed_ids(credential):
            raise KioskCredentialError("bad_signature")  # not spelled as we sign: not ours
        parts = credential.rpartition(".")[0].split("-", 2)
        if len(parts) != 3:
            raise KioskCredentialError("malformed")  # a poster's or widget's shape, not ours
        return int(parts[0], 36), int(parts[1], 36)

    def read_kiosk_credential(self, credential: str) -> tuple[int, int]:
        """The kiosk and version a credential names, proved by its signature under a
        configured key."""
        ids = self.kiosk_credential_ids(credential)
        try:
            self._kiosk.unsign(credential)
        except BadSignature:
            raise KioskCredentialError("bad_signature") from None
        return ids

    def new_widget_form_token(self, widget_id: int, widget_version: int) -> str:
        # The compact JSON itsdangerous writes: ids are ints, the nonce needs no escaping.
        nonce = secrets.token_urlsafe(16)
        return self._widget_form.dumps(
            f'{{"w":{widget_id:d},"v":{widget_version:d},"n":"{nonce}"}}'
        )

    def read_widget_form_token(self, token: str, max_age: int) -> WidgetFormToken:
        if not token or len(token) > 200 or not _canonical_token(token):
            raise FormTokenError("invalid")
        try:
            payload: Any = self._widget_form.loads(token, max_age=max_age)
        except SignatureExpired:
            raise FormTokenError("expired") from None
        except BadData:
            raise FormTokenError("invalid") from None
        try:
            return WidgetFormToken(int(payload["w"]), int(payload["v"]), str(payload["n"]))
        except (KeyError, TypeError, ValueError):
            raise FormTokenError("invalid") from None

    # -- form tokens -----------------------------------------------------------------------
    def new_form_token(self, poster_id: int, poster_version: int) -> str:
        nonce = secrets.token_urlsafe(16)
        return self._form.dumps(f'{{"p":{poster_id:d},"v":{poster_version:d},"n":"{nonce}"}}')

    def read_form_token(self, token: str, max_age: int) -> FormToken:
        if not token or len(token) > 200 or not _canonical_token(token):
            raise FormTokenError("invalid")
        try:
            payload: Any = self._form.loads(token, max_age=max_age)
        except SignatureExpired:
            raise FormTokenError("expired") from None
        except BadData:
            raise FormTokenError("invalid") from None
        try:
            return FormToken(int(payload["p"]), int(payload["v"]), str(payload["n"]))
        except (KeyError, TypeError, ValueError):
            raise FormTokenError("invalid") from None

    def new_unit_form_token(self, unit_id: int) -> str:
        nonce = secrets.token_urlsafe(16)
        return self._unit_form.dumps(f'{{"u":{unit_id:d},"n":"{nonce}"}}')

    def read_unit_form_token(self, token: str, max_age: int) -> UnitFormToken:
        if not token or len(token) > 200 or not _canonical_token(token):
            raise FormTokenError("invalid")
        try:
            payload: Any = self._unit_form.loads(token, max_age=max_age)
        except SignatureExpired:
            raise FormTokenError("expired") from None
        except BadData:
            raise FormTokenError("invalid") from None
        try:
            return UnitFormToken(int(payload["u"]), str(payload["n"]))
        except (KeyError, TypeError, ValueError):
            raise FormTokenError("invalid") from None

    # -- the reporter's private link -----------------------------------------------------------
    def reporter_secret(self, idempotency_key: str) -> str:
        """The secret beside a tracking code that lets its reporter reply, accept and rate.
        Derived from the submission's idempotency key under the newest key, so a retried
        submission lands on the same private link. The report keeps its digest
        (`reporter_secret_hash`), which is what the link is checked against later."""
        return self._reporter_secret(self._keys[-1], idempotency_key)

    def reporter_secret_hash(self, idempotency_key: str) -> str:
        """What a new report stores of its private link's secret."""
        return secret_digest(self.reporter_secret(idempotency_key))

    def reporter_secret_hashes(self, idempotency_key: str) -> str:
        """What a report stored before digests were kept gets: one digest per configured key,
        newest first, because which of them made its link is not known."""
        return " ".join(
            secret_digest(self._reporter_secret(key, idempotency_key))
            for key in reversed(self._keys)
        )

    def reporter_secret_for(self, idempotency_key: str, stored: str | None) -> str | None:
        """The secret of the link a stored report answers to, to hand out again (a resend, a
        receipt printed later): the one under the key that made it, which after a rotation is
        not the newest. None when no configured key makes it any more."""
        if stored is None:
            return self.reporter_secret(idempotency_key)  # not filled in yet: checked by keys
        digests = stored.split()
        for key in reversed(self._keys):
            secret = self._reporter_secret(key, idempotency_key)
            if secret_digest(secret) in digests:
                return secret
        return None

    def reporter_secret_ok(self, idempotency_key: str, stored: str | None, secret: str) -> bool:
        """Whether `secret` opens the private link of the report whose idempotency key and
        stored digest(s) are given. With a digest stored, the keys play no part."""
        if not secret or len(secret) > 64 or not secret.isascii():
            return False
        if stored is None:
            # Stored before digests were kept and not filled in yet (the server fills them in
            # when it starts): only the keys can tell.
            return any(
                hmac.compare_digest(self._reporter_secret(key, idempotency_key), secret)
                for key in self._keys
            )
        digest = secret_digest(secret)
        # Every digest compared, matching or not: how many were tried says nothing.
        return sum(hmac.compare_digest(digest, d) for d in stored.split()) > 0

    @staticmethod
    def _reporter_secret(key: bytes, idempotency_key: str) -> str:
        digest = hmac.new(key, b"reporter:" + idempotency_key.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:15]).decode()

    # -- photos already uploaded with a form that came back with an error --------------------
    def photo_ref(self, nonce: str, name: str) -> str:
        return self._photo.sign(f"{nonce}:{name}").decode()

    def read_photo_ref(self, ref: str, nonce: str) -> str | None:
        """The stored name the ref points at, if it was issued for this same form."""
        try:
            value = self._photo.unsign(ref).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        ref_nonce, _, name = value.partition(":")
        return name if ref_nonce == nonce and name else None

    # -- browsers a member of staff signed in from -------------------------------------------
    def staff_device(self, user_id: int, nonce: str) -> str:
        """The cookie a browser keeps after signing in to an account: it lets that browser
        sign in while strangers' guesses have filled the account's limit. Removing a key only
        makes the browser a stranger again until its next sign-in."""
        return self._device.sign(f"{_b36(user_id)}-{nonce}").decode()

    def read_staff_device(self, cookie: str) -> tuple[int, str] | None:
        """The account and the browser's own random part, when the cookie is ours."""
        if not cookie or len(cookie) > 200 or not cookie.isascii():
            return None
        try:
            payload = self._device.unsign(cookie).decode()
            id_part, nonce = payload.split("-", 1)
            return int(id_part, 36), nonce
        except (BadSignature, ValueError):
            return None
