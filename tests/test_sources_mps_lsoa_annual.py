"""vru.sources.mps_lsoa_annual: the third-party annual LSOA aggregation (2020 column wrong)."""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path

import pytest

import vru
from vru.errors import SourceError
from vru.sources import mps_lsoa_annual as m

BUNDLED = Path(vru.__file__).parent / "data" / "bundled"
LSOA_DIR = BUNDLED / "mps_crime_lsoa_annual"
IDS = "LSOA11CD,LSOA11NM,MSOA11CD,MSOA11NM,LAD11CD,LAD11NM"
ROW_A = "E01000006,Barking and Dagenham 016A,E02000017,Barking and Dagenham 016,E09000002," \
        "Barking and Dagenham"
ROW_B = "E01000907,Camden 001A,E02000166,Camden 001,E09000007,Camden"
EXPECTED_CATEGORY = {
    "violence": "violence_against_the_person",
    "weapons": "possession_of_weapons",
    "robbery": "robbery",
    "drugs": "drug_offences",
    "public-order": "public_order_offences",
}


def write(tmp_path: Path, lines: list[str], name="london-2011-2021-major-robbery.csv",
          eol="\n") -> Path:
    p = tmp_path / name
    p.write_bytes((eol.join(lines) + eol).encode())
    return p


def as_dict(batch) -> dict[tuple[str, int], float]:
    t = batch.tables["crime_annual"]
    return {(a, int(y)): float(c) for a, y, c in zip(t["area_code"], t["year"], t["count"],
                                                      strict=True)}


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_hand_made_file_2020_is_nan(tmp_path, eol):
    p = write(tmp_path, [f"{IDS},2019,2020,2021", f"{ROW_A},9.0,28.0,2.0",
                         f"{ROW_B},0.0,4.0,13.0"], eol=eol)
    assert m.sniff(p)
    b = m.load(p)
    assert b.source == "mps_lsoa_annual_millington"
    t = b.tables["crime_annual"]
    assert len(t) == 6
    assert set(t["source"]) == {"mps_lsoa_annual_millington"}
    assert set(t["level"]) == {"lsoa"} and set(t["category"]) == {"robbery"}
    got = as_dict(b)
    assert math.isnan(got.pop(("E01000006", 2020))) and math.isnan(got.pop(("E01000907", 2020)))
    assert got == {("E01000006", 2019): 9.0, ("E01000006", 2021): 2.0,
                   ("E01000907", 2019): 0.0, ("E01000907", 2021): 13.0}
    assert any("2020" in n and "NaN" in n and "2020_x" in n for n in b.notes)


def test_file_without_2020_has_no_nan(tmp_path):
    p = write(tmp_path, [f"{IDS},2018,2019", f"{ROW_A},1.0,2.0"],
              name="london-2018-2019-major-violence.csv")
    b = m.load(p)
    assert as_dict(b) == {("E01000006", 2018): 1.0, ("E01000006", 2019): 2.0}
    assert set(b.tables["crime_annual"]["category"]) == {"violence_against_the_person"}
    assert not any("NaN" in n for n in b.notes)


def test_gzipped_name_is_understood(tmp_path):
    p = tmp_path / "london-2011-2021-major-public-order.csv.gz"
    p.write_bytes(gzip.compress(f"{IDS},2019\n{ROW_A},3.0\n".encode()))
    assert m.sniff(p)
    assert set(m.load(p).tables["crime_annual"]["category"]) == {"public_order_offences"}


# --- sniffing -----------------------------------------------------------------------------------

def test_sniff_recognises_these_and_nothing_else(tmp_path):
    for f in BUNDLED.rglob("*.csv.gz"):
        assert m.sniff(f) == (f.parent.name == "mps_crime_lsoa_annual"), f
    assert not m.sniff(write(tmp_path, [f"{IDS},Persons_All-Ages", f"{ROW_A},5"], name="p.csv"))
    assert not m.sniff(write(tmp_path, [IDS, ROW_A], name="q.csv"))
    assert not m.sniff(write(tmp_path, ["LSOA11CD,2019", "E01000006,1.0"], name="r.csv"))
    assert not m.sniff(write(tmp_path, [], name="s.csv"))


# --- bad input ----------------------------------------------------------------------------------

def refused(p: Path, row, column, *words):
    with pytest.raises(SourceError) as ei:
        m.load(p)
    e = ei.value
    assert e.path == str(p) and str(p) in str(e)
    assert (e.row, e.column) == (row, column), str(e)
    for w in words:
        assert w.lower() in str(e).lower(), str(e)


def test_sexual_file_is_refused_with_reason(tmp_path):
    p = write(tmp_path, [f"{IDS},2019", f"{ROW_A},0.0"],
              name="london-2011-2021-major-sexual.csv")
    refused(p, None, None, "sexual", "zeros")


@pytest.mark.parametrize("name", ["london-2011-2021-major-burglary.csv", "crime.csv",
                                  "london-2011-2021-violence.csv"])
def test_unknown_file_names_are_refused(tmp_path, name):
    refused(write(tmp_path, [f"{IDS},2019", f"{ROW_A},1.0"], name=name), None, None, "categor")


@pytest.mark.parametrize("value, words", [("-1.0", "non-negative"), ("1.5", "whole"),
                                          ("abc", "non-negative"), ("", "truncated")])
def test_bad_values(tmp_path, value, words):
    p = write(tmp_path, [f"{IDS},2019,2020", f"{ROW_A},1.0,2.0", f"{ROW_B},{value},2.0"])
    refused(p, 3, "2019", words)


def test_truncated_last_line(tmp_path):
    p = write(tmp_path, [f"{IDS},2019,2020,2021", f"{ROW_A},1.0,2.0,3.0", f"{ROW_B},1.0"])
    refused(p, 3, "2020", "truncated")


def test_missing_and_unknown_columns(tmp_path):
    refused(write(tmp_path, ["LSOA11CD,LSOA11NM,MSOA11CD,MSOA11NM,LAD11CD,2019", "x"]),
            1, "LAD11NM")
    refused(write(tmp_path, [f"{IDS},2019,Total", f"{ROW_A},1.0,1.0"]), 1, "Total", "unknown")
    refused(write(tmp_path, [f"{IDS},2019,2021", f"{ROW_A},1.0,1.0"]), 1, "2021", "contiguous")


def test_empty_and_header_only(tmp_path):
    p = tmp_path / "london-2011-2021-major-drugs.csv"
    p.write_bytes(b"")
    refused(p, None, None, "empty")
    refused(write(tmp_path, [f"{IDS},2019"], name="london-2011-2021-major-drugs.csv"),
            2, None, "no data rows")


def test_bad_codes(tmp_path):
    refused(write(tmp_path, [f"{IDS},2019", ROW_A.replace("E01000006", "E02000006") + ",1.0"]),
            2, "LSOA11CD", "LSOA")
    refused(write(tmp_path, [f"{IDS},2019", f"{ROW_A},1.0", f"{ROW_A},2.0"]),
            3, "LSOA11CD", "twice")
    refused(write(tmp_path, [f"{IDS},2019", ROW_A.replace("E09000002", "E06000001") + ",1.0"]),
            2, "LAD11CD", "borough")


# --- the real bundled files ---------------------------------------------------------------------

def raw(path: Path):
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        header = next(r)
        return header, list(r)


@pytest.mark.slow
@pytest.mark.parametrize("slug", sorted(EXPECTED_CATEGORY))
def test_real_file_equals_the_file_except_2020(slug):
    path = LSOA_DIR / f"london-2011-2021-major-{slug}.csv.gz"
    header, data = raw(path)
    b = m.load(path)
    t = b.tables["crime_annual"]
    assert set(t["category"]) == {EXPECTED_CATEGORY[slug]}
    assert len(data) == 4829 and len(t) == 4829 * 11
    assert t["area_code"].nunique() == 4829
    assert sorted(t["year"].unique()) == list(range(2011, 2022))
    assert t.loc[t["year"] == 2020, "count"].isna().all()
    assert t.loc[t["year"] != 2020, "count"].notna().all()
    got = as_dict(b)
    years = header[6:]
    for r in data:
        for y, v in zip(years, r[6:], strict=True):
            if y != "2020":
                assert got[(r[0], int(y))] == float(v)
    assert len({r[4] for r in data}) == 32  # City of London excluded


def test_violence_totals_match_source_md():
    path = LSOA_DIR / "london-2011-2021-major-violence.csv.gz"
    header, data = raw(path)
    col = {y: header.index(y) for y in ("2019", "2020")}
    raw_2020 = sum(float(r[col["2020"]]) for r in data)
    assert raw_2020 == 247_802  # the wrong published value SOURCE.md documents
    t = m.load(path).tables["crime_annual"]
    assert t.loc[t["year"] == 2019, "count"].sum() == 217_874
