"""The layers of docs/architecture.md, kept by reading every import of the package.

Imports inside functions count as much as those at the top: a lazy import is still a way back up
the layers. A change that crosses a layer fails here, with the import that did it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SURFACES = ("citizen", "widget", "kiosk", "admin", "channels", "openness", "open311")

# What each part may import from the package (besides itself). Bottom to top.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "complaints": frozenset(),
    "resources": frozenset(),
    "settings": frozenset({"complaints"}),
    "store": frozenset({"complaints", "resources"}),
    "intake": frozenset({"complaints", "store", "settings"}),
    "web": frozenset({"complaints", "store", "intake", "settings", "resources"}),
    "jobs": frozenset({"complaints", "store", "web", "settings", "resources"}),
    **{
        surface: frozenset(
            {"complaints", "store", "web", "intake", "jobs", "settings", "resources"}
        )
        for surface in SURFACES
    },
    # The composition root and the operator's commands wire everything.
    "server": frozenset({"*"}),
    "cli": frozenset({"*"}),
    "demo": frozenset({"*"}),
    "__main__": frozenset({"*"}),
    "__init__": frozenset(),
}

# Libraries a part must not touch: the domain knows no HTTP, SQL or templates; the store no HTTP.
FORBIDDEN_LIBRARIES: dict[str, frozenset[str]] = {
    "complaints": frozenset(
        {
            "starlette",
            "sqlalchemy",
            "alembic",
            "jinja2",
            "markupsafe",
            "uvicorn",
            "httpx",
            "multipart",
            "asyncpg",
            "aiosqlite",
        }
    ),
    "store": frozenset({"starlette", "jinja2", "markupsafe", "uvicorn", "httpx", "multipart"}),
    "intake": frozenset({"starlette", "sqlalchemy", "jinja2", "uvicorn"}),
    "jobs": frozenset({"starlette"}),
    "settings": frozenset({"sqlalchemy", "jinja2"}),
}

SKIP_DIRS = {"tests", "bench", "build", "docs", "locale", "static", "templates"}


def package_modules() -> dict[str, Path]:
    """Every module of the package `lapor` as the wheel installs it (pyproject's package-dir)."""
    found: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SKIP_DIRS or relative.parts[0].startswith("."):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        found[".".join(["lapor", *parts])] = path
    return found


def part_of(module: str) -> str:
    """`lapor.store.inbox` -> `store`; `lapor.server` -> `server`; `lapor` -> `__init__`."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def imports_of(module: str, path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from lapor import intake` imports lapor.intake, not the package: each name counts
            # as the module it may be (a name that is not one still names its own part).
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def violations() -> list[str]:
    problems = []
    for module, path in package_modules().items():
        part = part_of(module)
        allowed = MAY_IMPORT.get(part)
        where = path.relative_to(ROOT)
        if allowed is None:
            problems.append(f"{where}: part {part!r} has no place in the layers (add it)")
            continue
        forbidden = FORBIDDEN_LIBRARIES.get(part, frozenset())
        for line, target in imports_of(module, path):
            top = target.split(".")[0]
            if top in forbidden:
                problems.append(f"{where}:{line}: {part} must not import {target}")
            if top != "lapor":
                continue
            other = part_of(target)
            if other in (part, "__init__") or "*" in allowed or other in allowed:
                continue
            problems.append(f"{where}:{line}: {part} must not import {target}")
    return problems


def test_every_import_keeps_to_its_layer() -> None:
    problems = violations()
    assert not problems, "\n".join(problems)


def test_the_reader_sees_through_relative_and_lazy_imports(tmp_path: Path) -> None:
    """The check itself can fail: a relative import and one inside a function are both seen."""
    source = tmp_path / "views.py"
    source.write_text(
        "from ..store import db\n\ndef f():\n    from lapor.admin import views\n"
        "    from lapor import jobs\n"
    )
    found = imports_of("lapor.citizen.views", source)
    assert (1, "lapor.store.db") in found
    assert (4, "lapor.admin.views") in found
    assert (5, "lapor.jobs") in found  # a part imported from the package itself


@pytest.mark.parametrize(
    ("importer", "target", "allowed"),
    [
        ("lapor.complaints.reports", "lapor.store.db", False),
        ("lapor.store.inbox", "lapor.web.i18n", False),
        ("lapor.web.labels", "lapor.admin.views", False),
        ("lapor.widget.views", "lapor.citizen.views", False),
        ("lapor.citizen.views", "lapor.store.photos", True),
        ("lapor.server", "lapor.admin.routes", True),
    ],
)
def test_the_rules_say_what_the_architecture_says(
    importer: str, target: str, allowed: bool
) -> None:
    part, other = part_of(importer), part_of(target)
    rules = MAY_IMPORT[part]
    assert (other == part or "*" in rules or other in rules) is allowed
