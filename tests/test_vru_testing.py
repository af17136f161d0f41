"""The public test helpers (``vru.testing``): a panel with a known effect that the platform's own DiD
recovers, a small warehouse built from bundled folders, and a panel comparison that names the cell."""

from __future__ import annotations

import pandas as pd
import pytest

from vru import api, testing
from vru.analysis import did


@pytest.mark.parametrize("poisson", [False, True], ids=["linear", "poisson"])
def test_the_staggered_panel_has_the_effect_it_was_made_with(poisson):
    panel = testing.staggered_panel(n_units=400, n_periods=8, cohorts=(3, 5), effect=0.5, poisson=poisson,
                                    seed=3)
    assert panel.shape == (400 * 8, 4) and panel["cohort"].isna().sum() == 160 * 8
    res = did.att_gt(panel, model="poisson" if poisson else "linear")
    row = res.simple.iloc[0]
    estimate = row["estimate"]
    assert abs(estimate - 0.5) < 3 * row["se"], (estimate, row["se"])
    # no effect: the estimate is near zero instead
    flat = did.att_gt(testing.staggered_panel(n_units=400, n_periods=8, cohorts=(3, 5), effect=0.0, seed=3))
    assert abs(flat.simple.iloc[0]["estimate"]) < 3 * flat.simple.iloc[0]["se"]


def test_a_bad_panel_request_is_refused():
    with pytest.raises(ValueError, match="cohort"):
        testing.staggered_panel(n_periods=5, cohorts=(9,))
    with pytest.raises(ValueError, match="2 units"):
        testing.staggered_panel(n_units=1)


def test_assert_panels_equal_ignores_order_and_names_the_first_different_cell():
    a = testing.staggered_panel(n_units=5, n_periods=3, cohorts=(2, 3), seed=1)
    testing.assert_panels_equal(a, a.sample(frac=1.0, random_state=0))
    b = a.copy()
    b.loc[(b["unit"] == "u002") & (b["period"] == 2), "outcome"] += 1.0
    with pytest.raises(AssertionError, match=r"1 cells differ; first \('u002', 2\)"):
        testing.assert_panels_equal(a, b)
    testing.assert_panels_equal(a, b.assign(outcome=b["outcome"].where(b["unit"] != "u002", a["outcome"])))
    with pytest.raises(AssertionError, match="1 only in left"):
        testing.assert_panels_equal(a, a.iloc[1:])
    with pytest.raises(AssertionError, match="more than once"):
        testing.assert_panels_equal(pd.concat([a, a.iloc[:1]]), a)
    with pytest.raises(AssertionError, match="no column 'value'"):
        testing.assert_panels_equal(a, a, value="value")


def test_assert_panels_equal_compares_a_panel_object_by_its_cells():
    from vru.model import Panel

    a = testing.staggered_panel(n_units=5, n_periods=3, cohorts=(2, 3), seed=1)
    p = Panel.from_long(a.rename(columns={"unit": "school"}), unit="school", value="outcome")
    testing.assert_panels_equal(p, a)
    testing.assert_panels_equal(a, p)
    b = a.copy()
    b.loc[(b["unit"] == "u004") & (b["period"] == 3), "outcome"] -= 0.5
    with pytest.raises(AssertionError, match=r"1 cells differ; first \('u004', 3\)"):
        testing.assert_panels_equal(p, Panel.from_long(b, value="outcome"))


def test_a_tiny_warehouse_holds_only_the_folders_asked_for(tmp_path):
    path = testing.tiny_warehouse(tmp_path / "tiny.duckdb", ["police_uk_street_city_of_london_2023"])
    (source,) = api.status(path)
    assert source["source"] == "police_uk_street" and len(source["files"]) == 6
    assert sum(f["rows"] for f in source["files"]) == source["rows_loaded"] == 555
    with pytest.raises(ValueError, match="no bundled folder 'nope'; the bundled folders are: .*imd2019"):
        testing.tiny_warehouse(tmp_path / "other.duckdb", ["nope"])
