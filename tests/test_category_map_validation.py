"""A user category map (``vru ingest --category-map``) is validated before anything is read: each
problem is refused naming the file, line and column, and nothing is stored."""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vru import taxonomy
from vru.cli import main
from vru.errors import SourceError
from vru.warehouse.store import Warehouse

GOOD = "major,minor,category\nBURGLARY,BURGLARY - TEST-ONLY NAME,residential_burglary\n"


def write(tmp_path: Path, text: str | bytes, name: str = "map.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_good_map_is_read(tmp_path):
    p = write(tmp_path, "\ufeffmajor,minor,category,note\n"
                        " BURGLARY , BURGLARY - TEST-ONLY NAME ,residential_burglary,why\n\n"
                        'THEFT,"THEFT, TEST-ONLY",other_theft,\n')
    m = taxonomy.read_user_map(p)
    assert m.name == "map.csv"
    assert m.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert m.pairs == {("BURGLARY", "BURGLARY - TEST-ONLY NAME"): "residential_burglary",
                       ("THEFT", "THEFT, TEST-ONLY"): "other_theft"}
    assert m.lines[("THEFT", "THEFT, TEST-ONLY")] == 4
    assert m.harmonise(" THEFT", "THEFT, TEST-ONLY ") == "other_theft"
    assert m.harmonise("THEFT", "OTHER") is None


def test_repeating_a_platform_mapping_is_accepted(tmp_path):
    p = write(tmp_path, "major,minor,category\nROBBERY,ROBBERY OF PERSONAL PROPERTY,"
                        "robbery_of_personal_property\n")
    assert taxonomy.read_user_map(p).pairs


@pytest.mark.parametrize("text, row, column, words", [
    ("major,category\nBURGLARY,burglary\n", 1, "minor", "missing column 'minor'"),
    ("major,minor\nBURGLARY,X\n", 1, "category", "missing column 'category'"),
    ("major,minor,categroy\nBURGLARY,X,burglary\n", 1, "categroy", "unknown column 'categroy'"),
    ("major,minor,category,minor\nA,B,burglary,C\n", 1, "minor", "appears twice"),
    ("major,minor,category\nBURGLARY,X,not_a_category\n", 2, "category",
     "unknown platform category 'not_a_category'"),
    ("major,minor,category\nBURGLARY,X,burglary\nTHEFT,Y,theft\nBURGLARY, X ,robbery\n", 4, "minor",
     "duplicate row"),
    ("major,minor,category\nBURGLARY,,burglary\n", 2, "minor", "empty minor"),
    ("major,minor,category\nBURGLARY,X\n", 2, "category", "2 fields where the header has 3"),
    ("major,minor,category\nBURGLARY,X,burglary,extra\n", 2, None, "4 fields"),
    ("major,minor,category\nROBBERY,ROBBERY OF PERSONAL PROPERTY,burglary\n", 2, "category",
     "already mapped by the platform"),
    ("major,minor,category\n", 2, None, "no mappings"),
    ("", 1, None, "empty category map"),
])
def test_bad_maps_are_refused_with_line_and_column(tmp_path, text, row, column, words):
    p = write(tmp_path, text)
    with pytest.raises(SourceError) as e:
        taxonomy.read_user_map(p)
    assert e.value.path == str(p)
    assert (e.value.row, e.value.column) == (row, column)
    assert words in str(e.value)


def test_not_utf8_is_refused(tmp_path):
    p = write(tmp_path, b"major,minor,category\nBURGLARY,CAF\xe9,burglary\n")
    with pytest.raises(SourceError, match="not UTF-8") as e:
        taxonomy.read_user_map(p)
    assert e.value.row == 2


def test_cli_refuses_a_bad_map_and_stores_nothing(tmp_path):
    w = tmp_path / "w.duckdb"
    Warehouse.create(w).close()
    data = write(tmp_path, "MajorText,MinorText,BoroughName,202401\n"
                           "ROBBERY,ROBBERY OF PERSONAL PROPERTY,Camden,5\n", "borough.csv")
    bad = write(tmp_path, "major,minor,category\nBURGLARY,X,nope\n", "bad_map.csv")
    r = CliRunner().invoke(main, ["ingest", "-w", str(w), "--category-map", str(bad), str(data)])
    assert r.exit_code == 2
    assert "bad_map.csv, row 2, column 'category'" in r.output
    with Warehouse.open(w, read_only=True) as wh:
        assert wh.counts()["crime"] == 0
        assert wh.table("loads").empty


def test_a_huge_field_is_refused_naming_the_file_and_line(tmp_path):
    p = write(tmp_path, "major,minor,category\nBURGLARY,X,burglary\nBURGLARY," + "A" * 200_000
              + ",residential_burglary\n")
    for limit in (csv.field_size_limit(), sys.maxsize):  # csv's limit is process-wide: any value
        old = csv.field_size_limit(limit)
        try:
            with pytest.raises(SourceError, match="a field longer than 1,000 characters") as e:
                taxonomy.read_user_map(p)
        finally:
            csv.field_size_limit(old)
        assert e.value.path == str(p) and e.value.row == 3


def test_line_numbers_count_the_lines_of_a_multi_line_field(tmp_path):
    p = write(tmp_path, 'major,minor,category\nBURGLARY,"A\nB",residential_burglary\n'
                        "BURGLARY,C,bogus\n")
    with pytest.raises(SourceError, match="unknown platform category 'bogus'") as e:
        taxonomy.read_user_map(p)
    assert e.value.row == 4
    p = write(tmp_path, 'major,minor,category\nBURGLARY,"A\nB",residential_burglary\n'
                        "THEFT,D,other_theft\n")
    assert taxonomy.read_user_map(p).lines == {("BURGLARY", "A\nB"): 2, ("THEFT", "D"): 4}


def test_a_unicode_line_separator_inside_a_field_is_part_of_the_field(tmp_path):
    p = write(tmp_path, "major,minor,category\nBURGLARY,A\u2028B,residential_burglary\n")
    assert taxonomy.read_user_map(p).pairs == {("BURGLARY", "A\u2028B"): "residential_burglary"}
