"""vru.sources.pas: hand-made files with hand-computed answers, every documented quirk, bad input,
and the real MOPAC PAS file checked against data/bundled/mopac_pas_borough/SOURCE.md."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from vru.errors import SourceError
from vru.sources import pas, registry

REAL = Path(pas.__file__).parents[1] / "data" / "bundled" / "mopac_pas_borough" / \
    "PAS_Dashboard_Borough.csv.gz"

HEADER = "Date,Survey,Borough,Measure,Proportion,MPS,,,,"
LINES = [
    HEADER,                                                                          # 1
    '31/12/2014,PAS,Barking and Dagenham,"""Good Job"" local","0,56","0,67",,,,',   # 2
    '31/12/2014,PAS,City of Westminster,"""Good Job"" local","0,7","0,67",,,,',     # 3
    '31/3/2023,PAS,Richmond upon Thames,Trust MPS,"0,8","0,7",,,,',                 # 4
    '30/6/2023,PAS,Richmond Upon Thames,Trust MPS,"0,81","0,69",,,,',               # 5
    '31/12/2022,PAS,Barking and Dagenham,Trust MPS,"0,73","0,71",,,Trust,"0,71"',   # 6
    "30/9/2016,PAS,Hackney,Contact ward officer,0.12,0.1,,,,",                      # 7
]


def write(tmp_path: Path, lines: list[str], name="PAS_Dashboard_Borough.csv", gz=False,
          final_newline=False) -> Path:
    data = ("\n".join(lines) + ("\n" if final_newline else "")).encode()
    p = tmp_path / (name + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


def replace(n: int, text: str) -> list[str]:
    out = list(LINES)
    out[n - 1] = text
    return out


def get(df, code, date, measure):
    sel = df[(df["area_code"] == code) & (df["period_end"] == pd.Timestamp(date))
             & (df["measure"] == measure)]
    assert len(sel) == 1
    return float(sel["value"].iloc[0]), float(sel["london_value"].iloc[0])


@pytest.mark.parametrize("gz, final_newline", [(False, False), (True, True)])
def test_hand_made_file_with_every_quirk(tmp_path, gz, final_newline):
    p = write(tmp_path, LINES, gz=gz, final_newline=final_newline)
    assert pas.sniff(p)
    b = pas.load(p)
    df = b.tables["survey"]
    assert b.source == "mopac_pas"
    assert len(df) == 6
    assert set(df["level"]) == {"borough"} and set(df["source"]) == {"mopac_pas"}
    assert get(df, "E09000002", "2014-12-31", "good_job_local") == (0.56, 0.67)
    assert get(df, "E09000033", "2014-12-31", "good_job_local") == (0.7, 0.67)
    assert get(df, "E09000027", "2023-03-31", "trust_mps") == (0.8, 0.7)
    assert get(df, "E09000027", "2023-06-30", "trust_mps") == (0.81, 0.69)
    assert get(df, "E09000002", "2022-12-31", "trust_mps") == (0.73, 0.71)
    assert get(df, "E09000012", "2016-09-30", "contact_ward_officer") == (0.12, 0.1)
    assert any("line 6" in n and "Trust" in n for n in b.notes)
    assert any("City of Westminster" in n and "Richmond Upon Thames" in n for n in b.notes)


def test_every_published_measure_has_a_code(tmp_path):
    names = ['"""Good Job"" local"', "Contact ward officer", "Informed local",
             "Listen to concerns", "Relied on to be there", "Treat everyone fairly",
             "Understand issues", "Trust MPS"]
    lines = [HEADER] + [f'31/3/2016,PAS,Brent,{m},"0,5","0,6",,,,' for m in names]
    df = pas.load(write(tmp_path, lines)).tables["survey"]
    assert sorted(df["measure"]) == sorted(
        ["good_job_local", "contact_ward_officer", "informed_local", "listen_to_concerns",
         "relied_on_to_be_there", "treat_everyone_fairly", "understand_issues", "trust_mps"])


@pytest.mark.parametrize("line, text, column, message", [
    (3, '31/12/2014,PAS,Brent,"""Good Job"" local","0,7","0,67",,x,,', "unnamed column 8",
     "unexpected value 'x'"),
    (6, '31/12/2022,PAS,Barking and Dagenham,Trust MPS,"0,73","0,71",,,Trust,"0,72"',
     "unnamed column 10", "unexpected value '0,72'"),
    (5, '30/6/2023,PAS,Richmond Upon Thames,Trust MPS,"0,81","0,69",,,Trust,"0,71"',
     "unnamed column 9", "unexpected value 'Trust'"),
    (3, '31/12/2014,PAS,Brent,"Good Job" national,"0,7","0,67",,,,', "Measure",
     "unknown measure"),
    (3, '31/12/2014,PAS,Gotham,"""Good Job"" local","0,7","0,67",,,,', "Borough",
     "unknown borough"),
    (3, '31/12/2014,PAS,Unknown,"""Good Job"" local","0,7","0,67",,,,', "Borough",
     "unknown borough"),
    (3, '31/11/2014,PAS,Brent,"""Good Job"" local","0,7","0,67",,,,', "Date", "impossible"),
    (3, '15/12/2014,PAS,Brent,"""Good Job"" local","0,7","0,67",,,,', "Date", "quarter-end"),
    (3, '2014-12-31,PAS,Brent,"""Good Job"" local","0,7","0,67",,,,', "Date", "D/M/YYYY"),
    (3, '31/12/2014,PAS,Brent,"""Good Job"" local","1,5","0,67",,,,', "Proportion",
     "between 0 and 1"),
    (3, '31/12/2014,PAS,Brent,"""Good Job"" local","0,7","0,6,7",,,,', "MPS", "not a number"),
    (3, '31/12/2014,PAS,Brent,"""Good Job"" local",,"0,67",,,,', "Proportion",
     "missing value"),
    (3, '31/12/2014,MPS,Brent,"""Good Job"" local","0,7","0,67",,,,', "Survey",
     "unknown survey"),
    (3, '31/12/2014,PAS,Barking & Dagenham,"""Good Job"" local","0,7","0,67",,,,', "Borough",
     "duplicate"),
    (3, '31/12/2014,PAS,Brent,"""Good Job"" local"', "Proportion", "missing value"),
])
def test_bad_rows_name_line_and_column(tmp_path, line, text, column, message):
    with pytest.raises(SourceError, match=message) as e:
        pas.load(write(tmp_path, replace(line, text)))
    assert e.value.row == line
    assert e.value.column == column
    assert "PAS_Dashboard_Borough.csv" in str(e.value)


def test_bad_header_and_empty_files(tmp_path):
    with pytest.raises(SourceError, match="expected column 'MPS'") as e:
        pas.load(write(tmp_path, [
            "Date,Survey,Borough,Measure,Proportion", '31/12/2014,PAS,Brent,Trust MPS,"0,5"']))
    assert e.value.row == 1 and e.value.column == "MPS"
    with pytest.raises(SourceError, match="unknown column 'Note'"):
        pas.load(write(tmp_path, [HEADER + ",Note"] + [x + "," for x in LINES[1:]]))
    with pytest.raises(SourceError, match="no data rows"):
        pas.load(write(tmp_path, [HEADER]))
    empty = tmp_path / "PAS.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        pas.load(empty)
    gz = write(tmp_path, LINES * 40, gz=True)
    gz.write_bytes(gz.read_bytes()[:-25])
    with pytest.raises(SourceError, match="truncated or corrupt"):
        pas.load(gz)


def test_sniff_is_specific(tmp_path):
    assert not pas.sniff(write(tmp_path, ["Date,Borough,Count", "1,2,3"], name="other.csv"))


def test_real_file_facts():
    assert registry.detect(REAL) is pas
    b = pas.load(REAL)
    df = b.tables["survey"]
    assert len(df) == 9312
    assert df["period_end"].nunique() == 37
    assert df["period_end"].min() == pd.Timestamp("2014-12-31")
    assert df["period_end"].max() == pd.Timestamp("2023-12-31")
    assert (df.groupby(["period_end", "measure"])["area_code"].nunique() == 32).all()
    assert "E09000001" not in set(df["area_code"])  # City of London is not surveyed by the MPS
    trust = df[df["measure"] == "trust_mps"]
    assert trust["period_end"].nunique() == 32
    assert trust["period_end"].min() == pd.Timestamp("2016-03-31")
    for m in set(df["measure"]) - {"trust_mps"}:
        assert df[df["measure"] == m]["period_end"].nunique() == 37
    assert (df["value"].min(), df["value"].max()) == (0.04, 0.94)
    good = df[df["measure"] == "good_job_local"]
    by_year = good.groupby(good["period_end"].dt.year)["value"].mean().round(2)
    assert by_year[[2015, 2019, 2021, 2023]].tolist() == [0.67, 0.60, 0.54, 0.49]
    # one London value per quarter and measure
    assert (df.groupby(["period_end", "measure"])["london_value"].nunique() == 1).all()
    assert any("line 8034" in n for n in b.notes)
