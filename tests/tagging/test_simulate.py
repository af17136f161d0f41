"""The trail simulator: statistics of the model, determinism, the feed it writes, planted crimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vru.geography.grids import to_bng
from vru.tagging import positions as P
from vru.tagging import schema as S
from vru.tagging import simulate as sim
from vru.tagging import store
from vru.tagging.cli import tagging


@pytest.fixture(scope="module")
def run():
    return sim.simulate(24, 3, seed=7)


@pytest.fixture(scope="module")
def truth(run):
    return run.truth.to_pandas()


@pytest.fixture(scope="module")
def joined(run, truth):
    """Each reported fix (first copy) beside the truth at its tick."""
    feed = run.positions.to_pandas().drop_duplicates([S.DEVICE_ID, S.FIX_TIME])
    x, y = to_bng(feed[S.LON].to_numpy(), feed[S.LAT].to_numpy())
    feed = feed.assign(x=x, y=y)
    j = feed.merge(truth, left_on=[S.DEVICE_ID, S.FIX_TIME], right_on=[S.DEVICE_ID, S.TIME],
                   suffixes=("", "_true"), validate="one_to_one")
    assert len(j) == len(feed)
    return j


def test_deterministic_by_seed():
    a, b = sim.simulate(3, 1, seed=11), sim.simulate(3, 1, seed=11)
    assert a.positions.equals(b.positions) and a.truth.equals(b.truth) and a.activations.equals(b.activations)
    c = sim.simulate(3, 1, seed=12)
    assert not a.positions.equals(c.positions)


def test_schemas_and_tick_lattice(run, truth):
    assert run.truth.schema == S.GROUND_TRUTH
    assert run.activations.schema == S.ACTIVATIONS
    assert run.positions.schema == S.FEED
    assert len(truth) == 24 * 3 * 1440
    step = truth.groupby(S.WEARER_REF)[S.TIME].diff().dropna()
    assert (step == pd.Timedelta(seconds=60)).all()
    fix = run.positions.to_pandas()[S.FIX_TIME]
    assert (fix.dt.second == 0).all() and (fix.dt.microsecond == 0).all()


def test_gps_noise_is_about_10_m_per_axis_and_precision_0_to_25(joined):
    g = joined[joined[S.MECHANISM] == S.GPS]
    ex, ey = g["x"] - g[S.EASTING], g["y"] - g[S.NORTHING]
    # lat/lon are rounded to 1e-6 degree (< 0.11 m), the sd stays ~10 m
    assert 9.5 < ex.std() < 10.5 and 9.5 < ey.std() < 10.5
    assert abs(ex.mean()) < 0.5 and abs(ey.mean()) < 0.5
    assert g[S.PRECISION_M].between(0, 25).all()
    assert 12 < g[S.PRECISION_M].mean() < 13


def test_lbs_fixes_are_rare_far_off_and_imprecise(truth, joined):
    share = (truth[S.MECHANISM] == S.LBS).mean()
    assert 0.015 < share < 0.025  # p_lbs = 2% of ticks (less the few in gaps)
    lbs = joined[joined[S.MECHANISM] == S.LBS]
    off = np.hypot(lbs["x"] - lbs[S.EASTING], lbs["y"] - lbs[S.NORTHING])
    assert 250 < off.median() < 500  # hundreds of metres (Rayleigh, sd 300: median ~353 m)
    assert lbs[S.PRECISION_M].between(300, 1500).all()


def test_speeds_by_mode(truth):
    t = truth.sort_values([S.WEARER_REF, S.TIME])
    same = t[S.WEARER_REF].eq(t[S.WEARER_REF].shift())
    v = np.hypot(t[S.EASTING].diff(), t[S.NORTHING].diff()) / 60.0
    seg = pd.DataFrame({"mode": t[S.MODE], "v": v})[same]
    walk = seg[seg["mode"] == "walk"]["v"]
    bus = seg[seg["mode"] == "bus"]["v"]
    still = seg[seg["mode"] == "stationary"]["v"]
    assert len(walk) > 1000 and len(bus) > 300
    assert (walk <= 1.8 + 1e-9).all() and (walk >= 0.8 - 1e-9).mean() > 0.97  # short only on arrival
    assert (bus <= 12 + 1e-9).all() and (bus >= 5 - 1e-9).mean() > 0.95
    assert (still == 0).all()
    # reported speed follows the truth (km/h, noise 0.5)
    assert walk.mean() * 3.6 == pytest.approx(1.3 * 3.6, rel=0.1)


def test_nights_at_home_inside_london(truth):
    night = truth[truth[S.TIME].dt.hour == 3]
    per = night.groupby(S.WEARER_REF)[[S.EASTING, S.NORTHING]].agg(["min", "max"])
    assert ((per[(S.EASTING, "max")] - per[(S.EASTING, "min")]) == 0).all()  # the same spot every night
    assert (night[S.MODE] == "stationary").all()
    assert sim.in_london(night[S.EASTING], night[S.NORTHING]).all()
    assert sim.in_london(truth[S.EASTING], truth[S.NORTHING]).mean() > 0.99


def test_gaps_out_of_order_and_resent_bursts(run, truth):
    feed = run.positions.to_pandas()
    assert truth[S.MECHANISM].isna().mean() > 0.003  # GPS gaps: ticks with no fix
    assert feed[S.RECEIVED_TIME].is_monotonic_increasing  # as the supplier sends it
    late = feed[S.RECEIVED_TIME] - feed[S.FIX_TIME]
    assert late.min() >= pd.Timedelta(seconds=2) and late.max() > pd.Timedelta(minutes=10)
    # out of order by fix time within a device after a reconnect
    back = feed.groupby(S.DEVICE_ID)[S.FIX_TIME].diff() < pd.Timedelta(0)
    assert back.sum() > 10
    dup = feed[feed.duplicated([S.DEVICE_ID, S.FIX_TIME], keep=False)]
    assert len(dup) > 0
    values = [c for c in S.FEED.names if c != S.RECEIVED_TIME]
    assert (dup.groupby([S.DEVICE_ID, S.FIX_TIME])[values].nunique(dropna=False) == 1).all().all()
    assert (dup.groupby([S.DEVICE_ID, S.FIX_TIME])[S.RECEIVED_TIME].nunique() == 2).all()


def test_device_swaps_match_activations(run, truth):
    act = run.activations.to_pandas()
    swapped = act[act[S.ACTIVE_TO].notna()]
    assert len(swapped) >= 1  # p_swap 10% of 24 wearers, seed 7
    for _, a in swapped.iterrows():
        t = truth[truth[S.WEARER_REF] == a[S.WEARER_REF]]
        before = t[t[S.TIME] < a[S.ACTIVE_TO]][S.DEVICE_ID].unique()
        after = t[t[S.TIME] >= a[S.ACTIVE_TO]][S.DEVICE_ID].unique()
        assert list(before) == [a[S.DEVICE_ID]] and len(after) == 1 and after[0] != a[S.DEVICE_ID]


def test_written_feed_passes_validation_and_imports(run, tmp_path):
    paths = sim.write(run, tmp_path / "sim", "csv")
    feed = P.read_feed(paths["positions"], paths["activations"])
    assert feed.num_rows == run.positions.num_rows
    r = store.write_positions(tmp_path / "store", feed)
    distinct = run.positions.to_pandas().drop_duplicates([S.DEVICE_ID, S.FIX_TIME])
    assert r.added == len(distinct) and r.duplicates == run.positions.num_rows - len(distinct)
    pq_paths = sim.write(run, tmp_path / "simp", "parquet")
    assert P.read_feed(pq_paths["positions"], pq_paths["activations"]).equals(feed)


# --------------------------------------------------------------------------- planted crimes


def _brute_min_distance(truth, wearer, px, py, t_from, t_to):
    """Independent check: the true position every second of the window (np.interp of the ticks)."""
    t = truth[truth[S.WEARER_REF] == wearer].sort_values(S.TIME)
    secs = t[S.TIME].astype("int64").to_numpy() / 1e6
    grid = np.arange(t_from.value / 1e9, t_to.value / 1e9 + 1, 1.0)
    x = np.interp(grid, secs, t[S.EASTING].to_numpy())
    y = np.interp(grid, secs, t[S.NORTHING].to_numpy())
    return np.hypot(x - px, y - py).min()


def test_planted_crimes_have_the_labels_they_claim(run, truth):
    crimes = sim.plant_crimes(run.truth, 30, seed=3)
    assert list(crimes.columns[:8]) == list(S.CRIMES.names)
    assert crimes["kind"].value_counts().to_dict() == {"true": 30, "decoy_space": 30, "decoy_time": 30}
    assert crimes[S.CRIME_VERSION_ID].is_unique
    assert ((crimes[S.TIME_TO] - crimes[S.TIME_FROM]) <= pd.Timedelta(hours=12)).all()
    true = crimes[crimes["kind"] == "true"]
    assert true["expected"].all() and (true["true_distance_m"] <= 30 + 1e-6).all()
    assert ((true["true_time"] >= true[S.TIME_FROM]) & (true["true_time"] <= true[S.TIME_TO])).all()
    assert true.apply(lambda r: r[S.WEARER_REF] in r["expected_wearers"].split(","), axis=1).all()
    decoys = crimes[crimes["kind"] != "true"]
    assert not decoys["expected"].any() and (decoys["expected_wearers"] == "").all()
    assert (decoys["true_distance_m"] >= 175 - 1e-6).all()
    time_decoys = crimes[crimes["kind"] == "decoy_time"]
    assert ((time_decoys["true_time"] < time_decoys[S.TIME_FROM] - pd.Timedelta(minutes=30))
            | (time_decoys["true_time"] > time_decoys[S.TIME_TO] + pd.Timedelta(minutes=30))).all()
    # the claimed distances against a brute-force, per-second walk of the true path
    for _, c in crimes.iloc[::9].iterrows():
        d = _brute_min_distance(truth, c[S.WEARER_REF], c[S.EASTING], c[S.NORTHING], c[S.TIME_FROM],
                                c[S.TIME_TO])
        assert d == pytest.approx(c["true_distance_m"], abs=1.0)
    # the place of a time decoy is on the trail (the wearer was there, at another time)
    c = time_decoys.iloc[0]
    x, y = sim.true_position(run.truth, c[S.WEARER_REF], c["true_time"])
    assert np.hypot(x - c[S.EASTING], y - c[S.NORTHING]) < 1e-6


def test_plant_crimes_is_deterministic_and_decoys_optional(run):
    a = sim.plant_crimes(run.truth, 5, seed=1)
    pd.testing.assert_frame_equal(a, sim.plant_crimes(run.truth, 5, seed=1))
    only = sim.plant_crimes(run.truth, 5, seed=1, decoys=False)
    assert (only["kind"] == "true").all() and len(only) == 5


def test_cli_simulate_end_to_end(tmp_path):
    out = tmp_path / "out"
    args = ["simulate", "-n", "3", "-d", "1", "--seed", "5", "--out", str(out), "--crimes", "4"]
    r = CliRunner().invoke(tagging, args)
    assert r.exit_code == 0, r.output
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(files) == {"positions.csv", "activations.csv", "truth.parquet", "planted_crimes.csv"}
    assert files["positions.csv"].startswith(
        b"device_id,fix_time,lat,lon,precision_m,speed_kmh,heading_deg,mechanism,received_time\n")
    r = CliRunner().invoke(tagging, [*args[:-4], "--out", str(tmp_path / "again"), "--crimes", "4"])
    assert r.exit_code == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "again").iterdir()}["positions.csv"] == files[
        "positions.csv"]
    r = CliRunner().invoke(tagging, ["import-positions", str(out / "positions.csv"), "-a",
                                     str(out / "activations.csv"), "-s", str(tmp_path / "store")])
    assert r.exit_code == 0, r.output
    planted = pd.read_csv(out / "planted_crimes.csv")
    assert len(planted) == 12
    r = CliRunner().invoke(tagging, ["simulate", "--out", str(tmp_path / "x"), "--start", "2024-03-04"])
    assert r.exit_code == 2 and "no time zone" in r.output
