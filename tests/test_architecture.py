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
# (vru.model: the validated objects every layer passes around, panels and spatial weights)
FOUNDATION = {"vru.schema", "vru.errors", "vru.taxonomy", "vru.geography", "vru.data", "vru.model",
              "vru.format", "vru"}
ALLOWED = {
    "sources": {"sources"},
    "geography": {"geography"},
    "warehouse": {"warehouse", "sources"},
    "analysis": {"analysis"},
    # pipelines: data assembly and method (warehouse in, results out); outputs: their presentation
    "pipelines": {"pipelines", "analysis", "warehouse", "sources"},
    "outputs": {"outputs", "pipelines", "analysis", "warehouse"},
    "outputs/sections": {"outputs", "pipelines", "analysis"},
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
        if layer == "outputs" and "sections" in f.relative_to(SRC / layer).parts:
            continue  # checked as its own layer
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


@pytest.mark.slow
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


# --- category literals and source keys -----------------------------------------------------------------

# The home of the harmonised category codes: vru.taxonomy (named constants and groups) and the tables it
# reads (vru/data/*.csv). Everything else names a category through vru.taxonomy.
CATEGORY_HOME = {SRC / "taxonomy.py"}
# (file, category) -> why the code is written there (test_the_allow_lists_name_real_literals fails on an
# entry that matches nothing).
CATEGORY_ALLOWED: dict[tuple[str, str], str] = {
    ("sources/mps_lsoa_annual.py", "robbery"): "the file-name part of the LSOA annual files "
    "(FILE_CATEGORIES), not the category",
}

# The home of the source keys (the value of ``source`` in the warehouse): vru.sources.catalogue.
SOURCE_KEY_HOME = {SRC / "sources" / "catalogue.py"}
SOURCE_KEY_ALLOWED: dict[tuple[str, str], str] = {
    ("geography/lookup.py", "boundaries"): "the bundled folder vru/data/bundled/boundaries, not the source "
    "key (vru.geography may not import vru.sources)",
    ("warehouse/ingest.py", "boundaries"): "the bundled folder vru/data/bundled/boundaries "
    "(BUNDLED_FOLDERS), not the source key",
}


def named_literals(source: str, words: set[str]) -> list[tuple[int, str]]:
    """(line, word) of every string constant of ``source`` that is one of ``words``, or that quotes one
    in single quotes as SQL does (``"WHERE source = 'iod2019'"``, parts of f-strings included). A word in
    running text (a docstring, a message) is not a literal of it."""
    quoted = re.compile("'(" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")'")
    out = []
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            if n.value in words:
                out.append((n.lineno, n.value))
            else:
                out += [(n.lineno, w) for w in quoted.findall(n.value)]
    return sorted(out)


def _category_codes() -> set[str]:
    from vru import taxonomy

    return set(taxonomy.categories()["code"])


def _source_keys() -> set[str]:
    from vru.sources.catalogue import CATALOGUE

    return {s.key for s in CATALOGUE}


def _literals_outside(home: set[Path], words: set[str], allowed: dict[tuple[str, str], str]) -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts or path in home:
            continue
        rel = path.relative_to(SRC).as_posix()
        hits = named_literals(path.read_text(encoding="utf-8"), words)
        found += [f"{rel}:{line}: {w!r}" for line, w in hits
                  if (rel, w) not in allowed and (rel, "*") not in allowed]
    return found


def test_category_codes_are_written_only_in_the_taxonomy():
    """A harmonised category code is written in vru.taxonomy (or its CSV tables) and named through it
    everywhere else (``taxonomy.ROBBERY``, ``taxonomy.SERIOUS_VIOLENCE``)."""
    found = _literals_outside(CATEGORY_HOME, _category_codes(), CATEGORY_ALLOWED)
    assert not found, "category codes outside vru/taxonomy.py:\n" + "\n".join(found)


def test_source_keys_are_written_only_in_the_catalogue():
    """A source key is written in vru.sources.catalogue and named through it everywhere else."""
    found = _literals_outside(SOURCE_KEY_HOME, _source_keys(), SOURCE_KEY_ALLOWED)
    assert not found, "source keys outside vru/sources/catalogue.py:\n" + "\n".join(found)


def test_the_literal_check_finds_planted_codes(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text('CATS = ("robbery", "homicide")\n'
                       'SQL = "SELECT * FROM crime WHERE source = \'iod2019\' AND n > 1"\n'
                       'f = f"category = \'robbery\' AND year = {1}"\n'
                       'message = "robbery fell in 2020"\n')  # running text is not a literal
    found = named_literals(planted.read_text(), _category_codes() | _source_keys())
    assert found == [(1, "homicide"), (1, "robbery"), (2, "iod2019"), (3, "robbery")]
    assert named_literals('x = "robbery"', _category_codes()) == [(1, "robbery")]


def test_the_allow_lists_name_real_literals():
    """An allow-list entry that no longer matches anything is stale: drop it."""
    for allowed, words in ((CATEGORY_ALLOWED, _category_codes()), (SOURCE_KEY_ALLOWED, _source_keys()),
                           (GSS_ALLOWED, None)):
        for (rel, w), why in allowed.items():
            assert why, (rel, w)
            text = (SRC / rel).read_text(encoding="utf-8")
            hits = gss_literals(text) if words is None else named_literals(text, words)
            assert hits if w == "*" else w in {v for _, v in hits}, f"stale allow-list entry {(rel, w)}"


# --- the MyEnds boroughs ---------------------------------------------------------------------------------

# file -> why it writes the list out (none today: every file names vru.geography.MYENDS_BOROUGHS)
MYENDS_ALLOWED: dict[str, str] = {}


def myends_lists(source: str) -> list[int]:
    """Lines of the tuples, lists and sets of ``source`` written out as the eight MyEnds boroughs (by name or
    by code); the one list is vru.geography.MYENDS_BOROUGHS."""
    from vru.geography import BOROUGHS, MYENDS_BOROUGHS

    spellings = ({BOROUGHS[c] for c in MYENDS_BOROUGHS}, set(MYENDS_BOROUGHS))
    out = []
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, ast.Tuple | ast.List | ast.Set) and len(n.elts) == len(MYENDS_BOROUGHS):
            values = {e.value for e in n.elts if isinstance(e, ast.Constant)}
            if values in spellings:
                out.append(n.lineno)
    return out


def test_the_myends_boroughs_are_listed_once():
    found, used = [], set()
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "geography/boroughs.py" or "migrations" in path.parts:
            continue
        for line in myends_lists(path.read_text(encoding="utf-8")):
            if rel in MYENDS_ALLOWED:
                used.add(rel)
            else:
                found.append(f"{rel}:{line}")
    assert not found, "the MyEnds boroughs written out again (use vru.geography.MYENDS_BOROUGHS):\n" + \
        "\n".join(found)
    assert used == set(MYENDS_ALLOWED), f"stale MYENDS_ALLOWED entries: {set(MYENDS_ALLOWED) - used}"


def test_the_myends_check_finds_a_planted_list():
    planted = ('A = ["Brent", "Croydon", "Hackney", "Haringey", "Lambeth", "Newham", "Southwark",\n'
               '     "Tower Hamlets"]\nB = ("Brent", "Croydon")\n'
               'C = ("E09000005", "E09000008", "E09000012", "E09000014", "E09000022", "E09000025",\n'
               '     "E09000028", "E09000030")\n')
    assert myends_lists(planted) == [1, 4]


# --- the analysis layer reads and writes no files ---------------------------------------------------------

ANALYSIS = SRC / "analysis"
# calls that read, write or find files, by the name called (on any object: a path, a DataFrame, a module)
IO_CALLS = {
    "open", "read_text", "read_bytes", "write_text", "write_bytes", "read_csv", "read_parquet", "read_excel",
    "read_json", "read_table", "read_file", "read_feather", "read_sql", "read_fwf", "to_csv", "to_parquet",
    "to_excel", "to_file", "to_feather", "connect", "loadtxt", "genfromtxt", "savetxt", "savez", "fromfile",
    "exists", "is_file", "is_dir", "iterdir", "glob", "rglob", "mkdir", "unlink", "rmdir", "makedirs",
    "listdir", "scandir", "files", "flock",
}
# names that are file I/O only on these modules (``df.rename``, ``str.replace`` and ``list.remove`` are not)
IO_MODULE_CALLS = {
    "os": {"replace", "rename", "remove", "stat", "walk"}, "json": {"load", "dump"},
    "pickle": {"load", "dump"}, "np": {"load", "save"}, "numpy": {"load", "save"},
}
# modules whose only use is files
IO_MODULES = {"fcntl", "shutil", "tempfile", "glob", "pickle", "duckdb", "sqlite3", "importlib.resources"}
# (file, function) -> why that function may read or write files (none today: vru.analysis reads no files).
IO_ALLOWED: dict[tuple[str, str], str] = {}


def file_io(source: str) -> list[tuple[int, str, str]]:
    """(line, name, function) of every call or import in ``source`` that reads, writes or finds files;
    ``function`` is the qualified name of the def it is in ("" at module level)."""
    out: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, where: tuple[str, ...]) -> None:
        here = ".".join(where)
        n = node
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and f.id in IO_CALLS:
                out.append((n.lineno, f.id, here))
            elif isinstance(f, ast.Attribute):
                module = f.value.id if isinstance(f.value, ast.Name) else None
                if f.attr in IO_CALLS or f.attr in IO_MODULE_CALLS.get(module, ()):
                    out.append((n.lineno, f.attr, here))
        elif isinstance(n, ast.Import):
            out.extend((n.lineno, a.name, here) for a in n.names if a.name in IO_MODULES)
        elif isinstance(n, ast.ImportFrom) and n.module:
            if n.module in IO_MODULES or n.module.split(".")[0] in IO_MODULES:
                out.append((n.lineno, n.module, here))
            elif n.module == "importlib" and any(a.name == "resources" for a in n.names):
                out.append((n.lineno, "importlib.resources", here))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            where = (*where, node.name)
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(ast.parse(source), ())
    return sorted(out)


def test_the_analysis_layer_reads_and_writes_no_files():
    """vru.analysis is pure: it takes data and returns results. Reading (sources/, vru.data, the warehouse)
    and writing (outputs/) happen outside it, and the data is passed in."""
    found, used = [], set()
    for path in sorted(ANALYSIS.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for line, name, where in file_io(path.read_text(encoding="utf-8")):
            if (rel, where) in IO_ALLOWED:
                used.add((rel, where))
            else:
                found.append(f"{rel}:{line}: {name} (in {where or 'the module'})")
    assert not found, "file I/O in vru/analysis:\n" + "\n".join(found)
    assert used == set(IO_ALLOWED), f"stale IO_ALLOWED entries: {set(IO_ALLOWED) - used}"


def test_the_file_io_check_finds_a_planted_read(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("import duckdb\nimport pandas as pd\nfrom pathlib import Path\n\n\n"
                       "def f(p):\n    a = pd.read_csv(p)\n    b = Path(p).read_text()\n"
                       "    with open(p) as fh:\n        c = fh.read()\n    os.replace(p, p + '~')\n"
                       "    return duckdb.connect(p), a, b, c\n")
    assert file_io(planted.read_text()) == [(1, "duckdb", ""), (7, "read_csv", "f"), (8, "read_text", "f"),
                                            (9, "open", "f"), (11, "replace", "f"), (12, "connect", "f")]
    method = "class A:\n    def m(self, p):\n        return p.read_bytes()\n"
    assert file_io(method) == [(3, "read_bytes", "A.m")]
    # a DataFrame renamed, a string replaced: not files
    assert file_io("import numpy as np\nx = np.sqrt(2)\ndf.rename(columns={})\n'a'.replace('a', 'b')\n") == []
