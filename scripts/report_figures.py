"""The numbers the needs assessment is built from, to check that a change of code leaves them as they were.

Builds the report from a warehouse while recording the data handed to every table and every chart
(``vru.outputs.html.table`` and each public function of the ``vru.outputs.charts*`` modules), and the
numbers written in each section's prose, and writes them as JSON. Titles, captions and axis labels are
not recorded (wording may change); the data cells of tables are (as shown, e.g. "1,234"), chart data as
numbers to 10 significant digits. Prose numbers are compared without thousands separators, and with
a typographic minus read as a hyphen (table cells are compared as shown).

    python scripts/report_figures.py --warehouse london.duckdb -o after.json
    python scripts/report_figures.py --compare before.json after.json   # exit 1 and the first differences

Run the first command on the code before a change (e.g. a ``git worktree`` of the old commit, with
``PYTHONPATH=<worktree>/src``) and after it, then compare.
"""

from __future__ import annotations

import argparse
import functools
import html
import importlib
import json
import math
import pkgutil
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

CHART_MODULES = ("charts", "charts_confidence", "charts_drivers", "charts_evaluation", "charts_hotspots")
WORDS = {"title", "label", "caption", "ylabel", "xlabel", "legend_title", "labels", "note", "alt"}
NUMBER = re.compile(r"[-+−]?\d[\d,]*(?:\.\d+)?")


def canon(x):
    """A JSON-able, order-preserving form of ``x`` with floats to 10 significant digits."""
    if isinstance(x, pd.DataFrame):
        x = x.drop(columns=[c for c in x.columns if str(c) == "geometry"], errors="ignore")
        return {"columns": [str(c) for c in x.columns], "index": [canon(i) for i in x.index],
                "data": [[canon(v) for v in row] for row in x.itertuples(index=False)]}
    if isinstance(x, pd.Series):
        return {"name": str(x.name), "index": [canon(i) for i in x.index], "data": [canon(v) for v in x]}
    if isinstance(x, dict):
        return {str(k): canon(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [canon(v) for v in x]
    if isinstance(x, np.ndarray):
        return [canon(v) for v in x.tolist()]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool) or x is None or isinstance(x, int | str):
        return x
    if isinstance(x, float):
        return None if math.isnan(x) else float(f"{x:.10g}")
    if isinstance(x, pd.Timestamp | pd.Period):
        return str(x)
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return f"<{type(x).__name__}>"


def _section_modules() -> list:
    """The modules that build report sections: the report itself and every presenter under
    ``vru.outputs.sections``."""
    import vru.outputs.sections

    names = ["vru.outputs.report"]
    names += [f"vru.outputs.sections.{m.name}" for m in pkgutil.iter_modules(vru.outputs.sections.__path__)]
    return [importlib.import_module(n) for n in names]


def record(warehouse: str | Path) -> dict:
    from vru.outputs import report
    from vru.warehouse.store import Warehouse

    calls: list[dict] = []

    def wrap(name, fn):
        @functools.wraps(fn)
        def recorded(*args, **kwargs):
            data = [canon(a) for a in args if not isinstance(a, str)]
            data += [{k: canon(v)} for k, v in sorted(kwargs.items())
                     if k not in WORDS and not isinstance(v, str)]
            calls.append({"fn": name, "data": data})
            return fn(*args, **kwargs)
        return recorded

    wrapped = {}  # id of an original function -> its recording wrapper
    for short in CHART_MODULES:
        mod = importlib.import_module(f"vru.outputs.{short}")
        for attr, fn in list(vars(mod).items()):
            if callable(fn) and not attr.startswith("_") and getattr(fn, "__module__", "") == mod.__name__ \
                    and not isinstance(fn, type) and attr not in {"to_svg", "wrap_title", "quantile_breaks",
                                                                   "classify"}:
                wrapped[id(fn)] = wrap(f"{short}.{attr}", fn)
                setattr(mod, attr, wrapped[id(fn)])
    from vru.outputs import html as vhtml

    wrapped[id(vhtml.table)] = wrap("table", vhtml.table)
    for mod in _section_modules():  # names imported from the chart modules and vru.outputs.html
        for attr, fn in list(vars(mod).items()):
            if callable(fn) and id(fn) in wrapped:
                setattr(mod, attr, wrapped[id(fn)])

    with Warehouse.open(warehouse, read_only=True) as wh:
        sections = report.build(wh)
    prose = {}
    for s in sections:
        text = re.sub(r"<(svg|table|figure|img)\b.*?</\1>", " ", s.body, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
        prose[s.id] = NUMBER.findall(text)
    return {"sections": [s.id for s in sections], "calls": calls, "prose": prose}


def prose_number(x: str) -> str:
    """A number of the prose as compared: without thousands separators (and the comma of a list
    after it), with a typographic minus read as a hyphen."""
    return x.replace(",", "").replace("−", "-")


def compare(a: dict, b: dict, limit: int = 20) -> list[str]:
    out: list[str] = []
    if a["sections"] != b["sections"]:
        out.append(f"sections differ: {a['sections']} vs {b['sections']}")
    ca, cb = a["calls"], b["calls"]
    if [c["fn"] for c in ca] != [c["fn"] for c in cb]:
        out.append(f"tables and charts differ: {len(ca)} vs {len(cb)} calls; "
                   f"{[c['fn'] for c in ca]} vs {[c['fn'] for c in cb]}")
    for i, (x, y) in enumerate(zip(ca, cb, strict=False)):
        if x != y:
            out.append(f"call {i} ({x['fn']}): data differ: {json.dumps(x['data'])[:300]} vs "
                       f"{json.dumps(y['data'])[:300]}")
    for sid in sorted(set(a["prose"]) | set(b["prose"])):
        pa, pb = ([prose_number(x) for x in p[sid]] if sid in p else None for p in (a["prose"], b["prose"]))
        if pa != pb:
            out.append(f"prose numbers of section {sid!r} differ: {pa} vs {pb}")
    return out[:limit]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse")
    ap.add_argument("-o", "--out")
    ap.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args(argv)
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        diffs = compare(a, b)
        for d in diffs:
            print(d)
        if not diffs:
            print(f"identical: {len(a['calls'])} tables and charts, "
                  f"{sum(map(len, a['prose'].values()))} numbers in prose, {len(a['sections'])} sections")
        return 1 if diffs else 0
    if not args.warehouse or not args.out:
        ap.error("--warehouse and -o, or --compare")
    Path(args.out).write_text(json.dumps(record(args.warehouse), indent=0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
