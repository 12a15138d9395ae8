"""One Jinja environment for every surface: autoescape always on, gettext per request."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse

from lapor import resources
from lapor.complaints.records import Unit
from lapor.web import i18n
from lapor.web.security import CITIZEN_STYLE

TEMPLATE_DIR = resources.path("templates")
STATIC_DIR = resources.path("static")


UnitKey = tuple[tuple[int, str, str], ...]


def _unit_key(units: Sequence[Unit]) -> UnitKey:
    return tuple((u.id, u.path, u.name) for u in units)


@lru_cache(maxsize=64)
def _unit_option_tags(units: UnitKey) -> str:
    return "".join(
        f'<option value="{unit_id}">{"· " * (path.count("/") - 1)}{escape(name)}</option>'
        for unit_id, path, name in units
    )


@lru_cache(maxsize=64)
def _unit_digest(units: UnitKey) -> str:
    return hashlib.sha256(repr(units).encode()).hexdigest()[:12]


def unit_options_version(units: Sequence[Unit], language: str) -> str:
    """A short name for a list of units as a picker shows them, in one language: it changes
    when a unit is added, moved or renamed, so a browser may cache the list under it."""
    return f"{_unit_digest(_unit_key(units))}-{language}"


def unit_option_tags(units: Sequence[Unit], selected: object = None) -> Markup:
    """The <option>s of a unit picker, indented by depth. A province has 500 units: built
    once per set of units (a Jinja loop cost 30 ms a page)."""
    html = _unit_option_tags(_unit_key(units))
    if selected not in (None, ""):
        chosen = f'<option value="{escape(str(selected))}">'
        html = html.replace(chosen, chosen[:-1] + " selected>", 1)
    return Markup(html)


@jinja2.pass_context
def _language_url(context: Any, language: str) -> str:
    """The switch's link: this page (path and query) in `language`."""
    request = context.get("request")
    return i18n.language_url(request.url, language) if request else f"?lang={language}"


class StaticUrls:
    """`/static/x.css?v=<hash>`: assets are cached for a year, a release changes the URL."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._directory = directory
        self._versions: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        version = self._versions.get(name)
        if version is None:
            data = (self._directory / name).read_bytes()
            version = hashlib.sha256(data).hexdigest()[:12]
            self._versions[name] = version
        return f"/static/{name}?v={version}"


def breakable_url(url: str) -> Markup:
    """A URL that a narrow screen wraps only after a slash: a tracking code or a secret broken
    in two reads as two things, and is copied wrong."""
    scheme, _, rest = url.partition("//")
    parts = rest.split("/") if rest else [url]
    if rest:
        parts[0] = f"{scheme}//{parts[0]}"
    return Markup("/<wbr>").join(Markup('<span class="nowrap">%s</span>') % p for p in parts)


def nobreak_hyphens(text: str) -> str:
    """Words such as KTP-el kept whole in a heading: a non-breaking hyphen between letters."""
    return re.sub(r"(?<=\w)-(?=\w)", "\u2011", text)


class Templates:
    def __init__(self, globals_: Mapping[str, Any], directory: Path = TEMPLATE_DIR) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            # Set explicitly rather than by file extension: user text must never reach a page
            # unescaped, whatever a template is called.
            autoescape=True,
            extensions=["jinja2.ext.i18n"],
            undefined=jinja2.StrictUndefined,
            # Templates change with a release, not while it runs: skip the per-render stat().
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # Jinja's new-style callables fill the %(...)s in themselves (num and every other
        # variable): they are handed the catalog's words unformatted.
        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            gettext=i18n.gettext, ngettext=i18n.catalog_ngettext, newstyle=True
        )
        self.env.globals.update(globals_)
        self.env.globals["static_url"] = StaticUrls(directory.parent / "static")
        self.env.globals["unit_option_tags"] = unit_option_tags
        # Markup as read: the policy's hash is of these exact characters (web/security.py).
        self.env.globals["citizen_style"] = Markup(CITIZEN_STYLE)
        self.env.filters["breakable_url"] = breakable_url
        self.env.filters["nobreak_hyphens"] = nobreak_hyphens
        self.env.globals["languages"] = i18n.LANGUAGE_NAMES
        self.env.globals["current_language"] = i18n.current_language
        self.env.globals["language_url"] = _language_url

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(name).render(context)

    def response(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
        block: str | None = None,
    ) -> HTMLResponse:
        ctx = {"request": request, **(context or {})}
        if block is None:
            body = self.render(name, ctx)
        else:
            template = self.env.get_template(name)
            body = "".join(template.blocks[block](template.new_context(ctx)))
        return HTMLResponse(
            body, status_code=status_code, headers=dict(headers or {}), background=background
        )
