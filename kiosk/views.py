"""`/kiosk`: the touchscreen app a paired tablet runs, its service worker, and the JSON API
the app talks to.

The app is one page (templates/kiosk/app.html + static/kiosk.js) that the service worker keeps
for offline use; everything a person types stays in that page until it is sent or wiped. The
API answers JSON only and names, in every answer about a queued item, that item's key: the app
drops an item from its queue only on such an answer, so a captive portal's 200 page can never
empty it.

Every body the API reads is one JSON object, read by web/json_body.py within bounds (64 kB,
32 levels deep) and refused whole otherwise: 400 in the API's error shape, and on pairing a
wrong attempt toward its limits like a wrong code.

A device proves itself with `Authorization: Bearer <credential>`, the signed credential it got
for its pairing code. A revoked kiosk gets 410 and shows "not active"; a credential replaced by
a later pairing, or forged, gets 401."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lapor.complaints import kiosk as rules
from lapor.complaints import tracking
from lapor.complaints.feedback import faces_for_client, ikm_items_for_client, parse_feedback
from lapor.complaints.records import Kiosk, NewFeedback, Unit
from lapor.complaints.reports import Channel, FieldError
from lapor.intake import Entry
from lapor.kiosk.strings import all_strings
from lapor.store.errors import FeedbackConflict, IdempotencyConflict, NotFound
from lapor.store.store import now
from lapor.web import i18n, json_body
from lapor.web.labels import error_text
from lapor.web.private_links import private_secret
from lapor.web.services import Services, client_address, services
from lapor.web.signing import KioskCredentialError, secret_digest
from lapor.web.templating import STATIC_DIR, TEMPLATE_DIR, StaticUrls

NO_STORE = {"cache-control": "no-store"}
JSON_MAX_BYTES = 64_000
SW_PATH = "/kiosk/sw.js"
# The files the service worker stores; pairing is finished only when every one is cached.
STATIC_FILES = ("kiosk.js", "kiosk.css")
_static_url = StaticUrls()


@dataclass(frozen=True)
class AppBuild:
    """One release of the kiosk app: its files and the version that names them."""

    version: str
    files: tuple[str, ...]


_builds: dict[tuple[Any, ...], AppBuild] = {}


def app_build(svc: Services) -> AppBuild:
    settings = svc.settings
    key = (
        settings.kiosk_idle_seconds,
        settings.kiosk_receipt_seconds,
        settings.base_url,
        settings.sms.sending,
    )
    build = _builds.get(key)
    if build is None:
        digest = hashlib.sha256(repr(key).encode())
        for path in (
            TEMPLATE_DIR / "kiosk" / "app.html",
            *(STATIC_DIR / name for name in STATIC_FILES),
        ):
            digest.update(path.read_bytes())
        digest.update(json.dumps(all_strings(), sort_keys=True).encode())
        files = ("/kiosk", *(_static_url(name) for name in STATIC_FILES))
        build = _builds[key] = AppBuild(digest.hexdigest()[:12], files)
    return build


async def app_shell(request: Request) -> Response:
    svc = services(request)
    settings = svc.settings
    build = app_build(svc)
    boot = {
        "version": build.version,
        "files": build.files,
        "sw": SW_PATH,
        "strings": all_strings(),
        "languages": list(i18n.LANGUAGES),
        "default_language": settings.default_language,
        "base_url": settings.base_url,
        "idle_seconds": settings.kiosk_idle_seconds,
        "receipt_seconds": settings.kiosk_receipt_seconds,
        "pool_refill_below": rules.POOL_REFILL_BELOW,
        # Phone-only reporters are told by SMS (intake.py): the phone field says so.
        "sms_sending": settings.sms.sending,
    }
    # The same page for every device and language (the app switches language itself); the
    # service worker serves its stored copy, so the network copy is never cached on its own.
    return svc.templates.response(
        request,
        "kiosk/app.html",
        {
            "boot": json.dumps(boot, ensure_ascii=False).replace("</", "<\\/"),
            "static_url": _static_url,
            "lang": settings.default_language,
        },
        headers=NO_STORE,
    )


SERVICE_WORKER = """// LAPOR! kiosk service worker, release %(version)s.
"use strict";
const VERSION = %(version_json)s;
const FILES = %(files_json)s;
const CACHE = "lapor-kiosk-" + VERSION;
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) =>
    cache.addAll(FILES.map((url) => new Request(url, {cache: "reload"})))));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys
    .filter((key) => key.startsWith("lapor-kiosk-") && key !== CACHE)
    .map((key) => caches.delete(key)))).then(() => self.clients.claim()));
});
self.addEventListener("message", (event) => {
  if (event.data === "apply-update") self.skipWaiting();
});
self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const path = url.pathname.replace(/\\/$/, "");
  const name = path === "/kiosk" ? "/kiosk" : url.pathname + url.search;
  if (!FILES.includes(name)) return;  // the API and everything else go to the network
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(name, {ignoreVary: true}))
    .then((stored) => stored || fetch(request)));
});
"""


async def service_worker(request: Request) -> Response:
    build = app_build(services(request))
    body = SERVICE_WORKER % {
        "version": build.version,
        "version_json": json.dumps(build.version),
        "files_json": json.dumps(list(build.files)),
    }
    # Browsers check a worker for updates byte by byte; no caching keeps that check honest.
    return Response(
        body, media_type="text/javascript", headers={**NO_STORE, "service-worker-allowed": "/kiosk"}
    )


# -- the API -----------------------------------------------------------------------------------
def _json(payload: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status_code, headers=NO_STORE)


def _refusal(error: str, message: str, status_code: int, **extra: Any) -> JSONResponse:
    return _json({"error": error, "message": message, **extra}, status_code)


async def _body(request: Request) -> dict[str, Any] | None:
    """The JSON object sent, or None for any body that is not one (web/json_body.py)."""
    return await json_body.read_object(request, max_bytes=JSON_MAX_BYTES)


def _unreadable() -> JSONResponse:
    return _refusal("body", i18n.gettext("The request could not be read"), 400)


async def _device(request: Request, svc: Services) -> Kiosk | JSONResponse:
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    try:
        if scheme.lower() != "bearer":
            raise KioskCredentialError("malformed")
        kiosk_id, version = svc.signing.kiosk_credential_ids(credential)
    except KioskCredentialError as exc:
        svc.metrics.rejected_codes.labels(f"kiosk_{exc.reason}").inc()
        return _refusal("credential", i18n.gettext("This kiosk is not paired."), 401)
    kiosk = await svc.store.kiosks.get(kiosk_id)
    digest = secret_digest(credential)
    kept = kiosk.credential_hash if kiosk is not None else None
    if kept is None or not hmac.compare_digest(digest, kept):
        # Not the credential kept for this kiosk. One issued before credentials were kept, or
        # an earlier pairing's, proves itself by its signature while its key is configured.
        try:
            svc.signing.read_kiosk_credential(credential)
        except KioskCredentialError as exc:
            svc.metrics.rejected_codes.labels(f"kiosk_{exc.reason}").inc()
            return _refusal("credential", i18n.gettext("This kiosk is not paired."), 401)
        # The current pairing's is kept now, and needs no key again. When another is kept
        # for the same version (we issue one per pairing), this one was signed with a leaked
        # key.
        if (
            kiosk is not None
            and kiosk.version == version
            and not await svc.store.kiosks.keep_credential(kiosk_id, version, digest)
        ):
            svc.metrics.rejected_codes.labels("kiosk_bad_signature").inc()
            return _refusal("credential", i18n.gettext("This kiosk is not paired."), 401)
    if kiosk is None:
        return _refusal("credential", i18n.gettext("This kiosk is not paired."), 401)
    if not kiosk.active:
        return _refusal("revoked", i18n.gettext("This kiosk is not active."), 410)
    if kiosk.version != version:
        # Paired again, on this tablet or another: this credential is spent.
        return _refusal("credential", i18n.gettext("This kiosk was paired again."), 401)
    return kiosk


async def _queued_item(
    request: Request, svc: Services
) -> tuple[Kiosk, dict[str, Any]] | JSONResponse:
    """The device and the JSON object of a queued item, or the answer refusing them."""
    kiosk = await _device(request, svc)
    if isinstance(kiosk, JSONResponse):
        return kiosk
    body = await _body(request)
    if body is None:
        return _unreadable()
    return kiosk, body


# -- what a person at a tablet could send ------------------------------------------------------
# A credential read off a public tablet lets a script send as the kiosk: 130 quick ratings in
# 1.3 s were all stored and moved a unit's IKM. So every queued item that is about to be stored
# counts against its kiosk's limit (by kiosk id: a hall's tablets share one address, a script
# can use many), reports and feedback each on their own, with defaults above what a person at
# one tablet can do (settings LAPOR_KIOSK_REPORT_LIMIT and LAPOR_KIOSK_FEEDBACK_LIMIT).
#
# The limit is on delivery, in the server's time, and refusing is only ever "later": 429 with
# Retry-After, naming the item's key, which the app answers by keeping the item and holding
# that kind of item back until then (static/kiosk.js). The device's own times (`reported_at`)
# are not used to judge: they are the sender's claim, and a script spaces them as it likes.
# What this costs a genuine kiosk is time, never an item: a backlog after a long outage drains
# at the limit's pace (600 ratings and 120 reports an hour by default). Reports have no
# window shorter than an hour, so the backlog of an outage arrives in seconds
# (docs/security.md, What one kiosk may send).
#
# Each refusal is counted in the metrics; the kiosk's row is marked at most once a minute, so
# a script's thousands of refusals are not thousands of writes.
LIMITED_NOTED_EVERY = "1/minute"


async def _over_limit(
    svc: Services, kiosk: Kiosk, what: str, rule: str, key: str
) -> JSONResponse | None:
    """None when the item may be stored now; else the 429 that tells the device to wait."""
    scope = f"kiosk-{what}"
    if await svc.limits.hit(rule, scope, str(kiosk.id)):
        return None
    svc.metrics.rate_limited.labels(f"kiosk_{what}").inc()
    if await svc.limits.hit(LIMITED_NOTED_EVERY, "kiosk-limited", str(kiosk.id)):
        await svc.store.kiosks.note_limited(kiosk.id, now())
    wait = await svc.limits.retry_after(rule, scope, str(kiosk.id))
    return JSONResponse(
        {
            "key": key,
            "error": "throttled",
            "message": i18n.gettext(
                "This kiosk sent more than a person could. It keeps what it holds and sends "
                "it later."
            ),
            "retry_after": wait,
        },
        status_code=429,
        headers={**NO_STORE, "retry-after": str(wait)},
    )


def _field_errors(errors: list[FieldError]) -> list[dict[str, str]]:
    return [{"field": e.field, "code": e.code, "message": error_text(e)} for e in errors]


async def pair(request: Request) -> Response:
    svc = services(request)
    settings = svc.settings
    address = client_address(request)
    # Every attempt is counted before it is evaluated: counting only the failures, after the
    # store said no, let forty guesses sent at once all through a limit of five.
    if not await svc.limits.hit(settings.kiosk_pair_limit_per_address, "kiosk-pair", address):
        svc.metrics.rate_limited.labels("kiosk_pair").inc()
        return _refusal(
            "throttled",
            i18n.gettext("Too many wrong codes. Wait a few minutes, then try again."),
            429,
        )
    # A body that is not JSON's object counts as a wrong code: the limits are on attempts.
    body = await _body(request)
    raw = body.get("code") if body else None
    code = rules.read_pairing_code(raw) if isinstance(raw, str) else None
    # The deployment-wide ceiling guards only six-digit codes, the ones guessing could reach.
    # When strangers fill it, those wait, and the administrator is given a ten-digit code
    # (admin/kiosks.py), which only the per-address limit applies to: nobody can stop pairing.
    if (
        code is not None
        and rules.is_short_pairing_code(code)
        and not await svc.limits.hit(settings.kiosk_pair_limit, "kiosk-pair-all")
    ):
        svc.metrics.rate_limited.labels("kiosk_pair_paused").inc()
        return _refusal(
            "paused",
            i18n.gettext(
                "Six-digit codes are paused after many wrong tries. Ask the administrator "
                "for a new pairing code: it will have ten digits."
            ),
            429,
        )
    kiosk = await svc.store.kiosks.pair(code, now()) if code else None
    if kiosk is None:
        return _refusal(
            "code",
            i18n.gettext("That code is wrong or has expired. Ask the administrator for a new one."),
            400,
        )
    # A hall pairing ten tablets in a row is not an attack.
    await svc.limits.clear(settings.kiosk_pair_limit_per_address, "kiosk-pair", address)
    credential = svc.signing.kiosk_credential(kiosk.id, kiosk.version)
    # Checked against this digest from now on, so removing the key that signed it unpairs
    # nothing. Were this write lost, the signature still proves the credential, and its first
    # request keeps the digest then (_device).
    await svc.store.kiosks.keep_credential(kiosk.id, kiosk.version, secret_digest(credential))
    return _json(
        {
            "credential": credential,
            "kiosk": {"id": kiosk.id, "name": kiosk.name},
        }
    )


async def config(request: Request) -> Response:
    """What the app shows: the kiosk, its hall, the agencies to choose from."""
    svc = services(request)
    kiosk = await _device(request, svc)
    if isinstance(kiosk, JSONResponse):
        return kiosk
    offered = await _offered(svc, kiosk)
    if offered is None:
        return _refusal("credential", i18n.gettext("This kiosk is not paired."), 401)
    hall, agencies = offered
    faces: dict[str, list[object]] = {}
    ikm: dict[str, list[dict[str, object]]] = {}
    for language in i18n.LANGUAGES:
        with i18n.using(language):
            faces[language] = [face["label"] for face in faces_for_client(i18n.gettext)]
            ikm[language] = ikm_items_for_client(i18n.gettext)
    return _json(
        {
            "kiosk": {"id": kiosk.id, "name": kiosk.name},
            "hall": {"id": hall.id, "name": hall.name},
            # Every unit offered; `parent` names the offered unit it is chosen under.
            "agencies": [
                {"id": o.unit.id, "name": o.unit.name, "parent": o.parent_id} for o in agencies
            ],
            "faces": faces,
            "ikm": ikm,
            "version": app_build(svc).version,
            "server_time": now().isoformat(),
        }
    )


async def _offered(svc: Services, kiosk: Kiosk) -> tuple[Unit, list[rules.Offered]] | None:
    """The kiosk's hall and the units it offers (complaints/kiosk.py: offered_units)."""
    units = await svc.store.list_units()
    hall = next((u for u in units if u.id == kiosk.unit_id), None)
    if hall is None:
        return None
    coordinated = {u.id for u in await svc.store.coordinator_units()}
    return hall, rules.offered_units(hall, units, coordinated)


async def _unit_in_hall(svc: Services, kiosk: Kiosk, unit_id: int | None) -> Unit | None:
    """The unit a queued item names, if the kiosk's hall is it or holds it."""
    if unit_id is None:
        return None
    hall = await svc.store.unit(kiosk.unit_id)
    unit = await svc.store.unit(unit_id)
    if hall is None or unit is None or not rules.in_hall(hall, unit):
        return None
    return unit


def _qr_rows(url: str) -> list[str]:
    from lapor.web.posters import qr_matrix

    return ["".join("1" if dark else "0" for dark in row) for row in qr_matrix(url)]


async def codes(request: Request) -> Response:
    """Top the device's pool of tracking codes up, each with the secret of its reporter's
    private link and that link's QR code, drawn on the receipt without any network. The
    secret is kept nowhere here: the report brings it back, and its digest is stored then."""
    svc = services(request)
    kiosk = await _device(request, svc)
    if isinstance(kiosk, JSONResponse):
        return kiosk
    body = await _body(request)
    if body is None:
        return _unreadable()
    held = body.get("held")
    held_count = held if isinstance(held, int) and not isinstance(held, bool) else 0
    reserved = await svc.store.kiosks.reserve_codes(kiosk.id, max(0, held_count), now())
    base = svc.settings.base_url
    payload = []
    for item in reserved:
        display = tracking.group(item.code)
        secret = rules.new_link_secret()
        payload.append(
            {
                "code": item.code,
                "display": display,
                "expires_at": item.expires_at.isoformat(),
                "secret": secret,
                "qr": _qr_rows(f"{base}/t/{display}/{secret}"),
            }
        )
    return _json({"kiosk": kiosk.id, "codes": payload})


async def heartbeat(request: Request) -> Response:
    svc = services(request)
    kiosk = await _device(request, svc)
    if isinstance(kiosk, JSONResponse):
        return kiosk
    body = await _body(request)
    if body is None:
        return _unreadable()
    arrived = now()
    beat = rules.read_heartbeat(body, arrived)
    await svc.store.kiosks.heartbeat(kiosk.id, beat, arrived)
    return _json(
        {"kiosk": kiosk.id, "server_time": arrived.isoformat(), "version": app_build(svc).version}
    )


async def submit_report(request: Request) -> Response:
    """One queued report. 201 when stored now, 200 when it had arrived before (the answer to
    a resend is the first answer again), 409 when its key came with another report."""
    svc = services(request)
    sent = await _queued_item(request, svc)
    if isinstance(sent, JSONResponse):
        return sent
    kiosk, body = sent
    arrived = now()
    queued, errors = rules.read_queued_report(
        body,
        arrived=arrived,
        languages=i18n.LANGUAGES,
        default_language=svc.settings.default_language,
    )
    key = rules.read_key(body)
    if queued is None:
        return _json({"key": key, "error": "invalid", "errors": _field_errors(errors)}, 400)
    unit = await _unit_in_hall(svc, kiosk, queued.unit_id)
    if unit is None:
        return _json(
            {
                "key": key,
                "error": "invalid",
                "errors": _field_errors([FieldError("unit", "required")]),
            },
            400,
        )
    refused = await _over_limit(svc, kiosk, "reports", svc.settings.kiosk_report_limit, queued.key)
    if refused is not None:
        return refused
    key = rules.device_key(kiosk.id, queued.key)
    # The pool code and the private link's secret are part of what was sent: the same key with
    # another code or secret is another report, not a resend.
    also_hashed = [f"code:{queued.tracking_code or ''}"]
    secret_hash = None
    if queued.link_secret is not None:
        secret_hash = secret_digest(queued.link_secret)
        also_hashed.append(f"secret:{secret_hash}")
    try:
        result = await svc.intake.submit(
            queued.submission,
            Entry(
                Channel.KIOSK,
                unit.id,
                kiosk_id=kiosk.id,
                reported_at=queued.reported_at,
                pool_code=queued.tracking_code,
            ),
            key=key,
            language=queued.language,
            also_hashed=also_hashed,
            received_at=arrived,
            secret_hash=secret_hash,
        )
    except IdempotencyConflict:
        svc.metrics.rejected_codes.labels("kiosk_conflict").inc()
        return _json(
            {
                "key": queued.key,
                "error": "conflict",
                "message": i18n.gettext("Another report was already sent with this key."),
            },
            409,
        )
    # The private link, for a receipt still on screen that had none to show (the pool ran
    # dry, or a code from before private links): the one the kiosk sent, or the one made here.
    secret = queued.link_secret or await private_secret(
        svc, result.report_id, key, result.reporter_secret_hash
    )
    display = tracking.group(result.tracking_code)
    link = f"{svc.settings.base_url}/t/{display}/{secret}"
    return _json(
        {
            "key": queued.key,
            "code": result.tracking_code,
            "display": display,
            "received_at": arrived.isoformat(),
            "link": link,
            "qr": _qr_rows(link),
        },
        201 if result.created else 200,
    )


def _as_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, (str, int)) else ""


async def submit_feedback(request: Request) -> Response:
    """A queued quick rating or IKM survey: the same rules of keys and answers as reports."""
    svc = services(request)
    sent = await _queued_item(request, svc)
    if isinstance(sent, JSONResponse):
        return sent
    kiosk, body = sent
    arrived = now()
    key = rules.read_key(body)
    submission, errors = parse_feedback(
        {
            name: _as_text(body.get(name))
            for name in ("kind", "unit", "rating", "answers", "language", "reported_at")
        },
        now=arrived,
        languages=i18n.LANGUAGES,
    )
    if key is None:
        errors.append(FieldError("key", "invalid"))
    if submission is not None and await _unit_in_hall(svc, kiosk, submission.unit_id) is None:
        errors.append(FieldError("unit", "required"))
    if errors or submission is None or key is None:
        return _json({"key": key, "error": "invalid", "errors": _field_errors(errors)}, 400)
    refused = await _over_limit(svc, kiosk, "feedback", svc.settings.kiosk_feedback_limit, key)
    if refused is not None:
        return refused
    try:
        result = await svc.store.record_feedback(
            NewFeedback(
                submission,
                rules.device_key(kiosk.id, key),
                submission.body_hash(),
                kiosk.id,
                arrived,
            )
        )
    except FeedbackConflict:
        return _json(
            {
                "key": key,
                "error": "conflict",
                "message": i18n.gettext("Another report was already sent with this key."),
            },
            409,
        )
    except NotFound:
        return _json(
            {
                "key": key,
                "error": "invalid",
                "errors": _field_errors([FieldError("unit", "required")]),
            },
            400,
        )
    return _json({"key": key}, 201 if result.created else 200)
