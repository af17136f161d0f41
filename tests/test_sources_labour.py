"""vru.sources.nomis and vru.sources.claimant_count: hand-made files with hand-computed answers,
bad input (errors name the real file line), and the real files checked against their SOURCE.md."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from vru.errors import SourceError
from vru.sources import claimant_count, nomis, population, registry

BUNDLED = Path(nomis.__file__).parents[1] / "data" / "bundled"
NOMIS_REAL = (BUNDLED / "unemployment_borough" /
              "nomis_model_based_unemployment_rate_london_lad_2004_2024.csv.gz")
CC_DIR = BUNDLED / "claimant_count_lsoa"
CC_OCT = CC_DIR / "DERIVED_wpi_london_lsoa_claimant_count_oct2019_oct2020.csv.gz"
CC_MAR = CC_DIR / "DERIVED_wpi_london_lsoa_claimant_count_mar2019_mar2024_mar2025.csv.gz"

# --- Nomis model-based unemployment -------------------------------------------------------------

NOMIS_LINES = [
    "",                                                                    # 1
    '"model-based estimates of unemployment"',                             # 2
    '"ONS Crown Copyright Reserved [from Nomis on 7 January 2026]"',       # 3
    '"Analysis   :","standard"',                                           # 4
    '"Item Name  :","Unemployment rate (model based)"',                    # 5
    '"Confidence :","95% confidence interval (+/-)"',                      # 6
    "",                                                                    # 7
    '"Area","Jan 2019-Dec 2019","Conf","Jan 2020-Dec 2020","Conf"',       # 8
    "",                                                                    # 9
    '"ladu2023:Barnet",4.7,1.3,4.5,1.2',                                   # 10
    '"ladu2023:City of London",-,-,-,-',                                   # 11
    '"ladu2023:Richmond upon Thames",3.9,1.0,-,1.1',                       # 12
    '"gor:London",4.6,0.3,6.0,0.3',                                        # 13
    "",                                                                    # 14
    "",
    '"-","These figures are missing."',
    "",
]


def write(tmp_path: Path, lines: list[str], name="nomis.csv", eol="\n", gz=False) -> Path:
    data = (eol.join(lines) + eol).encode()
    p = tmp_path / (name + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


def with_line(n: int, text: str, lines=NOMIS_LINES) -> list[str]:
    out = list(lines)
    out[n - 1] = text
    return out


def unemp(df, code, year, measure="unemployment_rate_model"):
    sel = df[(df["area_code"] == code) & (df["period"] == pd.Timestamp(year=year, month=1, day=1))
             & (df["measure"] == measure)]
    assert len(sel) <= 1
    return None if sel.empty else float(sel["value"].iloc[0])


@pytest.mark.parametrize("eol, gz", [("\n", False), ("\r\n", False), ("\n", True)])
def test_nomis_hand_made(tmp_path, eol, gz):
    p = write(tmp_path, NOMIS_LINES, eol=eol, gz=gz)
    assert nomis.sniff(p)
    b = nomis.load(p)
    df = b.tables["unemployment"]
    assert b.source == "ons_model_unemployment"
    # Barnet 2 years x 2 measures, Richmond 3 values (2020 rate missing), London 4, City none
    assert len(df) == 4 + 3 + 4
    assert set(df["period_months"]) == {12}
    assert unemp(df, "E09000003", 2019) == 4.7
    assert unemp(df, "E09000003", 2020, "unemployment_rate_model_ci95") == 1.2
    assert unemp(df, "E09000027", 2020) is None
    assert unemp(df, "E09000027", 2020, "unemployment_rate_model_ci95") == 1.1
    assert unemp(df, "E12000007", 2020) == 6.0
    assert set(df[df["area_code"] == "E12000007"]["level"]) == {"region"}
    assert set(df[df["area_code"] == "E09000003"]["level"]) == {"borough"}
    assert not (df["area_code"] == "E09000001").any()
    assert "5 values written '-'" in b.notes[0]


def test_nomis_other_12_month_periods(tmp_path):
    lines = with_line(8, '"Area","Apr 2019-Mar 2020","Conf","Jan 2020-Dec 2020","Conf"')
    df = nomis.load(write(tmp_path, lines)).tables["unemployment"]
    assert pd.Timestamp("2019-04-01") in set(df["period"])


@pytest.mark.parametrize("line, text, row, column, message", [
    (10, '"ladu2023:Barnet",4.7,x,4.5,1.2', 10, "Conf (Jan 2019-Dec 2019)", "not a number"),
    (12, '"ladu2023:Richmond upon Thames",3.9,1.0,!,1.1', 12, "Jan 2020-Dec 2020",
     "not a number"),
    (10, '"ladu2023:Gotham",4.7,1.3,4.5,1.2', 10, "Area", "unknown borough"),
    (13, '"gor:Wessex",4.6,0.3,6.0,0.3', 13, "Area", "unknown region"),
    (10, '"ward:Barnet",4.7,1.3,4.5,1.2', 10, "Area", "geography type"),
    (10, '"ladu2023:Barnet",104.7,1.3,4.5,1.2', 10, "Jan 2019-Dec 2019", "out of range"),
    (10, '"ladu2023:Barnet",4.7,-1.3,4.5,1.2', 10, "Conf (Jan 2019-Dec 2019)", "negative"),
    (10, '"ladu2023:Barnet",4.7,1.3,4.5', 10, None, "4 fields"),
    (13, '"ladu2023:Barnet",4.6,0.3,6.0,0.3', 13, "Area", "repeats line 10"),
    (8, '"Area","Jan 2019-Dec 2019","Conf","Numerator","Conf"', 8, "Numerator",
     "unknown column"),
    (8, '"Area","Jan 2019-Dec 2019","Conf","Jan 2019-Dec 2019","Conf"', 8, "Jan 2019-Dec 2019",
     "duplicate period"),
])
def test_nomis_errors_give_the_real_file_line(tmp_path, line, text, row, column, message):
    with pytest.raises(SourceError, match=message) as e:
        nomis.load(write(tmp_path, with_line(line, text)))
    assert e.value.row == row
    assert e.value.column == column
    assert "nomis.csv" in str(e.value)


def test_nomis_refuses_other_items_and_truncation(tmp_path):
    with pytest.raises(SourceError, match="unknown Nomis item"):
        nomis.load(write(tmp_path, with_line(5, '"Item Name  :","Unemployment rate"')))
    with pytest.raises(SourceError, match="confidence"):
        nomis.load(write(tmp_path, with_line(6, '"Confidence :","90% interval"')))
    with pytest.raises(SourceError, match="truncated") as e:
        nomis.load(write(tmp_path, NOMIS_LINES[:12]))  # cut after line 12: no end of table
    assert e.value.row == 12
    with pytest.raises(SourceError, match="no data rows"):
        nomis.load(write(tmp_path, NOMIS_LINES[:9]))
    with pytest.raises(SourceError, match="no header"):
        nomis.load(write(tmp_path, NOMIS_LINES[:7]))
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        nomis.load(empty)
    gz = write(tmp_path, NOMIS_LINES * 20, gz=True)
    gz.write_bytes(gz.read_bytes()[:-25])
    with pytest.raises(SourceError, match="truncated or corrupt"):
        nomis.load(gz)


def test_nomis_real_file_facts():
    assert registry.detect(NOMIS_REAL) is nomis
    df = nomis.load(NOMIS_REAL).tables["unemployment"]
    facts = {"E12000007": (4.6, 6.0, 5.6), "E09000002": (5.7, 8.0, 7.6),
             "E09000031": (5.2, 7.7, 6.6), "E09000026": (4.3, 5.4, 7.4)}
    for code, rates in facts.items():
        assert tuple(unemp(df, code, y) for y in (2019, 2020, 2021)) == rates
    assert not (df["area_code"] == "E09000001").any()  # City of London: every value "-"
    assert df["area_code"].nunique() == 33
    assert len(df) == 33 * 21 * 2
    assert df["period"].min() == pd.Timestamp("2004-01-01")
    assert df["period"].max() == pd.Timestamp("2024-01-01")
    ci = df[(df["measure"] == "unemployment_rate_model_ci95") & (df["level"] == "borough")]
    assert (ci["value"].min(), ci["value"].max(), ci["value"].median()) == (0.8, 2.7, 1.5)


# --- WPI claimant count -------------------------------------------------------------------------

CC_HEADER = ["lsoa11cd", "Claimant count (October 2019)", "Date old",
             "Claimant count (October 2020)", "Date new", "Population", "Pop year",
             "Claimant count rate % (October 2019)", "Claimant count rate % (October 2020)",
             "Claimant count rate ppt change (October 2019 - October 2020)",
             "Change decile (1 = low)", "Neighbourhood name", "Local Authority",
             "IMD rank London (1 is most deprived)", "IMD decile London (1 is most deprived)"]
# rates by hand: 5/927 = 0.54% -> 0.5; 15/927 = 1.62% -> 1.6; 20/1100 = 1.82% -> 1.8;
# 60/1100 = 5.45% -> 5.5
CC_ROWS = [
    ["E01000001", "5", "October 2019", "15", "October 2020", "927", "2019", "0.5", "1.6", "1.1",
     "1", "City of London 001A", "City of London", "4386.0", "10"],
    ["E01000003", "20", "October 2019", "60", "October 2020", "1100", "2019", "1.8", "5.5", "3.6",
     "3", "City of London 001C", "City of London", "2440.0", "6"],
]


def cc_write(tmp_path, rows=CC_ROWS, header=CC_HEADER, name="cc.csv", gz=False) -> Path:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    p = tmp_path / (name + (".gz" if gz else ""))
    data = buf.getvalue().encode()
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


def cc(df, code, month, measure):
    sel = df[(df["area_code"] == code) & (df["period"] == pd.Timestamp(month))
             & (df["measure"] == measure)]
    assert len(sel) == 1
    return float(sel["value"].iloc[0])


def test_claimant_count_hand_made(tmp_path):
    p = cc_write(tmp_path)
    assert claimant_count.sniff(p) and not nomis.sniff(p)
    b = claimant_count.load(p)
    df = b.tables["unemployment"]
    assert b.source == "wpi_claimant_count"
    assert len(df) == 2 * 2 * 3
    assert set(df["period_months"]) == {1} and set(df["level"]) == {"lsoa"}
    assert cc(df, "E01000001", "2019-10-01", "claimant_count") == 5
    assert cc(df, "E01000001", "2020-10-01", "claimant_rate") == 1.6
    assert cc(df, "E01000003", "2020-10-01", "claimant_count") == 60
    assert cc(df, "E01000003", "2019-10-01", "population_16_64") == 1100
    assert cc(df, "E01000003", "2020-10-01", "population_16_64") == 1100
    assert any("mid-2019" in n for n in b.notes)
    assert any("E01032xxx" in n for n in b.notes)


def test_claimant_count_three_month_layout(tmp_path):
    header = ["lsoa11cd", "Claimant count (March 2024)", "Date old",
              "Claimant count (March 2025)", "Date new", "Claimant count (March 2019)",
              "Date precovid", "Population", "Pop year", "Claimant count rate % (March 2024)",
              "Claimant count rate % (March 2025)", "Claimant count rate % (March 2019)",
              "Claimant count rate ppt change (March 2024 - March 2025)",
              "Claimant count rate ppt change (March 2019 - March 2025)",
              "Change decile (1 = low)", "Post covid change decile (1 = low)",
              "Neighbourhood name", "Local Authority", "IMD rank London (1 is most deprived)",
              "IMD decile London (1 is most deprived)"]
    row = ["E01000002", "10", "March 2024", "15", "March 2025", "0", "March 2019", "1020",
           "2020", "1.0", "1.5", "0.0", "0.5", "1.5", "4", "3", "City of London 001B",
           "City of London", "4508.0", "10"]
    df = claimant_count.load(cc_write(tmp_path, [row], header)).tables["unemployment"]
    assert sorted(set(df["period"])) == [pd.Timestamp("2019-03-01"), pd.Timestamp("2024-03-01"),
                                         pd.Timestamp("2025-03-01")]
    assert cc(df, "E01000002", "2019-03-01", "claimant_count") == 0
    assert cc(df, "E01000002", "2025-03-01", "claimant_rate") == 1.5


@pytest.mark.parametrize("col, bad, message", [
    ("Claimant count rate % (October 2020)", "6.5", "rate differs"),
    ("Claimant count (October 2019)", "2O", "not a number"),
    ("Claimant count (October 2019)", "-5", "whole number"),
    ("Local Authority", "Gotham", "unknown borough"),
    ("lsoa11cd", "E01000001", "duplicate LSOA"),
    ("lsoa11cd", "E1000003", "not an LSOA GSS code"),
    ("Date new", "November 2020", "month label differs"),
    ("Population", "0", "whole number from 1"),
    ("Change decile (1 = low)", "11", "whole number from 1 to 10"),
    ("Pop year", "2020", "population year differs"),
])
def test_claimant_count_bad_values(tmp_path, col, bad, message):
    row = list(CC_ROWS[1])
    row[CC_HEADER.index(col)] = bad
    with pytest.raises(SourceError, match=message) as e:
        claimant_count.load(cc_write(tmp_path, [CC_ROWS[0], row]))
    assert e.value.row == 3 and e.value.column == col


def test_claimant_count_bad_structure(tmp_path):
    no_rate = [h for h in CC_HEADER if h != "Claimant count rate % (October 2020)"]
    rows = [[v for h, v in zip(CC_HEADER, r, strict=True) if h in no_rate] for r in CC_ROWS]
    with pytest.raises(SourceError, match="no rate column") as e:
        claimant_count.load(cc_write(tmp_path, rows, no_rate))
    assert e.value.column == "Claimant count (October 2020)"
    with pytest.raises(SourceError, match="unknown column") as e:
        claimant_count.load(cc_write(tmp_path, [r + ["x"] for r in CC_ROWS], CC_HEADER + ["Note"]))
    assert e.value.row == 1 and e.value.column == "Note"
    with pytest.raises(SourceError, match="missing required column 'Population'"):
        claimant_count.load(cc_write(
            tmp_path, [r[:5] + r[6:] for r in CC_ROWS], CC_HEADER[:5] + CC_HEADER[6:]))
    bad_month = [h.replace("(October 2019)", "(Octember 2019)") for h in CC_HEADER]
    with pytest.raises(SourceError, match="not a month"):
        claimant_count.load(cc_write(tmp_path, CC_ROWS, bad_month))
    with pytest.raises(SourceError, match="missing value") as e:
        claimant_count.load(cc_write(tmp_path, [CC_ROWS[0], CC_ROWS[1][:6]]))
    assert e.value.row == 3
    empty = tmp_path / "cc.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        claimant_count.load(empty)
    gz = cc_write(tmp_path, CC_ROWS * 30, gz=True)
    gz.write_bytes(gz.read_bytes()[:-20])
    with pytest.raises(SourceError, match="truncated or corrupt"):
        claimant_count.load(gz)


@pytest.fixture(scope="module")
def lsoa_to_lad() -> pd.Series:
    attrs = pyogrio.read_dataframe(
        BUNDLED / "boundaries" / "lsoa2011_gen20" / "london-2011-lsoa-gen20.shp.zip",
        read_geometry=False, columns=["LSOA11CD", "LAD11CD"])
    return attrs.set_index("LSOA11CD")["LAD11CD"]


def test_claimant_count_real_oct_file(lsoa_to_lad):
    assert registry.detect(CC_OCT) is claimant_count
    df = claimant_count.load(CC_OCT).tables["unemployment"]
    wide = df.pivot_table(index="area_code", columns=["measure", "period"], values="value")
    assert len(wide) == 4642
    n19 = wide[("claimant_count", pd.Timestamp("2019-10-01"))]
    n20 = wide[("claimant_count", pd.Timestamp("2020-10-01"))]
    pop = wide[("population_16_64", pd.Timestamp("2019-10-01"))]
    assert (n19.sum(), n20.sum(), pop.sum()) == (167_940, 457_875, 5_726_445)
    assert (n19 % 5 == 0).all() and (n20 % 5 == 0).all()
    # the 193 missing LSOAs are exactly the London codes from E01032000 on
    missing = set(lsoa_to_lad.index) - set(wide.index)
    assert len(missing) == 193 and min(missing) >= "E01032000"
    # borough rise in rate (sum of LSOAs, ppt), SOURCE.md
    lad = lsoa_to_lad.reindex(wide.index)
    g = pd.DataFrame({"n19": n19, "n20": n20, "pop": pop, "lad": lad}).groupby("lad").sum()
    rise = (100 * (g["n20"] - g["n19"]) / g["pop"]).sort_values()
    # largest: Waltham Forest, Brent, Haringey, Newham; smallest: City, Richmond, Sutton,
    # Westminster. SOURCE.md gives Richmond +3.1, but the sum of LSOAs gives 3.047 (-> 3.0);
    # the other seven agree to 1 dp, so values are checked to within 0.06.
    expected = {"E09000031": 6.5, "E09000005": 7.2, "E09000014": 7.3, "E09000025": 7.6,
                "E09000001": 2.6, "E09000027": 3.1, "E09000029": 3.2, "E09000033": 3.2}
    assert list(rise.index[-4:]) == ["E09000031", "E09000005", "E09000014", "E09000025"]
    assert list(rise.index[:4]) == ["E09000001", "E09000027", "E09000029", "E09000033"]
    for code, ppt in expected.items():
        assert abs(rise[code] - ppt) < 0.06, code


def test_claimant_count_missing_lsoas_hold_5_percent_of_working_age_residents():
    cc_codes = set(claimant_count.load(CC_OCT).tables["unemployment"]["area_code"])
    pop = population.load(BUNDLED / "population_lsoa" / "london-mid2019-pop.csv.gz")
    p = pop.tables["population"]
    wa = p[(p["sex"] == "persons") & (p["age_band"] == "16-64")].set_index("area_code")
    assert wa["population"].sum() == 6_036_893
    assert wa.loc[~wa.index.isin(cc_codes), "population"].sum() == 310_448


def test_claimant_count_real_mar_file():
    df = claimant_count.load(CC_MAR).tables["unemployment"]
    totals = df[df["measure"] == "claimant_count"].groupby("period")["value"].sum()
    assert totals.to_dict() == {pd.Timestamp("2019-03-01"): 148_460,
                                pd.Timestamp("2024-03-01"): 292_205,
                                pd.Timestamp("2025-03-01"): 349_480}
    assert df["area_code"].nunique() == 4642
