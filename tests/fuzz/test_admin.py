"""Hostile input for the staff workspace (admin/routes.py), sent by a signed-in member of staff
of each role with a valid CSRF token and our own Origin, so each view's own reading of its
form and query runs, not only the door: every route of the surface, read from its route list
(a new admin route is fuzzed without a line here), its path ids real or made up, its query
any of the filters, its form any of the fields the workspace reads, photos and letters
attached where it takes files."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.admin import routes as admin_routes
from lapor.complaints.reports import Channel, Kind, Status
from tests.conftest import MakeHarness
from tests.fuzz.harness import (
    ORIGIN,
    STARLETTE_CUT_PART,
    Fuzz,
    app_routes,
    covers,
    fuzz,
    fuzz_settings,
    segment,
)
from tests.fuzz.strategies import form_bodies, images, queries, values

pytestmark = STARLETTE_CUT_PART

ROUTES = sorted(app_routes(admin_routes.routes()))
ROLES = {
    "admin": "admin@prov.go.id",
    "coordinator": "koor@prov.go.id",
    "inspector": "insp@prov.go.id",
    "officer": "petugas@dinas.go.id",
}
# Every name a workspace form or link carries (admin/*.py reads them), and a few it does not.
FIELDS = [
    *("version", "title", "category", "tags", "note", "unit", "answer", "reason", "text"),
    *("days", "verify_days", "follow_up_days", "assignee", "hand_to", "duplicate_of"),
    *("withhold", "report", "action", "query", "repeat", "back", "next", "email", "password"),
    *("current", "new", "name", "slug", "parent", "role", "label", "origins", "body"),
    *("taken_via", "language", "kind", "location", "identity", "phone", "key", "template"),
    *("format", "status", "confirm", "csrf", "message", "number", "address", "channel"),
]
FILTERS = [
    *("status", "kind", "channel", "unit", "due", "within", "from", "to", "q", "category"),
    *("tag", "assigned", "sort", "after", "view", "selected", "v", "done", "id", "next"),
    *("duplicate_of", "template", "lang", "format"),
]
GOOD_FILTERS = {
    "status": Status.RECEIVED.value,
    "kind": Kind.COMPLAINT.value,
    "channel": Channel.POSTER.value,
    "unit": "1",
    "due": "soon",
    "within": "5",
    "from": "2026-01-01",
    "to": "2026-12-31",
    "q": "antrean",
    "sort": "oldest",
    "view": "unrouted",
    "id": "1",
    "done": "added",
}
PDF = (
    "surat.pdf",
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "application/pdf",
)

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


@pytest.fixture(params=sorted(ROLES))
async def fz(request: pytest.FixtureRequest, make_harness: MakeHarness) -> AsyncIterator[Fuzz]:
    async with fuzz(make_harness) as f:
        f.caller = ROLES[request.param]
        yield f


def _path(template: str, data: st.DataObject, report_id: int) -> str:
    def fill(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if kind == "int":
            real = [report_id] if name == "report_id" else [1, 2, 3]
            made_up = st.integers(0, 2**70)
            return str(data.draw(st.sampled_from(real) if data.draw(st.booleans()) else made_up))
        if name == "format":
            formats = ["png", "pdf", "svg", "a4", "a5", "tent"]
            return data.draw(st.sampled_from(formats) | values.map(segment))
        return segment(data.draw(values))

    return _PARAM.sub(fill, template)


@covers(*ROUTES)
@fuzz_settings(scale=3)
@given(data=st.data())
async def test_the_workspace_takes_anything(fz: Fuzz, data: st.DataObject) -> None:
    csrf = await fz.sign_in(fz.caller)
    method, template = data.draw(st.sampled_from(ROUTES)).split(" ", 1)
    path = _path(template, data, fz.report_id)
    query = data.draw(queries(FILTERS, GOOD_FILTERS))
    headers = {"origin": data.draw(st.sampled_from([ORIGIN] * 5 + ["null", "https://x.example"]))}
    if method == "GET":
        await fz.send("GET", path, query=query, headers=headers)
        return
    version = data.draw(st.sampled_from(["1", "2", "3", "4"]))
    files = st.sampled_from([PDF]) | images()
    # Mostly past the CSRF check, to reach the view's own reading of the form.
    intact = data.draw(st.integers(0, 3)) > 0
    base = {"csrf": csrf, "version": version}
    body = data.draw(form_bodies(base, FIELDS, files, "attachments", intact=intact))
    await fz.send("POST", path, query=query, body=body, headers=headers)
