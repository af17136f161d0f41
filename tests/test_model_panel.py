"""The validated Panel (vru.model.panel): constructors, invariants, field conventions, messages that
name the column and the kind of value, and the analyses taking it in place of a DataFrame."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from vru import api
from vru.analysis import did, evaluation, synth
from vru.analysis.did import EvaluationError
from vru.errors import VRUError
from vru.model import Panel, PanelError
from vru.testing import assert_panels_equal, staggered_panel

YEARS = [2015, 2016, 2017, 2018]


def _long(cohort=None, periods=YEARS) -> pd.DataFrame:
    """Three counties x four years, listed out of order; county B first treated in ``cohort``."""
    rows = []
    for u, base in (("C", 30.0), ("A", 10.0), ("B", 20.0)):
        for k, p in enumerate(reversed(periods)):
            rows.append({"county": u, "year": p, "assaults": base + k,
                         "first": cohort if u == "B" else np.nan})
    return pd.DataFrame(rows)


# --- building ------------------------------------------------------------------------------------


def test_from_long_sorts_and_round_trips():
    df = _long(cohort=2017)
    p = Panel.from_long(df, unit="county", period="year", value="assaults", cohort="first",
                        source="made up", measure_unit="offences per year")
    assert list(p.units) == ["A", "B", "C"] and list(p.periods) == YEARS
    assert p.values.shape == (3, 4)
    assert p.values[0].tolist() == [13.0, 12.0, 11.0, 10.0]  # A in 2015..2018
    assert p.cohorts.tolist() == [None, 2017, None]
    assert p.cohort_index.tolist() == [-1, 2, -1]
    assert p.measure == "assaults" and p.source == "made up"
    back = p.to_long()
    assert list(back.columns) == ["county", "year", "assaults", "first"]
    assert_panels_equal(back, df, keys=("county", "year"), value="assaults")
    assert "3 units x 4 periods, 2015 to 2018; 1 treated" in p.describe()


def test_panel_is_frozen_and_owns_its_values():
    y = np.arange(6, dtype=float).reshape(2, 3)
    p = Panel(pd.Index(["a", "b"]), pd.Index([1, 2, 3]), y)
    y[0, 0] = 99.0
    assert p.values[0, 0] == 0.0  # a copy, not a view of the caller's array
    with pytest.raises(ValueError):
        p.values[0, 0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.measure = "other"  # type: ignore[misc]


def test_invariants_checked_by_the_constructor_itself():
    y = np.zeros((2, 3))
    with pytest.raises(PanelError, match="2 x 3, but the panel has 2 units x 2 periods"):
        Panel(pd.Index(["a", "b"]), pd.Index([1, 2]), y)
    with pytest.raises(PanelError, match="not in sorted order"):
        Panel(pd.Index(["b", "a"]), pd.Index([1, 2, 3]), y)
    with pytest.raises(PanelError, match="unit 'a' appears more than once in column 'unit'"):
        Panel(pd.Index(["a", "a"]), pd.Index([1, 2, 3]), y)
    with pytest.raises(PanelError, match="column 'period' mixes numbers .* and text"):
        Panel(pd.Index(["a", "b"]), pd.Index([1, "2", 3], dtype=object), y)
    bad = y.copy()
    bad[1, 2] = np.inf
    with pytest.raises(PanelError, match="not a finite number for unit 'b', period 3"):
        Panel(pd.Index(["a", "b"]), pd.Index([1, 2, 3]), bad)
    with pytest.raises(PanelError, match="cohort is given for unit 'z', which is not in the panel"):
        Panel(pd.Index(["a", "b"]), pd.Index([1, 2, 3]), y, cohorts=pd.Series({"z": 2}))


# --- messages that name the column and the kind of value --------------------------------------------


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.drop(columns="year"), r"the panel has no column 'year' \(columns: county, "),
    (lambda d: d.assign(assaults=d["assaults"].astype(object).where(d.index != 2, "n/a")),
     r"column 'assaults' is not a finite number in row 2 \(unit 'C', period 2016: it holds text "
     r"\('n/a'\)\)"),
    (lambda d: d.assign(assaults=d["assaults"].where(d.index != 2, np.nan)),
     r"missing 'assaults' \(row 2, unit 'C', period 2016\)"),
    (lambda d: d.assign(year=d["year"].astype(object).where(d.index != 0, "2018")),
     r"column 'year' mixes text \(e.g. '2018'\) and numbers \(e.g. 2017\): give every period "
     "as the same kind of value"),
    (lambda d: d.assign(year=d["year"].astype(str)),
     r"cohort column 'first' holds numbers, period column 'year' holds text \(unit 'B': first "
     r"treated period 2017\)"),
    (lambda d: d.iloc[1:], "not balanced: unit 'C' has no row for period 2018"),
    (lambda d: pd.concat([d, d.iloc[[0]]]), "more than one row for unit 'C', period 2018"),
    (lambda d: d.assign(first=np.where(d.index == 4, 2016, d["first"])),
     r"the cohort \(first treated period\) of unit 'A' varies between its rows \(column 'first'\)"),
    (lambda d: d.assign(first=d["first"].where(d["county"] != "B", 2030)),
     r"unit 'B': first treated period 2030 is outside the panel \(2015 to 2018\)"),
])
def test_bad_long_panels_name_the_column_and_the_kind(mutate, message):
    with pytest.raises(PanelError, match=message):
        Panel.from_long(mutate(_long(cohort=2017)), unit="county", period="year",
                        value="assaults", cohort="first")


def test_errors_are_vru_errors_and_value_errors():
    assert issubclass(PanelError, VRUError) and issubclass(PanelError, ValueError)
    with pytest.raises(PanelError, match="must be a pandas DataFrame, not list"):
        Panel.from_long([1, 2, 3])  # type: ignore[arg-type]


def test_cluster_must_be_constant_within_a_unit():
    df = _long().assign(region=lambda d: d["county"].map({"A": "N", "B": "N", "C": "S"}))
    p = Panel.from_long(df, unit="county", period="year", value="assaults", cluster="region")
    assert p.clusters.tolist() == ["N", "N", "S"]
    df.loc[0, "region"] = "N"  # C's first row
    with pytest.raises(PanelError, match="cluster 'region' varies within unit 'C'"):
        Panel.from_long(df, unit="county", period="year", value="assaults", cluster="region")


# --- field conventions ----------------------------------------------------------------------------


def test_never_treated_coded_zero_is_read_as_never_with_a_note():
    df = _long(cohort=2017).fillna({"first": 0})
    p = Panel.from_long(df, unit="county", period="year", value="assaults", cohort="first")
    assert p.cohorts.tolist() == [None, 2017, None]
    assert p.notes == ("cohort 0 read as never treated (the convention of R's did and csdid) "
                       "for 2 units",)
    # where 0 is a period, 0 is a cohort (the first period), not never treated
    df0 = _long(cohort=0, periods=[0, 1, 2, 3])
    p0 = Panel.from_long(df0, unit="county", period="year", value="assaults", cohort="first")
    assert p0.cohorts.tolist() == [None, 0, None] and p0.notes == ()


def test_date_periods_take_cohorts_written_as_months():
    months = list(pd.date_range("2021-01-01", periods=4, freq="MS"))
    df = _long(periods=months).assign(first=lambda d: np.where(d["county"] == "B", "2021-03",
                                                                None))
    p = Panel.from_long(df, unit="county", period="year", value="assaults", cohort="first")
    assert isinstance(p.periods, pd.DatetimeIndex)
    assert p.cohorts["B"] == pd.Timestamp("2021-03-01") and p.cohort_index.tolist() == [-1, 2, -1]
    df["first"] = np.where(df["county"] == "B", "spring", None)
    with pytest.raises(PanelError, match="cohort column 'first' holds text that is not a date"):
        Panel.from_long(df, unit="county", period="year", value="assaults", cohort="first")


def test_from_wide_reads_year_headers_as_numbers_and_month_headers_as_dates():
    wide = pd.DataFrame({"county": ["B", "A"], "2015": [1.0, 2.0], "2016": [3.0, 4.0],
                         "first": [2016, 0]})
    p = Panel.from_wide(wide, unit="county", cohort="first", measure="assaults")
    assert list(p.units) == ["A", "B"] and list(p.periods) == [2015, 2016]
    assert p.values.tolist() == [[2.0, 4.0], [1.0, 3.0]]
    assert p.cohorts.tolist() == [None, 2016] and p.measure == "assaults"
    by_index = pd.DataFrame({"2021-01": [1.0], "2021-02": [2.0]}, index=pd.Index(["A"], name="ward"))
    q = Panel.from_wide(by_index)
    assert list(q.periods) == [pd.Timestamp("2021-01-01"), pd.Timestamp("2021-02-01")]
    assert q.names["unit"] == "ward"
    with pytest.raises(PanelError, match="column '2016' has no value for unit 'A'"):
        Panel.from_wide(wide.assign(**{"2016": [3.0, None]}), unit="county", cohort="first")
    with pytest.raises(PanelError, match=r"column '2016' holds text for unit 'A' \('x'\), not a "
                                         r"number"):
        Panel.from_wide(wide.assign(**{"2016": [3.0, "x"]}), unit="county", cohort="first")

    # the messages name what the user gave (the column headers), never the internal '_period'
    with pytest.raises(PanelError) as e:
        Panel.from_wide(pd.DataFrame({"county": ["A"], "2015": [1.0], 2016: [2.0]}), unit="county")
    assert str(e.value).startswith("the period column headers mix text (e.g. '2015') and numbers "
                                   "(e.g. 2016)") and "_period" not in str(e.value)
    with pytest.raises(PanelError) as e:
        Panel.from_wide(wide.assign(first=["2016", None]), unit="county", cohort="first")
    assert "the period column headers hold numbers" in str(e.value) and "_period" not in str(e.value)


def test_columns_named_twice_are_refused_by_name():
    df = _long(cohort=2016)
    with pytest.raises(PanelError, match="column 'county' is named as the unit and the period: each "
                                         "needs a column of its own"):
        Panel.from_long(df, unit="county", period="county", value="assaults")
    with pytest.raises(PanelError, match="column 'year' is named as the period and the cohort"):
        Panel.from_long(df, unit="county", period="year", value="assaults", cohort="year")
    dup = df.copy()
    dup.columns = ["county", "year", "year", "first"]
    with pytest.raises(PanelError, match="the panel has 2 columns named 'year': give each column a "
                                         "name of its own"):
        Panel.from_long(dup, unit="county", period="year", value="first")
    # a duplicate column the panel does not use is no obstacle
    other = df.assign(note=1)
    other.columns = ["county", "year", "assaults", "note", "note"]
    assert Panel.from_long(other, unit="county", period="year", value="assaults").n_units == 3


def test_never_treated_coded_as_empty_text_gets_a_hint():
    df = _long(cohort=2016).astype({"first": object})
    df.loc[df["county"] != "B", "first"] = ""
    with pytest.raises(PanelError, match="cohort column 'first' holds empty text for unit 'A' "
                                         r"\(2 units in all\): code never-treated units as "
                                         "missing or 0, not as ''"):
        Panel.from_long(df, unit="county", period="year", value="assaults", cohort="first")
    months = _long(cohort="2021-02", periods=list(pd.date_range("2021-01-01", periods=4, freq="MS")))
    months.loc[months["county"] == "A", "first"] = " "
    with pytest.raises(PanelError, match="holds empty text for unit 'A' \\(1 unit in all\\): code "
                                         "never-treated units as missing, not as ''"):
        Panel.from_long(months, unit="county", period="year", value="assaults", cohort="first")


# --- the analyses take it ------------------------------------------------------------------------


def test_did_and_synth_give_the_same_answer_from_a_panel_or_a_dataframe():
    df = staggered_panel(n_units=30, n_periods=8, cohorts=(4, 6), seed=2)
    p = Panel.from_long(df, value="outcome", cohort="cohort")
    a, b = did.att_gt(df), did.att_gt(p)
    pd.testing.assert_frame_equal(a.event, b.event)
    assert a.att == b.att and a.se == b.se
    treated = {"u020": 5, "u021": 5}
    s1 = synth.synth(df, treated, placebos=False, unit_placebos=False)
    s2 = synth.synth(p, treated, placebos=False, unit_placebos=False)
    assert s1.pooled_att == s2.pooled_att
    pd.testing.assert_frame_equal(s1.weights, s2.weights)


def test_panel_errors_reach_the_analyses_as_evaluation_errors():
    df = _long(cohort=2017)
    with pytest.raises(EvaluationError, match="column 'assaults' is not a finite number"):
        did.att_gt(df.assign(assaults="x"), unit="county", period="year", outcome="assaults",
                   cohort="first")


def test_evaluate_takes_the_cohorts_from_the_panel():
    df = staggered_panel(n_units=24, n_periods=8, cohorts=(5,), never_treated=0.75, seed=5)
    treated = {u: 5 for u in df.loc[df["cohort"].notna(), "unit"].unique()}
    kw = dict(unit="unit", period="period", outcome="outcome", methods=("did",), power=False,
              n_draws=50)
    by_map = evaluation.evaluate(df.drop(columns="cohort"), treated, **kw)
    by_col = evaluation.evaluate(df, cohort="cohort", **kw)
    by_panel = evaluation.evaluate(Panel.from_long(df, value="outcome", cohort="cohort"),
                                   **kw)
    assert by_map.did.att == by_col.did.att == by_panel.did.att
    with pytest.raises(EvaluationError, match="given twice"):
        evaluation.evaluate(df, treated, cohort="cohort", **kw)
    with pytest.raises(EvaluationError, match="no treated areas: give treated"):
        evaluation.evaluate(df.drop(columns="cohort"), **kw)


def test_api_evaluate_takes_a_dataframe_or_a_panel():
    df = staggered_panel(n_units=20, n_periods=8, cohorts=(5,), never_treated=0.8, effect=3.0,
                         seed=7).rename(columns={"unit": "school", "period": "term",
                                                 "outcome": "exclusions"})
    treated = {u: 5 for u in df.loc[df["cohort"].notna(), "school"].unique()}
    df = df.drop(columns="cohort")
    kw = dict(treated=treated, n_draws=100, methods=("did",), power=False)
    r = api.evaluate(panel=df, unit="school", period="term", value="exclusions", **kw)
    assert r["design"]["n_treated"] == 4 and r["did"]["simple"]["estimate"] > 2
    assert "4 treated areas" in r["statement"]
    p = Panel.from_long(df, unit="school", period="term", value="exclusions")
    assert api.evaluate(p, **kw)["did"]["simple"] == r["did"]["simple"]
    with pytest.raises(VRUError, match=r"the panel has no column 'term' \(columns: unit, "):
        api.evaluate(panel=df.rename(columns={"school": "unit", "term": "t"}), value="exclusions",
                     period="term", **kw)
    with pytest.raises(VRUError, match=r"start 5 is a number, but the panel's periods \(column "
                                       r"'term'\) are text"):
        api.evaluate(panel=df.assign(term=df["term"].astype(str)), unit="school", period="term",
                     value="exclusions", **kw)
    with pytest.raises(VRUError, match="vru.api.evaluate.* unexpected keyword argument 'bogus'"):
        api.evaluate(panel=df, unit="school", period="term", value="exclusions", bogus=1, **kw)
    with pytest.raises(VRUError, match="either a panel or a warehouse"):
        api.evaluate("wh.duckdb", panel=df, **kw)


@pytest.mark.usefixtures("london_warehouse")
def test_from_warehouse_is_the_evaluation_panel(wh):
    from vru.geography import CITY_OF_LONDON
    from vru.pipelines import evaluation as pe

    ref = pe.panel(wh)
    p = Panel.from_warehouse(wh, "violence_with_injury", start="2018-07",
                             exclude=(CITY_OF_LONDON,), per=1000)
    assert p.n_units == 32 and p.source == "mps_borough_detailed"
    assert p.measure_unit == "offences per 1,000 residents per month"
    assert_panels_equal(p.to_long(), ref.rename(columns={"rate": "value"}),
                        keys=("area_code", "month"), value="value")
    wide = ref.pivot(index="area_code", columns="month", values="rate")
    np.testing.assert_array_equal(p.values, wide.to_numpy())
    counts = Panel.from_warehouse(wh, "violence_with_injury", start="2018-07", end="2019-06",
                                  exclude=(CITY_OF_LONDON,), cohorts={"E09000022": "2019-01"})
    assert counts.n_periods == 12 and counts.cohorts["E09000022"] == pd.Timestamp("2019-01-01")
    with pytest.raises(PanelError, match="unknown crime category 'violence'"):
        Panel.from_warehouse(wh, "violence")
