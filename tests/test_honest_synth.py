"""A synthetic control whose pre-period fit is not unique reports the range of effects.

Hand-made panels whose answer is known in closed form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vru.analysis import evaluation as ev
from vru.analysis import synth


def _panel(pre: dict, post: dict) -> pd.DataFrame:
    rows = []
    for u in pre:
        for t, y in enumerate(pre[u], start=1):
            rows.append((u, t, float(y)))
        rows.append((u, len(pre[u]) + 1, float(post[u])))
    return pd.DataFrame(rows, columns=["unit", "period", "outcome"])


# 2 pre-periods, 4 donors. T = (1, 1) is the average of D1 and D2 and also of D3 and D4.
# Weights fitting T exactly: w1 = w2 = a, w3 = w4 = 1/2 - a, a in [0, 1/2] (two equations and
# the sum leave one free direction). Synthetic post = 10a + 20a + 0 + 2(1/2 - a) = 1 + 28a, in
# [1, 15]; T's post is 16, so every effect from 16 - 15 = 1 to 16 - 1 = 15 fits equally well.
EXACT = _panel({"D1": (0, 0), "D2": (2, 2), "D3": (0, 2), "D4": (2, 0), "T": (1, 1)},
               {"D1": 10, "D2": 20, "D3": 0, "D4": 2, "T": 16})


def test_exact_fit_with_a_free_direction_gives_the_closed_form_range():
    r = synth.synth(EXACT, {"T": 3}, placebos=False, unit_placebos=False)
    u = r.units[0]
    assert u.pre_rmspe == pytest.approx(0, abs=1e-9)  # a "perfect" fit ...
    assert u.att_min == pytest.approx(1.0, abs=1e-7)  # ... of every effect from 1 to 15
    assert u.att_max == pytest.approx(15.0, abs=1e-7)
    assert u.att_min - 1e-7 <= u.att <= u.att_max + 1e-7
    assert u.fit_unique is False and r.fit_unique is False
    assert r.pooled_range == pytest.approx((1.0, 15.0), abs=1e-7)
    assert "the pre-period fit is not unique" in r.describe()
    row = r.table.iloc[0]
    assert row["att_min"] == pytest.approx(1.0, abs=1e-7) and not row["fit_unique"]


def test_effect_range_by_itself():
    Z0 = np.array([[0, 2, 0, 2], [0, 2, 2, 0]], dtype=float)
    post = np.array([10, 20, 0, 2], dtype=float)
    w = np.array([0.25, 0.25, 0.25, 0.25])  # fits (1, 1) exactly, synthetic post 8
    assert synth.effect_range(Z0, w, post, 16.0) == pytest.approx((1.0, 15.0), abs=1e-7)


def test_a_vertex_fit_is_unique():
    # T = D2 exactly; no other mix of the donors gives (2, 2), so the effect is pinned down
    df = _panel({"D1": (0, 0), "D2": (2, 2), "D3": (0, 2), "D4": (2, 0), "T": (2, 2)},
                {"D1": 10, "D2": 20, "D3": 0, "D4": 2, "T": 23})
    u = synth.synth(df, {"T": 3}, placebos=False, unit_placebos=False).units[0]
    assert u.att == pytest.approx(3.0) and u.fit_unique is True
    assert u.att_min == pytest.approx(3.0, abs=1e-7) and u.att_max == pytest.approx(3.0, abs=1e-7)


def test_an_inexact_fit_can_also_be_non_unique():
    # T = (3, 3) is outside the donors' hull; the nearest point (2, 2) is D2, D3 or any mix of
    # them (D3 repeats D2 before the start but not after): pre-RMSPE 1, effects 30 - 20 = 10 to
    # 30 - 10 = 20.
    df = _panel({"D1": (0, 0), "D2": (2, 2), "D3": (2, 2), "D4": (0, 1), "T": (3, 3)},
                {"D1": 5, "D2": 10, "D3": 20, "D4": 5, "T": 30})
    u = synth.synth(df, {"T": 3}, placebos=False, unit_placebos=False).units[0]
    assert u.pre_rmspe == pytest.approx(1.0)
    assert (u.att_min, u.att_max) == pytest.approx((10.0, 20.0), abs=1e-7)
    assert u.fit_unique is False


def test_evaluate_reports_the_range_not_the_point():
    r = ev.evaluate(EXACT, {"T": 3}, unit="unit", period="period", outcome="outcome",
                    methods=("synth",), power=False, min_controls=4)
    assert "the pre-period fit is not unique" in r.statement
    assert "from +1 to +15 fit equally well" in r.statement
    assert "no single effect can be reported" in r.statement
    assert any("not unique" in x for x in r.limits)
    d = r.as_dict()["synth"]
    assert d["fit_unique"] is False
    assert d["att_range"] == pytest.approx([1.0, 15.0], abs=1e-7)
    assert d["warning"] == "the pre-period fit is not unique: effects from +1 to +15 fit " \
                           "equally well"
    # the verdict does not lean on the arbitrary point estimate's placebo test
    assert "Verdict" not in r.statement
