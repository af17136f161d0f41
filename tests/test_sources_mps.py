"""vru.sources.mps: hand-made files with hand-computed answers, bad input, and the real bundled
files reconciled with the figures in their SOURCE.md (computed here independently with csv)."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

import vru
from vru import taxonomy
from vru.errors import SourceError
from vru.geography.boroughs import AIRPORTS_CODE, UNKNOWN_CODE
from vru.sources import mps

BUNDLED = Path(vru.__file__).parent / "data" / "bundled"
BOROUGH_DIR = BUNDLED / "mps_crime_borough"
WARD_FILE = BUNDLED / "mps_crime_ward" / "mps_ward_crime_202112_202311.csv.gz"
COARSE_FILE = BOROUGH_DIR / "mps_borough_crime_historical_201004_202311.csv.gz"
DETAILED_FILE = BOROUGH_DIR / "mps_borough_crime_detailed_201004_202111.csv.gz"
DETAILED_RECENT = BOROUGH_DIR / "mps_borough_crime_detailed_202112_202311.csv.gz"
SHARED = Path("/work/shared/data")


def write(tmp_path: Path, lines: list[str], eol: str = "\n", name: str = "mps.csv",
          gz: bool = False) -> Path:
    data = (eol.join(lines) + eol).encode()
    p = tmp_path / (name + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


def rows(batch, table="crime"):
    """Table as a set of plain tuples (month as YYYY-MM) for exact comparison."""
    df = batch.tables[table]
    if table == "crime":
        return {(r.area_code, r.month.strftime("%Y-%m"), r.category, int(r.count))
                for r in df.itertuples()}
    return {tuple(r) for r in df.itertuples(index=False)}


def read_raw(path: Path) -> tuple[list[str], list[list[str]]]:
    """Independent reader: header and rows via the csv module."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        r = csv.reader(f)
        header = next(r)
        return header, list(r)


# --- hand-made files ----------------------------------------------------------------------------

DETAILED_LINES = [
    "Vehicle Offences,Theft from a Motor Vehicle,Camden,3,0,1",
    "Vehicle Offences,Aggravated Vehicle Taking,Camden,2,0,0",
    "Possession of Weapons,Possession of Article with Blade or Point,Camden,0,0,4",
    '"Miscellaneous Crimes Against Society","Disclosure, Obstruction, False or Misleading State",'
    "Camden,0,1,0",
    "Violence Against the Person,Violence with Injury,London Heathrow and London City Airports,"
    "1,2,0",
]
DETAILED_EXPECTED = {
    ("E09000007", "2023-01", "vehicle_offences", 5),  # 3 + 2: two minors, one category
    ("E09000007", "2023-03", "vehicle_offences", 1),
    ("E09000007", "2023-03", "possession_of_article_with_blade_or_point", 4),
    ("E09000007", "2023-02", "miscellaneous_crimes_against_society", 1),
    (AIRPORTS_CODE, "2023-01", "violence_with_injury", 1),
    (AIRPORTS_CODE, "2023-02", "violence_with_injury", 2),
}

COARSE_LINES = [
    "BURGLARY,DOMESTIC BURGLARY,Barnet,4,1,0",
    "BURGLARY,RES BURGLARY OF A HOME,Barnet,2,3,0",
    "ROBBERY,ROBBERY OF PERSONAL PROPERTY,Unknown,0,7,0",
    "POSSESSION OF WEAPONS,POSSESSION OF WEAPONS,Westminster,0,0,2",
]
COARSE_EXPECTED = {
    ("E09000003", "2023-01", "residential_burglary", 6),
    ("E09000003", "2023-02", "residential_burglary", 4),
    (UNKNOWN_CODE, "2023-02", "robbery_of_personal_property", 7),
    ("E09000033", "2023-03", "possession_of_weapons", 2),
}


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("bcol", ["LookUp_BoroughName", "BoroughName"])
@pytest.mark.parametrize("vintage", ["detailed", "coarse"])
def test_borough_file_both_vintages_eols_and_column_names(tmp_path, eol, bcol, vintage):
    lines, expected = ((DETAILED_LINES, DETAILED_EXPECTED) if vintage == "detailed"
                       else (COARSE_LINES, COARSE_EXPECTED))
    p = write(tmp_path, [f"MajorText,MinorText,{bcol},202301,202302,202303", *lines], eol)
    assert mps.sniff(p)
    b = mps.load(p)
    assert b.source == f"mps_borough_{vintage}"
    assert b.path == str(p)
    assert set(b.tables) == {"crime"}
    assert rows(b) == expected
    crime = b.tables["crime"]
    assert set(crime["source"]) == {f"mps_borough_{vintage}"}
    assert set(crime["level"]) == {"borough"}
    assert all(crime["month"].dt.day == 1)
    assert any("zero counts not stored" in n for n in b.notes)
    assert any(f"mps_{vintage}" in n for n in b.notes)


def test_gzipped_file_loads_like_plain(tmp_path):
    lines = ["MajorText,MinorText,LookUp_BoroughName,202301,202302,202303", *DETAILED_LINES]
    plain = mps.load(write(tmp_path, lines, name="a.csv"))
    gz = mps.load(write(tmp_path, lines, name="b.csv", gz=True))
    assert rows(plain) == rows(gz) == DETAILED_EXPECTED


WARD_HEADER = "MajorText,MinorText,WardName,WardCode,LookUp_BoroughName,202112,202201"
WARD_LINES = [
    "Theft,Shoplifting,Heathrow Villages,E05013570,Aviation Security (SO18),1,2",
    "Theft,Shoplifting,Heathrow Villages,E05013570,Hillingdon,3,0",
    "Theft,Shoplifting,Abbey,E05014053,Barking and Dagenham,0,5",
    "Theft,Bicycle Theft,Abbey,E05013806,Merton,2,0",
    "Robbery,Robbery of Personal Property,Abbey,E05014053,Barking and Dagenham,0,0",
]
WARD_EXPECTED = {
    ("E05013570", "2021-12", "shoplifting", 4),  # 1 (aviation unit) + 3 (Hillingdon)
    ("E05013570", "2022-01", "shoplifting", 2),
    ("E05014053", "2022-01", "shoplifting", 5),
    ("E05013806", "2021-12", "bicycle_theft", 2),
}
WARD_AREAS = {
    ("ward", "E05013570", "2022", "Heathrow Villages", "E09000017", None),
    ("ward", "E05013806", "2022", "Abbey", "E09000024", None),
    ("ward", "E05014053", "2022", "Abbey", "E09000002", None),
}


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_ward_file_heathrow_villages_summed_into_hillingdon(tmp_path, eol):
    b = mps.load(write(tmp_path, [WARD_HEADER, *WARD_LINES], eol))
    assert b.source == "mps_ward_detailed"
    assert rows(b) == WARD_EXPECTED
    assert set(b.tables["crime"]["level"]) == {"ward"}
    assert rows(b, "areas") == WARD_AREAS
    assert any("E05013570" in n and "Hillingdon" in n for n in b.notes)


def test_ward_file_with_refreshed_date_column_is_accepted_and_ignored(tmp_path):
    lines = [WARD_HEADER + ",Refreshed Date"] + [x + ",2023-12-05" for x in WARD_LINES]
    b = mps.load(write(tmp_path, lines, "\r\n"))
    assert rows(b) == WARD_EXPECTED
    assert rows(b, "areas") == WARD_AREAS
    assert any("Refreshed Date" in n for n in b.notes)


def test_ward_file_coarse_vintage(tmp_path):
    b = mps.load(write(tmp_path, [
        WARD_HEADER,
        "THEFT,SHOPLIFTING,Abbey,E05014053,Barking and Dagenham,0,5",
        "THEFT,THEFT FROM THE PERSON,Abbey,E05014053,Barking and Dagenham,1,0",
    ]))
    assert b.source == "mps_ward_coarse"
    assert rows(b) == {("E05014053", "2022-01", "shoplifting", 5),
                       ("E05014053", "2021-12", "theft_from_the_person", 1)}


def test_heathrow_villages_only_under_aviation_unit_goes_to_hillingdon(tmp_path):
    b = mps.load(write(tmp_path, [WARD_HEADER, WARD_LINES[0]]))
    assert rows(b) == {("E05013570", "2021-12", "shoplifting", 1),
                       ("E05013570", "2022-01", "shoplifting", 2)}
    assert rows(b, "areas") == {("ward", "E05013570", "2022", "Heathrow Villages", "E09000017",
                                 None)}


def test_sniff_refuses_other_formats(tmp_path):
    assert not mps.sniff(write(tmp_path, ["Crime ID,Month,Reported by"], name="a.csv"))
    assert not mps.sniff(write(tmp_path, [], name="c.csv"))
    assert not mps.sniff(write(tmp_path, ["Area,Count"], name="d.csv"))


def test_damaged_header_is_claimed_and_refused_naming_the_column(tmp_path):
    """A file that is recognisably MPS (first column, or the published file name) but has a
    damaged header gets a column error, not 'unknown format'."""
    f = write(tmp_path, ["MajorText,Borough,202301", "Robbery,Brent,1"], name="b.csv")
    assert mps.sniff(f)
    with pytest.raises(SourceError, match=r"row 1, column 'MinorText'"):
        mps.load(f)
    g = write(tmp_path, ["Major,MinorText,BoroughName,202301", "ROBBERY,X,Brent,1"],
              name="MPS Borough Level Crime (Historical).csv")
    assert mps.sniff(g)
    with pytest.raises(SourceError, match=r"row 1, column 'MajorText'"):
        mps.load(g)
    for f in BUNDLED.rglob("*.csv.gz"):
        assert mps.sniff(f) == (f.parent.name in ("mps_crime_borough", "mps_crime_ward")), f


# --- bad input ----------------------------------------------------------------------------------

B_HEADER = "MajorText,MinorText,LookUp_BoroughName,202301,202302,202303"
GOOD = "Theft,Shoplifting,Camden,1,2,3"


def refused(p: Path, row, column, *words) -> SourceError:
    with pytest.raises(SourceError) as ei:
        mps.load(p)
    e = ei.value
    assert e.path == str(p) and str(p) in str(e)
    assert (e.row, e.column) == (row, column), str(e)
    for w in words:
        assert w.lower() in str(e).lower(), str(e)
    return e


@pytest.mark.parametrize("header, column", [
    ("MajorText,LookUp_BoroughName,202301", "MinorText"),
    ("MajorText,MinorText,202301", "LookUp_BoroughName"),
    ("MajorText,MinorText,WardName,LookUp_BoroughName,202301", "WardCode"),
])
def test_missing_column(tmp_path, header, column):
    refused(write(tmp_path, [header, "a,b,c"]), 1, column, "missing")


def test_unknown_column(tmp_path):
    refused(write(tmp_path, ["MajorText,MinorText,BoroughName,Notes,202301",
                             "Theft,Shoplifting,Camden,x,1"]), 1, "Notes", "unknown column")


def test_both_borough_columns(tmp_path):
    refused(write(tmp_path, ["MajorText,MinorText,LookUp_BoroughName,BoroughName,202301"]),
            1, "BoroughName", "both")


@pytest.mark.parametrize("bad", ["202313", "2023-1", "202300", "2023011"])
def test_unparseable_month_column(tmp_path, bad):
    refused(write(tmp_path, [f"MajorText,MinorText,BoroughName,202301,{bad}",
                             "Theft,Shoplifting,Camden,1,2"]), 1, bad, "month")


def test_non_contiguous_months(tmp_path):
    refused(write(tmp_path, ["MajorText,MinorText,BoroughName,202211,202301",
                             "Theft,Shoplifting,Camden,1,2"]), 1, "202301", "contiguous")


def test_duplicate_header_column(tmp_path):
    refused(write(tmp_path, ["MajorText,MinorText,BoroughName,202301,202301",
                             "Theft,Shoplifting,Camden,1,2"]), 1, "202301", "twice")


def test_no_month_columns(tmp_path):
    refused(write(tmp_path, ["MajorText,MinorText,BoroughName", "Theft,Shoplifting,Camden"]),
            1, None, "no month")


def test_unknown_minor_category(tmp_path):
    refused(write(tmp_path, [B_HEADER, GOOD, "Theft,Bicycle Thefts,Camden,1,2,3"]),
            3, "MinorText", "unknown category", "Bicycle Thefts")


def test_unknown_major_category(tmp_path):
    refused(write(tmp_path, [B_HEADER, GOOD, "Cybercrime,Hacking,Camden,1,2,3"]),
            3, "MajorText", "unknown category")


def test_mixed_vintages(tmp_path):
    refused(write(tmp_path, [B_HEADER, GOOD, GOOD.replace("Camden", "Brent"),
                             "THEFT,SHOPLIFTING,Camden,1,2,3"]), 4, "MajorText", "mixes")


def test_unknown_borough(tmp_path):
    refused(write(tmp_path, [B_HEADER, GOOD, "Theft,Shoplifting,Gotham,1,2,3"]),
            3, "LookUp_BoroughName", "unknown borough", "Gotham")


@pytest.mark.parametrize("value, words", [("-1", "non-negative"), ("1.5", "non-negative"),
                                          ("x", "non-negative"), ("", "truncated")])
def test_bad_count(tmp_path, value, words):
    refused(write(tmp_path, [B_HEADER, GOOD, f"Theft,Shoplifting,Brent,1,{value},3"]),
            3, "202302", words)


def test_truncated_last_line(tmp_path):
    p = write(tmp_path, [B_HEADER, GOOD, "Theft,Shoplifting,Brent,1"], "\r\n")
    refused(p, 3, "202302", "truncated")


def test_truncated_real_file(tmp_path):
    """The real file, cut in the middle of its last line (as an interrupted download would)."""
    with gzip.open(DETAILED_RECENT, "rb") as f:
        data = f.read()
    n_lines = data.count(b"\n")
    last = data.rstrip(b"\r\n").rfind(b"\n")
    cut = data[: last + 1 + 60]  # 60 bytes into the last row: inside the month columns
    p = tmp_path / "cut.csv"
    p.write_bytes(cut)
    with pytest.raises(SourceError, match="truncated") as ei:
        mps.load(p)
    assert ei.value.row == n_lines  # the last line of the file
    assert ei.value.column is not None and ei.value.column.isdigit()


def test_truncated_inside_id_columns(tmp_path):
    p = write(tmp_path, [B_HEADER, GOOD, "Theft,Shopl"])
    refused(p, 3, "LookUp_BoroughName", "truncated")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    e = refused(p, None, None, "empty")
    assert str(p) in str(e)


def test_header_only(tmp_path):
    refused(write(tmp_path, [B_HEADER], "\r\n"), 2, None, "no data rows")


def test_duplicate_row(tmp_path):
    refused(write(tmp_path, [B_HEADER, GOOD, GOOD.replace("Camden", "City of Westminster"),
                             GOOD.replace("Camden", "Westminster")]),
            4, "LookUp_BoroughName", "duplicate")


def test_ward_under_two_real_boroughs(tmp_path):
    refused(write(tmp_path, [WARD_HEADER, "Theft,Shoplifting,Abbey,E05014053,Camden,1,2",
                             "Theft,Shoplifting,Abbey,E05014053,Brent,1,2"]),
            3, "LookUp_BoroughName", "two boroughs")


def test_ward_only_under_aviation_unit_and_unknown(tmp_path):
    line = "Theft,Shoplifting,Royal Docks,E05013922,Aviation Security (SO18),1,2"
    refused(write(tmp_path, [WARD_HEADER, line]), 2, "LookUp_BoroughName", "aviation")


def test_bad_ward_code(tmp_path):
    refused(write(tmp_path, [WARD_HEADER, "Theft,Shoplifting,Abbey,Abbey,Camden,1,2"]),
            2, "WardCode", "ward code")


def test_ward_with_two_names(tmp_path):
    refused(write(tmp_path, [WARD_HEADER, "Theft,Shoplifting,Abbey,E05014053,Camden,1,2",
                             "Robbery,Robbery of Personal Property,Abbey Road,E05014053,Camden,"
                             "1,2"]), 3, "WardName", "two names")


def test_refuses_completely(tmp_path):
    """A late error leaves nothing behind: load raises, it never returns a partial batch."""
    lines = [B_HEADER] + [GOOD.replace("Camden", b) for b in ("Brent", "Barnet", "Bexley")]
    p = write(tmp_path, [*lines, "Theft,Shoplifting,Camden,1,2,x"])
    refused(p, 5, "202303")


# --- the real bundled files ---------------------------------------------------------------------

def raw_year_totals(path: Path, major: str, minor: str | None = None) -> dict[int, int]:
    header, data = read_raw(path)
    out: dict[int, int] = defaultdict(int)
    for r in data:
        if r[0] == major and (minor is None or r[1] == minor):
            for col, v in zip(header, r, strict=True):
                if col.isdigit():
                    out[int(col[:4])] += int(v)
    return dict(out)


def loaded_year_totals(batch, category: str) -> dict[int, int]:
    c = batch.tables["crime"]
    c = c[c["category"].isin(taxonomy.descendants(category))]
    return {int(k): int(v) for k, v in c.groupby(c["month"].dt.year)["count"].sum().items()}


@pytest.fixture(scope="module")
def coarse():
    return mps.load(COARSE_FILE)


@pytest.fixture(scope="module")
def detailed():
    return mps.load(DETAILED_FILE)


@pytest.fixture(scope="module")
def ward():
    return mps.load(WARD_FILE)


def test_coarse_vap_reconciles_with_source_md(coarse):
    documented = {2019: 222_042, 2020: 220_113, 2021: 233_466, 2022: 240_810, 2023: 230_673}
    raw = raw_year_totals(COARSE_FILE, "VIOLENCE AGAINST THE PERSON")
    loaded = loaded_year_totals(coarse, taxonomy.VIOLENCE_AGAINST_THE_PERSON)
    for y, n in documented.items():
        assert raw[y] == n
        assert loaded[y] == n
    assert loaded == raw
    assert coarse.source == "mps_borough_coarse"


def test_coarse_possession_of_weapons_reconciles(coarse):
    documented = {2019: 7_377, 2020: 6_933, 2021: 6_184, 2022: 6_592, 2023: 6_114}
    loaded = loaded_year_totals(coarse, taxonomy.POSSESSION_OF_WEAPONS)
    assert {y: loaded[y] for y in documented} == documented
    assert loaded == raw_year_totals(COARSE_FILE, "POSSESSION OF WEAPONS")


def test_detailed_vap_and_knife_reconcile_with_source_md(detailed):
    vap = loaded_year_totals(detailed, taxonomy.VIOLENCE_AGAINST_THE_PERSON)
    assert (vap[2019], vap[2020]) == (222_106, 220_223)
    assert vap == raw_year_totals(DETAILED_FILE, "Violence Against the Person")
    blade = loaded_year_totals(detailed, "possession_of_article_with_blade_or_point")
    assert (blade[2019], blade[2020], blade[2021]) == (3_268, 3_029, 2_647)
    assert blade == raw_year_totals(DETAILED_FILE, "Possession of Weapons",
                                    "Possession of Article with Blade or Point")
    assert detailed.source == "mps_borough_detailed"


@pytest.mark.parametrize("path", [COARSE_FILE, DETAILED_FILE, DETAILED_RECENT, WARD_FILE],
                         ids=lambda p: p.name)
def test_total_and_shape_equal_the_file(path):
    header, data = read_raw(path)
    months = [c for c in header if c.isdigit()]
    b = mps.load(path)
    crime = b.tables["crime"]
    assert int(crime["count"].sum()) == sum(int(v) for r in data for v in r[-len(months):])
    assert crime["month"].min() == pd.Timestamp(months[0][:4] + "-" + months[0][4:] + "-01")
    assert crime["month"].nunique() == len(months)
    assert (crime["count"] > 0).all()
    assert not crime.duplicated(["area_code", "month", "category"]).any()


def test_borough_files_have_documented_areas(coarse, detailed):
    assert coarse.tables["crime"]["area_code"].nunique() == 34  # 32 + airports + unknown
    assert detailed.tables["crime"]["area_code"].nunique() == 33  # 32 + airports
    assert UNKNOWN_CODE in set(coarse.tables["crime"]["area_code"])


def test_ward_file_facts(ward):
    crime, areas = ward.tables["crime"], ward.tables["areas"]
    assert ward.source == "mps_ward_detailed"
    assert len(areas) == 679 and areas["code"].nunique() == 679
    assert set(crime["area_code"]) <= set(areas["code"])
    assert crime["month"].min() == pd.Timestamp("2021-12-01")
    assert crime["month"].max() == pd.Timestamp("2023-11-01")
    assert crime["month"].nunique() == 24
    assert set(areas["vintage"]) == {"2022"} and areas["geometry"].isna().all()
    hv = areas.set_index("code").loc["E05013570"]
    assert (hv["name"], hv["parent_code"]) == ("Heathrow Villages", "E09000017")
    assert areas["parent_code"].nunique() == 32  # every ward in a real borough
    assert any("E05013570" in n for n in ward.notes)
    # SOURCE.md: VAP 2021-12 summed over wards is 18,492 (vs 19,165 in the borough file).
    dec = crime[(crime["month"] == "2021-12-01")
                & crime["category"].isin(taxonomy.descendants("violence_against_the_person"))]
    assert int(dec["count"].sum()) == 18_492


def test_ward_vap_dec_2021_matches_borough_file():
    b = mps.load(DETAILED_RECENT)
    c = b.tables["crime"]
    dec = c[(c["month"] == "2021-12-01")
            & c["category"].isin(taxonomy.descendants("violence_against_the_person"))]
    assert int(dec["count"].sum()) == 19_165


def test_heathrow_villages_rows_are_summed(ward):
    header, data = read_raw(WARD_FILE)
    months = header[5:]
    want: dict[tuple[str, str], int] = defaultdict(int)
    for r in data:
        if r[3] == "E05013570":
            cat = taxonomy.harmonise("mps_detailed", r[0], r[1])
            for m, v in zip(months, r[5:], strict=True):
                want[(m[:4] + "-" + m[4:], cat)] += int(v)
    c = ward.tables["crime"]
    c = c[c["area_code"] == "E05013570"]
    got = {(m.strftime("%Y-%m"), k): int(n) for m, k, n in
           zip(c["month"], c["category"], c["count"], strict=True)}
    assert got == {k: v for k, v in want.items() if v}


def test_every_bundled_category_is_in_category_map():
    m = taxonomy.category_map()
    for path in [*BOROUGH_DIR.glob("*.csv.gz"), WARD_FILE]:
        header, data = read_raw(path)
        pairs = {(r[0], r[1]) for r in data}
        scheme = "mps_coarse" if all(a.isupper() for a, _ in pairs) else "mps_detailed"
        known = set(zip(m.loc[m["scheme"] == scheme, "major"],
                        m.loc[m["scheme"] == scheme, "minor"], strict=True))
        assert pairs <= known, (path.name, pairs - known)
        assert len(pairs) == (32 if scheme == "mps_coarse" else 56)


@pytest.mark.skipif(not SHARED.exists(), reason="original data folder not present")
def test_original_uncompressed_file_loads_like_bundled_copy():
    orig = SHARED / "mps_crime_borough" / "mps_borough_crime_detailed_202112_202311.csv"
    if not orig.exists():
        pytest.skip("original file absent")
    a, b = mps.load(orig), mps.load(DETAILED_RECENT)
    pd.testing.assert_frame_equal(a.tables["crime"], b.tables["crime"])


def test_bom_is_tolerated(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + "\n".join([B_HEADER, GOOD]).encode())
    assert mps.sniff(p)
    assert rows(mps.load(p)) == {("E09000007", "2023-01", "shoplifting", 1),
                                 ("E09000007", "2023-02", "shoplifting", 2),
                                 ("E09000007", "2023-03", "shoplifting", 3)}

