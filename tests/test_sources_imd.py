"""vru.sources.imd: hand-made CSV/xlsx files with hand-computed answers, bad input, and the real
IoD2019 files checked against the facts in data/bundled/imd2019/SOURCE.md."""

from __future__ import annotations

import gzip
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from vru.errors import SourceError
from vru.sources import imd, registry

BUNDLED = Path(imd.__file__).parents[1] / "data" / "bundled"
LSOA_CSV = BUNDLED / "imd2019" / "imd2019_london_lsoa__export_of_sheet_IMD_2019.csv.gz"
BOROUGH_CSV = (BUNDLED / "imd2019" /
               "imd2019_london_borough_summary__export_of_sheet_Borough_summary_measures.csv.gz")
WARD_XLSX = BUNDLED / "imd2019" / "London_wards_id2019_summary_measures.xlsx"
SHARED_XLSX = Path("/work/shared/data/imd2019/ID_2019_for_London.xlsx")

# The IoD2019 header, written out here independently of the module.
LABELS = ["Index of Multiple Deprivation (IMD)", "Income", "Employment",
          "Education, Skills and Training", "Health Deprivation and Disability", "Crime",
          "Barriers to Housing and Services", "Living Environment"]
PREFIX = ["imd", "income", "employment", "education", "health", "crime", "barriers",
          "living_environment"]
LSOA_HEADER = ["LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
               "Local Authority District name (2019)"]
for _lab in LABELS:
    _score = f"{_lab} Score (rate)" if _lab in ("Income", "Employment") else f"{_lab} Score"
    LSOA_HEADER += [_score, f"{_lab} Rank (where 1 is most deprived)",
                    f"{_lab} Decile (where 1 is most deprived 10% of LSOAs)"]

# Two LSOAs. Ranks chosen at the decile edges: ceil(3284 / 3284.4) = 1, ceil(3285 / 3284.4) = 2,
# ceil(32844 / 3284.4) = 10, ceil(546 / 3284.4) = 1.
ROW_A = ["E01000001", "City of London 001A", "E09000001", "City of London",
         "6.208", "29199", "9"] + ["0.5", "3284", "1"] * 7
ROW_B = ["E01000002", "City of London 001B", "E09000001", "City of London",
         "-1.25", "546", "1"] + ["2", "3285", "2"] * 6 + ["3", "32844", "10"]

BOROUGH_HEADER = ["Local Authority District code (2019)", "Local Authority District name (2019)",
                  "IMD - Average rank ", "IMD - Rank of average rank ", "IMD - Average score ",
                  "IMD - Rank of average score ",
                  "IMD - Proportion of LSOAs in most deprived 10% nationally ",
                  "IMD - Rank of proportion of LSOAs in most deprived 10% nationally ",
                  "IMD 2019 - Extent ", "IMD 2019 - Rank of extent ",
                  "IMD 2019 - Local concentration ", "IMD 2019 - Rank of local concentration "]
BOROUGH_ROWS = [
    ["E09000001", "City of London", "12420.52", "208", "14.72", "212", "0", "195", "0.0322",
     "220", "24167", "236"],
    ["E09000002", "Barking and Dagenham", "25551.85", "5", "32.768", "21", "0.0364", "139",
     "0.4724", "20", "29391.87", "125"],
]

WARD_HEADER = ["Ward Code", "Ward Name", "Borough", "Population", "Working age population",
               "Child population", "16-59 population", "Old age population", "IMD Extent %",
               "IMD Extent Rank", "IMD Average rank", "IMD average rank rank",
               "IMD average score", "IMD average score rank", "Rank of worst LSOA",
               "Worst LSOA Code", "Worst LSOA: % of resident in ward", "Number of LSOAs",
               "# LSOAs in worst 5%", "# LSOAs in worst 10%", "# LSOAs in worst 20%",
               "# LSOAs in worst 50%", "Income scale", "Income score", "Income rank",
               "Employment scale", "Employment score", "Employment rank", "IDACI scale",
               "IDACI score", "IDACI score rank", "IDAOPI scale", "IDAOPI score",
               "IDAOPI score (rank)"]
WARD_ROWS = [
    ["E05000026", "Abbey", "Barking and Dagenham", 14370, 9403, 3899, 9397, 1074, 0.25, 1,
     7767.5, 2, 31.25, 2, 5010, "E01000008", 1, 7, 0, 0, 2, 7, 2722.5, 0.2, 1, 870.5, 0.09, 2,
     915.5, 0.23, 1, 376.5, 0.35, 1],
    ["E05009297", "City of London", "City of London", 6687, 4216, 922, 3980, 1785, 0, 2,
     20424.5, 1, 14.75, 1, 8678, "E01000005", 1, 6.5, 0, 0, 0, 2, 435.25, 0.065, 2, 219.5, 0.05,
     1, 65.125, 0.07, 2, 147.5, 0.08, 2],
]


def write_csv(tmp_path: Path, header: list[str], rows: list[list[str]], name="imd.csv",
              gz=False) -> Path:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode()
    p = tmp_path / (name + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


def write_xlsx(tmp_path: Path, sheets: dict[str, list[list]], name="book.xlsx") -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    p = tmp_path / name
    wb.save(p)
    return p


def value(df: pd.DataFrame, code: str, measure: str) -> float:
    sel = df[(df["area_code"] == code) & (df["measure"] == measure)]["value"]
    assert len(sel) == 1, (code, measure)
    return float(sel.iloc[0])


# --- hand-made files ----------------------------------------------------------------------------

def test_lsoa_csv_hand_made(tmp_path):
    p = write_csv(tmp_path, LSOA_HEADER, [ROW_A, ROW_B])
    assert imd.sniff(p)
    b = imd.load(p)
    df = b.tables["deprivation"]
    assert b.source == "iod2019_lsoa"
    assert len(df) == 2 * 24
    assert set(df["source"]) == {"iod2019_lsoa"} and set(df["edition"]) == {"IoD2019"}
    assert set(df["level"]) == {"lsoa"}
    assert set(df["measure"]) == {f"{p}_{k}" for p in PREFIX for k in ("score", "rank", "decile")}
    assert value(df, "E01000001", "imd_score") == 6.208
    assert value(df, "E01000001", "imd_rank") == 29199
    assert value(df, "E01000001", "imd_decile") == 9
    assert value(df, "E01000001", "crime_rank") == 3284
    assert value(df, "E01000002", "imd_score") == -1.25
    assert value(df, "E01000002", "income_decile") == 2
    assert value(df, "E01000002", "living_environment_rank") == 32844
    assert value(df, "E01000002", "living_environment_decile") == 10


def test_lsoa_csv_gzipped_gives_the_same_rows(tmp_path):
    plain = imd.load(write_csv(tmp_path, LSOA_HEADER, [ROW_A, ROW_B])).tables["deprivation"]
    gz = imd.load(write_csv(tmp_path, LSOA_HEADER, [ROW_A, ROW_B], gz=True))
    pd.testing.assert_frame_equal(plain, gz.tables["deprivation"])


def test_borough_csv_with_trailing_spaces_in_header(tmp_path):
    p = write_csv(tmp_path, BOROUGH_HEADER, BOROUGH_ROWS, name="borough.csv")
    assert imd.sniff(p)
    b = imd.load(p)
    df = b.tables["deprivation"]
    assert b.source == "iod2019_borough" and set(df["level"]) == {"borough"}
    assert len(df) == 2 * 10
    assert value(df, "E09000002", "imd_average_score") == 32.768
    assert value(df, "E09000002", "imd_average_score_rank") == 21
    assert value(df, "E09000001", "imd_extent") == 0.0322
    assert value(df, "E09000001", "imd_local_concentration_rank") == 236
    assert value(df, "E09000002", "imd_proportion_lsoas_most_deprived_10pct") == 0.0364


def test_ward_workbook_hand_made(tmp_path):
    p = write_xlsx(tmp_path, {"wards_id_summary": [WARD_HEADER, *WARD_ROWS]})
    assert imd.sniff(p)
    b = imd.load(p)
    df = b.tables["deprivation"]
    assert b.source == "iod2019_ward" and set(df["level"]) == {"ward"}
    assert len(df) == 2 * 30
    assert value(df, "E05000026", "pop_total") == 14370
    assert value(df, "E05000026", "imd_extent") == 0.25
    assert value(df, "E05009297", "imd_average_rank") == 20424.5
    assert value(df, "E05009297", "lsoa_count") == 6.5
    assert value(df, "E05009297", "idaci_scale") == 65.125
    assert value(df, "E05000026", "idaopi_rank") == 1


def test_lsoa_workbook_reads_lsoa_and_borough_sheets_only(tmp_path):
    p = write_xlsx(tmp_path, {
        "Notes": [["anything at all"]],
        "IMD 2019": [LSOA_HEADER, [_num(v) for v in ROW_A], [None] * 28,
                     [_num(v) for v in ROW_B]],
        "Borough summary measures": [[h for h in BOROUGH_HEADER],
                                     *[[_num(v) for v in r] for r in BOROUGH_ROWS]],
        "Sub domains": [["garbage", "x"], ["y", "z"]],
    })
    b = imd.load(p)
    df = b.tables["deprivation"]
    assert set(df["source"]) == {"iod2019_lsoa", "iod2019_borough"}
    assert len(df) == 2 * 24 + 2 * 10
    assert value(df, "E01000002", "imd_rank") == 546
    assert value(df, "E09000002", "imd_average_score") == 32.768
    same = imd.load(write_csv(tmp_path, LSOA_HEADER, [ROW_A, ROW_B])).tables["deprivation"]
    pd.testing.assert_frame_equal(df[df["source"] == "iod2019_lsoa"].reset_index(drop=True), same)


def _num(v: str):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


# --- bad input ----------------------------------------------------------------------------------

def test_empty_file(tmp_path):
    p = tmp_path / "imd.csv"
    p.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        imd.load(p)


def test_missing_column_is_named(tmp_path):
    header = [h for h in LSOA_HEADER if h != "Crime Rank (where 1 is most deprived)"]
    rows = [r[:19] + r[20:] for r in (ROW_A, ROW_B)]
    with pytest.raises(SourceError) as e:
        imd.load(write_csv(tmp_path, header, rows))
    assert e.value.row == 1 and e.value.column == "Crime Rank (where 1 is most deprived)"


def test_unknown_column_is_refused(tmp_path):
    with pytest.raises(SourceError, match="unknown column") as e:
        imd.load(write_csv(tmp_path, [*LSOA_HEADER, "Extra"], [ROW_A + ["1"], ROW_B + ["2"]]))
    assert e.value.column == "Extra"


@pytest.mark.parametrize("col, bad, message", [
    (4, "six", "not a number"),
    (5, "40000", "rank must be a whole number"),
    (5, "12.5", "rank must be a whole number"),
    (6, "11", "decile must be a whole number"),
    (6, "8", "decile inconsistent with the rank"),
    (0, "X01000002", "not a lsoa GSS code"),
    (0, "E01000001", "duplicate area code"),
    (2, "E10000002", "not a local authority GSS code"),
])
def test_bad_values_name_line_and_column(tmp_path, col, bad, message):
    row = list(ROW_B)
    row[col] = bad
    with pytest.raises(SourceError, match=message) as e:
        imd.load(write_csv(tmp_path, LSOA_HEADER, [ROW_A, row]))
    assert e.value.row == 3
    assert e.value.column == LSOA_HEADER[col]
    assert "imd.csv" in str(e.value)


def test_truncated_row(tmp_path):
    p = write_csv(tmp_path, LSOA_HEADER, [ROW_A, ROW_B[:10]])
    with pytest.raises(SourceError, match="missing value") as e:
        imd.load(p)
    assert e.value.row == 3 and e.value.column == LSOA_HEADER[10]


def test_truncated_gzip(tmp_path):
    p = write_csv(tmp_path, LSOA_HEADER, [ROW_A, ROW_B], gz=True)
    data = p.read_bytes()
    for cut in (len(data) - 30, 15):
        p.write_bytes(data[:cut])
        with pytest.raises(SourceError, match="truncated or corrupt"):
            imd.load(p)


def test_borough_rank_beyond_317_local_authorities(tmp_path):
    rows = [list(r) for r in BOROUGH_ROWS]
    rows[1][3] = "318"
    with pytest.raises(SourceError, match="1 to 317") as e:
        imd.load(write_csv(tmp_path, BOROUGH_HEADER, rows, name="borough.csv"))
    assert e.value.row == 3 and e.value.column == "IMD - Rank of average rank"


def test_ward_workbook_unknown_borough_names_sheet_row_and_column(tmp_path):
    rows = [list(r) for r in WARD_ROWS]
    rows[1][2] = "Gotham"
    p = write_xlsx(tmp_path, {"wards_id_summary": [WARD_HEADER, *rows]})
    with pytest.raises(SourceError, match="unknown borough") as e:
        imd.load(p)
    assert e.value.row == 3 and e.value.column == "Borough"
    assert "wards_id_summary" in str(e.value)


def test_ward_workbook_share_out_of_range_and_stray_cell(tmp_path):
    rows = [list(r) for r in WARD_ROWS]
    rows[0][8] = 42.7  # a percentage where a share is expected
    with pytest.raises(SourceError, match="between 0 and 1") as e:
        imd.load(write_xlsx(tmp_path, {"wards_id_summary": [WARD_HEADER, *rows]}))
    assert e.value.row == 2 and e.value.column == "IMD Extent %"
    rows = [list(r) for r in WARD_ROWS]
    rows[1] = rows[1] + [None, "stray"]
    with pytest.raises(SourceError, match="unnamed column 36") as e:
        imd.load(write_xlsx(tmp_path, {"wards_id_summary": [WARD_HEADER, *rows]}, "b2.xlsx"))
    assert e.value.row == 3


def test_workbook_without_known_sheet_or_truncated(tmp_path):
    p = write_xlsx(tmp_path, {"IMD 2019": [LSOA_HEADER, ROW_A]})
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    with pytest.raises(SourceError, match="xlsx"):
        imd.load(p)
    q = write_xlsx(tmp_path, {"Something": [["a"]]}, "other.xlsx")
    assert not imd.sniff(q)
    with pytest.raises(SourceError, match="no sheet"):
        imd.load(q)


def test_sniff_is_specific(tmp_path):
    assert not imd.sniff(write_csv(tmp_path, ["Date", "Survey"], [["1", "2"]], "x.csv"))
    assert not imd.sniff(tmp_path / "missing.csv")


# --- real files ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lsoa_real():
    return imd.load(LSOA_CSV).tables["deprivation"]


def test_real_lsoa_csv_facts(lsoa_real):
    df = lsoa_real
    assert df["area_code"].nunique() == 4835
    assert len(df) == 4835 * 24
    deciles = df[df["measure"] == "imd_decile"]["value"].value_counts().sort_index()
    assert deciles.to_dict() == {1: 107, 2: 688, 3: 811, 4: 661, 5: 559, 6: 532, 7: 438,
                                 8: 413, 9: 407, 10: 219}
    ranks = df[df["measure"] == "imd_rank"]["value"]
    assert (ranks.min(), ranks.max()) == (546, 32563)
    assert value(df, "E01000001", "imd_score") == 6.208
    assert value(df, "E01033608", "living_environment_rank") == 4934


def test_real_lsoa_codes_equal_the_2011_boundaries(lsoa_real):
    import pyogrio

    attrs = pyogrio.read_dataframe(
        BUNDLED / "boundaries" / "lsoa2011_gen20" / "london-2011-lsoa-gen20.shp.zip",
        read_geometry=False, columns=["LSOA11CD"])
    assert set(lsoa_real["area_code"]) == set(attrs["LSOA11CD"])


def test_real_borough_csv_facts():
    df = imd.load(BOROUGH_CSV).tables["deprivation"]
    assert df["area_code"].nunique() == 33
    assert value(df, "E09000002", "imd_average_score") == 32.768
    assert value(df, "E09000002", "imd_average_score_rank") == 21


def test_real_ward_workbook_facts():
    import pyogrio

    df = imd.load(WARD_XLSX).tables["deprivation"]
    assert df["area_code"].nunique() == 633
    wards = pyogrio.read_dataframe(
        BUNDLED / "boundaries" / "wards2018_citymerged" / "London_Ward_CityMerged.shp.zip",
        read_geometry=False, columns=["GSS_CODE"])
    assert set(df["area_code"]) == set(wards["GSS_CODE"])
    assert value(df, "E05009297", "pop_total") == 6687


def test_real_files_are_detected_by_the_registry():
    for p in (LSOA_CSV, BOROUGH_CSV, WARD_XLSX):
        assert registry.detect(p) is imd


@pytest.mark.slow
def test_original_workbook_equals_the_csv_exports(lsoa_real):
    if not SHARED_XLSX.exists():
        pytest.skip("original workbook not present")
    df = imd.load(SHARED_XLSX).tables["deprivation"]
    lsoa = df[df["source"] == "iod2019_lsoa"].reset_index(drop=True)
    pd.testing.assert_frame_equal(lsoa, lsoa_real)
    borough = df[df["source"] == "iod2019_borough"].reset_index(drop=True)
    pd.testing.assert_frame_equal(borough, imd.load(BOROUGH_CSV).tables["deprivation"])
