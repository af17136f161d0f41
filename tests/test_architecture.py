"""The house rules that can be checked mechanically: layering, docs in sync with code."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vru"
ROOT = SRC.parents[1]

# layer -> layers it may import (besides the shared foundations)
FOUNDATION = {"vru.schema", "vru.errors", "vru.taxonomy", "vru.geography", "vru.data", "vru"}
ALLOWED = {
    "sources": {"sources"},
    "geography": {"geography"},
    "warehouse": {"warehouse", "sources"},
    "analysis": {"analysis"},
    "outputs": {"outputs", "analysis", "warehouse", "sources"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vru"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("vru")}
    return out


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_never_import_higher_ones(layer):
    bad = []
    for f in (SRC / layer).rglob("*.py"):
        for mod in _imports(f):
            if mod in FOUNDATION or any(mod.startswith(x + ".") for x in FOUNDATION - {"vru"}):
                continue
            part = mod.split(".")[1] if "." in mod else ""
            if part not in ALLOWED[layer]:
                bad.append(f"{f.relative_to(SRC)} imports {mod}")
    assert not bad, bad


def test_data_sources_doc_is_generated_from_the_catalogue():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_data_sources_doc.py"),
                        "--check"])
    assert r.returncode == 0, "docs/data-sources.md is stale: run scripts/gen_data_sources_doc.py"


def test_every_cli_command_is_in_the_readme():
    from vru.cli import main

    readme = (ROOT / "README.md").read_text()
    missing = [c for c in main.commands if f"vru {c}" not in readme]
    assert not missing, f"commands not documented in README: {missing}"


def test_readme_first_screen_gives_the_two_commands():
    first = (ROOT / "README.md").read_text().splitlines()[:25]
    text = "\n".join(first)
    assert "make report" in text and "make test" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_cli_doc_is_generated_from_the_commands():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_cli_doc.py"), "--check"])
    assert r.returncode == 0, "docs/cli.md is stale: run scripts/gen_cli_doc.py"


def test_test_file_names_are_unique():
    """pytest imports test files by their base name (the folders have no __init__.py): two files with one
    name stop the whole collection."""
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


# --- one home for each domain constant ------------------------------------------------------------------

GSS = re.compile(r"[EWSNK]\d{8}")
GSS_HOME = SRC / "geography" / "boroughs.py"
# GSS codes that belong to one source's own quirks or vintage checks, each with its reason.
GSS_ALLOWED = {
    ("sources/mps.py", "E05013570"): "the ward the MPS files list under Aviation Security (their quirk)",
    ("sources/mps.py", "E09000017"): "the borough that ward belongs to (the same quirk)",
    ("sources/boundaries.py", "E05012000"): "the first ward code created after the 2018 wards (vintage test)",
    ("sources/claimant_count.py", "E01032000"): "2011 LSOA codes from here on are missing from WPI's file",
}


def gss_literals(source: str) -> list[tuple[int, str]]:
    """(line, code) of every string constant of ``source`` that is a GSS code and nothing else."""
    return [(n.lineno, n.value) for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and GSS.fullmatch(n.value)]


def test_gss_codes_are_written_only_in_the_geography_module():
    """Borough codes, the City of London and London itself live in vru.geography.boroughs; anything else
    names them through it (or, for a source's own quirk, is listed above with its reason)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts or path == GSS_HOME:
            continue
        rel = path.relative_to(SRC).as_posix()
        found += [f"{rel}:{line}: {code}" for line, code in gss_literals(path.read_text(encoding="utf-8"))
                  if (rel, code) not in GSS_ALLOWED]
    assert not found, "GSS codes outside vru/geography/boroughs.py:\n" + "\n".join(found)


def test_the_gss_check_finds_a_planted_code():
    planted = 'CITY = "E09000001"\nmessage = "for example E09000001"\n'
    assert gss_literals(planted) == [(1, "E09000001")]  # a code alone, not one quoted in a sentence
