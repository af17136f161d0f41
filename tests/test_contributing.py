"""The habits a contributor relies on: one version, a changelog that names it, a guide that is not stale."""

import importlib.metadata
import re
import tomllib
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


# --- CONTRIBUTING.md cannot go stale silently -----------------------------------------------------------

_NOT_A_NAME = re.compile(r"[\s<>{}$=()\"',]")  # placeholders, commands, calls: not checked
_FILE_SUFFIX = re.compile(r"\.(md|py|toml|sh|csv|html|txt|json|cfg|ini)$")
_SEARCHED = ("src", "tests", "scripts", "docs", "benchmarks")


def _inline_code(text: str) -> list[str]:
    """The text of every inline `code` span, outside fenced blocks."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.findall(r"`([^`\n]+)`", text)


def _defines(source: Path, name: str) -> bool:
    text = source.read_text(encoding="utf-8")
    pattern = rf"^(?:\s*(?:async\s+)?def {name}\b|\s*class {name}\b|{name}\s*[:=])"
    return re.search(pattern, text, flags=re.MULTILINE) is not None


def _module_file(parts: list[str]) -> Path | None:
    base = ROOT / "src" / Path(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def stale_references(text: str) -> list[str]:
    """Every file path, ``vru.`` dotted name and ``test_`` function named in inline code in ``text`` that
    does not exist in the repository."""
    stale = []
    for token in _inline_code(text):
        if " " in token:  # a command: check the repository paths among its words
            stale += [w for w in token.split() if w.split("/")[0] in _SEARCHED and "/" in w
                      and not _NOT_A_NAME.search(w) and not any(ROOT.glob(w.rstrip("/")))]
            continue
        if _NOT_A_NAME.search(token):
            continue
        if re.fullmatch(r"vru(\.\w+)+", token):
            parts = token.split(".")
            for cut in range(len(parts), 0, -1):
                module = _module_file(parts[:cut])
                if module is not None:
                    break
            rest = parts[cut:]
            if module is None or (rest and not _defines(module, rest[0])):
                stale.append(token)
        elif re.fullmatch(r"test_\w+", token):
            if not any(_defines(f, token) for f in (ROOT / "tests").rglob("test_*.py")):
                stale.append(token)
        elif "/" in token:
            if not any(ROOT.glob(token.rstrip("/"))):
                stale.append(token)
        elif _FILE_SUFFIX.search(token) or token == "Makefile":
            # a bare file name: at the root, or the name of a file somewhere in the tree (e.g. `views.py`)
            if not (ROOT / token).exists() and not any(
                    any((ROOT / d).rglob(token)) for d in _SEARCHED):
                stale.append(token)
    return stale


def test_every_path_module_and_test_named_in_contributing_exists():
    stale = stale_references((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"))
    assert not stale, f"CONTRIBUTING.md names what does not exist (moved or renamed?): {stale}"


def test_the_staleness_check_finds_what_is_gone():
    text = (
        "Edit `src/vru/taxonomy.py` and `src/vru/no_such_module.py`; call `vru.taxonomy.descendants` "
        "not `vru.taxonomy.no_such_function`; run `test_every_leaf_is_a_mapping_target`, not "
        "`test_nothing_by_this_name`; see `docs/` and `docs/gone/`, `pyproject.toml` and `nowhere.md`. "
        "Placeholders such as `src/vru/sources/<name>.py` and commands such as `make test` are skipped, "
        "but not the paths in a command: `python scripts/gen_cli_doc.py` and `python scripts/gone.py`.\n"
        "```sh\ncat `src/also_gone.py`\n```\n"
    )
    assert stale_references(text) == [
        "src/vru/no_such_module.py", "vru.taxonomy.no_such_function", "test_nothing_by_this_name",
        "docs/gone/", "nowhere.md", "scripts/gone.py",
    ]


def test_contributing_explains_every_pytest_marker():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    markers = [m.split(":", 1)[0].strip() for m in config["tool"]["pytest"]["ini_options"]["markers"]]
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    missing = [m for m in markers if f"| `{m}` |" not in guide]
    assert markers and not missing, f"markers not explained in CONTRIBUTING.md: {missing}"
