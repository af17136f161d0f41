"""The crime types a batch may name come from vru/data/moj_crime_types.csv, checked when read."""

from __future__ import annotations

import pytest

from vru.errors import SourceError
from vru.tagging import crimes as C

HEADER = "id,label,category,moj,note\n"


def test_the_bundled_table_is_the_moj_list_then_ours():
    assert [t.id for t in C.CRIME_TYPES][:7] == ["RB", "BIAD", "AB", "BOTD", "TOMV", "TFP", "TFMV"]
    assert all(t.moj for t in C.CRIME_TYPES[:7]) and not any(t.moj for t in C.CRIME_TYPES[7:])
    assert C.CRIME_TYPES_BY_ID["KNP"].category == "possession_of_article_with_blade_or_point"


@pytest.mark.parametrize(("text", "where"), [
    ("id,label,category\n", "row 1"),
    (HEADER + "RB,Robbery,robbery,yes\n", "row 2"),
    (HEADER + "rb,Robbery,robbery,yes,\n", "column 'id'"),
    (HEADER + "RB,Robbery,robbery,yes,\nRB,Again,robbery,no,\n", "row 3, column 'id'"),
    (HEADER + "RB,Robbery,robberies,yes,\n", "column 'category'"),
    (HEADER + "RB,Robbery,robbery,maybe,\n", "column 'moj'"),
    (HEADER + "RB, ,robbery,yes,\n", "column 'label'"),
])
def test_a_bad_row_names_the_file_row_and_column(text, where):
    with pytest.raises(SourceError, match=where) as e:
        C.read_crime_types(text, "types.csv")
    assert str(e.value).startswith("types.csv")


def test_an_empty_category_means_none():
    (t,) = C.read_crime_types(HEADER + "XX,Something else,,no,not in the taxonomy\n")
    assert t.category is None and t.note == "not in the taxonomy"
