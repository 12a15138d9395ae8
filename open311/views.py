"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) and mySociety's
servicerequestupdates, for client software that files and follows reports: FixMyStreet-style
sites, city apps, dashboards. Every method answers in XML or JSON (`.xml`/`.json`), errors in
the spec's shape with 400, 403, 404 (and 429 past a limit).

Filing (POST requests) needs an API key admins issue per client (admin/api_keys.py, `lapor
api-key add`); the report goes through the one submission core with channel "api" and the
client's name, and routes like any other. Reading is public and shows only what
complaints/open311.py allows: verified reports, never confidential ones, nothing about who
sent them (docs/open311.md)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from lapor.complaints import open311 as rules
from lapor.complaints import tracking
from lapor.complaints.categories import CATEGORIES, CATEGORY_CODES
from lapor.complaints.records import PublicReport, PublicUpdate, Unit
from lapor.complaints.reports import Channel, Identity, validate_submission
from lapor.intake import Entry
from lapor.open311 import words
from lapor.open311.wire import FORMATS, document, errors
from lapor.store.clock import now
from lapor.web import labels
from lapor.web.i18n import current_language, gettext
from lapor.web.services import Services, client_address, services

PUBLIC = {"cache-control": "public, max-age=60", "access-control-allow-origin": "*"}
_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]*)\](\[\])?\Z")


class Refusal(Exception):
    """An answer in the spec's error shape, raised from anywhere in a view."""

    def __init__(
        self, status_code: int, *descriptions: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code, descriptions)
        self.status_code = status_code
        self.descriptions = descriptions
        self.headers = headers or {}


def _format(request: Request) -> str:
    fmt = str(request.path_params.get("fmt", ""))
    if fmt not in FORMATS:
        raise Refusal(404, gettext("Unknown format: end the address with .xml or .json."))
    return fmt


def _optional(params: Mapping[str, str], name: str) -> str:
    """A parameter as the spec's Optional Arguments read: empty is the same as absent."""
    return params.get(name, "").strip()


def _check_jurisdiction(svc: Services, params: Mapping[str, str]) -> None:
    given = _optional(params, "jurisdiction_id").lower()
    if given and given != svc.settings.open311_jurisdiction:
        raise Refusal(
            404,
            gettext(
                "jurisdiction_id %(given)s was not found: this server serves %(ours)s.",
                given=given[:80],
                ours=svc.settings.open311_jurisdiction,
            ),
        )


Handler = Callable[[Request, str], Awaitable[Response]]


def view(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The format read from the path and every Refusal answered, the same for each method."""

    async def endpoint(request: Request) -> Response:
        fmt = "xml"
        try:
            fmt = _format(request)
            return await handler(request, fmt)
        except Refusal as refusal:
            return errors(fmt, refusal.status_code, refusal.descriptions, refusal.headers)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def _public_limit(svc: Services, request: Request) -> None:
    address = client_address(request)
    if not await svc.limits.hit(svc.settings.track_limit_per_address, "open311", address):
        svc.metrics.rate_limited.labels("open311").inc()
        wait = await svc.limits.retry_after(
            svc.settings.track_limit_per_address, "open311", address
        )
        raise Refusal(
            429,
            gettext("Too many requests from this address: wait and try again."),
            headers={"retry-after": str(wait)},
        )


# -- discovery and services ------------------------------------------------------------------


async def _discovery(request: Request, fmt: str) -> Response:
    """GET discovery: where the endpoint is, what it speaks, how to get a key."""
    svc = services(request)
    base = svc.settings.base_url
    content = {
        "changeset": rules.CHANGESET,
        "contact": gettext("Write to the administrators of %(site)s.", site=base),
        "key_service": gettext(
            "API keys for filing reports are issued by the administrators of %(site)s; "
            "reading needs no key.",
            site=base,
        ),
        "endpoints": [
            {
                "specification": rules.SPECIFICATION,
                "url": f"{base}/open311/v2",
                "changeset": rules.CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return document(fmt, "discovery", content, headers=PUBLIC)


def _service(code: str) -> dict[str, Any]:
    return {
        "service_code": code,
        "service_name": labels.category_label(code),
        "description": gettext(words.DESCRIPTION[code]),
        "metadata": True,
        "type": "realtime",
        "keywords": gettext(words.KEYWORDS[code]),
        "group": gettext(words.GROUP[rules.GROUP_OF[code]]),
    }


async def _services(request: Request, fmt: str) -> Response:
    """GET services: one service per category."""
    _check_jurisdiction(services(request), request.query_params)
    return document(fmt, "services", [_service(code) for code in CATEGORIES], headers=PUBLIC)


def _attribute(attribute: rules.Attribute, order: int, values: Sequence[tuple[str, str]]) -> Any:
    question, datatype_description = words.ATTRIBUTE[attribute]
    return {
        "variable": True,
        "code": attribute.value,
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": gettext(datatype_description),
        "order": order,
        "description": gettext(question),
        "values": [{"key": key, "name": name} for key, name in values],
    }


def _unknown_service(code: str) -> Refusal:
    return Refusal(
        404,
        gettext(
            "service_code %(code)s was not found: GET services lists the codes.", code=code[:40]
        ),
    )


async def _definition(request: Request, fmt: str) -> Response:
    """GET services/{service_code}: the attributes a report may carry, in order."""
    svc = services(request)
    _check_jurisdiction(svc, request.query_params)
    code = str(request.path_params["service_code"])
    if code not in CATEGORY_CODES:
        raise _unknown_service(code)
    attributes = [
        _attribute(
            rules.Attribute.KIND, 1, [(k.value, labels.kind_label(k)) for k in rules.KIND_VALUES]
        ),
        _attribute(
            rules.Attribute.IDENTITY,
            2,
            [(i.value, gettext(words.IDENTITY[i])) for i in rules.IDENTITY_VALUES],
        ),
    ]
    units = await svc.store.list_units()
    if len(units) > 1:  # a choice only where there is one to make
        attributes.append(_attribute(rules.Attribute.UNIT, 3, [(u.slug, u.name) for u in units]))
    content = {"service_code": code, "attributes": attributes}
    return document(fmt, "service_definition", content, headers=PUBLIC)


# -- requests --------------------------------------------------------------------------------


def _expected(svc: Services, report: PublicReport) -> str | None:
    """The deadline running now, as the end of that working day where the organisation is."""
    if report.due_on is None or report.status not in rules.OPEN_STATUSES:
        return None
    moment = datetime.combine(report.due_on, time(23, 59, 59), svc.settings.timezone)
    return rules.w3c(moment)


def _request(svc: Services, report: PublicReport) -> dict[str, Any]:
    tz = svc.settings.timezone
    code = rules.service_of(report.category)
    return {
        "service_request_id": tracking.group(report.tracking_code),
        "status": rules.open_closed(report.status).value,
        "status_notes": rules.mask_contacts(report.status_note) if report.status_note else None,
        "service_name": labels.category_label(code),
        "service_code": code,
        "description": rules.mask_contacts(report.text),
        "agency_responsible": report.unit_name,
        "service_notice": labels.status_label(report.status),
        "requested_datetime": rules.w3c(report.received_at.astimezone(tz)),
        "updated_datetime": rules.w3c(report.updated_at.astimezone(tz)),
        "expected_datetime": _expected(svc, report),
        "address": report.location,
        "address_id": None,
        "zipcode": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": None,
    }


def _bad(description: str) -> Refusal:
    return Refusal(400, description)


def _datetime(params: Mapping[str, str], name: str) -> datetime | None:
    raw = _optional(params, name)
    if not raw:
        return None
    try:
        return rules.read_datetime(raw)
    except ValueError:
        raise _bad(
            gettext(
                "%(name)s: give a W3C date-time with its zone, such as 2026-01-31T00:00:00Z.",
                name=name,
            )
        ) from None


def _window(params: Mapping[str, str]) -> tuple[datetime, datetime]:
    start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
    try:
        return rules.window(start, end, now())
    except rules.BadWindow as exc:
        raise _bad(gettext(words.WINDOW_ERROR[exc.problem])) from None


def _number(params: Mapping[str, str], name: str, default: int, top: int) -> int:
    raw = _optional(params, name)
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= top:
        raise _bad(gettext("%(name)s: a whole number from 1 to %(top)s.", name=name, top=top))
    return int(raw)


def _page(params: Mapping[str, str]) -> tuple[int, int]:
    """The page/page_size extension as offset and limit: the first 1000 by default."""
    size = _number(params, "page_size", rules.PAGE_SIZE_MAX, rules.PAGE_SIZE_MAX)
    page = _number(params, "page", 1, rules.PAGES_MAX)
    return (page - 1) * size, size


def _list(params: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in _optional(params, name).split(",") if part.strip()]


async def _get_requests(request: Request, fmt: str) -> Response:
    svc = services(request)
    params = request.query_params
    _check_jurisdiction(svc, params)
    await _public_limit(svc, request)
    ids = _list(params, "service_request_id")
    if ids:
        if len(ids) > rules.CODES_MAX:
            raise _bad(
                gettext("service_request_id: at most %(max)s ids at once.", max=rules.CODES_MAX)
            )
        codes = [c for c in (tracking.normalize(i) for i in ids) if c is not None]
        found = await svc.store.public_reports(codes=codes, limit=rules.CODES_MAX) if codes else []
    else:
        categories = _list(params, "service_code")
        for code in categories:
            if code not in CATEGORY_CODES:
                raise _unknown_service(code)
        statuses: list[rules.OpenClosed] = []
        for status in _list(params, "status"):
            try:
                statuses.append(rules.OpenClosed(status.lower()))
            except ValueError:
                raise _bad(gettext("status: open or closed, or both, comma-separated.")) from None
        start, end = _window(params)
        offset, limit = _page(params)
        found = await svc.store.public_reports(
            categories=categories,
            statuses=sorted(rules.statuses_for(statuses)),
            start=start,
            end=end,
            offset=offset,
            limit=limit,
        )
    content = [_request(svc, report) for report in found]
    return document(fmt, "service_requests", content, headers=PUBLIC)


async def _one_request(request: Request, fmt: str) -> Response:
    """GET requests/{service_request_id}: one public request, or 404 (which says nothing of
    whether an unpublished one exists)."""
    svc = services(request)
    _check_jurisdiction(svc, request.query_params)
    await _public_limit(svc, request)
    raw = str(request.path_params["service_request_id"])
    code = tracking.normalize(raw)
    found = await svc.store.public_reports(codes=[code], limit=1) if code else []
    if not found:
        raise Refusal(
            404,
            gettext(
                "service_request_id %(id)s was not found among the public requests: a new "
                "request is listed once staff have verified it, and confidential ones never.",
                id=raw[:40],
            ),
        )
    return document(fmt, "service_requests", [_request(svc, found[0])], headers=PUBLIC)


# -- filing ----------------------------------------------------------------------------------


def _read_form(items: Sequence[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The plain parameters (the first of each name) and the attribute[CODE] values."""
    params: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    for name, value in items:
        match = _ATTRIBUTE.match(name)
        if match:
            attributes.setdefault(match.group(1), []).append(value)
        else:
            params.setdefault(name, value)
    return params, attributes


def _unit(units: Sequence[Unit], slug: str | None) -> Unit | None:
    if slug is not None:
        return next((u for u in units if u.slug == slug), None)
    roots = sorted((u for u in units if u.parent_id is None), key=lambda u: u.id)
    return roots[0] if roots else None


async def _post_request(request: Request, fmt: str) -> Response:
    """POST requests: file a report for a client holding an API key. The answer names the
    tracking code at once (type realtime)."""
    svc = services(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise _bad(gettext("Send the request as application/x-www-form-urlencoded."))
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    params, given_attributes = _read_form(items)
    _check_jurisdiction(svc, params)
    key = _optional(params, "api_key")
    if not key:
        raise Refusal(
            403, gettext("api_key is required to file a request: ask the administrators for one.")
        )
    client = await svc.store.active_api_key(rules.api_key_hash(key))
    if client is None:
        raise Refusal(403, gettext("This api_key is not valid, or it was revoked."))
    rule = svc.settings.open311_limit_per_key
    if not await svc.limits.hit(rule, "open311_key", str(client.id)):
        svc.metrics.rate_limited.labels("open311_key").inc()
        wait = await svc.limits.retry_after(rule, "open311_key", str(client.id))
        raise Refusal(
            429,
            gettext("This api_key filed too many requests just now: wait and try again."),
            headers={"retry-after": str(wait)},
        )
    service_code = _optional(params, "service_code")
    if not service_code:
        raise _bad(gettext("service_code is required: GET services lists the codes."))
    if service_code not in CATEGORY_CODES:
        raise _unknown_service(service_code)
    units = await svc.store.list_units()
    try:
        filing = rules.read_attributes(given_attributes, [u.slug for u in units])
    except rules.BadAttribute as exc:
        raise _bad(gettext(words.ATTRIBUTE_ERROR[exc.problem], code=exc.code)) from None
    problems: list[str] = []
    description = params.get("description", "")
    if rules.has_markup(description):
        problems.append(gettext("description: plain text only, without HTML or code."))
    point = None
    try:
        point = rules.read_point(params.get("lat", ""), params.get("long", ""))
    except ValueError:
        problems.append(
            gettext(
                "lat, long: give both, as WGS84 degrees (latitude -90 to 90, longitude -180 to 180)"
            )
        )
    media_url = None
    try:
        media_url = rules.read_media_url(params.get("media_url", ""))
    except ValueError:
        problems.append(
            gettext("media_url: an http or https link of at most %(max)s characters.", max=500)
        )
    name = " ".join(
        part for part in (_optional(params, "first_name"), _optional(params, "last_name")) if part
    )
    phone, email = _optional(params, "phone"), _optional(params, "email")
    identity = filing.identity or (Identity.NAMED if name or phone or email else Identity.ANONYMOUS)
    submission, field_errors = validate_submission(
        {
            "kind": filing.kind.value,
            "text": description,
            "location": params.get("address_string", ""),
            "identity": identity.value,
            "name": name,
            "phone": phone,
            "email": email,
        }
    )
    problems += [f"{words.PARAMETER[e.field]}: {labels.error_text(e)}" for e in field_errors]
    unit = _unit(units, filing.unit_slug)
    if unit is None:
        problems.append(gettext("No unit takes reports yet: the administrators must add one."))
    if problems or submission is None or unit is None:
        raise Refusal(400, *problems)
    entry = Entry(
        Channel.API,
        unit.id,
        api_key_id=client.id,
        api_client=client.name,
        category=service_code,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        media_url=media_url,
    )
    # The spec gives a POST no idempotency key: each one is a report of its own.
    result = await svc.intake.submit(
        submission, entry, key=uuid.uuid4().hex, language=current_language()
    )
    await svc.store.api_key_used(client.id)
    notice = gettext(
        "Received. Staff verify it first; it is listed in GET requests once verified, "
        "unless it is confidential."
    )
    answer = [
        {
            "service_request_id": tracking.group(result.tracking_code),
            "service_notice": notice,
            "account_id": None,
        }
    ]
    return document(fmt, "service_requests", answer, headers={"cache-control": "no-store"})


async def _requests(request: Request, fmt: str) -> Response:
    """GET requests (the public listing) and POST requests (filing, with a key)."""
    if request.method == "POST":
        return await _post_request(request, fmt)
    return await _get_requests(request, fmt)


# -- updates (mySociety's extension) ---------------------------------------------------------


def _update(svc: Services, update: PublicUpdate) -> dict[str, Any]:
    label = gettext(labels.EVENT[update.kind]) if update.kind in labels.EVENT else ""
    note = rules.mask_contacts(update.note) if update.note else None
    description = f"{label}: {note}" if note else label
    return {
        "update_id": str(update.id),
        "service_request_id": tracking.group(update.tracking_code),
        "status": rules.UPDATE_STATUS[update.to_status or update.status],
        "updated_datetime": rules.w3c(update.at.astimezone(svc.settings.timezone)),
        "description": description,
        "media_url": None,
    }


async def _updates(request: Request, fmt: str) -> Response:
    """GET servicerequestupdates: what happened to public requests between start_date and
    end_date (the same window as GET requests), oldest first."""
    svc = services(request)
    params = request.query_params
    _check_jurisdiction(svc, params)
    await _public_limit(svc, request)
    start, end = _window(params)
    offset, limit = _page(params)
    found = await svc.store.public_updates(start=start, end=end, offset=offset, limit=limit)
    content = [_update(svc, update) for update in found]
    return document(fmt, "service_request_updates", content, headers=PUBLIC)


discovery = view(_discovery)
service_list = view(_services)
service_definition = view(_definition)
service_requests = view(_requests)
service_request = view(_one_request)
service_request_updates = view(_updates)
