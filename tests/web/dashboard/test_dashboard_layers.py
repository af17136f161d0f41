"""The dashboard reaches numbers only through the pipelines (vru.pipelines).

It may open the warehouse (vru.warehouse.store, read-only, in vru.web.dashboard.cache) and hand it to a
pipeline's ``run``, but never query it (``.sql(``, vru.warehouse.queries) nor call the analysis or the
source readers itself: a figure on a page is then always the figure of the report and the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DASHBOARD = Path(__file__).resolve().parents[3] / "src" / "vru" / "web" / "dashboard"
#: Modules the dashboard must not import (nor anything under them).
FORBIDDEN = ("vru.warehouse.queries", "vru.analysis", "vru.sources")


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def violations(source: str, filename: str = "<source>") -> list[str]:
    """Each forbidden import or ``.sql(`` call in ``source``, as ``file:line: what``."""
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            out += [f"{where}: imports {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            out += [f"{where}: imports {n}" for n in names if _forbidden(n)][:1]
        elif isinstance(node, ast.Call):
            func = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if func == "sql" and isinstance(node.func, ast.Attribute):
                out.append(f"{where}: calls .sql(")
            elif func in ("__import__", "import_module") and node.args \
                    and isinstance(node.args[0], ast.Constant) and _forbidden(str(node.args[0].value)):
                out.append(f"{where}: imports {node.args[0].value}")
    return out


def test_the_dashboard_calls_pipelines_only():
    files = sorted(DASHBOARD.rglob("*.py"))
    assert len(files) >= 5, files  # the check looks at the dashboard's code
    bad = [v for f in files for v in violations(f.read_text(), str(f.relative_to(DASHBOARD.parent)))]
    assert not bad, "the dashboard must reach numbers through vru.pipelines only:\n" + "\n".join(bad)


@pytest.mark.parametrize("source", [
    "from vru.warehouse import queries as q",
    "from vru.warehouse.queries import crime_annual",
    "import vru.warehouse.queries",
    "from vru.analysis import needs",
    "import vru.analysis.needs as needs",
    "from vru.sources.boundaries import to_geodataframe",
    "def f():\n    from vru import analysis\n",
    "def f(wh):\n    return wh.sql('SELECT 1')\n",
    "import importlib\nimportlib.import_module('vru.analysis.needs')",
])
def test_the_check_finds_what_it_forbids(source):
    assert violations(source)


@pytest.mark.parametrize("source", [
    "from vru.warehouse.store import Warehouse",
    "from vru.pipelines import area as pa",
    "from vru.pipelines.base import ParamsError, jsonable",
    "from vru.outputs.sections import london",
    "from vru import taxonomy",
    "from vru.geography import borough_name",
    "x = 'wh.sql(' + 'is only text here'",
])
def test_the_check_allows_the_pipelines_and_the_store(source):
    assert violations(source) == []
