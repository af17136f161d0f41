"""The evaluation's words: plurals, log outcomes, the recorded-crime caveat, plain numbers in
messages, type mismatches, never-treated coded as 0. Hand-made panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vru.analysis import did
from vru.analysis import evaluation as ev
from vru.analysis.did import EvaluationError
from vru.format import plural

# 1 treated area (T, from period 3) and 5 controls over 4 periods; T = C1 + 1 before the start
YEARS = [1990, 1991, 1992, 1993]
Y = {"T": [2, 3, 1, 2], "C1": [1, 2, 0, 3], "C2": [0, 1, 1, 1], "C3": [2, 2, 2, 2],
     "C4": [3, 1, 2, 0], "C5": [1, 1, 0, 2]}


def _panel(periods=YEARS, cohort=None, never=np.nan) -> pd.DataFrame:
    cohort = cohort if cohort is not None else periods[2]
    return pd.DataFrame([{"unit": u, "period": p, "outcome": float(v),
                          "cohort": cohort if u == "T" else never}
                         for u, ys in Y.items() for p, v in zip(periods, ys, strict=True)])


def _evaluate(**kw):
    return ev.evaluate(_panel(), {"T": 1992}, unit="unit", period="period", outcome="outcome",
                       power=False, n_draws=100, **kw)


def test_one_treated_area_is_singular():
    r = _evaluate(methods=("did",))
    assert r.statement.startswith("1 treated area against 5 control areas, 1990 to 1993.")
    assert "1 treated areas" not in r.statement + " ".join(r.limits)
    assert any(x.startswith("With only 1 treated area the analytic") for x in r.limits)
    assert plural(1, "ring") == "1 ring" and plural(3, "ring") == "3 rings"


def test_recorded_crime_caveat_only_for_recorded_crime():
    assert not any("Recorded crime" in x for x in _evaluate(methods=("did",)).limits)
    r = _evaluate(methods=("did",), recorded_crime=True)
    assert any(x.startswith("Recorded crime measures police activity") for x in r.limits)


def test_log_outcome_fit_in_log_points_not_percent():
    # T = C1 + 1 before the start: C1 alone fits with error 1 in each pre-period, a mix may do
    # better; whatever the fit, on a log outcome it is stated in log points
    r = _evaluate(methods=("synth",), outcome_scale="log")
    assert "log points" in r.statement and "% of the pre-period level" not in r.statement
    r = _evaluate(methods=("synth",))
    assert "% of the pre-period level" in r.statement
    with pytest.raises(EvaluationError, match="unknown outcome_scale 'ln'"):
        _evaluate(methods=("synth",), outcome_scale="ln")


def test_messages_show_plain_numbers():
    df = _panel()
    df["period"] = df["period"].astype(np.int64)
    df.loc[df["unit"] == "T", "cohort"] = 1980
    with pytest.raises(EvaluationError) as e:
        did.att_gt(df)
    msg = str(e.value)
    assert "np." not in msg
    assert msg == ("unit 'T': first treated period 1980 is outside the panel (1990 to 1993) or "
                   "not one of its periods (code never-treated units as missing or 0)")
    with pytest.raises(EvaluationError) as e:
        ev.treated_starts({np.int64(7): np.int64(1980)}, pd.Index(YEARS), None)
    assert str(e.value) == "treated area 7: start 1980 is outside the panel (before 1990 to 1993)"


def test_year_as_text_against_cohort_as_number_is_a_type_mismatch():
    df = _panel(periods=[str(y) for y in YEARS], cohort=1992)
    with pytest.raises(EvaluationError) as e:
        did.att_gt(df)
    assert str(e.value) == ("cohort column 'cohort' holds numbers, period column 'period' holds "
                            "text (unit 'T': first treated period 1992): give the cohorts as "
                            "values of 'period'")
    with pytest.raises(EvaluationError) as e:
        ev.treated_starts({"T": 1992}, pd.Index([str(y) for y in YEARS]), None)
    assert str(e.value) == ("treated area 'T': start 1992 is a number, but the panel's periods "
                            "are text (e.g. '1990'): give the start as a period of the panel")


def test_never_treated_coded_as_zero_as_in_r_did():
    coded_missing = did.att_gt(_panel())
    coded_zero = did.att_gt(_panel(never=0))
    assert coded_zero.n_never == coded_missing.n_never == 5
    assert coded_zero.att == pytest.approx(coded_missing.att)
    # ATT by hand: T's change from 1991 to 1992 and 1993 (-2, -1) minus the controls' mean
    # change (-0.4, +0.2): (-1.6 + -1.2) / 2 = -1.4
    assert coded_missing.att == pytest.approx(-1.4)


def test_zero_is_a_period_then_it_is_a_cohort():
    # periods 0..3: a cohort of 0 is the first period, which leaves no pre-period (dropped);
    # with no other treated unit the panel is refused, not silently read as never treated
    df = _panel(periods=[0, 1, 2, 3], cohort=0, never=np.nan)
    with pytest.raises(EvaluationError, match="no treated cohort has a pre-period"):
        did.att_gt(df)


def test_evaluate_accepts_a_treated_table_with_never_treated_coded_zero():
    # an R-style table: every area with its first treated year, 0 for never treated
    table = pd.DataFrame({"area": list(Y), "start": [1992, 0, 0, 0, 0, 0]})
    assert ev.treated_starts(table, pd.Index(YEARS), pd.Index(list(Y))) == {"T": 1992}
    r = ev.evaluate(_panel(), table, unit="unit", period="period", outcome="outcome",
                    methods=("did",), power=False, n_draws=100)
    assert r.design["n_treated"] == 1 and r.did.att == pytest.approx(-1.4)
    with pytest.raises(EvaluationError, match="every start is 0, which codes never treated"):
        ev.treated_starts({"C1": 0}, pd.Index(YEARS), None)
    # where 0 is a period, 0 is a start (the first period: refused, no pre-period)
    with pytest.raises(EvaluationError, match="no pre-period"):
        ev.treated_starts({"T": 0}, pd.Index([0, 1, 2, 3]), None)


def test_placebo_p_is_never_shown_as_zero():
    # the smallest randomisation p-value is 1 / (1 + draws): 1/501 is shown, not rounded to 0.00
    assert ev._pp(1 / 501) == "0.002" and ev._pp(0.2) == "0.20" and ev._pp(0.01) == "0.01"
    assert ev._pp(0.0099) == "0.01" and ev._pp(1 / 10001) == "0.0001"
