"""The habits a contributor relies on: one version, a changelog that names it, a guide that is not stale."""

import importlib.metadata
import re
from pathlib import Path

import vru

ROOT = Path(__file__).resolve().parents[1]


def test_installed_version_is_the_one_written_in_the_package():
    installed = importlib.metadata.version("vru")
    assert installed == vru.__version__, (
        f"the installed metadata says {installed} but vru.__version__ is {vru.__version__}: "
        "pyproject.toml must read the version from vru.__version__ (reinstall with `pip install -e .`)"
    )


def _changelog_headings() -> list[str]:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)


def test_changelog_keeps_an_unreleased_section_on_top():
    headings = _changelog_headings()
    assert headings and headings[0] == "Unreleased", f"CHANGELOG.md headings: {headings}"


def test_changelog_newest_release_is_the_package_version():
    released = [h for h in _changelog_headings() if h != "Unreleased"]
    assert released, "CHANGELOG.md names no released version"
    assert released[0] == vru.__version__, (
        f"the newest release in CHANGELOG.md is {released[0]} but vru.__version__ is {vru.__version__}: "
        "a release renames 'Unreleased' to the version it sets"
    )
