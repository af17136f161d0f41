"""Synthetic GPS tag trails in London, with the ground truth, for the demo, the tests and the benchmarks.

Tag data are personal data and never come from outside: everything here is drawn from a seeded random
generator (:func:`simulate` is deterministic given its arguments and ``seed``).

The model
---------
Each wearer has a home, a point drawn uniformly inside the London boroughs (the bundled ONS 2022
boundaries). Every day (times are UTC; the simulator has no notion of local time) the wearer stays at
home until a leaving time drawn in 07:00-10:00, then alternates journeys and stays until a return time
drawn in 17:00-22:30, when the next journey goes home; the night is spent at home. A journey goes to a
destination drawn 0.3-6 km away, inside London:

- ``bus`` while more than 1.5 km from the destination (until within 300 m): straight-ish, heading to
  the destination with a 6 degree standard deviation, 5-12 m/s drawn every interval;
- ``walk`` otherwise: 0.8-1.8 m/s (drawn per journey leg, +-0.1 m/s per interval, clipped), keeping
  its heading except in 10% of intervals where it turns (a new heading aimed at the destination with a
  40 degree standard deviation), as the MoJ's test generator does;
- ``stationary`` on arrival, for 10-90 minutes (or until the next leaving time at home).

Time is a lattice of ticks ``start + k * interval_s``. The truth is exact at every tick and the path
between two ticks is the straight segment between them at constant speed, so the true position at
any second is the linear interpolation of the truth (:func:`true_position`). ``mode`` at a tick is
the mode of the segment that ends there.

What the tag reports at each tick (one fix per tick at most; ``fix_time`` is the tick):

- nothing during a *GPS gap* (out of signal): gaps start with probability ``p_gap`` per tick and last
  a geometric number of ticks (mean ``gap_ticks``);
- ``LBS`` (a cell-tower fix) with probability ``p_lbs``: hundreds of metres off (Gaussian,
  ``lbs_sd_m`` per axis) with a precision of 300-1500 m;
- ``WIFI`` with probability ``p_wifi`` while stationary: 15 m noise per axis, precision 15-40 m;
- ``GPS`` otherwise: the truth plus Gaussian noise of ``noise_m`` per axis, a precision drawn
  uniformly in 0-25 m (as the MoJ generator draws it; independent of the actual error).

Reported speed is the segment's speed in km/h (+-0.5 km/h noise, never negative), heading the
segment's compass heading (+-5 degrees), empty when the speed is under 1 km/h.

Delivery: a fix is normally received 2-40 s after it was taken. During a *network outage* (start
probability ``p_outage`` per tick, geometric length, mean ``outage_ticks``) fixes are stored on the
tag and sent in a burst at reconnection, in a shuffled order (out of order by fix time) and with
``p_resend`` of them sent a second time a little later (duplicates with a later received time). The
feed is ordered by received time, as a supplier sends it.

Devices: one per wearer; with probability ``p_swap`` (runs of 2+ days) the device is replaced at a
random tick, and the activation of the first device ends there (activations are half-open
``[active_from, active_to)``; the current device has ``active_to`` null).

Ground truth (:data:`vru.tagging.schema.GROUND_TRUTH`): one row per wearer and tick: the device worn,
the true easting/northing, the mode and the mechanism of the fix the tag reported at that tick (null
in a GPS gap).

:func:`plant_crimes` plants crimes on the true trails at known times and places, and decoys just
outside the radius or just outside the window, each with its expected label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pyproj import Transformer

from vru.tagging import schema as S

FEED = S.FEED

WALK, BUS, STATIONARY = 0, 1, 2
_MODE_NAMES = np.array(S.MODES)  # index = code: walk, bus, stationary
_MECH_NAMES = np.array([S.GPS, S.RF, S.LBS, S.WIFI])
_NONE, _GPS, _LBS, _WIFI = -1, 0, 2, 3
_CHUNK = 250  # wearers simulated together (fixed: the random streams depend on it)

_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


@dataclass(frozen=True)
class Params:
    """Parameters of the trail and feed model (see the module docstring)."""

    interval_s: int = 60
    noise_m: float = 10.0
    precision_max_m: float = 25.0
    walk_speed: tuple[float, float] = (0.8, 1.8)
    bus_speed: tuple[float, float] = (5.0, 12.0)
    p_turn: float = 0.1
    p_lbs: float = 0.02
    lbs_sd_m: float = 300.0
    lbs_precision: tuple[float, float] = (300.0, 1500.0)
    p_wifi: float = 0.1
    p_gap: float = 1 / 600
    gap_ticks: float = 12.0
    p_outage: float = 1 / 720
    outage_ticks: float = 20.0
    p_resend: float = 0.2
    latency_s: tuple[int, int] = (2, 40)
    p_swap: float = 0.1


@dataclass
class Simulation:
    """What :func:`simulate` returns: the feed, the activations and the ground truth (pyarrow)."""

    positions: pa.Table  # FEED schema, ordered by received_time
    activations: pa.Table  # ACTIVATIONS schema
    truth: pa.Table  # GROUND_TRUTH schema, ordered by wearer_ref then time
    start: pd.Timestamp
    end: pd.Timestamp  # exclusive: start + days
    params: Params = field(default_factory=Params)


# --------------------------------------------------------------------------- London


_LONDON = None


def _london():
    """The union of the bundled London borough polygons (BNG) and its bounds, read once."""
    global _LONDON
    if _LONDON is None:
        import shapely

        from vru.sources.boundaries import read_bundled

        gdf = read_bundled("lad2022")
        geom = shapely.union_all(gdf.geometry.to_numpy())
        shapely.prepare(geom)
        _LONDON = (geom, gdf.total_bounds)
    return _LONDON


def in_london(x, y) -> np.ndarray:
    """Whether each BNG point lies inside the London boroughs."""
    import shapely

    geom, _ = _london()
    return shapely.contains_xy(geom, np.asarray(x, float), np.asarray(y, float))


def _random_london(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    _, (x0, y0, x1, y1) = _london()
    xs, ys = np.empty(0), np.empty(0)
    while len(xs) < n:
        x = rng.uniform(x0, x1, 2 * n + 16)
        y = rng.uniform(y0, y1, 2 * n + 16)
        ok = in_london(x, y)
        xs, ys = np.concatenate([xs, x[ok]]), np.concatenate([ys, y[ok]])
    return xs[:n], ys[:n]


def _destinations(rng, x, y) -> tuple[np.ndarray, np.ndarray]:
    """A destination 0.3-6 km from each point, inside London (8 tries, else anywhere in London)."""
    n = len(x)
    k = 8
    d = rng.uniform(300.0, 6000.0, (n, k))
    a = rng.uniform(0.0, 2 * math.pi, (n, k))
    cx, cy = x[:, None] + d * np.sin(a), y[:, None] + d * np.cos(a)
    ok = in_london(cx.ravel(), cy.ravel()).reshape(n, k)
    first = ok.argmax(axis=1)
    dx, dy = cx[np.arange(n), first], cy[np.arange(n), first]
    none = ~ok.any(axis=1)
    if none.any():
        fx, fy = _random_london(rng, int(none.sum()))
        dx[none], dy[none] = fx, fy
    return dx, dy


# --------------------------------------------------------------------------- simulation


def _utc(t) -> pd.Timestamp:
    t = pd.Timestamp(t)
    if t.tzinfo is None:
        raise ValueError(f"{t} has no time zone: give UTC (e.g. '2024-03-01T00:00Z')")
    return t.tz_convert("UTC")


def _bearing(dx, dy):
    return np.degrees(np.arctan2(dx, dy)) % 360.0


def _trails(rng: np.random.Generator, n: int, ticks: int, p: Params) -> dict[str, np.ndarray]:
    """Truth for ``n`` wearers over ``ticks`` ticks: arrays of shape (ticks, n)."""
    per_day = 86400 // p.interval_s
    days = -(-ticks // per_day)
    leave = (rng.uniform(7.0, 10.0, (days, n)) * 3600 / p.interval_s).astype(np.int64)
    back = (rng.uniform(17.0, 22.5, (days, n)) * 3600 / p.interval_s).astype(np.int64)
    hx, hy = _random_london(rng, n)
    x, y = hx.copy(), hy.copy()
    destx, desty = hx.copy(), hy.copy()
    mode = np.full(n, STATIONARY, np.int8)
    heading = rng.uniform(0, 360, n)
    walk_v = rng.uniform(*p.walk_speed, n)
    stay_until = np.zeros(n, np.int64)  # tick until which a stationary wearer stays
    X = np.empty((ticks, n))
    Y = np.empty((ticks, n))
    M = np.empty((ticks, n), np.int8)
    V = np.empty((ticks, n))
    H = np.empty((ticks, n))
    dt = float(p.interval_s)
    for k in range(ticks):
        day, tod = divmod(k, per_day)
        daytime = (tod >= leave[day]) & (tod < back[day])
        at_home = (x == hx) & (y == hy)
        # decisions for stationary wearers whose stay is over
        done = (mode == STATIONARY) & (k >= stay_until)
        go_out = done & daytime
        go_home = done & ~daytime & ~at_home
        if go_out.any():
            idx = np.flatnonzero(go_out)
            destx[idx], desty[idx] = _destinations(rng, x[idx], y[idx])
        destx[go_home], desty[go_home] = hx[go_home], hy[go_home]
        start = go_out | go_home
        stay_home = done & ~daytime & at_home
        if stay_home.any():  # until the next leaving time
            nxt = np.where(tod < leave[day], day * per_day + leave[day],
                           (day + 1) * per_day + leave[min(day + 1, days - 1)])
            stay_until[stay_home] = nxt[stay_home]
        # travelling wearers: choose bus or walk by the remaining distance
        ddx, ddy = destx - x, desty - y
        dist = np.hypot(ddx, ddy)
        moving = (mode != STATIONARY) | start
        new_bus = moving & (dist > 1500.0) & (mode != BUS)
        new_walk = moving & (((mode == BUS) & (dist < 300.0)) | (start & (dist <= 1500.0)))
        mode[new_bus] = BUS
        mode[new_walk] = WALK
        walk_v[new_walk] = rng.uniform(*p.walk_speed, int(new_walk.sum()))
        brg = _bearing(ddx, ddy)
        turn = new_walk | (rng.random(n) < p.p_turn)
        heading = np.where(turn, brg + rng.normal(0, 40.0, n), heading)
        heading = np.where(mode == BUS, brg + rng.normal(0, 6.0, n), heading) % 360.0
        walk_v = np.clip(walk_v + rng.uniform(-0.1, 0.1, n), *p.walk_speed)
        speed = np.where(mode == BUS, rng.uniform(*p.bus_speed, n), walk_v)
        speed = np.where(moving, speed, 0.0)
        step = speed * dt
        arrive = moving & (dist <= step)
        hr = np.radians(heading)
        nx = np.where(arrive, destx, x + step * np.sin(hr))
        ny = np.where(arrive, desty, y + step * np.cos(hr))
        seg = np.hypot(nx - x, ny - y)
        X[k], Y[k] = nx, ny
        M[k] = np.where(moving, mode, STATIONARY)
        V[k] = seg / dt
        H[k] = np.where(seg > 0, _bearing(nx - x, ny - y), np.nan)
        x, y = nx, ny
        if arrive.any():
            mode[arrive] = STATIONARY
            home = arrive & (x == hx) & (y == hy) & ~daytime
            stay_until[arrive] = k + rng.integers(10, 91, int(arrive.sum())) * 60 // p.interval_s
            stay_until[home] = k + 1  # the night-at-home rule sets the real end at the next tick
    return {"x": X, "y": Y, "mode": M, "speed": V, "heading": H}


def _markov(rng, shape, p_start: float, mean_len: float) -> np.ndarray:
    """Boolean (ticks, n): runs that start with probability ``p_start`` and last ``mean_len`` on average."""
    ticks, n = shape
    out = np.zeros(shape, bool)
    p_end = 1.0 / max(mean_len, 1.0)
    state = np.zeros(n, bool)
    u = rng.random(shape)
    for k in range(ticks):
        state = np.where(state, u[k] >= p_end, u[k] < p_start)
        out[k] = state
    return out


def _chunk(seed: int, c: int, n: int, ticks: int, start: pd.Timestamp, p: Params, first: int):
    """Simulate wearers ``first .. first + n - 1`` (chunk ``c``): feed rows, activations, truth."""
    rng = np.random.default_rng([seed, c])
    tr = _trails(rng, n, ticks, p)
    shape = (ticks, n)
    gap = _markov(rng, shape, p.p_gap, p.gap_ticks)
    outage = _markov(rng, shape, p.p_outage, p.outage_ticks)
    u = rng.random(shape)
    mech = np.full(shape, _GPS, np.int8)
    mech[(tr["mode"] == STATIONARY) & (u < p.p_wifi)] = _WIFI
    mech[rng.random(shape) < p.p_lbs] = _LBS
    mech[gap] = _NONE
    sd = np.select([mech == _LBS, mech == _WIFI], [p.lbs_sd_m, 15.0], p.noise_m)
    fx = tr["x"] + rng.normal(0, 1, shape) * sd
    fy = tr["y"] + rng.normal(0, 1, shape) * sd
    prec = np.select(
        [mech == _LBS, mech == _WIFI],
        [rng.uniform(*p.lbs_precision, shape), rng.uniform(15.0, 40.0, shape)],
        rng.uniform(0.0, p.precision_max_m, shape),
    )
    spd = np.maximum(tr["speed"] * 3.6 + rng.normal(0, 0.5, shape), 0.0)
    hdg = np.where(spd < 1.0, np.nan, (tr["heading"] + rng.normal(0, 5.0, shape)) % 360.0)

    # devices: wearer i wears device A; some swap to device B at a tick
    wearer_no = first + np.arange(n)
    swap_at = np.full(n, ticks, np.int64)
    if ticks >= 2 * 86400 // p.interval_s:
        swaps = rng.random(n) < p.p_swap
        swap_at[swaps] = rng.integers(ticks // 4, 3 * ticks // 4, int(swaps.sum()))
    tick = np.arange(ticks)[:, None]
    dev_b = tick >= swap_at[None, :]  # (ticks, n)
    step_us = p.interval_s * 1_000_000
    t0 = start.value // 1000  # microseconds
    times = t0 + tick * step_us  # (ticks, 1)

    # delivery: received = fix + latency; in an outage, at the reconnection, shuffled, some resent
    lat_s = rng.integers(p.latency_s[0], p.latency_s[1] + 1, shape)
    recv = times + lat_s * 1_000_000
    # reconnection tick of each outage tick: the first tick after the run
    nxt = np.where(~outage, tick, ticks).astype(np.int64)
    reconnect = np.minimum.accumulate(nxt[::-1], axis=0)[::-1]  # first non-outage tick at or after
    burst_offset = rng.permutation(ticks * n).reshape(shape) % 3600  # shuffled order within a burst
    recv = np.where(outage, t0 + reconnect * step_us + (5 + burst_offset) * 1_000_000, recv)
    resend = outage & (rng.random(shape) < p.p_resend)

    sent = mech != _NONE
    ti, wi = np.nonzero(sent)
    rs = resend[ti, wi]
    ti2, wi2 = ti[rs], wi[rs]
    fti = np.concatenate([ti, ti2])
    fwi = np.concatenate([wi, wi2])
    recv_all = np.concatenate([recv[ti, wi], recv[ti2, wi2] + 3600 * 1_000_000])
    lon, lat = _TO_WGS84.transform(fx[fti, fwi], fy[fti, fwi])
    devices = np.where(dev_b[fti, fwi], 2 * wearer_no[fwi] + 1, 2 * wearer_no[fwi])
    feed = {
        "dev": devices,
        "fix": times[fti, 0],
        "lat": np.round(lat, 6),
        "lon": np.round(lon, 6),
        "prec": np.round(prec[fti, fwi], 1),
        "spd": np.round(spd[fti, fwi], 1),
        "hdg": np.round(hdg[fti, fwi], 0) % 360.0,
        "mech": mech[fti, fwi],
        "recv": recv_all,
    }
    acts = []
    for i in range(n):
        w = wearer_no[i]
        a_from = t0 - 3600 * 1_000_000
        if swap_at[i] < ticks:
            cut = t0 + int(swap_at[i]) * step_us
            acts += [(2 * w, w, a_from, cut), (2 * w + 1, w, cut, None)]
        else:
            acts.append((2 * w, w, a_from, None))
    truth = {
        "dev": np.where(dev_b, 2 * wearer_no[None, :] + 1, 2 * wearer_no[None, :]).T.ravel(),
        "wearer": np.repeat(wearer_no, ticks),
        "time": np.tile(times[:, 0], n),
        "x": tr["x"].T.ravel(),
        "y": tr["y"].T.ravel(),
        "mode": tr["mode"].T.ravel(),
        "mech": mech.T.ravel(),
    }
    return feed, acts, truth


def device_name(code) -> np.ndarray:
    """Device ids of the simulation: ``D`` + 7 digits (wearer number * 2, + 1 for a replacement)."""
    return np.char.add("D", np.char.zfill(np.asarray(code).astype(str), 7))


def wearer_name(code) -> np.ndarray:
    """Pseudonymous wearer references of the simulation: ``W`` + 6 digits."""
    return np.char.add("W", np.char.zfill(np.asarray(code).astype(str), 6))


def _names(codes: np.ndarray, fn) -> pa.Array:
    uniq, inv = np.unique(codes, return_inverse=True)
    return pa.DictionaryArray.from_arrays(pa.array(inv.astype(np.int32)), pa.array(fn(uniq))).cast(
        pa.string())


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(us, np.int64).astype("datetime64[us]"), pa.timestamp("us")).cast(S.UTC_TS)


def simulate(n_wearers: int = 10, days: float = 1, *, start="2024-03-04T00:00:00Z", seed: int = 0,
             params: Params | None = None) -> Simulation:
    """Trails of ``n_wearers`` wearers over ``days`` days from ``start`` (UTC), deterministic by ``seed``.

    Returns a :class:`Simulation` with the position feed, the activations and the ground truth.
    """
    p = params or Params()
    if n_wearers < 1:
        raise ValueError("n_wearers must be at least 1")
    if 86400 % p.interval_s:
        raise ValueError("interval_s must divide a day")
    start = _utc(start)
    ticks = int(round(days * 86400 / p.interval_s))
    if ticks < 1:
        raise ValueError("days is too short for one interval")
    feeds, acts, truths = [], [], []
    for c, first in enumerate(range(0, n_wearers, _CHUNK)):
        n = min(_CHUNK, n_wearers - first)
        f, a, t = _chunk(seed, c, n, ticks, start, p, first)
        feeds.append(f)
        acts += a
        truths.append(t)
    f = {k: np.concatenate([d[k] for d in feeds]) for k in feeds[0]}
    order = np.lexsort((f["fix"], f["dev"], f["recv"]))
    f = {k: v[order] for k, v in f.items()}
    positions = pa.table({
        S.DEVICE_ID: _names(f["dev"], device_name),
        S.FIX_TIME: _ts(f["fix"]),
        S.LAT: f["lat"], S.LON: f["lon"],
        S.PRECISION_M: f["prec"],
        S.SPEED_KMH: pa.array(f["spd"], pa.float64()),
        S.HEADING_DEG: pa.array(f["hdg"], pa.float64(), from_pandas=True),
        S.MECHANISM: pa.array(_MECH_NAMES[f["mech"]]),
        S.RECEIVED_TIME: _ts(f["recv"]),
    }, schema=FEED)
    a_dev, a_w, a_from, a_to = zip(*acts, strict=True)
    activations = pa.table({
        S.DEVICE_ID: pa.array(device_name(np.array(a_dev))),
        S.WEARER_REF: pa.array(wearer_name(np.array(a_w))),
        S.ACTIVE_FROM: _ts(np.array(a_from)),
        S.ACTIVE_TO: pa.array([None if v is None else pd.Timestamp(v * 1000, tz="UTC") for v in a_to],
                              S.UTC_TS),
    }, schema=S.ACTIVATIONS)
    t = {k: np.concatenate([d[k] for d in truths]) for k in truths[0]}
    mech = pa.array(_MECH_NAMES[np.maximum(t["mech"], 0)], mask=t["mech"] == _NONE)
    truth = pa.table({
        S.DEVICE_ID: _names(t["dev"], device_name),
        S.WEARER_REF: _names(t["wearer"], wearer_name),
        S.TIME: _ts(t["time"]),
        S.EASTING: t["x"], S.NORTHING: t["y"],
        S.MODE: pa.array(_MODE_NAMES[t["mode"]]),
        S.MECHANISM: mech,
    }, schema=S.GROUND_TRUTH)
    return Simulation(positions, activations, truth, start,
                      start + pd.Timedelta(seconds=ticks * p.interval_s), p)


# --------------------------------------------------------------------------- writing


def _iso(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.strftime(pc.cast(col, pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` as CSV (no quoting, whole-second ISO 8601 UTC times ending in ``Z``, empty for
    null) or Parquet,
    chosen by the suffix of ``path`` (``.csv`` or ``.parquet``)."""
    path = Path(path)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif path.suffix == ".csv":
        cols = [_iso(c) if pa.types.is_timestamp(c.type) else c for c in table.columns]
        with open(path, "wb") as fh:
            fh.write((",".join(table.column_names) + "\n").encode())
            pacsv.write_csv(pa.table(cols, names=table.column_names), fh,
                            pacsv.WriteOptions(include_header=False, quoting_style="none"))
    else:
        raise ValueError(f"{path}: write .csv or .parquet")
    return path


def write(sim: Simulation, out_dir: str | Path, fmt: str = "csv") -> dict[str, Path]:
    """Write ``positions.<fmt>`` (the feed), ``activations.<fmt>`` and ``truth.parquet`` in ``out_dir``."""
    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be csv or parquet")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "positions": write_table(sim.positions, out / f"positions.{fmt}"),
        "activations": write_table(sim.activations, out / f"activations.{fmt}"),
        "truth": write_table(sim.truth, out / "truth.parquet"),
    }


# --------------------------------------------------------------------------- truth helpers


@dataclass
class _Grid:
    """The truth as regular arrays: wearers x ticks."""

    wearers: np.ndarray  # wearer_ref per row
    devices: np.ndarray  # (w, k) device_id
    t0: int  # seconds since the epoch of tick 0
    step: int
    x: np.ndarray  # (w, k)
    y: np.ndarray
    observed: np.ndarray  # (w, k) a GPS or WIFI fix was reported

    def at(self, w: int, t: float) -> tuple[float, float]:
        """True position of wearer row ``w`` at ``t`` (seconds since the epoch), interpolated."""
        k = (t - self.t0) / self.step
        k0 = int(min(max(math.floor(k), 0), self.x.shape[1] - 1))
        k1 = min(k0 + 1, self.x.shape[1] - 1)
        f = min(max(k - k0, 0.0), 1.0)
        return (self.x[w, k0] + f * (self.x[w, k1] - self.x[w, k0]),
                self.y[w, k0] + f * (self.y[w, k1] - self.y[w, k0]))

    def min_distance(self, px: float, py: float, t_from: float, t_to: float) -> np.ndarray:
        """Each wearer's smallest true distance to (px, py) while t_from <= t <= t_to (exact for the
        piecewise-linear path)."""
        nk = self.x.shape[1]
        lo = (t_from - self.t0) / self.step
        hi = (t_to - self.t0) / self.step
        lo, hi = max(lo, 0.0), min(hi, nk - 1.0)
        if hi < lo:
            return np.full(len(self.wearers), np.inf)
        ks = np.arange(math.ceil(lo), math.floor(hi) + 1)
        # path vertices: P(lo), ticks strictly inside, P(hi)
        def interp(a, f):
            k0 = min(int(math.floor(f)), nk - 1)
            k1 = min(k0 + 1, nk - 1)
            return a[:, k0] + (f - k0) * (a[:, k1] - a[:, k0])
        vx = np.column_stack([interp(self.x, lo), self.x[:, ks], interp(self.x, hi)])
        vy = np.column_stack([interp(self.y, lo), self.y[:, ks], interp(self.y, hi)])
        ax, ay, bx, by = vx[:, :-1], vy[:, :-1], vx[:, 1:], vy[:, 1:]
        dx, dy = bx - ax, by - ay
        den = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(den > 0, ((px - ax) * dx + (py - ay) * dy) / den, 0.0)
        u = np.clip(u, 0.0, 1.0)
        d = np.hypot(ax + u * dx - px, ay + u * dy - py)
        return d.min(axis=1)

    def gap(self, w: int, t: float) -> float:
        """Seconds between the last GPS/WIFI fix at or before ``t`` and the first at or after it."""
        k = (t - self.t0) / self.step
        obs = np.flatnonzero(self.observed[w])
        before = obs[obs <= k]
        after = obs[obs >= k]
        if not len(before) or not len(after):
            return math.inf
        return float((after[0] - before[-1]) * self.step)


def _grid(truth) -> _Grid:
    t = truth.to_pandas() if isinstance(truth, pa.Table) else pd.DataFrame(truth)
    t = t.sort_values([S.WEARER_REF, S.TIME], kind="stable")
    secs = pd.to_datetime(t[S.TIME], utc=True).dt.tz_convert(None).to_numpy().astype("datetime64[s]")
    secs = secs.astype(np.int64)
    wearers = t[S.WEARER_REF].unique()
    nw = len(wearers)
    if len(t) % nw:
        raise ValueError("the ground truth must hold every wearer at every tick")
    nk = len(t) // nw
    grid_t = secs.reshape(nw, nk)
    step = int(grid_t[0, 1] - grid_t[0, 0]) if nk > 1 else 60
    if (grid_t != grid_t[0]).any() or (nk > 1 and (np.diff(grid_t[0]) != step).any()):
        raise ValueError("the ground truth must be on one regular tick lattice for all wearers")
    mech = t[S.MECHANISM].to_numpy() if S.MECHANISM in t else np.full(len(t), S.GPS, object)
    observed = np.isin(mech.astype(str), [S.GPS, S.WIFI]).reshape(nw, nk)
    return _Grid(np.asarray(wearers), t[S.DEVICE_ID].to_numpy().reshape(nw, nk), int(grid_t[0, 0]), step,
                 t[S.EASTING].to_numpy(float).reshape(nw, nk), t[S.NORTHING].to_numpy(float).reshape(nw, nk),
                 observed)


def true_position(truth, wearer_ref: str, time) -> tuple[float, float]:
    """The true (easting, northing) of a wearer at any time (linear between ticks, exact for the model)."""
    g = _grid(truth)
    w = int(np.flatnonzero(g.wearers == wearer_ref)[0])
    return g.at(w, _utc(time).value / 1e9)


# --------------------------------------------------------------------------- planted crimes

PLANTED_EXTRA = ["kind", S.WEARER_REF, S.DEVICE_ID, "true_time", "true_distance_m", "gap_s", "expected",
                 "expected_wearers"]


def plant_crimes(truth, n: int, seed: int = 0, decoys: bool | int = True, *, radius_m: float = 100.0,
                 margin_m: float = 75.0, slack_s: float = 1800.0, offset_m: float = 30.0,
                 window_s: tuple[float, float] = (600.0, 7200.0), force: str = "Metropolitan",
                 crime_type: str = "RB") -> pd.DataFrame:
    """Crimes planted on the true trails, with their expected matching label.

    ``truth`` is the ground truth of :func:`simulate` (pyarrow table or DataFrame). Returns a DataFrame
    with the CRIMES columns (:data:`vru.tagging.schema.CRIMES`; times UTC, BNG metres) plus:

    - ``kind``: ``true`` (``n`` of them), ``decoy_space`` and ``decoy_time`` (``n`` of each when
      ``decoys`` is True, or ``decoys`` of each when it is an int, none when False);
    - ``wearer_ref``, ``device_id``: the wearer the crime was planted on, and the device worn at
      ``true_time``;
    - ``true_time``: for ``true``, the moment the wearer was at the planted place (inside the window);
      for decoys, the moment of the trail the decoy was built from;
    - ``true_distance_m``: the planted wearer's smallest true distance to the crime during the window;
    - ``gap_s``: seconds between the planted wearer's last GPS/WIFI fix at or before ``true_time``
      and the first at or after it (60 = a fix every minute; larger = the crime fell in a gap);
    - ``expected``: True when the planted wearer truly came within ``radius_m`` during the window;
    - ``expected_wearers``: every wearer (comma-separated, sorted) whose true path came within
      ``radius_m`` of the crime during its window: the set a perfect matcher returns.

    A ``true`` crime lies within ``offset_m`` of the wearer's true position at ``true_time``, with a
    window of ``window_s`` seconds (uniform) around it. A ``decoy_space`` crime lies
    ``radius_m + margin_m`` to ``radius_m + 2 * margin_m`` from the wearer's true path throughout its
    window widened by ``slack_s`` on both sides. A ``decoy_time`` crime lies on the trail but its
    window (widened by ``slack_s``) ends before the wearer came within ``radius_m + margin_m`` of it,
    or starts after the wearer left. Decoys are also at least ``radius_m + margin_m`` from every
    other wearer during the widened window (redrawn otherwise), so their ``expected_wearers`` is empty.
    """
    g = _grid(truth)
    rng = np.random.default_rng(seed)
    nd = (n if decoys is True else 0) if isinstance(decoys, bool) else int(decoys)
    t_first = g.t0
    t_last = g.t0 + g.step * (g.x.shape[1] - 1)
    far = radius_m + margin_m
    rows = []

    def window(L):
        return float(rng.uniform(*window_s)) if L is None else L

    def record(kind, w, t_true, px, py, t_from, t_to):
        d = g.min_distance(px, py, t_from, t_to)
        k = int(round((t_true - g.t0) / g.step))
        k = min(max(k, 0), g.x.shape[1] - 1)
        rows.append({
            "kind": kind, S.WEARER_REF: g.wearers[w], S.DEVICE_ID: g.devices[w, k],
            "true_time": t_true, S.EASTING: px, S.NORTHING: py, S.TIME_FROM: t_from, S.TIME_TO: t_to,
            "true_distance_m": float(d[w]), "gap_s": g.gap(w, t_true), "expected": bool(d[w] <= radius_m),
            "expected_wearers": ",".join(sorted(g.wearers[d <= radius_m])),
        })

    # true crimes
    for _ in range(n):
        w = int(rng.integers(len(g.wearers)))
        t = float(rng.integers(t_first, t_last + 1))
        L = window(None)
        t_from = math.floor(max(t - rng.uniform(0, L), t_first))
        t_to = math.ceil(t_from + L)
        x, y = g.at(w, t)
        r = offset_m * math.sqrt(rng.random())
        a = rng.uniform(0, 2 * math.pi)
        record("true", w, t, x + r * math.sin(a), y + r * math.cos(a), float(t_from), float(t_to))

    # decoys just outside the radius
    made, tries = 0, 0
    while made < nd and tries < 200 * nd:
        tries += 1
        w = int(rng.integers(len(g.wearers)))
        t = float(rng.integers(t_first, t_last + 1))
        L = window(None)
        t_from = float(math.floor(max(t - rng.uniform(0, L), t_first)))
        t_to = float(math.ceil(t_from + L))
        x, y = g.at(w, t)
        r = rng.uniform(far, far + margin_m)
        a = rng.uniform(0, 2 * math.pi)
        px, py = x + r * math.sin(a), y + r * math.cos(a)
        if g.min_distance(px, py, t_from - slack_s, t_to + slack_s).min() < far:
            continue
        record("decoy_space", w, t, px, py, t_from, t_to)
        made += 1

    # decoys just outside the window
    made, tries = 0, 0
    while made < nd and tries < 200 * nd:
        tries += 1
        w = int(rng.integers(len(g.wearers)))
        t = float(rng.integers(t_first, t_last + 1))
        px, py = g.at(w, t)
        # the run of ticks around t when the wearer is within `far` of the place
        d = np.hypot(g.x[w] - px, g.y[w] - py) <= far
        k = int(round((t - g.t0) / g.step))
        lo = k
        while lo > 0 and d[lo - 1]:
            lo -= 1
        hi = k
        while hi < len(d) - 1 and d[hi + 1]:
            hi += 1
        L = window(None)
        if rng.random() < 0.5:
            t_to = float(math.floor(g.t0 + (lo - 1) * g.step - slack_s - rng.uniform(0, 600)))
            t_from = t_to - math.ceil(L)
        else:
            t_from = float(math.ceil(g.t0 + (hi + 1) * g.step + slack_s + rng.uniform(0, 600)))
            t_to = t_from + math.ceil(L)
        if t_from < t_first or t_to > t_last:
            continue
        if g.min_distance(px, py, t_from - slack_s, t_to + slack_s).min() < far:
            continue
        record("decoy_time", w, t, px, py, t_from, t_to)
        made += 1
    if nd and (sum(r["kind"] == "decoy_space" for r in rows) < nd
               or sum(r["kind"] == "decoy_time" for r in rows) < nd):
        raise ValueError("could not place the decoys: give a longer or larger simulation")

    df = pd.DataFrame(rows, columns=["kind", S.WEARER_REF, S.DEVICE_ID, "true_time", S.EASTING, S.NORTHING,
                                     S.TIME_FROM, S.TIME_TO, "true_distance_m", "gap_s", "expected",
                                     "expected_wearers"])
    for c in ("true_time", S.TIME_FROM, S.TIME_TO):
        df[c] = pd.to_datetime(df[c].to_numpy(float) * 1e9, utc=True).astype("datetime64[us, UTC]")
    ids = [f"SIM{i + 1:06d}" for i in range(len(df))]
    df.insert(0, S.CRIME_VERSION_ID, [f"{i}-v1" for i in ids])
    df.insert(1, S.CRIME_REF, ids)
    df.insert(2, S.FORCE, force)
    df.insert(3, S.CRIME_TYPE, crime_type)
    df = df[[*S.CRIMES.names, *PLANTED_EXTRA]]
    return df
