"""vru.sources.pas_microdata (the microdata CSV format) and vru.synthetic.pas_microdata (the
seeded synthetic generator): hand-made files, every refusal with file line and column, and
synthetic data that loads and behaves like the survey it imitates."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vru.analysis import survey_weights as sw
from vru.errors import SourceError
from vru.sources import pas, registry
from vru.sources import pas_microdata as pm
from vru.synthetic import pas_microdata as syn

PAS_REAL = Path(pas.__file__).parents[1] / "data" / "bundled" / "mopac_pas_borough" / \
    "PAS_Dashboard_Borough.csv.gz"

HEADER = "respondent_id,quarter,weight,borough,ethnicity,sex,age_band,trust_mps,good_job_local"
LINES = [
    HEADER,                                                                                    # 1
    "r1,2023-Q4,1.5,Hackney,Black,Female,16-24,tend to agree,strongly disagree",              # 2
    "r2,2023-Q4,0.5,City of Westminster,white, MALE ,65+,Don\u2019t know,",                   # 3
    "r3,2023-Q3,2,E09000028,Not stated,Not stated,Not stated,strongly agree,tend to agree",   # 4
    "r1,2023-Q3,1e0,Richmond Upon Thames,Asian,Female,25-34,,neither agree nor disagree",     # 5
]


def write(tmp_path: Path, lines: list[str], name="responses.csv", gz=False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    p = tmp_path / (name + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


def replace(n: int, text: str) -> list[str]:
    out = list(LINES)
    out[n - 1] = text
    return out


@pytest.mark.parametrize("gz", [False, True])
def test_hand_made_file(tmp_path, gz):
    p = write(tmp_path, LINES, gz=gz)
    assert pm.sniff(p)
    b = pm.load(p)
    assert b.source == "pas_microdata"
    t = b.tables["survey_responses"]
    assert list(t.columns) == [c for c, _ in pm.TABLE]
    assert len(t) == 6  # r1 Q4: 2 answers; r2: 1 (good job not asked); r3: 2; r1 Q3: 1
    r2 = t[t["respondent_id"] == "r2"].iloc[0]
    assert (r2["area_code"], r2["ethnicity"], r2["sex"], r2["age_band"]) == \
        ("E09000033", "White", "Male", "65+")
    assert (r2["measure"], r2["answer"], r2["weight"]) == ("trust_mps", "don't know", 0.5)
    assert r2["period_end"] == pd.Timestamp("2023-12-31")
    r1 = t[t["respondent_id"] == "r1"]
    assert set(r1["period_end"]) == {pd.Timestamp("2023-12-31"), pd.Timestamp("2023-09-30")}
    assert r1[r1["period_end"] == pd.Timestamp("2023-09-30")]["area_code"].tolist() == ["E09000027"]
    assert t[t["respondent_id"] == "r3"]["area_code"].iloc[0] == "E09000028"
    assert any("Richmond Upon Thames" in n for n in b.notes)


@pytest.mark.parametrize("line, text, column, fragment", [
    (2, "r1,2023Q4,1.5,Hackney,Black,Female,16-24,tend to agree,", "quarter", "YYYY-Qn"),
    (3, "r2,2023-Q5,1.5,Hackney,Black,Female,16-24,tend to agree,", "quarter", "YYYY-Qn"),
    (4, "r3,2023-Q3,0,Hackney,Black,Female,16-24,tend to agree,", "weight", "positive"),
    (4, "r3,2023-Q3,-1,Hackney,Black,Female,16-24,tend to agree,", "weight", "positive"),
    (4, 'r3,2023-Q3,"1,5",Hackney,Black,Female,16-24,tend to agree,', "weight", "positive"),
    (4, "r3,2023-Q3,nan,Hackney,Black,Female,16-24,tend to agree,", "weight", "positive"),
    (4, "r3,2023-Q3,inf,Hackney,Black,Female,16-24,tend to agree,", "weight", "positive"),
    (5, "r4,2023-Q3,1,Gotham,Black,Female,16-24,tend to agree,", "borough", "unknown London borough"),
    (5, "r4,2023-Q3,1,X-MPS-UNKNOWN,Black,Female,16-24,,", "borough", "unknown London borough"),
    (2, "r1,2023-Q4,1,Hackney,Purple,Female,16-24,,", "ethnicity", "unknown ethnicity"),
    (2, "r1,2023-Q4,1,Hackney,Black,F,16-24,,", "sex", "unknown sex"),
    (2, "r1,2023-Q4,1,Hackney,Black,Female,18-24,,", "age_band", "unknown age_band"),
    (3, "r2,2023-Q4,1,Hackney,Black,Female,16-24,agree,", "trust_mps", "unknown answer"),
    (3, "r2,2023-Q4,1,Hackney,Black,Female,16-24,,yes", "good_job_local", "unknown answer"),
    (3, "John Smith,2023-Q4,1,Hackney,Black,Female,16-24,,", "respondent_id", "letters, digits"),
    (3, "r1,2023-Q4,1,Hackney,Black,Female,16-24,,", "respondent_id", "repeated"),
    (3, "r2,2023-Q4,1,Hackney,Black,Female", "age_band", "missing value"),
    (3, "r2,,1,Hackney,Black,Female,16-24,,", "quarter", "missing value"),
])
def test_bad_values_name_line_and_column(tmp_path, line, text, column, fragment):
    p = write(tmp_path, replace(line, text))
    with pytest.raises(SourceError) as e:
        pm.load(p)
    assert e.value.row == line and e.value.column == column, str(e.value)
    assert fragment in e.value.reason
    assert str(p) in str(e.value)


@pytest.mark.parametrize("header, column, fragment", [
    (HEADER + ",postcode", "postcode", "unknown column"),
    (HEADER + ",trust_mps", "trust_mps", "twice"),
])
def test_bad_headers(tmp_path, header, column, fragment):
    p = write(tmp_path, [header] + [line + "," for line in LINES[1:]])
    with pytest.raises(SourceError) as e:
        pm.load(p)
    assert e.value.row == 1 and e.value.column == column and fragment in e.value.reason


def test_no_measure_columns(tmp_path):
    p = write(tmp_path, [",".join(pm.LEADING), "r1,2023-Q4,1,Hackney,Black,Female,16-24"])
    assert pm.sniff(p)
    with pytest.raises(SourceError, match="no measure columns") as e:
        pm.load(p)
    assert e.value.row == 1


def test_wrong_leading_columns_are_not_this_format(tmp_path):
    p = write(tmp_path, ["quarter,respondent_id,weight,borough,ethnicity,sex,age_band,trust_mps",
                         "2023-Q4,r1,1,Hackney,Black,Female,16-24,tend to agree"])
    assert not pm.sniff(p)
    with pytest.raises(SourceError, match="header must start"):
        pm.load(p)


def test_empty_header_only_and_extra_fields(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        pm.load(empty)
    with pytest.raises(SourceError, match="header only"):
        pm.load(write(tmp_path, [HEADER], name="h.csv"))
    with pytest.raises(SourceError):
        pm.load(write(tmp_path, replace(2, LINES[1] + ",extra"), name="x.csv"))
    with pytest.raises(SourceError, match="no such file"):
        pm.load(tmp_path / "missing.csv")


def test_truncated_gzip_is_a_source_error(tmp_path):
    p = write(tmp_path, LINES, gz=True)
    p.write_bytes(p.read_bytes()[:-12])
    with pytest.raises(SourceError):
        pm.load(p)


def test_sniffers_are_mutually_exclusive(tmp_path):
    ours = write(tmp_path, LINES)
    assert pm.sniff(ours) and not pas.sniff(ours)
    assert not pm.sniff(PAS_REAL)
    claimed = {m.__name__ for m in registry.loaders() if m.sniff(ours)}
    assert claimed <= {"vru.sources.pas_microdata"}
    assert not pm.sniff(tmp_path / "responses.xlsx")


# -- synthetic data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    df = syn.generate(seed=7)
    path = syn.write_csv(df, tmp_path_factory.mktemp("syn") / "synthetic_pas.csv.gz")
    return df, path


@pytest.mark.slow
def test_synthetic_is_reproducible_and_seeded(tmp_path, synthetic):
    df, path = synthetic
    again = syn.generate(seed=7)
    pd.testing.assert_frame_equal(df, again)
    p2 = syn.write_csv(again, tmp_path / "again.csv.gz")
    assert p2.read_bytes() == path.read_bytes()
    other = syn.generate(seed=8)
    assert not other["weight"].equals(df["weight"])


@pytest.mark.slow
def test_synthetic_loads_and_has_the_pas_shape(synthetic):
    df, path = synthetic
    assert pm.sniff(path)
    t = pm.read(path)
    assert len(df) == 32 * 4 * 100  # 100 interviews per borough per quarter, 32 MPS boroughs
    assert t["respondent_id"].nunique() == len(df)
    assert "E09000001" not in set(t["area_code"])  # the PAS does not cover the City
    answered = (df[list(pm.MEASURES)] != "").to_numpy().sum()
    assert len(t) == answered
    assert 0.95 < answered / (len(df) * 8) < 1.0  # about 1% item non-response
    per = df.groupby(["quarter", "borough"])["weight"]
    assert (per.size() == 100).all()
    assert np.allclose(per.mean(), 1.0)
    w = df["weight"].to_numpy()
    kish = len(w) * (w * w).sum() / w.sum() ** 2
    assert 1.05 < kish < 1.6  # weights vary as in a real survey, but not wildly


def test_synthetic_group_effects_show_in_the_estimates(synthetic):
    _, path = synthetic
    t = pm.read(path)
    x = t[t["measure"] == "trust_mps"].assign(y=lambda d: sw.indicator(d["answer"], pm.AGREE))
    tab = sw.weighted_percentages(x, "y", "ethnicity")
    g = sw.gaps(tab, "ethnicity", [("Black", "White")]).iloc[0]
    assert g["label"] == "White higher" and g["ci_high"] < 0
    ages = sw.weighted_percentages(x, "y", "age_band").set_index("age_band")["p"]
    assert ages["16-24"] < ages["65+"]
    overall = sw.weighted_share(x["y"], x["weight"])["p"]
    assert abs(overall - syn.DEFAULT_LEVELS["trust_mps"]) < 0.04


@pytest.mark.slow
def test_synthetic_follows_published_borough_targets():
    targets = pas.load(PAS_REAL).tables["survey"]
    df = syn.generate(quarters=["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"], per_borough=300,
                      measures=["good_job_local"], targets=targets, seed=3)
    df = df.assign(y=sw.indicator(df["good_job_local"].replace("", None), pm.AGREE))
    names = {v: k for k, v in pas.BOROUGHS.items()}
    est = df.groupby("borough")[["y", "weight"]].apply(
        lambda g: np.average(g["y"].dropna(), weights=g.loc[g["y"].notna(), "weight"]))
    est.index = est.index.map(names)
    tgt = (targets[(targets["measure"] == "good_job_local")
                   & (targets["period_end"].dt.year == 2023)]
           .groupby("area_code")["value"].mean())
    both = pd.concat([est.rename("syn"), tgt.rename("pas")], axis=1).dropna()
    assert len(both) == 32
    assert (both["syn"] - both["pas"]).abs().mean() < 0.03
    assert both["syn"].corr(both["pas"]) > 0.8


def test_trust_not_asked_before_2016():
    df = syn.generate(quarters=["2015-Q4", "2016-Q1"], per_borough=10, seed=1)
    assert (df.loc[df["quarter"] == "2015-Q4", "trust_mps"] == "").all()
    assert (df.loc[df["quarter"] == "2016-Q1", "trust_mps"] != "").mean() > 0.9


def test_generator_refuses_unknowns():
    with pytest.raises(ValueError):
        syn.generate(measures=["happiness"])
    with pytest.raises(ValueError):
        syn.generate(boroughs=["E09999999"])


@pytest.mark.slow
def test_small_cells_in_synthetic_tables_are_suppressed(synthetic):
    _, path = synthetic
    t = pm.read(path)
    q4 = t[(t["measure"] == "good_job_local") & (t["period_end"] == pd.Timestamp("2023-12-31"))]
    q4 = q4.assign(y=sw.indicator(q4["answer"], pm.AGREE))
    tab = sw.weighted_percentages(q4, "y", ["area_code", "ethnicity"])
    assert tab["suppressed"].sum() > 100  # ~100 respondents per borough: most cells are small
    assert (tab.loc[~tab["suppressed"], "n"] >= 50).all()
    assert tab.loc[tab["suppressed"], ["n", "p"]].isna().all().all()
