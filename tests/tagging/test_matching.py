"""Crime matching (vru.tagging.matching), each case computed by hand; recall on simulated trails."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vru.tagging.matching import ALGORITHM_VERSION, MatchRunError, Params, match, p_within

CX, CY = 530000.0, 180000.0


def T(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def positions(rows) -> pd.DataFrame:
    """rows: (device, time, easting, northing, precision, mechanism)."""
    df = pd.DataFrame(rows, columns=["device_id", "fix_time", "easting", "northing", "precision_m",
                                     "mechanism"])
    df["fix_time"] = pd.to_datetime(df["fix_time"], utc=True)
    df["speed_kmh"] = np.nan
    df["heading_deg"] = np.nan
    return df


def activations(rows=None) -> pd.DataFrame:
    rows = rows or [("D1", "W1", "2024-01-01", None), ("D2", "W2", "2024-01-01", None)]
    df = pd.DataFrame(rows, columns=["device_id", "wearer_ref", "active_from", "active_to"])
    for c in ("active_from", "active_to"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def crime(t_from: str, t_to: str, x: float = CX, y: float = CY, cid: str = "C1-v1") -> pd.DataFrame:
    return pd.DataFrame({"crime_version_id": [cid], "time_from": [T(t_from)], "time_to": [T(t_to)],
                         "easting": [x], "northing": [y]})


def labels(points: pd.DataFrame, wearer: str) -> list[str]:
    p = points[points.wearer_ref == wearer]
    return [f"{v}{q}" for v, q in zip(p.visit, p.seq, strict=True)]


@pytest.mark.slow
def test_radius_widened_by_precision():
    # W1: 110 m away, precision 15 -> 110 <= 100 + 15 matches; W2: 120 m, precision 15 -> 120 > 115
    pos = positions([("D1", "2024-06-01 12:00", CX + 110, CY, 15.0, "GPS"),
                     ("D2", "2024-06-01 12:00", CX, CY - 120, 15.0, "GPS")])
    r = match(pos, activations(), crime("2024-06-01 11:30", "2024-06-01 12:30"))
    assert list(r.summary.wearer_ref) == ["W1"]
    assert r.points.distance_m.tolist() == [110.0]
    assert not r.points.interpolated.any()
    # at R = 90 the same fix (110 > 105) no longer matches
    assert match(pos, activations(), crime("2024-06-01 11:30", "2024-06-01 12:30"),
                 Params(radius_m=90)).summary.empty


def test_interpolation_between_two_fixes_five_minutes_apart():
    # walking east along northing CY+20 at 2 m/s: 529700 at 12:00, 530300 at 12:05; both 300.7 m away
    pos = positions([("D1", "2024-06-01 11:55", CX - 600, CY + 20, 10.0, "GPS"),
                     ("D1", "2024-06-01 12:00", CX - 300, CY + 20, 10.0, "GPS"),
                     ("D1", "2024-06-01 12:05", CX + 300, CY + 20, 10.0, "GPS"),
                     ("D1", "2024-06-01 12:10", CX + 600, CY + 20, 10.0, "GPS")])
    r = match(pos, activations(), crime("2024-06-01 12:00", "2024-06-01 12:10"))
    assert len(r.points) == 1
    p = r.points.iloc[0]
    assert bool(p.interpolated) and p.visit == "A" and p.seq == 1
    # closest approach: alpha = 0.5 -> (530000, 180020) at 12:02:30, 20 m from the crime
    assert (p.easting, p.northing, p.distance_m) == (CX, CY + 20, 20.0)
    assert p.fix_time == T("2024-06-01 12:02:30")
    # Brownian bridge: sigma_i = 10 / 2.4477, var = 0.25 s1^2 + 0.25 s2^2 + 300 * 0.25 * 2 (m^2/s)
    k = math.sqrt(-2 * math.log(0.05))
    expect = k * math.sqrt(0.5 * (10 / k) ** 2 + 150.0)
    assert p.precision_m == pytest.approx(expect, rel=1e-12)
    assert p.precision_m == pytest.approx(30.80, abs=0.01)
    assert p.speed_kmh == pytest.approx(7.2) and p.heading_deg == pytest.approx(90.0)
    assert r.summary.n_interpolated.tolist() == [1]


@pytest.mark.slow
def test_interpolation_only_within_the_window_overlap():
    pos = positions([("D1", "2024-06-01 12:00", CX - 300, CY + 20, 10.0, "GPS"),
                     ("D1", "2024-06-01 12:05", CX + 300, CY + 20, 10.0, "GPS")])
    # window ends 12:01 (tolerance 0): the segment is only followed to alpha = 0.2, 180 m west of the
    # crime (181.1 m away; precision there 25.4 m): no match
    tight = Params(tolerance_s=0)
    assert match(pos, activations(), crime("2024-06-01 11:50", "2024-06-01 12:01"), tight).summary.empty
    # the default 5-minute tolerance reaches 12:06, so the closest approach at 12:02:30 is inside
    r = match(pos, activations(), crime("2024-06-01 11:50", "2024-06-01 12:01"))
    assert r.points.fix_time.tolist() == [T("2024-06-01 12:02:30")]


@pytest.mark.slow
def test_interpolation_bounded_by_speed_and_gap():
    w = crime("2024-06-01 11:00", "2024-06-01 13:00")
    # 6 km in 100 s = 60 m/s > 50 m/s: an implausible segment, not interpolated
    fast = positions([("D1", "2024-06-01 12:00:00", CX - 3000, CY, 5.0, "GPS"),
                      ("D1", "2024-06-01 12:01:40", CX + 3000, CY, 5.0, "GPS")])
    assert match(fast, activations(), w).summary.empty
    # 600 m in 31 minutes: the gap exceeds 30 minutes
    gap = positions([("D1", "2024-06-01 12:00", CX - 300, CY, 5.0, "GPS"),
                     ("D1", "2024-06-01 12:31", CX + 300, CY, 5.0, "GPS")])
    assert match(gap, activations(), w).summary.empty
    assert len(match(gap, activations(), w, Params(max_gap_s=1860)).summary) == 1


def test_window_crossing_midnight():
    pos = positions([("D1", "2024-06-01 23:44", CX, CY + 50, 5.0, "GPS"),   # before from - 5 min
                     ("D1", "2024-06-02 00:10", CX, CY + 50, 5.0, "GPS"),   # inside, after midnight
                     ("D2", "2024-06-02 00:25", CX + 50, CY, 5.0, "GPS"),   # to + 5 min: still in
                     ("D2", "2024-06-02 00:26", CX + 50, CY, 5.0, "GPS")])  # after to + 5 min
    r = match(pos, activations(), crime("2024-06-01 23:50", "2024-06-02 00:20"))
    assert r.points.fix_time.tolist() == [T("2024-06-02 00:10"), T("2024-06-02 00:25")]
    assert r.points.wearer_ref.tolist() == ["W1", "W2"]


@pytest.mark.parametrize("day", ["2024-03-31", "2024-10-27"])
def test_window_across_the_change_of_clocks_is_read_in_utc(day):
    # the clocks change at 01:00 UTC on the last Sunday of March and of October; the MoJ window is UTC
    pos = positions([("D1", f"{day} 00:55", CX, CY, 5.0, "GPS"),
                     ("D1", f"{day} 01:05", CX, CY, 5.0, "GPS"),
                     ("D1", f"{day} 01:36", CX, CY, 5.0, "GPS")])  # 1 min past to + 5 min
    r = match(pos, activations(), crime(f"{day} 00:30", f"{day} 01:30"))
    assert r.points.fix_time.tolist() == [T(f"{day} 00:55"), T(f"{day} 01:05")]
    # one visit of 10 real minutes, although local clocks read 01:55-01:05 (October) or 00:55-02:05
    assert r.summary.dwell_s.tolist() == [600.0] and labels(r.points, "W1") == ["A1", "A2"]


def test_visits_and_sequence_labels():
    near, far = (CX + 10, CY), (CX + 400, CY)
    rows = [("D1", "2024-06-01 12:00:00", *near, 5.0, "GPS"),
            ("D1", "2024-06-01 12:00:30", CX + 1500, CY, 800.0, "LBS"),  # 1500 > 900: not listed
            ("D1", "2024-06-01 12:01:00", *near, 5.0, "GPS"),
            ("D1", "2024-06-01 12:02:00", *far, 5.0, "GPS"),   # a GPS fix outside: splits
            ("D1", "2024-06-01 12:03:00", *near, 5.0, "WIFI"),
            ("D1", "2024-06-01 12:03:30", *near, 5.0, "GPS"),
            ("D1", "2024-06-01 12:20:00", *near, 5.0, "GPS")]  # 16.5 min later: splits
    r = match(positions(rows), activations(), crime("2024-06-01 12:00", "2024-06-01 12:30"))
    assert labels(r.points, "W1") == ["A1", "A2", "B1", "B2", "C1"]
    # the LBS fix far off neither appears nor splits visit A
    assert r.points.mechanism.tolist() == ["GPS", "GPS", "WIFI", "GPS", "GPS"]
    s = r.summary.iloc[0]
    assert s.n_visits == 3 and s.dwell_s == 60.0
    # an LBS fix inside visit A (12:00:30, 0 m from the crime) is listed with it and does not split it
    rows[1] = ("D1", "2024-06-01 12:00:30", CX, CY, 800.0, "LBS")
    r = match(positions(rows), activations(), crime("2024-06-01 12:00", "2024-06-01 12:30"))
    assert labels(r.points, "W1") == ["A1", "A2", "A3", "B1", "B2", "C1"]
    assert r.points.mechanism.tolist()[:3] == ["GPS", "LBS", "GPS"]


def test_lbs_and_rf_alone_never_match():
    pos = positions([("D1", "2024-06-01 12:00", CX, CY, 300.0, "LBS"),
                     ("D1", "2024-06-01 12:01", CX, CY, 50.0, "RF"),
                     ("D1", "2024-06-01 12:02", CX + 400, CY, 5.0, "GPS"),  # GPS far away
                     ("D1", "2024-06-01 12:03", CX, CY, 300.0, "LBS")])
    r = match(pos, activations(), crime("2024-06-01 11:30", "2024-06-01 12:30"))
    assert r.summary.empty and r.points.empty


def test_activation_limits_and_reassigned_device():
    acts = activations([("D1", "W1", "2024-06-01 12:00", "2024-06-01 13:00"),
                        ("D1", "W2", "2024-06-01 13:00", None)])
    pos = positions([("D1", "2024-06-01 11:59", CX, CY, 5.0, "GPS"),   # before any activation
                     ("D1", "2024-06-01 12:30", CX, CY, 5.0, "GPS"),   # W1
                     ("D1", "2024-06-01 13:00", CX, CY, 5.0, "GPS")])  # W1's ends (exclusive): W2
    r = match(pos, acts, crime("2024-06-01 11:00", "2024-06-01 14:00"))
    assert r.points[["wearer_ref", "fix_time"]].values.tolist() == [
        ["W1", T("2024-06-01 12:30")], ["W2", T("2024-06-01 13:00")]]


def test_results_attach_to_each_crime_version():
    pos = positions([("D1", "2024-06-01 12:00", CX, CY, 5.0, "GPS")])
    crimes = pd.concat([crime("2024-06-01 11:00", "2024-06-01 11:30", cid="C1-v1"),
                        crime("2024-06-01 11:50", "2024-06-01 12:10", cid="C1-v2")])
    r = match(pos, activations(), crimes)
    assert r.summary.crime_version_id.tolist() == ["C1-v2"]
    assert r.run["crime_version_ids"] == ["C1-v1", "C1-v2"]


def test_score_probability_and_dwell():
    # at d = 0 the probability is the Rayleigh cdf: 1 - exp(-R^2 / (2 sigma^2)), sigma = precision / k
    k = math.sqrt(-2 * math.log(0.05))
    sigma = 80.0 / k
    assert p_within([0.0], [80.0], 100.0, k)[0] == pytest.approx(1 - math.exp(-100 ** 2 / (2 * sigma ** 2)))
    # precision = R at distance 0: the 95% circle is the disc itself
    assert p_within([0.0], [100.0], 100.0, k)[0] == pytest.approx(0.95)
    # far beyond the circle the probability vanishes; a fix on the edge with tiny precision is ~1/2
    assert p_within([400.0], [10.0], 100.0, k)[0] < 1e-12
    assert p_within([100.0], [0.0], 100.0, k)[0] == pytest.approx(0.5, abs=0.01)
    pos = positions([("D1", "2024-06-01 12:00", CX + 90, CY, 100.0, "GPS"),
                     ("D1", "2024-06-01 12:04", CX, CY, 80.0, "GPS")])
    r = match(pos, activations(), crime("2024-06-01 11:30", "2024-06-01 12:30"))
    s = r.summary.iloc[0]
    assert s.p_within == pytest.approx(0.9907, abs=1e-4)
    assert s.p_within == pytest.approx(1 - math.exp(-100 ** 2 / (2 * sigma ** 2)))
    assert s.dwell_s == 240.0 and s.best_point == "A2" and s.min_distance_m == 0.0
    assert s.explanation.startswith("within 100 m with probability 0.99 (best point A2, GPS fix 0 m away")
    assert "longest 4 min 0 s (visit A)" in s.explanation


def test_run_record():
    pos = positions([("D1", "2024-06-01 12:00", CX, CY, 5.0, "GPS")])
    r = match(pos, activations(), crime("2024-06-01 11:30", "2024-06-01 12:30"), trigger="auto")
    run = r.run
    assert run["algorithm_version"] == ALGORITHM_VERSION and run["trigger"] == "AUTO"
    assert run["status"] == "SUCCESS" and run["started"] <= run["ended"] and run["n_matches"] == 1
    assert run["parameters"]["radius_m"] == 100.0 and run["parameters"]["tolerance_s"] == 300.0
    with pytest.raises(MatchRunError) as e:
        match(pos.drop(columns=["precision_m"]), activations(), crime("2024-06-01 11:30", "2024-06-01 12:30"))
    assert e.value.run["status"] == "FAILURE" and "precision_m" in e.value.run["error"]
    assert e.value.run["ended"] is not None
    with pytest.raises(ValueError, match="radius_m"):
        Params(radius_m=-1)
    with pytest.raises(MatchRunError, match="time_to must not be before"):
        match(pos, activations(), crime("2024-06-01 12:30", "2024-06-01 11:30"))


def test_positions_from_an_ibis_table(tmp_path):
    import ibis

    pos = positions([("D1", "2024-06-01 12:00", CX, CY, 5.0, "GPS")])
    pos.to_parquet(tmp_path / "p.parquet")
    con = ibis.duckdb.connect()
    table = con.read_parquet(tmp_path / "p.parquet")
    r = match(table, activations(), crime("2024-06-01 11:30", "2024-06-01 12:30"))
    assert r.summary.wearer_ref.tolist() == ["W1"]


def _sim_positions(sim):
    from vru.geography.grids import to_bng

    pos = sim.positions.to_pandas()
    pos["easting"], pos["northing"] = to_bng(pos["lon"].to_numpy(), pos["lat"].to_numpy())
    return pos.drop_duplicates(["device_id", "fix_time"])


@pytest.mark.slow
@pytest.mark.parametrize("interval_s", [60, 300])
def test_recall_on_planted_crimes(interval_s):
    from vru.tagging import simulate as sm

    sim = sm.simulate(n_wearers=20, days=1, seed=3, params=sm.Params(interval_s=interval_s))
    crimes = sm.plant_crimes(sim.truth, 300, seed=1)
    r = match(_sim_positions(sim), sim.activations.to_pandas(), crimes)
    got = r.summary.groupby("crime_version_id")["wearer_ref"].agg(set).to_dict()
    found = crimes.apply(lambda c: c.wearer_ref in got.get(c.crime_version_id, set()), axis=1)
    true = crimes.kind == "true"
    reach = true & (crimes.gap_s <= Params().max_gap_s)  # a fix within 30 min on each side
    assert (true & (crimes.gap_s > interval_s)).sum() > 0  # crimes that fell between sparse fixes
    assert found[reach].mean() >= 0.99
    # precision over (crime, wearer) pairs against every wearer truly within 100 m in the window
    expected = crimes.expected_wearers.map(lambda s: set(filter(None, s.split(","))))
    pairs = [(got.get(c, set()), e) for c, e in zip(crimes.crime_version_id, expected, strict=True)]
    tp = sum(len(g & e) for g, e in pairs)
    fp = sum(len(g - e) for g, e in pairs)
    assert tp / (tp + fp) >= 0.99
    # decoys (just outside the radius or the window) raise nothing
    assert not crimes[crimes.kind != "true"].crime_version_id.isin(got).any()
    print(f"interval {interval_s}s: recall {found[true].mean():.4f} of {true.sum()} "
          f"({found[reach].mean():.4f} within the 30-min gap), precision {tp / (tp + fp):.4f}")


@pytest.mark.slow
def test_compiled_query_is_kept_in_the_process_only(tmp_path, monkeypatch):
    """The second run with the same parameters compiles nothing; nothing is written outside the process."""
    from vru.tagging import matching

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    matching.compiled_query.cache_clear()
    pos = positions([("D1", "2024-06-01 12:00", CX, CY, 5.0, "GPS")])
    args = (pos, activations(), crime("2024-06-01 11:30", "2024-06-01 12:30"))
    first = match(*args)
    def compile_again(*a, **k):
        raise RuntimeError("compiled again")

    monkeypatch.setattr(matching, "match_expr", compile_again)
    again = match(*args)
    pd.testing.assert_frame_equal(first.points, again.points)
    assert list(tmp_path.rglob("*")) == []
    # other parameters are another query, compiled afresh
    with pytest.raises(MatchRunError, match="compiled again"):
        match(*args, Params(radius_m=50.0))
    matching.compiled_query.cache_clear()


@pytest.mark.slow
def test_summary_by_columns_is_the_per_match_definition(monkeypatch):
    """Many crimes and wearers (groups numbered once, not grouped by their texts): each summary row has
    the crime, the wearer and the figures that the per-(crime, wearer) definition gives."""
    from vru.tagging import matching
    from vru.tagging import simulate as sm

    sim = sm.simulate(n_wearers=12, days=0.5, seed=5, params=sm.Params(interval_s=120))
    crimes = sm.plant_crimes(sim.truth, 60, seed=2)
    args = (_sim_positions(sim), sim.activations.to_pandas(), crimes)
    fast = match(*args)
    assert fast.summary.wearer_ref.nunique() >= 5 and len(fast.summary) >= 20
    monkeypatch.setattr(matching, "_summary_columns", matching._summary_rows)
    slow = match(*args)
    pd.testing.assert_frame_equal(fast.points, slow.points, check_exact=True)
    pd.testing.assert_frame_equal(fast.summary, slow.summary, check_exact=True)
