"""What the wheel carries: every package of the tree and every file the server reads at run time.

pyproject.toml lists them by hand (the root is the package `lapor` through a package-dir
mapping, so setuptools cannot find them itself); these fail when a new package or template
directory is left out, before an operator's install finds out. .ci/smoke_install.py then serves
from the built wheel itself."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from tests.test_layers import package_modules

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_dirs() -> set[str]:
    """The packages of the tree, read the same way the layers test reads its modules."""
    return {
        name.removesuffix(".__init__")
        for name, path in package_modules().items()
        if path.name == "__init__.py"
    }


def test_every_package_of_the_tree_is_in_the_wheel() -> None:
    assert CONFIG["package-dir"] == {"lapor": "."}
    listed = set(CONFIG["packages"])
    assert _package_dirs() - listed == set()
    # Alembic's script directory holds modules without __init__.py: listed by hand.
    assert {"lapor.store.migrations", "lapor.store.migrations.versions"} <= listed


def _shipped(path: Path) -> bool:
    """Whether a pattern of the package-data table covers `path`."""
    relative = path.relative_to(ROOT)
    for package, patterns in CONFIG["package-data"].items():
        base = Path(*package.split(".")[1:])
        if relative.parts[: len(base.parts)] != base.parts:
            continue
        inside = Path(*relative.parts[len(base.parts) :]).as_posix()
        if any(
            fnmatch(inside, pattern) and inside.count("/") == pattern.count("/")
            for pattern in patterns
        ):
            return True
    return False


def test_every_file_the_server_reads_is_in_the_wheel() -> None:
    needed = [
        *ROOT.glob("templates/**/*.html"),
        *ROOT.glob("static/*.css"),
        *ROOT.glob("static/*.js"),
        *ROOT.glob("locale/*/LC_MESSAGES/messages.po"),
        ROOT / "widget" / "widget.js",
        ROOT / "store" / "migrations" / "script.py.mako",
        ROOT / "py.typed",
    ]
    assert needed
    missing = [str(p.relative_to(ROOT)) for p in needed if not _shipped(p)]
    assert missing == []


def test_the_check_itself_sees_a_file_left_out() -> None:
    assert not _shipped(ROOT / "templates" / "admin" / "deeper" / "page.html")
    assert not _shipped(ROOT / "static" / "VENDORED.md")
