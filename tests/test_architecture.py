"""The house rules that can be checked mechanically: layering, docs in sync with code."""

from __future__ import annotations

import ast
import functools
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
              "vru.format", "vru.plain", "vru"}
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
    tree = _parsed(path)
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

PACKAGE = [p for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


@functools.cache
def _parsed(path: Path) -> ast.Module:
    """The syntax tree of a file (each file is parsed once for all the checks below)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _tree(source: str | Path) -> ast.Module:
    return _parsed(source) if isinstance(source, Path) else ast.parse(source)


def _strings(source: str | Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant of ``source`` (a file or its text): plain, implicitly joined,
    the literal parts of f-strings, bytes (read as Latin-1)."""
    return _file_strings(source) if isinstance(source, Path) else _strings_of(ast.parse(source))


def _strings_of(tree: ast.AST) -> list[tuple[int, str]]:
    return [(n.lineno, n.value if isinstance(n.value, str) else n.value.decode("latin-1"))
            for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str | bytes)]


@functools.cache
def _file_strings(path: Path) -> list[tuple[int, str]]:
    return _strings_of(_parsed(path))


GSS = re.compile(r"[EWSNK]\d{8}")
# a code between quotes inside a longer text (SQL: "WHERE area_code = 'E09000001'", a query string:
# 'code == "E09000001"'), or a text that is nothing but codes and separators ("E09000001,E09000002")
GSS_QUOTED = re.compile(r"""(['"])([EWSNK]\d{8})\1""")
GSS_LIST = re.compile(r"\s*[EWSNK]\d{8}(\s*[,;|\s]\s*[EWSNK]\d{8})+\s*")
GSS_HOME = SRC / "geography" / "boroughs.py"
# GSS codes that belong to one source's own quirks or vintage checks, each with its reason.
GSS_ALLOWED = {
    ("sources/mps.py", "E05013570"): "the ward the MPS files list under Aviation Security (their quirk)",
    ("sources/mps.py", "E09000017"): "the borough that ward belongs to (the same quirk)",
    ("sources/boundaries.py", "E05012000"): "the first ward code created after the 2018 wards (vintage test)",
    ("sources/claimant_count.py", "E01032000"): "2011 LSOA codes from here on are missing from WPI's file",
}


def gss_literals(source: str | Path) -> list[tuple[int, str]]:
    """(line, code) of every GSS code written as a value in ``source`` (a file or its text): a string that
    is a code, or a list of codes, or a code quoted inside a longer string (SQL, a query, parts of
    f-strings included). A code in running text ("for example E09000001") is not a value."""
    out = []
    for line, text in _strings(source):
        if GSS.fullmatch(text) or GSS_LIST.fullmatch(text):
            out += [(line, code) for code in GSS.findall(text)]
        else:
            out += [(line, m.group(2)) for m in GSS_QUOTED.finditer(text)]
    return sorted(out)


def gss_offences(files: list[Path], root: Path = SRC) -> list[str]:
    """``file:line: code`` of each GSS code written in ``files`` (outside vru/geography/boroughs.py and
    the allow-list)."""
    found = []
    for path in files:
        if path == GSS_HOME:
            continue
        rel = path.relative_to(root).as_posix()
        found += [f"{rel}:{line}: {code}" for line, code in gss_literals(path)
                  if (rel, code) not in GSS_ALLOWED]
    return found


def test_gss_codes_are_written_only_in_the_geography_module():
    """Borough codes, the City of London and London itself live in vru.geography.boroughs; anything else
    names them through it (or, for a source's own quirk, is listed above with its reason)."""
    found = gss_offences(PACKAGE)
    assert not found, "GSS codes outside vru/geography/boroughs.py:\n" + "\n".join(found)


@pytest.mark.parametrize("planted, found", [
    ('CITY = "E09000001"\n', ["1: E09000001"]),
    ("SQL = \"SELECT * FROM areas WHERE area_code = 'E09000001' AND n > 1\"\n", ["1: E09000001"]),
    ("q = f\"code IN ('W06000015', '{other}') AND level = 'lsoa'\"\n", ["1: W06000015"]),
    ("sub = df.query('parent == \"E12000007\"')\n", ["1: E12000007"]),
    ('SOME = "E09000001,E09000002; E09000003"\n', ["1: E09000001", "1: E09000002", "1: E09000003"]),
    ("RAW = b\"WHERE code = 'S12000033'\"\n", ["1: S12000033"]),
    ("def f():\n    \"\"\"f('E01000001') is an LSOA.\"\"\"\n", ["2: E01000001"]),
    # running text is not a value, nor a code in reStructuredText, nor 8 or 10 characters
    ('message = "for example E09000001 or E09000002"\n"""London is ``E12000007``."""\n'
     'short, longer = "E0900000", "E090000011"\n', []),
])
def test_the_gss_check_finds_a_planted_code(tmp_path, planted, found):
    (tmp_path / "planted.py").write_text(planted)
    assert gss_offences([tmp_path / "planted.py"], tmp_path) == [f"planted.py:{x}" for x in found]


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


def named_literals(source: str | Path, words: set[str]) -> list[tuple[int, str]]:
    """(line, word) of every string constant of ``source`` (a file or its text) that is one of ``words``,
    or that quotes one in single quotes as SQL does (``"WHERE source = 'iod2019'"``) or in double quotes
    as a query string or JSON does (``'source == "iod2019"'``); parts of f-strings and bytes included.
    A word in running text (a docstring, a message) is not a literal of it."""
    quoted = re.compile(r"""(['"])(""" + "|".join(sorted(map(re.escape, words), key=len, reverse=True))
                        + r")\1")
    out = []
    for line, text in _strings(source):
        if text in words:
            out.append((line, text))
        else:
            out += [(line, m.group(2)) for m in quoted.finditer(text)]
    return sorted(out)


def _category_codes() -> set[str]:
    from vru import taxonomy

    return set(taxonomy.categories()["code"])


def _source_keys() -> set[str]:
    from vru.sources.catalogue import CATALOGUE

    return {s.key for s in CATALOGUE}


def literals_outside(files: list[Path], home: set[Path], words: set[str],
                     allowed: dict[tuple[str, str], str], root: Path = SRC) -> list[str]:
    """``file:line: 'word'`` of each of ``words`` written in ``files`` outside ``home`` and ``allowed``."""
    found = []
    for path in files:
        if path in home:
            continue
        rel = path.relative_to(root).as_posix()
        found += [f"{rel}:{line}: {w!r}" for line, w in named_literals(path, words)
                  if (rel, w) not in allowed and (rel, "*") not in allowed]
    return found


def test_category_codes_are_written_only_in_the_taxonomy():
    """A harmonised category code is written in vru.taxonomy (or its CSV tables) and named through it
    everywhere else (``taxonomy.ROBBERY``, ``taxonomy.SERIOUS_VIOLENCE``)."""
    found = literals_outside(PACKAGE, CATEGORY_HOME, _category_codes(), CATEGORY_ALLOWED)
    assert not found, "category codes outside vru/taxonomy.py:\n" + "\n".join(found)


def test_source_keys_are_written_only_in_the_catalogue():
    """A source key is written in vru.sources.catalogue and named through it everywhere else."""
    found = literals_outside(PACKAGE, SOURCE_KEY_HOME, _source_keys(), SOURCE_KEY_ALLOWED)
    assert not found, "source keys outside vru/sources/catalogue.py:\n" + "\n".join(found)


@pytest.mark.parametrize("planted, found", [
    ('CATS = ("robbery", "homicide")\n', ["'homicide'", "'robbery'"]),
    ("SQL = \"SELECT * FROM crime WHERE source = 'iod2019' AND n > 1\"\n", ["'iod2019'"]),
    ("f = f\"category = 'robbery' AND year = {1}\"\n", ["'robbery'"]),
    ("sub = df.query('source == \"iod2019\" and category == \"homicide\"')\n", ["'homicide'", "'iod2019'"]),
    ("j = '{\"category\": \"robbery\"}'\n", ["'robbery'"]),
    ("RAW = b\"IN ('robbery', 'homicide')\"\n", ["'homicide'", "'robbery'"]),
    ('message = "robbery fell in 2020"\n', []),  # running text is not a literal
])
def test_the_literal_check_finds_planted_codes(tmp_path, planted, found):
    (tmp_path / "planted.py").write_text(planted)
    words = _category_codes() | _source_keys()
    assert literals_outside([tmp_path / "planted.py"], set(), words, {}, tmp_path) == \
        [f"planted.py:1: {w}" for w in found]
    assert named_literals('x = "robbery"', _category_codes()) == [(1, "robbery")]


def test_the_allow_lists_name_real_literals():
    """An allow-list entry that no longer matches anything is stale: drop it."""
    for allowed, words in ((CATEGORY_ALLOWED, _category_codes()), (SOURCE_KEY_ALLOWED, _source_keys()),
                           (GSS_ALLOWED, None)):
        for (rel, w), why in allowed.items():
            assert why, (rel, w)
            hits = gss_literals(SRC / rel) if words is None else named_literals(SRC / rel, words)
            assert hits if w == "*" else w in {v for _, v in hits}, f"stale allow-list entry {(rel, w)}"


# --- the MyEnds boroughs ---------------------------------------------------------------------------------

# file -> why it writes the list out (none today: every file names vru.geography.MYENDS_BOROUGHS)
MYENDS_ALLOWED: dict[str, str] = {}


def myends_lists(source: str | Path) -> list[int]:
    """Lines of the tuples, lists and sets of ``source`` written out as the eight MyEnds boroughs (by name or
    by code); the one list is vru.geography.MYENDS_BOROUGHS."""
    from vru.geography import BOROUGHS, MYENDS_BOROUGHS

    spellings = ({BOROUGHS[c] for c in MYENDS_BOROUGHS}, set(MYENDS_BOROUGHS))
    out = []
    for n in ast.walk(_tree(source)):
        if isinstance(n, ast.Tuple | ast.List | ast.Set) and len(n.elts) == len(MYENDS_BOROUGHS):
            values = {e.value for e in n.elts if isinstance(e, ast.Constant)}
            if values in spellings:
                out.append(n.lineno)
    return out


def test_the_myends_boroughs_are_listed_once():
    found, used = [], set()
    for path in PACKAGE:
        rel = path.relative_to(SRC).as_posix()
        if rel == "geography/boroughs.py":
            continue
        for line in myends_lists(path):
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
# Calls that read, write or find files by the name called, on any object (a path, a DataFrame, a figure, a
# connection, a module): pandas and geopandas writers, pathlib, matplotlib, databases. Every ``read_*`` and
# ``write_*`` call counts as well (pd.read_pickle, gpd.read_file, Path.write_bytes, pyarrow's write_table).
IO_CALLS = {
    "open", "connect", "savefig", "imsave", "imread", "tofile", "fromfile", "open_dataset", "open_mfdataset",
    "to_csv", "to_parquet", "to_excel", "to_feather", "to_file", "to_pickle", "to_hdf", "to_stata", "to_sql",
    "to_postgis", "to_orc", "to_gbq", "to_clipboard", "loadtxt", "genfromtxt", "savetxt", "savez",
    "savez_compressed", "exists", "is_file", "is_dir", "iterdir", "glob", "rglob", "mkdir", "unlink", "rmdir",
    "touch", "symlink_to", "hardlink_to", "samefile", "makedirs", "listdir", "scandir", "files", "flock",
    "load_npz", "save_npz", "FileHandler",
}
IO_PREFIXES = ("read_", "write_")
# writers that return a string when given no file: file I/O when given one (a first argument, or by name)
IO_WITH_FILE = {"to_json", "to_html", "to_latex", "to_markdown", "to_string", "to_xml"}
IO_FILE_KEYWORDS = {"path_or_buf", "buf", "path"}
# names that are file I/O only in these modules (``df.rename``, ``str.replace``, ``list.remove`` and
# ``json.loads`` are not), however the module or the name is imported (``import numpy as xp``,
# ``from os import remove``)
IO_MODULE_CALLS = {
    "os": {"remove", "unlink", "rename", "renames", "replace", "stat", "lstat", "walk", "removedirs",
           "fdopen", "chdir", "truncate", "link", "symlink", "readlink", "access", "chmod"},
    "os.path": {"lexists", "isfile", "isdir", "islink", "getsize", "getmtime", "getatime", "getctime"},
    "io": {"FileIO", "open_code"}, "json": {"load", "dump"}, "numpy": {"load", "save", "memmap"},
    "pandas": {"HDFStore", "ExcelWriter", "ExcelFile"}, "joblib": {"load", "dump"},
}
# modules whose only use is files (or a database, or the network): importing one, or calling into it
IO_MODULES = {
    "fcntl", "shutil", "tempfile", "glob", "pickle", "shelve", "dbm", "zipfile", "tarfile", "gzip", "bz2",
    "lzma", "fsspec", "h5py", "duckdb", "sqlite3", "sqlalchemy", "psycopg", "psycopg2", "importlib.resources",
    "pyarrow.parquet", "pyarrow.feather", "pyarrow.csv", "pyogrio", "fiona", "scipy.io", "urllib.request",
    "requests", "httpx", "vru.data",  # vru.data: the bundled tables, read by the caller and passed in
}
# (file, function) -> why that function may read or write files (none today: vru.analysis reads no files).
IO_ALLOWED: dict[tuple[str, str], str] = {}


def _in_io_module(qualified: str) -> str | None:
    """The module of IO_MODULES that ``qualified`` (``shutil.copy``, ``pyarrow.parquet``) is in, if any."""
    parts = qualified.split(".")
    return next((m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in IO_MODULES), None)


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> what it stands for, from the imports anywhere in ``tree`` (``np`` -> ``numpy``,
    ``remove`` -> ``os.remove``, ``plt`` -> ``matplotlib.pyplot``)."""
    out = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            for a in n.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
            for a in n.names:
                out[a.asname or a.name] = f"{n.module}.{a.name}"
    return out


def _qualified(f: ast.expr, aliases: dict[str, str]) -> str | None:
    """``np.load`` -> ``numpy.load`` (a dotted name whose head is resolved through the imports); None for
    a call on anything else (``Path(p).read_text``, ``df.to_csv``: their last name still counts)."""
    parts = []
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if not isinstance(f, ast.Name):
        return None
    return ".".join([aliases.get(f.id, f.id), *reversed(parts)])


def _io_name(call: ast.Call, aliases: dict[str, str]) -> str | None:
    """The name by which ``call`` reads, writes or finds files, or None."""
    f = call.func
    local = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    if local is None:
        return None
    qualified = _qualified(f, aliases)
    module, _, name = (qualified or "").rpartition(".")
    name = name or local
    if qualified and (_in_io_module(qualified) or name in IO_MODULE_CALLS.get(module, ())):
        return name
    if name in IO_CALLS or name.startswith(IO_PREFIXES):
        return name
    if name in IO_WITH_FILE and (call.args or any(k.arg in IO_FILE_KEYWORDS for k in call.keywords)):
        return name
    # found by name: getattr(pd, "read_csv"), importlib.import_module("pickle"), __import__("shutil")
    first = call.args[0] if call.args else None
    second = call.args[1] if len(call.args) > 1 else None
    if name in ("import_module", "__import__") and isinstance(first, ast.Constant) and \
            isinstance(first.value, str) and _in_io_module(first.value):
        return first.value
    if name == "getattr" and isinstance(second, ast.Constant) and isinstance(second.value, str) and (
            second.value in IO_CALLS | IO_WITH_FILE or second.value.startswith(IO_PREFIXES)):
        return second.value
    return None


def file_io(source: str | Path) -> list[tuple[int, str, str]]:
    """(line, name, function) of every call or import in ``source`` (a file or its text) that reads, writes
    or finds files; ``function`` is the qualified name of the def it is in ("" at module level)."""
    tree = _tree(source)
    aliases = _aliases(tree)
    out: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, where: tuple[str, ...]) -> None:
        here = ".".join(where)
        if isinstance(node, ast.Call) and (name := _io_name(node, aliases)):
            out.append((node.lineno, name, here))
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name, here) for a in node.names if _in_io_module(a.name))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            hit = _in_io_module(node.module) or next(
                (m for a in node.names if (m := _in_io_module(f"{node.module}.{a.name}"))), None)
            if hit:
                out.append((node.lineno, hit, here))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            where = (*where, node.name)
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, ())
    return sorted(out)


def io_offences(files: list[Path], root: Path = SRC) -> tuple[list[str], set[tuple[str, str]]]:
    """``file:line: name (in function)`` of each file I/O in ``files`` that IO_ALLOWED does not allow, and
    the IO_ALLOWED entries used."""
    found, used = [], set()
    for path in files:
        rel = path.relative_to(root).as_posix()
        for line, name, where in file_io(path):
            if (rel, where) in IO_ALLOWED:
                used.add((rel, where))
            else:
                found.append(f"{rel}:{line}: {name} (in {where or 'the module'})")
    return found, used


def test_the_analysis_layer_reads_and_writes_no_files():
    """vru.analysis is pure: it takes data and returns results. Reading (sources/, vru.data, the warehouse)
    and writing (outputs/) happen outside it, and the data is passed in."""
    found, used = io_offences(sorted(ANALYSIS.rglob("*.py")))
    assert not found, "file I/O in vru/analysis:\n" + "\n".join(found)
    assert used == set(IO_ALLOWED), f"stale IO_ALLOWED entries: {set(IO_ALLOWED) - used}"


def test_the_file_io_check_finds_a_planted_read(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("import duckdb\nimport pandas as pd\nfrom pathlib import Path\n\n\n"
                       "def f(p):\n    a = pd.read_csv(p)\n    b = Path(p).read_text()\n"
                       "    with open(p) as fh:\n        c = fh.read()\n    os.replace(p, p + '~')\n"
                       "    return duckdb.connect(p), a, b, c\n")
    assert file_io(planted) == [(1, "duckdb", ""), (7, "read_csv", "f"), (8, "read_text", "f"),
                                (9, "open", "f"), (11, "replace", "f"), (12, "connect", "f")]
    method = "class A:\n    def m(self, p):\n        return p.read_bytes()\n"
    assert file_io(method) == [(3, "read_bytes", "A.m")]


@pytest.mark.parametrize("planted, found", [
    # pandas and geopandas readers and writers, however imported
    ("import pandas as pd\nimport geopandas\na = pd.read_pickle(p)\nb = pd.read_parquet(p)\n"
     "c = geopandas.read_file(p)\n", ["3: read_pickle", "4: read_parquet", "5: read_file"]),
    ("from pandas import read_stata as rs\nd = rs(p)\n", ["2: read_stata"]),
    ("df.to_pickle(p)\ndf.to_hdf(p, key='k')\ngdf.to_postgis('t', con)\ndf.to_json(p)\n"
     "df.to_html(buf=p)\ntext = df.to_json()\n", ["1: to_pickle", "2: to_hdf", "3: to_postgis", "4: to_json",
                                                 "5: to_html"]),
    # numpy, under any name
    ("import numpy as xp\na = xp.load(p)\nxp.save(p, a)\nb = xp.loadtxt(p)\n",
     ["2: load", "3: save", "4: loadtxt"]),
    ("from numpy import load\na = load(p)\n", ["2: load"]),
    ("import scipy.sparse as sp\nsp.save_npz(p, m)\nfrom scipy.io import mmread\n",
     ["2: save_npz", "3: scipy.io"]),
    # figures
    ("import matplotlib.pyplot as plt\nfig.savefig(p)\nplt.savefig(p)\n", ["2: savefig", "3: savefig"]),
    # pickle and json with a file (json.loads and json.dumps are not files)
    ("import pickle\nx = pickle.load(fh)\npickle.dump(x, fh)\n", ["1: pickle", "2: load", "3: dump"]),
    ("import json\nx = json.load(fh)\njson.dump(x, fh)\ns = json.dumps(x)\ny = json.loads(s)\n",
     ["2: load", "3: dump"]),
    ("from json import dump\ndump(x, fh)\n", ["2: dump"]),
    # open, io.open, pathlib
    ("x = open(p).read()\n", ["1: open"]),
    ("import io\nfh = io.open(p)\nbuf = io.StringIO()\n", ["2: open"]),
    ("from pathlib import Path\nt = Path(p).read_text()\nPath(p).write_bytes(b)\nPath(p).touch()\n",
     ["2: read_text", "3: write_bytes", "4: touch"]),
    # databases, shutil, os
    ("import duckdb\ncon = duckdb.connect(p)\n", ["1: duckdb", "2: connect"]),
    ("import shutil as sh\nsh.copy(a, b)\n", ["1: shutil", "2: copy"]),
    ("from shutil import rmtree\n", ["1: shutil"]),
    ("import os\nos.remove(p)\nok = os.path.isfile(p)\nfrom os import remove as rm\nrm(p)\n",
     ["2: remove", "3: isfile", "5: remove"]),
    ("from urllib import request\nfrom importlib import resources\n", ["1: urllib.request",
                                                                       "2: importlib.resources"]),
    ("from vru.data import harm_tables\nimport vru.data\n", ["1: vru.data", "2: vru.data"]),
    # by name
    ("import importlib\nm = importlib.import_module('pickle')\nf = getattr(pd, 'read_csv')\n",
     ["2: pickle", "3: read_csv"]),
    # not files: a DataFrame renamed, a string replaced, a list item removed, JSON and text in memory
    ("import numpy as np\nx = np.sqrt(2)\ndf.rename(columns={})\n'a'.replace('a', 'b')\nxs.remove(1)\n"
     "s = df.to_json()\nt = df.to_string()\nimport json\nj = json.loads(s)\n", []),
])
def test_the_file_io_check_finds_each_kind(tmp_path, planted, found):
    (tmp_path / "planted.py").write_text(planted)
    names = io_offences([tmp_path / "planted.py"], tmp_path)[0]
    assert [re.sub(r"^planted\.py:(\d+): (\S+) .*$", r"\1: \2", x) for x in names] == found
