"""api.evaluate / evaluation.evaluate with your own panel: the reviewer's defects (issue 16).

Clear errors (VRUError naming the option or column, never a raw pandas/numpy error), a cohort in
the first period dropped and named like R's ``did``, a number against date periods, and no NaN
printed in the statement.
"""

import json

import numpy as np
import pandas as pd
import pytest

from vru import api
from vru.analysis import did
from vru.analysis import evaluation as ev
from vru.errors import VRUError


def _years(n_units: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame([{"u": f"u{i}", "t": y, "y": 20 + i + 0.5 * (y - 2010) + rng.normal(0, .5)}
                         for i in range(n_units) for y in range(2010, 2020)])


# --- a cohort starting in the first period: dropped and named, as R's did ------------------------


def test_first_period_cohort_is_dropped_and_named():
    d = _years()
    d["c"] = d["u"].map({"u0": 2010, "u1": 2015})
    r = ev.evaluate(d, None, unit="u", period="t", outcome="y", cohort="c", methods=("did",),
                    power=False, n_draws=100)
    assert r.design["dropped_cohorts"] == [{"cohort": "2010", "areas": ["u0"]}]
    assert r.design["starts"] == {"u1": 2015} and r.design["n_treated"] == 1
    assert r.design["n_controls"] == 10
    assert ("Left out: the cohort starting 2010 (u0) starts in the first period of the panel: "
            "no pre-period to compare with.") in r.statement
    # the same as treated=, and the same estimate as leaving u0 out of the panel
    r2 = ev.evaluate(d.drop(columns="c"), {"u0": 2010, "u1": 2015}, unit="u", period="t",
                     outcome="y", methods=("did",), power=False, n_draws=100)
    r3 = ev.evaluate(d[d["u"] != "u0"].drop(columns="c"), {"u1": 2015}, unit="u", period="t",
                     outcome="y", methods=("did",), power=False, n_draws=100)
    assert r2.did.att == pytest.approx(r.did.att) == pytest.approx(r3.did.att)
    # the estimator's own record holds plain numbers (JSON-ready), not numpy scalars
    dropped = did.att_gt(d, unit="u", period="t", outcome="y", cohort="c").settings["dropped_cohorts"]
    assert dropped == [{"cohort": 2010, "n_units": 1}]
    assert type(dropped[0]["cohort"]) is int and type(dropped[0]["n_units"]) is int
    json.dumps(r.as_dict())


def test_only_first_period_cohorts_is_refused():
    with pytest.raises(VRUError, match="no treated cohort has a pre-period"):
        api.evaluate(panel=_years(), treated={"u0": 2010}, unit="u", period="t", value="y",
                     methods=("did",), power=False)


# --- a number against date periods: a type mismatch, not "outside the panel" ---------------------


def _months(n_units: int = 12, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.date_range("2014-01-01", periods=36, freq="MS")
    return pd.DataFrame([{"u": f"u{i}", "m": m, "y": 10 + i + rng.normal()}
                         for i in range(n_units) for m in months])


@pytest.mark.parametrize("start", [2015, np.int64(2015), 2015.0])
def test_a_number_against_date_periods_names_the_type(start):
    with pytest.raises(VRUError) as e:
        api.evaluate(panel=_months(), treated={"u0": start}, unit="u", period="m", value="y",
                     methods=("did",), power=False)
    msg = str(e.value)
    assert "start 2015" in msg and "is a number" in msg and "are dates" in msg
    assert "column 'm'" in msg and "outside the panel" not in msg and "1970" not in msg
    # a date given as text is still read as a period of the panel
    r = api.evaluate(panel=_months(), treated={"u0": "2015-03"}, unit="u", period="m", value="y",
                     methods=("did",), power=False, n_draws=50)
    assert r["design"]["starts"] == {"u0": "2015-03-01"}


# --- no NaN in the statement -----------------------------------------------------------------


def test_statement_says_why_no_interval_and_prints_no_nan():
    # one treated area, 11 controls: 12 placebo assignments, too few for a 95% interval
    r = api.evaluate(panel=_years(), unit="u", period="t", value="y", treated={"u0": 2015},
                     n_draws=200, power=False)
    st = r["statement"]
    assert "nan" not in st.lower()
    assert st.count("no 95% randomisation interval: 12 placebo assignments are too few, "
                    "at least 20 are needed") == 2  # DiD and synthetic control
    # one treated area: one RMSPE, not a range "4.4% to 4.4%"
    fit = st.split("pre-period fit RMSPE ")[1].split(" of the pre-period level")[0]
    assert " to " not in fit and fit.endswith("%") and float(fit[:-1]) > 0
    # enough controls (and alpha = 0.1): the interval is given as a range
    r = api.evaluate(panel=_years(30), unit="u", period="t", value="y", treated={"u0": 2015},
                     n_draws=200, power=False, alpha=0.1)
    assert "nan" not in r["statement"].lower()
    assert "randomisation interval -" in r["statement"] or "randomisation interval +" in r["statement"]
    assert "no 90% randomisation interval" not in r["statement"]


# --- options and columns: VRUError naming the option / column, never a raw numpy/pandas error ----


@pytest.mark.parametrize(("option", "value", "message"), [
    ("n_draws", "x", "n_draws must be a whole number >= 1, not 'x' (str)"),
    ("n_draws", -1, "n_draws must be a whole number >= 1, not -1 (int)"),
    ("n_draws", 0, "n_draws must be a whole number >= 1, not 0 (int)"),
    ("n_draws", 2.5, "n_draws must be a whole number >= 1, not 2.5 (float)"),
    ("n_boot", True, "n_boot must be a whole number >= 1, not True (bool)"),
    ("pre_periods", 0, "pre_periods must be a whole number >= 1 or None, not 0 (int)"),
    ("max_lead", "3", "max_lead must be a whole number >= 1 or None, not '3' (str)"),
    ("min_controls", -2, "min_controls must be a whole number >= 1, not -2 (int)"),
    ("seed", -1, "seed must be a whole number >= 0, not -1 (int)"),
    ("anticipation", 0.5, "anticipation must be a whole number >= 0, not 0.5 (float)"),
    ("alpha", 2, "alpha must be a number between 0 and 1 (exclusive), not 2 (int)"),
    ("alpha", "0.05", "alpha must be a number between 0 and 1 (exclusive), not '0.05' (str)"),
    ("target_power", 1.0, "target_power must be a number between 0 and 1 (exclusive), not 1 (float)"),
])
def test_numeric_options_are_checked_by_name_and_type(option, value, message):
    with pytest.raises(VRUError) as e:
        api.evaluate(panel=_years(), treated={"u1": 2015}, unit="u", period="t", value="y",
                     power=False, **{option: value})
    assert str(e.value).startswith(message)


def test_numpy_whole_numbers_and_none_are_accepted():
    r = api.evaluate(panel=_years(), treated={"u1": 2015}, unit="u", period="t", value="y",
                     methods=("did",), power=False, n_draws=np.int64(50), max_lead=None,
                     alpha=np.float64(0.1))
    assert r["design"]["alpha"] == pytest.approx(0.1)


def test_columns_named_twice_reach_the_api_as_vru_errors():
    d = _years()
    with pytest.raises(VRUError, match="column 'u' is named as the unit and the period"):
        api.evaluate(panel=d, treated={"u1": 2015}, unit="u", period="u", value="y")
    dup = d.assign(z=0.0)
    dup.columns = ["u", "t", "y", "y"]
    with pytest.raises(VRUError, match="the panel has 2 columns named 'y'"):
        api.evaluate(panel=dup, treated={"u1": 2015}, unit="u", period="t", value="y")


def test_cluster_by_the_unit_column_and_other_option_kinds():
    d = _years()
    with pytest.raises(VRUError, match=r"named as the unit and the cluster: each needs a column of "
                                       r"its own \(each unit is its own cluster by default"):
        api.evaluate(panel=d, treated={"u1": 2015}, unit="u", period="t", value="y", cluster="u")
    with pytest.raises(VRUError, match="covariates must be a pandas DataFrame .* not str"):
        api.evaluate(panel=d, treated={"u1": 2015}, unit="u", period="t", value="y", covariates="x")
    # one method named as a string is that method, not its letters
    r = api.evaluate(panel=d, treated={"u1": 2015}, unit="u", period="t", value="y",
                     methods="did", power=False, n_draws=30)
    assert r["design"]["methods"] == ["did"]


def test_progress_is_reported_once_for_your_own_panel():
    from vru import testing

    steps: list[tuple[str, int]] = []
    api.evaluate(testing.staggered_panel(n_units=20, seed=3), unit="unit", period="period", value="outcome",
                 cohort="cohort", n_draws=20, progress=lambda stage, total: steps.append((stage, total)))
    assert steps == [("evaluation", 1)]
