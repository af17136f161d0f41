"""vru.analysis.harm: the bundled CSS table and its mapping, weights per harmonised category
(hand-computed), a hand-made CHI file (valid and every kind of bad), harm weighting and rates,
and the generated table in docs/methods-harm.md. The tables are read by vru.data.harm_tables and
passed in, as the pipelines do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vru import taxonomy
from vru.analysis import harm
from vru.data import harm_tables
from vru.data.harm_tables import load_chi
from vru.errors import SourceError

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "methods-harm.md"
T = harm_tables.bundled()


# --- the bundled CSS weights -----------------------------------------------------------------------


def test_bundled_css_table_documented_facts():
    ow = harm.offence_weights(T)
    # SOURCE.md: 134 rows; the aggregate "Homicide" row (1/4.1/4.10/4.2) is left out
    assert len(ow) == 133
    assert ow["weight"].min() == pytest.approx(1.7706, abs=1e-4)  # possession of cannabis
    assert ow["weight"].max() == pytest.approx(7973.39, abs=0.01)  # homicide
    by_code = ow.drop_duplicates("code").set_index("code")["weight"]
    for code, w in {"2": 4654.30, "19C": 2952.94, "29A": 2288.67, "5D": 2034.74, "34B": 799.63,
                    "28E": 465.38, "10A": 616.56, "10D": 53.04, "8N": 189.15, "105A": 13.51,
                    "39": 80.41, "46": 11.86, "9A": 6.81}.items():
        assert by_code[code] == pytest.approx(w, abs=0.005), code
    # every offence maps to a leaf of the taxonomy
    leaves = set(harm._leaves())
    assert ow["category"].notna().all() and set(ow["category"]) <= leaves
    # the Home Office groups agree with the taxonomy's branches
    branch = {"violence against the person": "violence_against_the_person",
              "sexual offences": "sexual_offences", "robbery": "robbery",
              "possession of weapons offences": "possession_of_weapons",
              "public order offences": "public_order_offences",
              "criminal damage and arson": "arson_and_criminal_damage",
              "drug offences": "drug_offences",
              "miscellaneous crimes": "miscellaneous_crimes_against_society"}
    for group, top in branch.items():
        cats = set(ow.loc[ow["group"] == group, "category"])
        assert cats <= taxonomy.descendants(top), group
    theft = set(ow.loc[ow["group"] == "theft offences", "category"])
    assert theft <= taxonomy.descendants("theft") | taxonomy.descendants("burglary") | {
        "vehicle_offences"}
    # knife offences = possession of an article with a blade or point (10D) and other knives (90)
    knife = ow[ow["category"].isin(taxonomy.descendants("knife_offences"))]
    assert sorted(knife["code"]) == ["10D", "90"]
    # every leaf with offences has a representative, and it is one of its offences
    for leaf, (code, _) in T.representatives.items():
        if code is not None:
            assert T.offences[code] == leaf
    assert set(T.representatives) == set(ow["category"])
    assert ow["representative"].sum() == sum(c is not None for c, _ in T.representatives.values())


def test_leaf_weights_under_each_rule_hand_computed():
    rep = harm.css_weights(tables=T)
    med = harm.css_weights(tables=T, aggregate="median")
    mean = harm.css_weights(tables=T, aggregate="mean")
    # stalking and harassment: 8L 36.0975, 8M 37.5113, 8Q 56.3497, 8R 15.1389
    vals = [36.097530142166136, 37.51129786387425, 56.349709671587924, 15.13892860645288]
    assert rep.at["stalking_and_harassment", "weight"] == pytest.approx(vals[0])
    assert med.at["stalking_and_harassment", "weight"] == pytest.approx((vals[0] + vals[1]) / 2)
    assert mean.at["stalking_and_harassment", "weight"] == pytest.approx(np.mean(vals))
    # a one-offence leaf is the same under every rule
    for t in (rep, med, mean):
        assert t.at["possession_of_article_with_blade_or_point", "weight"] == pytest.approx(
            53.03823910170986)
    # miscellaneous crimes: median of 24 offences under the default rule too
    assert rep.at["miscellaneous_crimes_against_society", "weight"] == pytest.approx(
        med.at["miscellaneous_crimes_against_society", "weight"])
    assert rep.at["miscellaneous_crimes_against_society", "n_offences"] == 24
    # homicide: the five rows share one weight; the aggregate row is not counted
    assert rep.at["homicide", "n_offences"] == 3
    assert "fraud_and_forgery" not in rep.index and "anti_social_behaviour" not in rep.index


def test_parent_weights_are_volume_weighted_means_of_their_leaves():
    vols = pd.Series({"robbery_of_personal_property": 9.0, "robbery_of_business_property": 1.0,
                      "possession_of_article_with_blade_or_point": 3.0,
                      "possession_of_other_weapon": 1.0})
    t = harm.css_weights(tables=T, volumes=vols)
    blade, other = 53.03823910170986, 52.12609711004277
    # knife_offences: only the blade leaf has volume
    assert t.at["knife_offences", "weight"] == pytest.approx(blade)
    assert t.at["possession_of_weapons", "weight"] == pytest.approx((3 * blade + other) / 4)
    assert t.at["robbery", "weight"] == pytest.approx(799.6288702314769)
    # a parent none of whose leaves has a volume: the median of its leaves, said so
    assert t.at["firearms_offences", "weight"] == pytest.approx(
        np.median([412.2023946087773, 616.5600892592785, 1287.5444129870136]))
    assert "no volumes" in t.at["firearms_offences", "basis"]
    with pytest.raises(ValueError, match="non-negative"):
        harm.css_weights(tables=T, volumes=pd.Series({"robbery": -1.0}))


def test_default_volumes_are_london_2019():
    v = T.volumes
    assert T.volume_year == 2019 and v.equals(harm_tables.london_volumes(2019))
    # docs/taxonomy.md and the MPS SOURCE.md: London VAP 2019 = 222,042 in the coarse vintage
    vap = v.reindex(sorted(taxonomy.descendants("violence_against_the_person"))).dropna()
    assert vap.sum() == 222_042
    # the knife split comes from the detailed vintage (coarse has one weapons category)
    assert v["possession_of_article_with_blade_or_point"] > 3000
    t = harm.css_weights(tables=T)
    w = t["weight"]
    expected = sum(w[c] * vap[c] for c in vap.index) / vap.sum()
    assert t.at["violence_against_the_person", "weight"] == pytest.approx(expected)


def test_london_volumes_equal_the_mps_loader():
    from vru.sources import mps

    folder = ROOT / "src" / "vru" / "data" / "bundled" / "mps_crime_borough"

    def year_totals(name):
        c = mps.load(folder / name).tables["crime"]
        return c[c["month"].dt.year == 2019].groupby("category")["count"].sum()

    coarse = year_totals(harm_tables.MPS_BOROUGH_FILES[0][0])
    detailed = year_totals(harm_tables.MPS_BOROUGH_FILES[1][0])
    got = harm_tables.london_volumes(2019)
    leaves = set(harm._leaves())
    expected = {c: v for c, v in coarse.items() if c in leaves and v > 0}
    expected.update({c: v for c, v in detailed.items()
                     if c in leaves and c not in expected and v > 0})
    assert got.to_dict() == {c: float(v) for c, v in sorted(expected.items())}
    # the knife and firearms leaves come from the detailed vintage
    assert got["possession_of_article_with_blade_or_point"] == detailed[
        "possession_of_article_with_blade_or_point"]


def test_detailed_vintage_override():
    w = harm.css_weights(tables=T)
    v = pd.Series({"violence_without_injury": 3.0, "stalking_and_harassment": 1.0})
    o = harm.detailed_vintage_overrides(w, v)
    assert o["violence_without_injury"] == pytest.approx(
        (3 * 13.510541522943404 + 36.097530142166136) / 4)
    # London's volumes (docs/methods-harm.md: 22.07 with the defaults)
    assert harm.detailed_vintage_overrides(w, T.volumes)["violence_without_injury"] == pytest.approx(
        22.07, abs=0.005)


# --- harm weighting and rates ----------------------------------------------------------------------


CRIME = pd.DataFrame({
    "area_code": ["A", "A", "B", "B"],
    "year": [2019, 2019, 2019, 2019],
    "category": ["robbery_of_personal_property", "possession_of_article_with_blade_or_point",
                 "robbery_of_personal_property", "public_order_offences"],
    "count": [2.0, 3.0, 1.0, np.nan],
})


def test_harm_weighted_css_and_count():
    res = harm.harm_weighted(CRIME, "css", tables=T)
    out = res.table
    assert out["harm"].iloc[:3].tolist() == pytest.approx(
        [2 * 799.6288702314769, 3 * 53.03823910170986, 799.6288702314769])
    assert np.isnan(out["harm"].iloc[3])  # a missing count stays missing
    assert res.scheme == "css" and res.aggregate == "representative" and res.dropped == {}
    assert res.weights.index.tolist() == sorted(set(CRIME["category"]))
    assert res.weights["public_order_offences"] == pytest.approx(6.811757590441752)
    assert not out.attrs  # what was used is in the result, not in metadata of the table
    cnt = harm.harm_weighted(CRIME, "count")  # counting needs no tables
    assert cnt.table["weight"].tolist() == [1.0] * 4 and cnt.aggregate is None
    assert cnt.table["harm"].iloc[:3].tolist() == [2, 3, 1]
    ov = harm.harm_weighted(CRIME, "css", tables=T, overrides={"public_order_offences": 10.0})
    assert ov.table["weight"].iloc[3] == 10.0 and ov.weights["public_order_offences"] == 10.0


def test_the_weighting_schemes_need_the_tables():
    for scheme in ("css", "chi"):
        with pytest.raises(TypeError, match=r"vru.data.harm_tables.bundled\(\)"):
            harm.category_weights(scheme, chi=load_chi_table("category", {"robbery": 1.0}))
    with pytest.raises(TypeError, match="ChiTable"):
        harm.chi_weights(pd.DataFrame({"key": ["robbery"], "days": [1.0]}), tables=T)


def load_chi_table(kind, days):
    """A CHI table made in memory, as a caller may build one without a file."""
    return harm.ChiTable(kind, pd.DataFrame({"key": list(days), "days": list(days.values())}))


def test_counts_and_css_rank_places_differently():
    # A: 10 public order offences; B: 1 robbery. Counts rank A first, CSS ranks B first.
    df = pd.DataFrame({"area_code": ["A", "B"], "category": ["public_order_offences", "robbery"],
                       "count": [10.0, 1.0]})
    c = harm.harm_weighted(df, "count").table.set_index("area_code")["harm"]
    s = harm.harm_weighted(df, "css", tables=T).table.set_index("area_code")["harm"]
    assert c["A"] > c["B"] and s["B"] > s["A"]


def test_unweighted_categories_are_refused_or_dropped():
    df = pd.concat([CRIME, pd.DataFrame({"area_code": ["A"], "year": [2019],
                                         "category": ["fraud_and_forgery"], "count": [4.0]})])
    with pytest.raises(harm.MissingWeightsError, match=r"fraud_and_forgery \(4 offences\)"):
        harm.harm_weighted(df, "css", tables=T)
    out = harm.harm_weighted(df, "css", tables=T, unweighted="drop")
    assert len(out.table) == 4 and out.dropped == {"fraud_and_forgery": 4.0}
    assert "fraud_and_forgery" not in out.weights.index
    with pytest.raises(ValueError, match="unknown harm weighting"):
        harm.harm_weighted(CRIME, "severity", tables=T)
    with pytest.raises(ValueError, match="no 'count' column"):
        harm.harm_weighted(CRIME.drop(columns="count"), "css", tables=T)
    with pytest.raises(ValueError, match="unknown category"):
        harm.harm_weighted(CRIME, "css", tables=T, overrides={"knives": 1.0})


def test_per_population():
    v = pd.Series({"A": 10.0, "B": 3.0})
    r = harm.per_population(v, pd.Series({"A": 2000, "B": 1500, "C": 10}))
    assert r.to_dict() == {"A": 5.0, "B": 2.0}
    df = pd.DataFrame({2019: [10.0, 3.0], 2020: [20.0, 0.0]}, index=["A", "B"])
    r2 = harm.per_population(df, pd.Series({"A": 1000, "B": 3000}), per=100)
    assert r2.loc["A"].tolist() == [1.0, 2.0] and r2.loc["B"].tolist() == [0.1, 0.0]
    with pytest.raises(ValueError, match="without a positive population, e.g. \\['B'\\]"):
        harm.per_population(v, pd.Series({"A": 10.0, "B": 0.0}))
    with pytest.raises(ValueError, match="e.g. \\['B'\\]"):
        harm.per_population(v, pd.Series({"A": 10.0}))


# --- Cambridge Crime Harm Index ---------------------------------------------------------------------


def write(tmp_path, text, name="chi.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_chi_is_refused_without_a_table():
    with pytest.raises(harm.MissingWeightsError, match="no Cambridge Crime Harm Index table"):
        harm.harm_weighted(CRIME, "chi", tables=T)
    with pytest.raises(harm.MissingWeightsError, match="load_chi and passed as chi="):
        harm.category_weights("chi", tables=T)


def test_chi_by_category(tmp_path):
    # hand-made values (not real CHI figures): a leaf, its sibling and an explicit parent
    p = write(tmp_path, "category,days,note\n"
                        "robbery_of_personal_property,365,hand-made\n"
                        "robbery_of_business_property,730,\n"
                        "public_order_offences,2,\n"
                        "possession_of_weapons,100,\n"
                        "possession_of_article_with_blade_or_point, 80 ,\n")
    t = load_chi(p)
    assert t.key_kind == "category" and t.table["days"].tolist() == [365, 730, 2, 100, 80]
    assert t.source == str(p) and not t.table.attrs
    vols = pd.Series({"robbery_of_personal_property": 3.0, "robbery_of_business_property": 1.0,
                      "public_order_offences": 5.0})
    w = harm.chi_weights(t, tables=T, volumes=vols)
    assert w.at["robbery", "weight"] == pytest.approx((3 * 365 + 730) / 4)
    assert w.at["possession_of_weapons", "weight"] == 100  # given explicitly, not derived
    assert w.at["possession_of_weapons", "basis"] == "given in the CHI table"
    assert "homicide" not in w.index
    out = harm.harm_weighted(CRIME.iloc[:3], "chi", tables=T, chi=t, volumes=vols)
    assert out.table["harm"].tolist() == [730.0, 240.0, 365.0] and out.scheme == "chi"
    with pytest.raises(harm.MissingWeightsError, match="no chi weight for homicide"):
        harm.harm_weighted(pd.DataFrame({"category": ["homicide"], "count": [1.0]}), "chi", tables=T, chi=t)
    # a table built in memory weighs the same as the file
    mem = load_chi_table("category", dict(zip(t.table["key"], t.table["days"], strict=True)))
    assert harm.chi_weights(mem, tables=T, volumes=vols).equals(w)


def test_chi_by_offence_code(tmp_path):
    p = write(tmp_path, "offence_code,days,description\n"
                        "105A,7,common assault (hand-made)\n"
                        "3B,100,\n"
                        "8N,30,\n")
    chi = load_chi(p)
    assert chi.key_kind == "offence_code"
    w = harm.chi_weights(chi, tables=T)
    assert w.at["violence_without_injury", "weight"] == 7  # the representative offence 105A
    assert w.at["violence_with_injury", "weight"] == 30
    med = harm.chi_weights(chi, tables=T, aggregate="median")
    assert med.at["violence_without_injury", "weight"] == pytest.approx(53.5)
    vols = pd.Series({"violence_without_injury": 1.0, "violence_with_injury": 1.0})
    assert harm.chi_weights(chi, tables=T, volumes=vols).at["violence_against_the_person", "weight"] == 18.5


@pytest.mark.parametrize("text, row, column, message", [
    ("category,days\nrobbery,1\nrobbery,2\n", 3, "category", "appears twice"),
    ("category,days\nknives,1\n", 2, "category", "unknown harmonised category"),
    ("category,days\nrobbery,-1\n", 2, "days", "number >= 0"),
    ("category,days\nrobbery,lots\n", 2, "days", "number >= 0"),
    ("category,days\nrobbery,inf\n", 2, "days", "number >= 0"),
    ("category,days\nrobbery,\n", 2, "days", "number >= 0"),
    ("category,days\n,5\n", 2, "category", "empty category"),
    ("category,days\nanti_social_behaviour,5\n", 2, "category", "not a crime"),
    ("offence_code,days\n10D,5\nXYZ,1\n", 3, "offence_code", "unknown Home Office offence code"),
    ("category,weight\nrobbery,1\n", 1, "days", "missing required column"),
    ("category,days,colour\nrobbery,1,red\n", 1, "colour", "unknown column"),
    ("offence,days\nrobbery,1\n", 1, "category", "exactly one of"),
    ("category,offence_code,days\nrobbery,34B,1\n", 1, "offence_code", "exactly one of"),
    ("category,days\n", 2, None, "empty"),
])
def test_bad_chi_files(tmp_path, text, row, column, message):
    p = write(tmp_path, text)
    with pytest.raises(SourceError, match=message) as e:
        load_chi(p)
    assert e.value.row == row and e.value.column == column
    assert str(p) in str(e.value)


def test_empty_chi_file(tmp_path):
    with pytest.raises(SourceError, match="empty"):
        load_chi(write(tmp_path, ""))


def test_chi_gzip(tmp_path):
    import gzip

    p = tmp_path / "chi.csv.gz"
    p.write_bytes(gzip.compress(b"category,days\r\nrobbery,365\r\n"))
    assert load_chi(p).table["days"].tolist() == [365.0]


# --- the documentation ------------------------------------------------------------------------------


def test_the_weights_table_in_the_docs_is_current():
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- BEGIN GENERATED WEIGHTS -->", "<!-- END GENERATED WEIGHTS -->"
    assert start in text and end in text
    block = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert block == harm.weights_markdown(T).strip(), (
        "docs/methods-harm.md is stale: regenerate the block with "
        "vru.analysis.harm.weights_markdown(vru.data.harm_tables.bundled())")
