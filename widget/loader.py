"""`/widget.js`: the loader webmasters paste. Its URL never changes (it is in every agency's
pages), so it is cached briefly and revalidated with an ETag: a release reaches every site
within LOADER_MAX_AGE, and a returning visitor pays a 304 instead of the file."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from lapor import resources
from lapor.web import i18n
from lapor.web.i18n import N_

SOURCE = resources.path("widget", "widget.js")
PLACEHOLDER = "__LAPOR_STRINGS__"
LOADER_MAX_AGE = 600  # seconds; well inside the hour the issue allows a release to spread
MAX_GZIPPED_BYTES = 3 * 1024

# What the loader itself says, before (or instead of) our frame: in both languages, chosen on
# the host page by data-lang or the page's own lang.
STRINGS = {
    "label": N_("Report a problem"),
    "title": N_("LAPOR! complaint form"),
    "close": N_("Close"),
    "loading": N_("Loading the form…"),
    # Followed by a link to BASE/t, the status page: a report already sent can still be
    # followed when the form cannot be reached.
    "failed": N_("The form cannot be loaded now. Try again later, or follow a report at"),
}


_WORD = re.compile(r"[\w$]")
# Two string literals joined by `+` across a line break: one literal, as the source is kept
# readable under 100 columns.
_JOINED_LITERALS = re.compile(r'"\+"')


def squeeze(source: str) -> str:
    """The source without comments and without whitespace between tokens, so the readable
    file can keep its explanations and still ship under MAX_GZIPPED_BYTES. Deliberately
    small: it knows string literals and comments, keeps one space between two words, and
    relies on what widget.js promises (semicolons everywhere, no regular expression literal
    holding quotes, slashes or spaces, no template literals); tests run the result in
    Chromium and Node's parser."""
    out: list[str] = []
    i, n = 0, len(source)
    space = False
    while i < n:
        c = source[i]
        if c in "\"'":
            j = i + 1
            while source[j] != c:
                j += 2 if source[j] == "\\" else 1
            token = source[i : j + 1]
            i = j + 1
        elif source.startswith("//", i):
            i = source.index("\n", i)
            space = True
            continue
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
            space = True
            continue
        elif c.isspace():
            space = True
            i += 1
            continue
        else:
            token = c
            i += 1
        if space and out and _WORD.match(out[-1][-1]) and _WORD.match(token[0]):
            out.append(" ")
        if token == "}" and out and out[-1] == ";":
            out.pop()  # the last statement of a block needs no semicolon
        space = False
        out.append(token)
    return _JOINED_LITERALS.sub("", "".join(out))


@dataclass(frozen=True)
class Loader:
    body: bytes
    etag: str

    @property
    def gzipped_size(self) -> int:
        return len(gzip.compress(self.body, compresslevel=9, mtime=0))


def build(source: Path = SOURCE) -> Loader:
    """The hand-written source with its sentences filled in from the catalogs."""
    strings = {}
    for language in i18n.LANGUAGES:
        with i18n.using(language):
            strings[language] = {name: i18n.gettext(text) for name, text in STRINGS.items()}
    text = squeeze(source.read_text())
    if text.count(PLACEHOLDER) != 1:
        raise RuntimeError(f"{source} must hold {PLACEHOLDER} exactly once")

    # An object literal whose names (languages, STRINGS' keys) are bare identifiers, as in
    # the source; ensure_ascii: the file is plain ASCII whatever charset a proxy or host page
    # assumes.
    def members(names: dict[str, str]) -> str:
        return ",".join(f"{name}:{value}" for name, value in names.items())

    literal = (
        "{"
        + members(
            {
                language: "{" + members({name: json.dumps(t) for name, t in texts.items()}) + "}"
                for language, texts in strings.items()
            }
        )
        + "}"
    )
    body = text.replace(PLACEHOLDER, literal).encode("ascii")
    # Weak: the GZip middleware may send it compressed, and it stays the same file.
    return Loader(body, f'W/"{hashlib.sha256(body).hexdigest()[:20]}"')


_built: list[Loader] = []


def loader() -> Loader:
    if not _built:
        _built.append(build())
    return _built[0]


async def widget_js(request: Request) -> Response:
    current = loader()
    headers = {
        "cache-control": f"public, max-age={LOADER_MAX_AGE}",
        "etag": current.etag,
        # Any site may load it; nothing in it is private.
        "cross-origin-resource-policy": "cross-origin",
        "access-control-allow-origin": "*",
    }
    asked = request.headers.get("if-none-match", "")
    if current.etag in (tag.strip() for tag in asked.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(current.body, media_type="text/javascript; charset=utf-8", headers=headers)
