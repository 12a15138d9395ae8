"""Files shipped inside the package: templates, static assets, catalogs, migrations and the
widget's loader. They are found through the installed package, never through the working
directory, so `lapor` runs the same from a checkout, a wheel or pipx."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(*parts: str) -> Path:
    """The file or directory `parts` inside the installed package."""
    found = files("lapor").joinpath(*parts)
    if not isinstance(found, Path):
        # Jinja, Starlette's StaticFiles and Alembic read directories, not archive members.
        raise RuntimeError("lapor must be installed as files (pip install), not run from a zip")
    return found
