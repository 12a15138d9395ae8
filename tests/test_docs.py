"""The docs are part of the product: these fail when they fall behind the code."""

from __future__ import annotations

import re
from pathlib import Path

from lapor.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_with_its_default() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text()
    rows = dict(re.findall(r"^\| `(LAPOR_\w+)` \| ([^|]*) \|", doc, flags=re.M))
    assert set(rows) == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        shown = f"`{setting.default}`" if setting.default else "(empty)"
        assert rows[setting.name].strip() == shown, setting.name


def test_no_setting_is_read_outside_the_settings_table() -> None:
    names = {s.name for s in SETTINGS}
    for path in ROOT.glob("**/*.py"):
        if any(part in (".venv", "tests", "bench", "build") for part in path.parts):
            continue
        for used in re.findall(r"\"(LAPOR_[A-Z_]+)\"", path.read_text()):
            if used.startswith("LAPOR_TEST"):
                continue
            assert used in names, f"{path}: {used} is not in settings.SETTINGS"


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", readme, flags=re.S)
    assert len(blocks) >= 2
    start, test = blocks[0].strip(), blocks[1].strip()
    assert "\n" not in start and "serve --demo" in start
    assert "\n" not in test and "pytest" in test and ".[test]" in test
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci, ".ci/run must run the README's test command"


def test_every_public_route_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for path in ("/q/", "/t/", "/admin", "/healthz", "/metrics"):
        assert f"`{path}" in readme, path


DOCS = (
    "README.md",
    "CONTRIBUTING.md",
    "bench/README.md",
    *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "docs").glob("*.md"))),
)


def test_every_link_between_the_docs_leads_somewhere() -> None:
    for name in DOCS:
        doc = ROOT / name
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (doc.parent / target).exists(), f"{name} links to {target}, which is missing"


def test_the_architecture_describes_the_layout_that_is_there() -> None:
    """Every path docs/architecture.md names exists, and every part of the package is named."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`([\w./-]+(?:/|\.py|\.html|\.md|\.toml))`", text))
    for path in named:
        if path.startswith(("/", "lapor/", ".venv")) or "{" in path:
            continue
        assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which is missing"
    parts = {p.name + "/" for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    parts |= {p.name for p in ROOT.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    missing = sorted(parts - named)
    assert not missing, f"docs/architecture.md does not describe {missing}"
