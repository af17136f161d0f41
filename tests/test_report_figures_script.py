"""scripts/report_figures.py: it records the data of every table and chart of the report and the numbers
of its prose, and its comparison finds a changed cell, a changed prose number and a missing chart, and
reads "4,835" and "4835", "−3" and "-3" in prose as the same number."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

_spec = importlib.util.spec_from_file_location(
    "report_figures", Path(__file__).resolve().parents[1] / "scripts" / "report_figures.py")
rf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rf)


def test_canon_rounds_floats_and_keeps_order():
    df = pd.DataFrame({"a": [1.0 / 3, np.nan], "geometry": [None, None]}, index=["x", "y"])
    assert rf.canon(df) == {"columns": ["a"], "index": ["x", "y"], "data": [[0.3333333333], [None]]}
    assert rf.canon({"k": np.int64(3), "s": pd.Series([2.5], index=[1], name="v")}) == {
        "k": 3, "s": {"name": "v", "index": [1], "data": [2.5]}}


def test_compare_finds_each_kind_of_difference():
    a = {"sections": ["s"], "calls": [{"fn": "table", "data": [[1]]}, {"fn": "charts.bar_chart", "data": []}],
         "prose": {"s": ["12", "3.5"]}}
    assert rf.compare(a, copy.deepcopy(a)) == []
    b = copy.deepcopy(a)
    b["calls"][0]["data"] = [[2]]
    assert any("call 0 (table)" in d for d in rf.compare(a, b))
    b = copy.deepcopy(a)
    b["prose"]["s"][1] = "3.6"
    assert any("prose numbers of section 's'" in d for d in rf.compare(a, b))
    b = copy.deepcopy(a)
    del b["calls"][1]
    assert any("tables and charts differ" in d for d in rf.compare(a, b))


def test_prose_numbers_are_compared_without_separators_and_typographic_minus():
    a = {"sections": ["s"], "calls": [{"fn": "table", "data": [["1,234"]]}],
         "prose": {"s": ["4,835", "2023,", "-3.4", "1,000"]}}
    b = copy.deepcopy(a)
    b["prose"]["s"] = ["4835", "2023", "−3.4", "1000"]
    assert rf.compare(a, b) == []
    b["prose"]["s"][1] = "2024"
    assert any("prose numbers of section 's'" in d for d in rf.compare(a, b))
    b = copy.deepcopy(a)
    b["calls"][0]["data"] = [["1234"]]  # table cells stay as shown
    assert any("call 0 (table)" in d for d in rf.compare(a, b))


@pytest.mark.slow
def test_the_report_on_the_bundled_data_is_recorded(london_warehouse, tmp_path):
    out = tmp_path / "figures.json"
    assert rf.main(["--warehouse", str(london_warehouse), "-o", str(out)]) == 0
    assert rf.main(["--compare", str(out), str(out)]) == 0
    import json

    figures = json.loads(out.read_text())
    fns = [c["fn"] for c in figures["calls"]]
    assert "evaluation" in figures["sections"] and "charts_evaluation.event_study" in fns
    assert fns.count("table") >= 10 and all(c["data"] for c in figures["calls"] if c["fn"] == "table")
    assert len(figures["prose"]["summary"]) > 10
