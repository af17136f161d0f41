"""Crime matching: which tag wearers were near a crime's place during its window. Published and versioned.

The algorithm (version :data:`ALGORITHM_VERSION`; docs/tagging-matching.md gives it with reasons) is
written once as Ibis expressions, with distances in British National Grid metres
(``sqrt(dx^2 + dy^2)``, no geospatial extension), so the same expression runs on DuckDB (default)
and on PySpark. Times are compared in whole seconds since the epoch (UTC).

For one crime version (point ``c``, window ``[from, to]``) and the parameters :class:`Params`:

1. **Fixes.** A fix of a device, taken while an activation links the device to a wearer
   (``active_from <= fix_time < active_to``), is a *candidate* when
   ``from - tolerance <= fix_time <= to + tolerance`` and ``distance(fix, c) <= R + precision_m``.
   Only GPS and WIFI candidates make a match; LBS (cell) and RF candidates are listed with a match
   made by others but never make one, and never count in the score.
2. **Interpolation.** Consecutive GPS/WIFI fixes of a device (ordered by ``fix_time``), ``(p1, t1)``
   and ``(p2, t2)``, form a segment when ``t2 - t1 <= max_gap_s`` and the implied speed
   ``|p2 - p1| / (t2 - t1) <= max_speed_mps``. Where the segment's time span overlaps the widened
   window and neither end is itself a candidate, the point of the segment closest to ``c`` within
   the overlap (``alpha`` in ``[a0, a1]``, moving linearly in time; its time rounded to the second)
   is a candidate when its distance is ``<= R + precision``, where the precision grows along the
   segment as a Brownian bridge (Horne et al. 2007): with ``s_i = precision_i / k``
   (``k = sqrt(-2 ln(1 - confidence))``, 2.448 for the 95% circle),
   ``s(alpha)^2 = (1-alpha)^2 s1^2 + alpha^2 s2^2 + (t2-t1) alpha (1-alpha) bridge_var``
   and ``precision = k s(alpha)``. It is marked ``interpolated``.
3. **Visits.** The candidates of one (crime version, wearer), ordered by time, are split into
   visits A, B, ... where two consecutive candidates are more than ``visit_gap_s`` apart, or a
   GPS/WIFI fix that is not a candidate lies between them; points are numbered within a visit
   (A1, A2, ...). A visit with no GPS/WIFI or interpolated point is dropped (LBS alone never
   matches); the remaining visits are lettered in order. Computed in Python on the candidate points
   (:func:`_visits`), from their time and their count of GPS/WIFI fixes (``_idx``) that the query returns.
4. **Score** (per crime version and wearer, computed in Python after the Ibis step): the
   probability that the wearer was within ``R`` of the crime, taking a point as a circular
   Gaussian with ``sigma = max(precision, 1 m) / k``: ``P = F_ncx2(R^2/sigma^2; 2, d^2/sigma^2)``
   (noncentral chi-square, 2 degrees of freedom), the maximum over the GPS/WIFI and interpolated
   points; and the dwell: the longest time spanned by one visit.
"""

from __future__ import annotations

import functools
import math
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy.stats import ncx2

from vru.errors import VRUError
from vru.tagging import schema as s

#: bumped whenever a change to this module can change a match, a label or a score
ALGORITHM_VERSION = "vru-match-1.0"
BACKENDS = ("duckdb", "spark")
TRIGGERS = ("AUTO", "MANUAL")
#: points whose mechanism can make a match (LBS and RF never do)
MATCHING_MECHANISMS = tuple(m for m in s.MECHANISMS if m not in s.COARSE_MECHANISMS)

# an activation with no end is open until this epoch second (year 2286)
_OPEN_END = 9.999e9


@dataclass(frozen=True)
class Params:
    """The published parameters of a matching run (defaults: docs/tagging-matching.md says why)."""

    radius_m: float = 100.0  # R: the MoJ draws the crime with a 100 m circle
    tolerance_s: float = 300.0  # the window is widened by this much on each side
    max_gap_s: float = 1800.0  # no interpolation across a longer gap between two fixes
    max_speed_mps: float = 50.0  # no interpolation across a segment implying a faster move
    visit_gap_s: float = 600.0  # a new visit after this long without a candidate point
    confidence: float = 0.95  # precision_m is the radius of this confidence circle
    bridge_var_m2_s: float = 2.0  # Brownian-bridge motion variance of an interpolated point

    def __post_init__(self) -> None:
        for name in ("radius_m", "max_gap_s", "max_speed_mps", "visit_gap_s", "bridge_var_m2_s"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"matching parameter {name} must be a positive number, not {v!r}")
        if not (math.isfinite(self.tolerance_s) and self.tolerance_s >= 0):
            raise ValueError(f"matching parameter tolerance_s must be >= 0, not {self.tolerance_s!r}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"matching parameter confidence must be in (0, 1), not {self.confidence!r}")

    @property
    def k(self) -> float:
        """precision_m / sigma for a circular Gaussian (2.448 at 95%)."""
        return math.sqrt(-2.0 * math.log(1.0 - self.confidence))


class MatchRunError(VRUError):
    """A matching run failed; ``run`` is its record (status FAILURE, with the error)."""

    def __init__(self, run: dict, message: str) -> None:
        self.run = run
        super().__init__(message)


@dataclass
class MatchResult:
    """The output of :func:`match`: the points table, the per-wearer summary and the run record."""

    points: pd.DataFrame  # schema.MATCHES columns, sorted by crime version, wearer, visit, seq
    summary: pd.DataFrame  # schema.MATCH_SUMMARY columns (+ n_visits, n_interpolated, best_point)
    run: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ inputs
POSITION_COLUMNS = (s.DEVICE_ID, s.FIX_TIME, s.EASTING, s.NORTHING, s.PRECISION_M, s.SPEED_KMH,
                    s.HEADING_DEG, s.MECHANISM)
ACTIVATION_COLUMNS = (s.DEVICE_ID, s.WEARER_REF, s.ACTIVE_FROM, s.ACTIVE_TO)
CRIME_COLUMNS = (s.CRIME_VERSION_ID, s.TIME_FROM, s.TIME_TO, s.EASTING, s.NORTHING)


def _check_columns(what: str, columns, needed) -> None:
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ValueError(f"{what} lack the column(s) {', '.join(missing)}")


def _utc(col: pd.Series, what: str, name: str) -> pd.Series:
    out = pd.to_datetime(col, utc=True)
    if getattr(col.dtype, "tz", None) is None and len(col) and not col.isna().all():
        raise ValueError(f"{what}: column {name} must hold timezone-aware (UTC) times")
    return out.astype("datetime64[us, UTC]")


def _crimes_frame(crimes) -> pd.DataFrame:
    df = crimes.execute() if isinstance(crimes, ir.Table) else pd.DataFrame(crimes)
    _check_columns("crimes", df.columns, CRIME_COLUMNS)
    df = df[list(CRIME_COLUMNS)].copy()
    for c in (s.TIME_FROM, s.TIME_TO):
        df[c] = _utc(df[c], "crimes", c)
    bad_time = (df[s.TIME_FROM].isna() | df[s.TIME_TO].isna() | (df[s.TIME_TO] < df[s.TIME_FROM])).to_numpy()
    xy = df[[s.EASTING, s.NORTHING]].to_numpy(dtype="float64", na_value=np.nan)
    bad_xy = ~np.isfinite(xy).all(axis=1)
    for i in np.flatnonzero(bad_time | bad_xy)[:1]:  # the first bad row, as the row loop reported it
        cv = df[s.CRIME_VERSION_ID].iloc[i]
        if bad_time[i]:
            raise ValueError(f"crimes row {i + 1} ({cv}): time_to must not be before time_from, and both "
                             "are required")
        raise ValueError(f"crimes row {i + 1} ({cv}): easting/northing missing")
    if df[s.CRIME_VERSION_ID].duplicated().any():
        dup = df.loc[df[s.CRIME_VERSION_ID].duplicated(), s.CRIME_VERSION_ID].iloc[0]
        raise ValueError(f"crimes: crime_version_id {dup} appears twice")
    return df


def _as_table(data, what: str, needed, times) -> ir.Table:
    if isinstance(data, ir.Table):
        _check_columns(what, data.columns, needed)
        return data
    return ibis.memtable(_frame(data, what, needed, times))


def _frame(data, what: str, needed, times) -> pd.DataFrame:
    df = pd.DataFrame(data)
    _check_columns(what, df.columns, needed)
    df = df[[c for c in needed]].copy()
    for c in times:
        df[c] = _utc(df[c], what, c)
    for c in (s.SPEED_KMH, s.HEADING_DEG, s.EASTING, s.NORTHING, s.PRECISION_M):
        if c in df:
            df[c] = df[c].astype("float64")
    return df


@ibis.udf.scalar.builtin(name="epoch", signature=(("timestamp('UTC')",), "float64"))
def _duckdb_epoch(t):
    """DuckDB's own ``epoch()`` of a TIMESTAMPTZ: seconds since 1970-01-01 UTC."""


def _secs(col: ir.TimestampValue, dialect: str | None = None) -> ir.FloatingValue:
    """Seconds since the epoch (UTC sessions: see :func:`_connect`).

    On DuckDB the engine's ``epoch()`` of the UTC time itself: Ibis's generic form casts the time to
    a time without zone first, a per-row time zone conversion that cost more than the window over
    the fixes (0.2 s per 1.5 million fixes). The same number: the sessions run in UTC."""
    if dialect == "duckdb":
        return _duckdb_epoch(col)
    return col.epoch_seconds().cast("float64")


# ------------------------------------------------------------------------------------- expression
#: cell sizes of the spatial pre-filter, in multiples of the radius (they change no result, only speed)
_CELLS = (2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)


def _sq(v):
    """``v * v``: the same number as ``v ** 2``, which Ibis writes as ``POWER(v, 2)``, a library call per row
    (four times the cost of a product on DuckDB)."""
    return v * v


def _near(rows: ir.Table, c: ir.Table, R: float, time_preds) -> ir.Table:
    """Join ``rows`` to the crimes ``c`` on ``time_preds``, keeping at least every pair whose crime lies
    within ``rows._reach`` metres of the row's point (easting, northing); the caller applies the exact
    test. A pure speed-up: a row whose reach fits a cell size ``G`` (``reach <= G - 1``; 1 m of margin
    for rounding) is joined by equality on the grid cell of its point to the 3 x 3 cells around each
    crime at that size (a point within ``G - 1`` of the crime lies in one of them, and in exactly one),
    so only crimes nearby are paired; a row whose reach fits no size (or is not a number) has level -1
    and cell (0, 0), which every crime also has once: it is paired with every crime by time alone, as
    without the grid. One equi-join for both; each pair appears once.
    """
    sizes = [f * R for f in _CELLS]
    rows = rows.mutate(_tier=ibis.cases(*[(rows._reach <= g - 1.0, i) for i, g in enumerate(sizes)],
                                        else_=-1))
    size = ibis.cases(*[(rows._tier == i, g) for i, g in enumerate(sizes)], else_=sizes[-1])
    gridded = rows._tier >= 0
    rows = rows.mutate(_gx=ibis.ifelse(gridded, (rows[s.EASTING] / size).floor(), 0),
                       _gy=ibis.ifelse(gridded, (rows[s.NORTHING] / size).floor(), 0))
    # each crime at each level (0..n-1) in its 3 x 3 cells, numbered 0..9n-1, plus level -1 once (9n)
    n = len(sizes)
    cg = c.mutate(_o=ibis.literal(list(range(9 * n + 1)), type="array<int64>").unnest())
    lv = ibis.ifelse(cg._o < 9 * n, cg._o // 9, -1)
    cg = cg.mutate(_lv=lv, _dx=(cg._o % 9) // 3 - 1, _dy=cg._o % 3 - 1)
    csize = ibis.cases(*[(cg._lv == i, g) for i, g in enumerate(sizes)], else_=sizes[-1])
    cg = cg.mutate(_cgx=ibis.ifelse(cg._lv >= 0, (cg._cx / csize).floor() + cg._dx, 0),
                   _cgy=ibis.ifelse(cg._lv >= 0, (cg._cy / csize).floor() + cg._dy, 0))
    cg = cg.drop("_o", "_dx", "_dy")
    j = rows.join(cg, [rows._tier == cg._lv, rows._gx == cg._cgx, rows._gy == cg._cgy, *time_preds(rows, cg)])
    return j.drop("_lv", "_cgx", "_cgy", "_tier", "_gx", "_gy", "_reach")


def match_expr(pos: ir.Table, act: ir.Table, crimes: ir.Table, params: Params,
               t_lo: float | None = None, t_hi: float | None = None, dialect: str | None = None) -> ir.Table:
    """The candidate points of every (crime version, wearer) (steps 1 and 2; :func:`_finish` does 3 and 4).

    ``t_lo``/``t_hi`` (epoch seconds; None: unbounded) bound the fixes read. Any bounds that hold the
    crimes' widened windows plus the longest gap interpolated across (``max_gap_s``) on each side
    give the same points: a segment that starts before the earliest widened window less
    ``max_gap_s`` ends before every window, and one that ends after the latest window plus
    ``max_gap_s`` either starts after every window or is longer than the gap (:func:`match` bounds
    the positions it registers so). Columns: the MATCHES columns less ``visit`` and ``seq``, plus ``_t``
    (epoch seconds), ``_idx`` (a GPS/WIFI fix: how many GPS/WIFI fixes of its (wearer, device) are at
    or before it; an interpolated point: that of its first fix + 0.5; an LBS/RF fix: that of the last
    GPS/WIFI fix at or before it + 0.25; so a GPS/WIFI fix lies between two points of one device
    exactly when their ``_idx`` differ by 2 or more after rounding the later up and the earlier down)
    and ``_elig`` (the point can make a match). ``dialect``: the SQL dialect it is compiled for
    ("duckdb" uses DuckDB's own epoch function, see :func:`_secs`; the points are the same).
    """
    p = params
    R, k = p.radius_m, p.k
    mechs = list(s.MECHANISMS)
    elig_mi = [mechs.index(m) for m in MATCHING_MECHANISMS]

    def secs(col):
        return _secs(col, dialect)

    c = crimes.select(
        crime_version_id=crimes[s.CRIME_VERSION_ID], _cx=crimes[s.EASTING].cast("float64"),
        _cy=crimes[s.NORTHING].cast("float64"),
        _wf=secs(crimes[s.TIME_FROM]) - p.tolerance_s, _wt=secs(crimes[s.TIME_TO]) + p.tolerance_s)
    # the mechanism as its index in schema.MECHANISMS (_mi) and the device as the (wearer, device)
    # number (_pk) from here on: no text is carried through the joins and the window; the strings come
    # back on the few candidate points (named())
    pos = pos.select(*POSITION_COLUMNS).mutate(
        **{c_: pos[c_].cast("float64") for c_ in (s.EASTING, s.NORTHING, s.PRECISION_M, s.SPEED_KMH,
                                                  s.HEADING_DEG)}, _t=secs(pos[s.FIX_TIME]),
        _mi=ibis.cases(*[(pos[s.MECHANISM] == m, i) for i, m in enumerate(mechs)], else_=-1))
    if t_lo is not None:
        pos = pos.filter(pos._t >= t_lo)
    if t_hi is not None:
        pos = pos.filter(pos._t <= t_hi)
    act = act.select(
        _dev=act[s.DEVICE_ID], wearer_ref=act[s.WEARER_REF], _af=secs(act[s.ACTIVE_FROM]),
        _at=ibis.coalesce(secs(act[s.ACTIVE_TO]), ibis.literal(_OPEN_END)))
    # _pk numbers the (wearer, device) pairs: the windows below are partitioned by it (the same
    # partitions as by the two strings, sorted faster); a 32-bit integer, as it is carried by every fix
    # (4 % less CPU than the engine's 64-bit rank)
    act = act.mutate(_pk=ibis.dense_rank().over(order_by=[act.wearer_ref, act._dev]).cast("int32"))
    pa = pos.join(act, [pos[s.DEVICE_ID] == act._dev, pos._t >= act._af, pos._t < act._at])
    pa = pa.select("_pk", "_t", s.FIX_TIME, s.EASTING, s.NORTHING, s.PRECISION_M, s.SPEED_KMH, s.HEADING_DEG,
                   "_mi")
    pa = pa.mutate(_elig=pa._mi.isin(elig_mi))
    # _k: how many GPS/WIFI fixes of this wearer's device up to and including this one. For a GPS/WIFI
    # fix it is its row number among them, computed in the same window (one sort) as the segments'
    # next fix; for an LBS/RF candidate (few) it is the count of the GPS/WIFI fixes at or before it.
    # The window carries only numbers (the wearer, device and mechanism strings come back by the
    # (wearer, device) number and a mechanism index after the joins with the crimes).
    e = pa.filter(pa._elig).drop("_elig")
    e0 = e  # before the window: the LBS/RF candidates count their GPS/WIFI fixes here
    # speed and heading are not carried through the window and the grid join: the candidate fixes get
    # them back from their own row (a (wearer, device) has one fix per time)
    speed_heading = e.select(_spk=e._pk, _sft=e[s.FIX_TIME], _spd=e[s.SPEED_KMH], _hdg=e[s.HEADING_DEG])
    e = e.drop(s.SPEED_KMH, s.HEADING_DEG)
    wseg = ibis.window(group_by=[e._pk], order_by=[e._t])
    e = e.mutate(_k=(ibis.row_number().over(wseg) + 1).cast("float64"),
                 _t2=e._t.lead().over(wseg), _x2=e[s.EASTING].lead().over(wseg),
                 _y2=e[s.NORTHING].lead().over(wseg), _p2=e[s.PRECISION_M].lead().over(wseg))
    coarse = pa.filter(~pa._elig)
    keys = act.select(_kpk=act._pk, wearer_ref=act.wearer_ref, device_id=act._dev).distinct()

    def named(t: ir.Table) -> ir.Table:
        """``t`` (rows of ``e``) with their wearer_ref, device_id and mechanism."""
        t = t.join(keys, t._pk == keys._kpk)
        return t.mutate(mechanism=ibis.cases(*[(t._mi == i, m) for i, m in enumerate(mechs)]))

    out_cols = (s.CRIME_VERSION_ID, s.WEARER_REF, s.DEVICE_ID, "_t", s.FIX_TIME, s.EASTING, s.NORTHING,
                s.PRECISION_M, s.SPEED_KMH, s.HEADING_DEG, s.MECHANISM, "distance_m")
    no = ibis.literal(False)

    # 1. and 2. in one join of the GPS/WIFI fixes with the crimes: a fix is paired with the crimes whose
    # widened window holds it (for the fix itself) or overlaps the segment it starts (a segment:
    # consecutive GPS/WIFI fixes, at most max_gap_s apart and no faster than max_speed_mps)
    seg = e.mutate(_dt=e._t2 - e._t, _vx=e._x2 - e[s.EASTING], _vy=e._y2 - e[s.NORTHING])
    seg = seg.mutate(_seg=seg._t2.notnull() & (seg._dt > 0) & (seg._dt <= p.max_gap_s)
                     & ((_sq(seg._vx) + _sq(seg._vy)) <= _sq(p.max_speed_mps * seg._dt)))
    # reach from the fix: the fix itself matches within R + precision; a candidate point p(alpha) of its
    # segment has d <= R + precision(alpha), with precision(alpha) <= sqrt(max(p1, p2)^2 + k^2 dt
    # bridge_var / 4) (the bridge's variance is at most max(s1, s2)^2 + dt bridge_var / 4 on [0, 1]), and
    # |p(alpha) - p1| <= |p2 - p1|; the segment's reach is never below the fix's
    pmax = ibis.greatest(seg[s.PRECISION_M], seg._p2)
    seg_reach = (R + (_sq(pmax) + (k * k * p.bridge_var_m2_s / 4.0) * seg._dt).sqrt()
                 + (_sq(seg._vx) + _sq(seg._vy)).sqrt())
    seg = seg.mutate(_reach=ibis.ifelse(seg._seg, seg_reach, R + seg[s.PRECISION_M]))
    j = _near(seg, c, R, lambda t, cc: [t._t <= cc._wt, (t._t >= cc._wf) | (t._seg & (t._t2 >= cc._wf))])
    x1, y1 = j[s.EASTING], j[s.NORTHING]
    j = j.mutate(_d1=(_sq(x1 - j._cx) + _sq(y1 - j._cy)).sqrt())
    end1 = (j._t >= j._wf) & (j._t <= j._wt) & (j._d1 <= R + j[s.PRECISION_M])

    # 1. LBS/RF fixes in the widened window within R + precision (few: their own small join)
    fc = coarse.mutate(_reach=R + coarse[s.PRECISION_M])
    fc = _near(fc, c, R, lambda t, cc: [t._t >= cc._wf, t._t <= cc._wt])
    fc = fc.mutate(distance_m=(_sq(fc[s.EASTING] - fc._cx) + _sq(fc[s.NORTHING] - fc._cy)).sqrt())
    fc = fc.filter(fc.distance_m <= R + fc[s.PRECISION_M])
    # an LBS/RF candidate's _k: how many GPS/WIFI fixes of its (wearer, device) are at or before it (the
    # row number of the last of them), 0 when none is. Counted on the fixes before the window, so that
    # the window's output has one reader (the grid join) and is not materialised: a join with the
    # window's output (the fix whose next fix is later) made DuckDB keep all of it (1.5 million rows)
    fkeys = fc.select(_fpk=fc._pk, _ft=fc._t).distinct()
    ek = e0.select(_pk2=e0._pk, _te=e0._t)
    cnt = fkeys.join(ek, [fkeys._fpk == ek._pk2, ek._te <= fkeys._ft])
    cnt = cnt.group_by(["_fpk", "_ft"]).aggregate(_ke=cnt._te.count().cast("float64"))
    fc = fc.left_join(cnt, [fc._pk == cnt._fpk, fc._t == cnt._ft])
    fc = named(fc.mutate(_k=ibis.coalesce(fc._ke, 0.0)))
    fc = fc.select(*out_cols, interpolated=no, _idx=fc._k + 0.25, _elig=fc._elig)

    # 2. each (GPS/WIFI fix, crime) pair gives at most one point: the fix itself when it is a candidate
    # (1.), else the closest approach of its segment within the overlap of the segment and the window,
    # when no end of the segment is a candidate (both computed on every pair; one pass over the join)
    j = j.mutate(
        _a0=ibis.greatest((j._wf - j._t) / j._dt, 0.0), _a1=ibis.least((j._wt - j._t) / j._dt, 1.0),
        _L2=_sq(j._vx) + _sq(j._vy),
        _d2=(_sq(j._x2 - j._cx) + _sq(j._y2 - j._cy)).sqrt(), _end1=end1)
    proj = ((j._cx - x1) * j._vx + (j._cy - y1) * j._vy) / j._L2
    j = j.mutate(_as=ibis.ifelse(j._L2 > 0, ibis.least(ibis.greatest(proj, j._a0), j._a1), j._a0))
    j = j.mutate(_ts=(j._t + j._as * j._dt).round(0).cast("float64"))
    j = j.mutate(_a=(j._ts - j._t) / j._dt)
    j = j.mutate(_x=x1 + j._a * j._vx, _y=y1 + j._a * j._vy)
    s1, s2 = j[s.PRECISION_M] / k, j._p2 / k
    var = _sq(1 - j._a) * _sq(s1) + _sq(j._a) * _sq(s2) + j._dt * j._a * (1 - j._a) * p.bridge_var_m2_s
    j = j.mutate(_prec=var.sqrt() * k, _d=(_sq(j._x - j._cx) + _sq(j._y - j._cy)).sqrt())
    end2 = (j._t2 >= j._wf) & (j._t2 <= j._wt) & (j._d2 <= R + j._p2)
    inter = j._seg & (j._t2 >= j._wf) & ~j._end1 & ~end2 & (j._d <= R + j._prec)
    j = j.filter(j._end1 | inter)
    # the candidate fixes' speed and heading: their rows picked from the fixes by a semi-join (whose
    # hash table is built on the few candidates), then joined back. A plain join let DuckDB build its
    # hash table on all the fixes (1.5 million rows) and probe it with the candidates
    ck = j.filter(j._end1).select(_ckpk=j._pk, _ckft=j[s.FIX_TIME])
    sh = speed_heading.semi_join(ck, [speed_heading._spk == ck._ckpk, speed_heading._sft == ck._ckft])
    j = named(j.left_join(sh, [j._pk == sh._spk, j._end1, j[s.FIX_TIME] == sh._sft]))
    f = j._end1
    ge = j.select(
        s.CRIME_VERSION_ID, s.WEARER_REF, s.DEVICE_ID, _t=ibis.ifelse(f, j._t, j._ts),
        fix_time=ibis.ifelse(f, j[s.FIX_TIME], ibis.null().cast(pos[s.FIX_TIME].type())),
        easting=ibis.ifelse(f, j[s.EASTING], j._x), northing=ibis.ifelse(f, j[s.NORTHING], j._y),
        precision_m=ibis.ifelse(f, j[s.PRECISION_M], j._prec),
        speed_kmh=ibis.ifelse(f, j._spd, j._L2.sqrt() / j._dt * 3.6),
        heading_deg=ibis.ifelse(f, j._hdg,
                                ibis.ifelse(j._L2 > 0, (j._vx.atan2(j._vy).degrees() + 360.0) % 360.0,
                                            ibis.null().cast("float64"))),
        mechanism=j[s.MECHANISM], distance_m=ibis.ifelse(f, j._d1, j._d), interpolated=~f,
        _idx=ibis.ifelse(f, j._k, j._k + 0.5), _elig=ibis.literal(True))

    # 3. (visits) and 4. (scores) are computed in Python on these few points (_finish)
    return ge.union(fc)


# ----------------------------------------------------------------------------------------- running
#: the inputs' types in the compiled query (each input is cast to them when it is registered)
_SCHEMAS = {
    "positions": {s.DEVICE_ID: "string", s.FIX_TIME: "timestamp('UTC')", s.EASTING: "float64",
                  s.NORTHING: "float64", s.PRECISION_M: "float64", s.SPEED_KMH: "float64",
                  s.HEADING_DEG: "float64", s.MECHANISM: "string"},
    "activations": {s.DEVICE_ID: "string", s.WEARER_REF: "string", s.ACTIVE_FROM: "timestamp('UTC')",
                    s.ACTIVE_TO: "timestamp('UTC')"},
    "crimes": {s.CRIME_VERSION_ID: "string", s.TIME_FROM: "timestamp('UTC')", s.TIME_TO: "timestamp('UTC')",
               s.EASTING: "float64", s.NORTHING: "float64"},
}
_PLACEHOLDER = "vru_match_input_{}_7f3a"  # a name no other table has; replaced by each run's own names


@functools.lru_cache(maxsize=64)
def compiled_query(params: Params, dialect: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The SQL of :func:`match_expr` for ``params`` in ``dialect`` ("duckdb" or "pyspark") over three
    named input tables, with its result columns and which of them are times.

    Compiling the expression costs a few tenths of a second (as much as running it on a day of a
    city's fixes), so it is done once per parameters and dialect and kept in this process (a web
    worker or a batch job compiles once). It is deliberately not kept on disk: running SQL text read
    back from a writable file would let whoever can write that file change what runs over the tag data.
    Each run registers its inputs under its own names and runs the same text."""
    tables = {name: ibis.table(ibis.schema(cols), name=_PLACEHOLDER.format(name))
              for name, cols in _SCHEMAS.items()}
    expr = match_expr(tables["positions"], tables["activations"], tables["crimes"], params, dialect=dialect)
    schema = expr.schema()
    out = (ibis.to_sql(expr, dialect=dialect), tuple(schema.names),
           tuple(c for c, t in schema.items() if t.is_timestamp()))
    return out


def _register(con, name: str, data, what: str, bounds: tuple[float, float] | None = None) -> None:
    """Register ``data`` (an Ibis table or a frame) on ``con`` as the temporary view ``name`` (dropped by
    :func:`_drop`), its columns cast to the types of the compiled query. On DuckDB in plain SQL
    (:func:`_register_duckdb`; through Ibis only for a table holding an Ibis memtable, which Ibis must
    register itself)."""
    needed = _SCHEMAS[what]
    times = [c for c, typ in needed.items() if typ.startswith("timestamp")]
    if con.name == "duckdb" and not (isinstance(data, ir.Table) and data.op().find(ops.InMemoryTable)):
        _register_duckdb(con, name, data, what, bounds)
        return
    t = _as_table(data, what, tuple(needed), times)
    t = t.select(*[t[c].cast(typ).name(c) for c, typ in needed.items()])
    if bounds is not None:  # whole seconds, UTC: the literal is pushed down to the Parquet scan
        lo, hi = (datetime.fromtimestamp(b, UTC) for b in bounds)
        t = t.filter((t[s.FIX_TIME] >= lo) & (t[s.FIX_TIME] <= hi))
    con.create_view(name, t, overwrite=True)


_DUCKDB_TYPES = {"string": "VARCHAR", "float64": "DOUBLE", "timestamp('UTC')": "TIMESTAMPTZ"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _register_duckdb(con, name: str, data, what: str, bounds: tuple[float, float] | None) -> None:
    """:func:`_register` on DuckDB in plain SQL: a temporary view casting the columns, over the frame
    handed over as Arrow or over the Ibis table's own SQL (compiling a view through Ibis cost more than a
    tenth of a second per input, as much as a tenth of the whole run)."""
    needed = _SCHEMAS[what]
    if isinstance(data, ir.Table):
        _check_columns(what, data.columns, needed)
        source = f"({con.compile(data)})"
    else:
        times = [c for c, typ in needed.items() if typ.startswith("timestamp")]
        con.con.register(name + "_src", _frame(data, what, tuple(needed), times))
        source = _quote(name + "_src")
    cols = ", ".join(f"CAST({_quote(c)} AS {_DUCKDB_TYPES[typ]}) AS {_quote(c)}" for c, typ in needed.items())
    where = ""
    if bounds is not None:  # whole seconds, UTC: pushed down to the Parquet scan
        lo, hi = (datetime.fromtimestamp(b, UTC).strftime("%Y-%m-%d %H:%M:%S+00") for b in bounds)
        ft = _quote(s.FIX_TIME)
        where = f" WHERE {ft} >= TIMESTAMPTZ '{lo}' AND {ft} <= TIMESTAMPTZ '{hi}'"
    con.con.execute(f"CREATE OR REPLACE TEMP VIEW {_quote(name)} AS SELECT {cols} FROM {source} t{where}")


def _drop(con, name: str) -> None:
    try:
        if con.name == "duckdb":
            con.con.execute(f"DROP VIEW IF EXISTS {_quote(name)}")
            con.con.unregister(name + "_src")
        else:
            con.drop_view(name, force=True)
    except Exception:  # a failed run may not have created it; nothing else refers to it
        pass


def _run_query(con, sql: str, columns: tuple[str, ...], times: tuple[str, ...]) -> pd.DataFrame:
    """Run the compiled query on ``con``: a frame with ``columns`` (``times`` as UTC times)."""
    if con.name == "duckdb":
        df = con.con.sql(sql).to_arrow_table().to_pandas()
    else:
        df = con._session.sql(sql).toPandas()
    for c in times:
        df[c] = pd.to_datetime(df[c], utc=True)
    return df[list(columns)]


def _connect(backend: str, spark_session=None):
    if backend == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    if backend in ("spark", "pyspark"):
        from pyspark.sql import SparkSession

        session = spark_session or SparkSession.builder.master("local[*]").appName("vru-match") \
            .config("spark.ui.enabled", "false").getOrCreate()
        return ibis.pyspark.connect(session)  # sets the session's time zone to UTC
    raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")


def _backend_of(*tables) -> object | None:
    for t in tables:
        if isinstance(t, ir.Table):
            try:
                return t.get_backend()
            except Exception:  # an unbound memtable has no backend yet
                continue
    return None


def visit_letters(n: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA (the spreadsheet column convention)."""
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def p_within(distance_m, precision_m, radius_m: float, k: float) -> np.ndarray:
    """P(a point drawn from N(fix, sigma^2 I) lies within radius_m of the crime), sigma = max(prec,1)/k."""
    d = np.asarray(distance_m, dtype=float)
    sigma = np.maximum(np.asarray(precision_m, dtype=float), 1.0) / k
    return ncx2.cdf((radius_m / sigma) ** 2, 2, (d / sigma) ** 2)


def _fmt_s(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, sec = divmod(rem, 60)
    return (f"{h} h " if h else "") + (f"{m} min " if (m or h) else "") + f"{sec} s"


def _visits(df: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Step 3 on the candidate points ``df`` (with ``_g``, the number of their (crime version, wearer)):
    ``df`` ordered by ``_g``, time and ``_idx`` (then device and the order of the query's rows, for
    points that tie on both), with ``_visit`` (the visit's number, increasing along that order; its
    points are consecutive) and ``seq`` (1, 2, ... within the visit). A new visit starts at a group's
    first point, after more than ``visit_gap_s`` without a point, where a GPS/WIFI fix that is no
    candidate lies between two points (their ``_idx``, see :func:`match_expr`), or on a change of
    device. Computed here, not in the query: three windows over a few thousand rows cost the engine
    more than these array operations (and the query's order of tied rows was the engine's choice)."""
    dev = pd.factorize(df[s.DEVICE_ID])[0]
    order = np.lexsort((np.arange(len(df)), dev, df["_idx"].to_numpy(dtype="float64"),
                        df["_t"].to_numpy(dtype="float64"), df["_g"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    g, dev = df["_g"].to_numpy(), dev[order]
    t, idx = df["_t"].to_numpy(dtype="float64"), df["_idx"].to_numpy(dtype="float64")
    new = np.ones(len(df), dtype=bool)
    new[1:] = ((g[1:] != g[:-1]) | ((t[1:] - t[:-1]) > params.visit_gap_s)
               | ((np.ceil(idx[1:]) - np.floor(idx[:-1])) >= 2) | (dev[1:] != dev[:-1]))
    df["_visit"] = np.cumsum(new)
    starts = np.flatnonzero(new)
    df[s.SEQ] = np.arange(len(df)) - np.repeat(starts, np.diff(np.append(starts, len(df)))) + 1
    return df


def _finish(raw: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Visits (:func:`_visits`), dropping LBS/RF-only visits, lettering them, the score: the Python part.

    The (crime version, wearer) groups are numbered once (``_g``, in the order of the two texts) and
    every grouping below uses that integer: grouping by the two text columns (Arrow strings) cost a
    factorisation and a gather of both per grouping, more than the rest of this step."""
    cols = [c for c in s.MATCHES.names]
    if raw.empty:
        return _empty()
    df = raw.copy()
    df["_elig"] = df["_elig"].astype(bool)
    key = [s.CRIME_VERSION_ID, s.WEARER_REF]
    df["_g"] = df.groupby(key, sort=True).ngroup()
    df = _visits(df, params)
    # a visit's points are consecutive: keep those of visits with a GPS/WIFI or interpolated point
    visit = df["_visit"].to_numpy()
    starts = np.flatnonzero(np.diff(visit, prepend=0) != 0)
    any_elig = np.logical_or.reduceat(df["_elig"].to_numpy(), starts)
    df = df[np.repeat(any_elig, np.diff(np.append(starts, len(df))))].reset_index(drop=True)
    if df.empty:
        return _empty()
    # the kept visits lettered in order within their group: A, B, ...
    g, visit = df["_g"].to_numpy(), df["_visit"].to_numpy()
    vstart = np.diff(visit, prepend=0) != 0
    nth = np.cumsum(vstart)
    gfirst = np.flatnonzero(np.diff(g, prepend=-1) != 0)
    df["_vn"] = nth - np.repeat(nth[gfirst], np.diff(np.append(gfirst, len(df)))) + 1
    df[s.VISIT] = df["_vn"].map({v: visit_letters(v) for v in df["_vn"].unique()})  # one call per letter
    t = pd.to_datetime(df["_t"].round().astype("int64"), unit="s", utc=True).astype("datetime64[us, UTC]")
    ft = pd.to_datetime(df[s.FIX_TIME], utc=True).astype("datetime64[us, UTC]")
    df[s.FIX_TIME] = ft.where(ft.notna(), t)
    df[s.SEQ] = df[s.SEQ].astype("int64")
    df[s.INTERPOLATED] = df[s.INTERPOLATED].astype(bool)
    points = df[cols + ["_elig", "_g"]].reset_index(drop=True)
    points["_p"] = np.where(points["_elig"], p_within(points[s.DISTANCE_M], points[s.PRECISION_M],
                                                       params.radius_m, params.k), np.nan)
    if points.loc[points["_elig"], "_p"].isna().any():  # never seen; the per-group rule then decides
        rows = _summary_rows(points, key, params)
    else:
        rows = _summary_columns(points, key, params)
    summary = pd.DataFrame(rows)
    summary["n_fixes"] = summary["n_fixes"].astype("int64")
    points = points.drop(columns=["_elig", "_p", "_g"])
    return points, summary


def _explain(params: Params, p: float, label: str, kind: str, dist: float, prec: float, n_vis: int,
             span: float, longest: str, n: int, n_int: int) -> str:
    return (f"within {params.radius_m:g} m with probability {p:.2f} (best point {label}, "
            f"{kind} {dist:.0f} m away, precision {prec:.0f} m); "
            f"{n_vis} visit{'s' if n_vis != 1 else ''}, longest {_fmt_s(span)} "
            f"(visit {longest}); {n} point{'s' if n != 1 else ''}"
            + (f", {n_int} interpolated" if n_int else ""))


def _summary_rows(points: pd.DataFrame, key: list[str], params: Params) -> list[dict]:
    """The summary, one (crime version, wearer) at a time: the definition :func:`_summary_columns` follows."""
    rows = []
    for (cv, w), g in points.groupby(key, sort=True):
        e = g[g["_elig"]]
        best = e.loc[e["_p"].idxmax()]
        spans = e.groupby(s.VISIT)[s.FIX_TIME].agg(lambda x: (x.max() - x.min()).total_seconds())
        longest = spans.idxmax()
        label = f"{best[s.VISIT]}{best[s.SEQ]}"
        kind = "interpolated point" if best[s.INTERPOLATED] else f"{best[s.MECHANISM]} fix"
        n_vis = g[s.VISIT].nunique()
        n_int = int(e[s.INTERPOLATED].sum())
        text = _explain(params, best["_p"], label, kind, best[s.DISTANCE_M], best[s.PRECISION_M], n_vis,
                        spans.max(), longest, len(g), n_int)
        rows.append({
            s.CRIME_VERSION_ID: cv, s.WEARER_REF: w, "n_fixes": len(g),
            "first_time": e[s.FIX_TIME].min(), "last_time": e[s.FIX_TIME].max(),
            "min_distance_m": float(e[s.DISTANCE_M].min()), "p_within": float(best["_p"]),
            "dwell_s": float(spans.max()), "explanation": text,
            "n_visits": int(n_vis), "n_interpolated": n_int, "best_point": label,
        })
    return rows


def _summary_columns(points: pd.DataFrame, key: list[str], params: Params) -> list[dict]:
    """The same summary as :func:`_summary_rows`, computed with grouped columns (no Python loop per
    group but the text): the best point is the first point (in visit and sequence order) with the
    highest probability, the longest visit the first (in the order of the visit labels as text) with
    the longest span. ``points`` are sorted by ``_g``, the number of their (crime version, wearer)
    in the order of ``key``."""
    e = points[points["_elig"]]
    g_all = points.groupby("_g", sort=True)
    g = e.groupby("_g", sort=True)
    best = e[e["_p"] == g["_p"].transform("max")].groupby("_g", sort=True).head(1).set_index("_g")
    vs = e.groupby(["_g", s.VISIT], sort=True)[s.FIX_TIME].agg(["min", "max"])
    vs["span"] = (vs["max"] - vs["min"]).dt.total_seconds()
    vs = vs.reset_index()
    longest = vs[vs["span"] == vs.groupby("_g")["span"].transform("max")].groupby("_g", sort=True).head(1)
    longest = longest.set_index("_g")
    out = pd.DataFrame({"n_fixes": g_all.size(), "n_visits": g_all[s.VISIT].nunique(),
                        "first_time": g[s.FIX_TIME].min(), "last_time": g[s.FIX_TIME].max(),
                        "min_distance_m": g[s.DISTANCE_M].min(), "n_interpolated": g[s.INTERPOLATED].sum()})
    out = out.join(best[[s.VISIT, s.SEQ, s.INTERPOLATED, s.MECHANISM, s.DISTANCE_M, s.PRECISION_M, "_p"]]
                   .rename(columns={s.DISTANCE_M: "best_d", "_p": "best_p"}))
    out = out.join(longest[[s.VISIT, "span"]].rename(columns={s.VISIT: "longest"}))
    names = points.drop_duplicates("_g").set_index("_g").loc[out.index, key]
    rows = []
    for cv, w, r in zip(names[key[0]].tolist(), names[key[1]].tolist(), out.itertuples(index=False),
                        strict=True):
        label = f"{r.visit}{r.seq}"
        kind = "interpolated point" if r.interpolated else f"{r.mechanism} fix"
        n_vis, n_int = int(r.n_visits), int(r.n_interpolated)
        text = _explain(params, r.best_p, label, kind, r.best_d, r.precision_m, n_vis, r.span, r.longest,
                        int(r.n_fixes), n_int)
        rows.append({
            s.CRIME_VERSION_ID: cv, s.WEARER_REF: w, "n_fixes": int(r.n_fixes),
            "first_time": r.first_time, "last_time": r.last_time,
            "min_distance_m": float(r.min_distance_m), "p_within": float(r.best_p),
            "dwell_s": float(r.span), "explanation": text,
            "n_visits": n_vis, "n_interpolated": n_int, "best_point": label,
        })
    return rows


def _empty() -> tuple[pd.DataFrame, pd.DataFrame]:
    points = pd.DataFrame({c: pd.Series(dtype=_dtype(s.MATCHES.field(c).type)) for c in s.MATCHES.names})
    summary = pd.DataFrame({c: pd.Series(dtype=_dtype(s.MATCH_SUMMARY.field(c).type))
                            for c in s.MATCH_SUMMARY.names})
    for c in ("n_visits", "n_interpolated"):
        summary[c] = pd.Series(dtype="int64")
    summary["best_point"] = pd.Series(dtype="object")
    return points, summary


def _dtype(t) -> str:
    import pyarrow as pa

    if pa.types.is_timestamp(t):
        return "datetime64[us, UTC]"
    if pa.types.is_floating(t):
        return "float64"
    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_boolean(t):
        return "bool"
    return "object"


def match(positions, activations, crimes, params: Params | None = None, *, backend: str = "duckdb",
          trigger: str = "MANUAL", spark_session=None, con=None) -> MatchResult:
    """Match ``crimes`` (one row per crime version) against the wearers' ``positions``.

    Each input is a pandas DataFrame or an Ibis table (positions typically the Parquet store read by
    DuckDB or Spark); frames are run on ``backend`` ("duckdb" or "spark"), tables on their own
    backend. Returns the points (schema.MATCHES), the summary per (crime version, wearer) and the run
    record ``{run_id, algorithm_version, parameters, trigger, backend, started, ended, status,
    crime_version_ids, n_matches, error}``. A failure raises :class:`MatchRunError` carrying the run
    record with status FAILURE.
    """
    params = params or Params()
    trigger = trigger.upper()
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}, not {trigger!r}")
    if backend not in BACKENDS + ("pyspark",):
        raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    run = {"run_id": str(uuid.uuid4()), "algorithm_version": ALGORITHM_VERSION,
           "parameters": asdict(params), "trigger": trigger, "backend": backend,
           "started": datetime.now(UTC), "ended": None, "status": "RUNNING",
           "crime_version_ids": [], "n_matches": 0, "error": None}
    try:
        t0 = time.perf_counter()
        cr = _crimes_frame(crimes)
        run["crime_version_ids"] = list(cr[s.CRIME_VERSION_ID])
        if cr.empty:
            raw = pd.DataFrame()
            t1 = t2 = time.perf_counter()
        else:
            bound = con or _backend_of(positions, activations)
            own = None
            if bound is None:
                own = bound = _connect(backend, spark_session)
            elif getattr(bound, "name", "") == "duckdb":
                bound.raw_sql("SET TimeZone = 'UTC'")
            sql, columns, times = compiled_query(params, "duckdb" if bound.name == "duckdb" else "pyspark")
            tag = uuid.uuid4().hex[:12]
            names = {what: f"vru_match_{what}_{tag}" for what in _SCHEMAS}
            try:
                t_lo = cr[s.TIME_FROM].min().timestamp() - params.tolerance_s - params.max_gap_s
                t_hi = cr[s.TIME_TO].max().timestamp() + params.tolerance_s + params.max_gap_s
                span = (math.floor(t_lo), math.ceil(t_hi))
                for what, data in (("positions", positions), ("activations", activations), ("crimes", cr)):
                    _register(bound, names[what], data, what, span if what == "positions" else None)
                    sql = sql.replace(_PLACEHOLDER.format(what), names[what])
                t1 = time.perf_counter()
                raw = _run_query(bound, sql, columns, times)
                t2 = time.perf_counter()
            finally:
                for name in names.values():
                    _drop(bound, name)
                if own is not None and backend == "duckdb":
                    own.disconnect()
        points, summary = _finish(raw, params)
        run["timings_s"] = {"prepare": round(t1 - t0, 4), "engine": round(t2 - t1, 4),
                            "finish": round(time.perf_counter() - t2, 4)}
    except Exception as exc:
        run.update(ended=datetime.now(UTC), status="FAILURE", error=f"{type(exc).__name__}: {exc}")
        raise MatchRunError(run, f"matching run failed: {exc}") from exc
    run.update(ended=datetime.now(UTC), status="SUCCESS", n_matches=len(summary))
    return MatchResult(points=points, summary=summary, run=run)
