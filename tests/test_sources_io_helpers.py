"""vru.sources._io: the helpers the loaders share (the sniffers' CSV header, the first failing row,
the first failing cell), on hand-made files and frames with hand-worked answers."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from vru.errors import SourceError
from vru.sources._io import csv_header_fields, fail_first, fail_first_cell, read_csv_strings


def test_csv_header_fields_reads_csv_and_gzipped_csv_of_any_case(tmp_path):
    p = tmp_path / "a.CSV"
    p.write_text('\ufeffx,"y, z",w\r\n1,2,3\r\n', encoding="utf-8")
    assert csv_header_fields(p) == ["x", "y, z", "w"]
    g = tmp_path / "b.csv.gz"
    with gzip.open(g, "wt", encoding="utf-8") as f:
        f.write("lsoa11cd,count\nE01000001,3\n")
    assert csv_header_fields(g) == ["lsoa11cd", "count"]


@pytest.mark.parametrize("name, content", [
    ("a.txt", b"x,y\n1,2\n"),            # not named .csv: not a CSV format's file
    ("a.csv.txt", b"x,y\n1,2\n"),
    ("a.csv", b""),                       # empty
    ("a.csv", b"PK\x03\x04rest"),         # a zip (xlsx) named .csv
    ("a.csv", b"x,\x00y\n"),              # binary
])
def test_csv_header_fields_is_empty_for_other_names_and_unreadable_files(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content)
    assert csv_header_fields(p) == []


def test_csv_header_fields_of_a_missing_or_corrupt_file_is_empty(tmp_path):
    assert csv_header_fields(tmp_path / "absent.csv") == []
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(b"\x1f\x8b not gzip")
    assert csv_header_fields(bad) == []


def test_fail_first_names_the_first_row_its_line_and_a_plain_value(tmp_path):
    lines = np.array([2, 3, 5, 7])
    fail_first("f.csv", [False] * 4, lines, "c", [1, 2, 3, 4], "never")  # nothing to refuse
    with pytest.raises(SourceError) as e:
        fail_first("f.csv", np.array([False, False, True, True]), lines, "rate",
                   np.array([0.1, 0.2, 2.5, 9.0]), "out of range")
    assert (e.value.row, e.value.column) == (5, "rate")
    assert "out of range (value 2.5)" in str(e.value)  # not np.float64(2.5)
    with pytest.raises(SourceError, match=r"too big \(value 7\)"):
        fail_first("f.csv", pd.Series([False, True]), lines, "n", pd.Series([1, 7]), "too big")
    with pytest.raises(SourceError, match=r"bad \(value 'b'\)"):
        fail_first("f.csv", [False, True], lines, "s", pd.Series(["a", "b"]), "bad")


def _cells(tmp_path, text: str) -> pd.DataFrame:
    p = tmp_path / "cells.csv"
    p.write_text(text, encoding="utf-8")
    return read_csv_strings(p)


def _digits(df: pd.DataFrame) -> list[np.ndarray]:
    return [(~df[c].str.fullmatch(r"\d+").fillna(False)).to_numpy(dtype=bool) for c in df.columns]


def test_fail_first_cell_goes_row_by_row_in_file_order(tmp_path):
    # row 1 (line 3) is bad in column c, row 2 (line 4) in column a: line 3 comes first
    df = _cells(tmp_path, "a,b,c\n1,2,3\n4,5,x\ny,6,7\n")
    with pytest.raises(SourceError) as e:
        fail_first_cell("f.csv", df, list(df.columns), _digits(df), lambda v: f"{v!r} is no count")
    assert (e.value.row, e.value.column) == (3, "c")
    assert "'x' is no count" in str(e.value)


def test_fail_first_cell_tells_a_short_row_and_a_blank_value(tmp_path):
    df = _cells(tmp_path, "a,b\n1,2\n3\n")  # line 3 has one field
    df.loc[1, "b"] = np.nan  # as pandas gives a missing trailing field without keep_default_na
    with pytest.raises(SourceError, match="fewer fields than the header") as e:
        fail_first_cell("f.csv", df, ["a", "b"], _digits(df), lambda v: "unused")
    assert (e.value.row, e.value.column) == (3, "b")
    df = _cells(tmp_path, "a,b\n1,2\n , 4\n")
    with pytest.raises(SourceError, match="empty or missing value") as e:
        fail_first_cell("f.csv", df, ["a", "b"], _digits(df), lambda v: "unused")
    assert (e.value.row, e.value.column) == (3, "a")


def test_fail_first_cell_passes_good_cells(tmp_path):
    df = _cells(tmp_path, "a,b\n1,2\n3,4\n")
    assert fail_first_cell("f.csv", df, ["a", "b"], _digits(df), lambda v: "unused") is None
