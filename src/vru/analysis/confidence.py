"""Trust and confidence in the police by borough: the MOPAC Public Attitude Survey (PAS) measures.

Input: rows of the warehouse ``survey`` table for the PAS (columns ``area_code``, ``period_end``,
``measure``, ``value``, ``london_value``): for each borough, quarter end and measure, the share of
respondents agreeing, and the London-wide (MPS) share. All functions are pure (DataFrames in,
DataFrames out).

What the published figures rest on, and what is assumed (:class:`Assumptions`)
------------------------------------------------------------------------------
The file gives shares only, not base sizes. MOPAC describes the PAS as about 12,800 interviews a
year, i.e. about 100 per borough per quarter in the 32 MPS boroughs, and publishes each quarter's
figure as a rolling 12-month estimate. So we assume:

- a borough value rests on ``100 x 4 = 400`` interviews, London's on ``32 x 400 = 12,800``;
- a design effect of 1.5 (weighting and clustering make a survey less precise than a simple
  random sample of the same size; 1.5 is a conservative choice for a weighted face-to-face
  survey, not a published PAS figure), so the effective borough base is ``400 / 1.5 = 267``;
- published values are rounded to 2 decimal places, which adds a uniform rounding error of
  variance ``0.01^2 / 12`` to each value;
- consecutive rolling estimates share 3 of their 4 quarters of interviews, so they are *not*
  independent: changes are only tested between windows that do not overlap (4 quarters apart
  for a change over 1 year, 12 quarters for 3 years), which are independent samples;
- the London value is treated as the interview-weighted mean of the 32 boroughs, so a borough
  is compared with the rest of London (MOPAC weights to population; with roughly equal borough
  samples the difference is small).

Tests: two-sided z-tests of a difference of two independent proportions, with variance
``p1 (1 - p1) / n1 + p2 (1 - p2) / n2`` on effective bases plus the rounding variance, at 5%
(``alpha``). The same standard error gives the confidence interval of the change, so a change is
called significant exactly when its interval excludes zero. Anything else is labelled "no
significant change" / "no significant difference": no claim is made. With 32 boroughs, about one
or two "significant" results per measure are expected by chance alone at 5%; Benjamini-Hochberg
q-values across boroughs are given alongside (``*_fdr``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from vru.analysis.drivers import correlation
from vru.analysis.hotspots import fdr_bh
from vru.analysis.survey_weights import wilson
from vru.geography.boroughs import LONDON_CODE, borough_name

MEASURE_LABELS: dict[str, str] = {
    "good_job_local": '"Good job" locally',
    "relied_on_to_be_there": "Relied on to be there",
    "treat_everyone_fairly": "Treat everyone fairly",
    "listen_to_concerns": "Listen to concerns",
    "understand_issues": "Understand issues",
    "informed_local": "Informed locally",
    "contact_ward_officer": "Contact ward officer",
    "trust_mps": "Trust the MPS",
}
HEADLINE = ("good_job_local", "trust_mps")


@dataclass(frozen=True)
class Assumptions:
    """The base sizes and design assumed for significance tests (see the module docstring)."""

    interviews_per_quarter: float = 100.0
    window_quarters: int = 4
    design_effect: float = 1.5
    boroughs: int = 32
    rounding: float = 0.01
    alpha: float = 0.05

    def __post_init__(self):
        if self.interviews_per_quarter <= 0 or self.window_quarters < 1 or self.boroughs < 2:
            raise ValueError("base sizes must be positive")
        if self.design_effect < 1:
            raise ValueError("a design effect below 1 is not plausible for this survey")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")

    @property
    def borough_n(self) -> float:
        """Interviews behind one borough's rolling estimate (400)."""
        return self.interviews_per_quarter * self.window_quarters

    @property
    def borough_n_eff(self) -> float:
        return self.borough_n / self.design_effect

    @property
    def london_n_eff(self) -> float:
        return self.boroughs * self.borough_n_eff

    @property
    def rounding_var(self) -> float:
        return self.rounding**2 / 12.0

    @property
    def z(self) -> float:
        return float(stats.norm.ppf(1 - self.alpha / 2))

    def describe(self) -> str:
        return (
            f"about {self.interviews_per_quarter:.0f} interviews per borough per quarter; each "
            f"published value is a rolling {self.window_quarters}-quarter estimate, so a borough "
            f"value rests on about {self.borough_n:.0f} interviews and London's on "
            f"{self.boroughs * self.borough_n:,.0f}; design effect {self.design_effect:g} "
            f"(effective borough base {self.borough_n_eff:.0f}); values rounded to "
            f"{self.rounding:g}; two-sided tests at {100 * self.alpha:g}%; changes compared only "
            f"between non-overlapping windows"
        )


# -- inputs ---------------------------------------------------------------------------------------

def _check(survey: pd.DataFrame) -> pd.DataFrame:
    need = {"area_code", "period_end", "measure", "value", "london_value"}
    missing = need - set(survey.columns)
    if missing:
        raise KeyError(f"survey rows lack columns {sorted(missing)}")
    if "source" in survey.columns and survey["source"].nunique() > 1:
        raise ValueError("survey rows from more than one source: choose one explicitly")
    out = survey[list(need)].copy()
    out["period_end"] = pd.to_datetime(out["period_end"]).dt.normalize()
    return out


def _measure(survey: pd.DataFrame, measure: str) -> pd.DataFrame:
    s = _check(survey)
    s = s[s["measure"] == measure]
    if s.empty:
        raise ValueError(f"no survey rows for measure {measure!r}")
    return s


def quarters(survey: pd.DataFrame, measure: str) -> list[pd.Timestamp]:
    """Quarter ends with data for ``measure``, ascending."""
    return sorted(_measure(survey, measure)["period_end"].unique())


def _as_of(survey: pd.DataFrame, measure: str, as_of) -> pd.Timestamp:
    qs = quarters(survey, measure)
    if as_of is None:
        return pd.Timestamp(qs[-1])
    t = pd.Timestamp(as_of).normalize()
    if t not in set(qs):
        raise ValueError(f"no {measure} data for the quarter ending {t:%d %b %Y}: data cover "
                         f"{pd.Timestamp(qs[0]):%d %b %Y} to {pd.Timestamp(qs[-1]):%d %b %Y}")
    return t


def shift_quarters(period_end: pd.Series | pd.Timestamp, n: int):
    """Quarter-end date(s) ``n`` quarters earlier."""
    if isinstance(period_end, pd.Series):
        return (period_end.dt.to_period("Q") - n).dt.end_time.dt.normalize()
    return (pd.Timestamp(period_end).to_period("Q") - n).end_time.normalize()


def trend(survey: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Share agreeing by quarter end (rows) and borough code (columns), plus ``London``."""
    s = _measure(survey, measure)
    wide = s.pivot(index="period_end", columns="area_code", values="value").sort_index()
    london = s.groupby("period_end")["london_value"].first().sort_index()
    wide[LONDON_CODE] = london
    wide.columns.name = None
    return wide


# -- tests ----------------------------------------------------------------------------------------

def compare(p1, p2, n1, n2, a: Assumptions = Assumptions()) -> pd.DataFrame:
    """``p1 - p2`` for independent samples with effective bases ``n1``, ``n2``: standard error,
    confidence interval, z, two-sided p-value and whether it is significant at ``a.alpha``.
    Inputs broadcast together; the result has one row per element (flattened, C order)."""
    p1, p2, n1, n2 = (np.asarray(x, dtype=float).ravel()
                      for x in np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                                     for v in (p1, p2, n1, n2))))
    diff = p1 - p2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2 + 2 * a.rounding_var)
    z = diff / se
    p = 2 * stats.norm.sf(np.abs(z))
    return pd.DataFrame({"diff": diff, "se": se, "ci_low": diff - a.z * se,
                         "ci_high": diff + a.z * se, "z": z, "p_value": p,
                         "significant": p < a.alpha})


def _label(diff, p, alpha, up: str, down: str, none: str) -> list[str]:
    out = []
    for d, pv in zip(np.asarray(diff, dtype=float), np.asarray(p, dtype=float), strict=True):
        if np.isnan(d) or np.isnan(pv):
            out.append("not available")
        elif pv < alpha:
            out.append(up if d > 0 else down)
        else:
            out.append(none)
    return out


def changes(survey: pd.DataFrame, measure: str, years: int = 1,
            a: Assumptions = Assumptions()) -> pd.DataFrame:
    """Change of each borough's (and London's) value against the window ``years`` earlier.

    One row per area and quarter end (London as ``E12000007``): ``value``, ``previous`` (the
    value ``4 x years`` quarters earlier), ``change`` (percentage points / 100), its interval,
    ``p_value``, ``q_value`` (Benjamini-Hochberg across boroughs in the same quarter), ``label``
    ("significant increase", "significant decrease", "no significant change", "not available").
    """
    lag = 4 * years
    if years < 1 or lag < a.window_quarters:
        raise ValueError(f"changes must compare non-overlapping windows: a lag of {lag} quarters "
                         f"overlaps the {a.window_quarters}-quarter rolling window")
    wide = trend(survey, measure)
    long = wide.reset_index().melt(id_vars="period_end", var_name="area_code", value_name="value")
    long = long.dropna(subset=["value"])
    prev = long.rename(columns={"value": "previous", "period_end": "previous_end"})
    long["previous_end"] = shift_quarters(long["period_end"], lag)
    out = long.merge(prev, on=["area_code", "previous_end"], how="left")
    n = np.where(out["area_code"] == LONDON_CODE, a.london_n_eff, a.borough_n_eff)
    c = compare(out["value"], out["previous"], n, n, a)
    out["change"] = c["diff"].to_numpy()
    out["ci_low"] = c["ci_low"].to_numpy()
    out["ci_high"] = c["ci_high"].to_numpy()
    out["p_value"] = c["p_value"].to_numpy()
    out["label"] = _label(out["change"], out["p_value"], a.alpha, "significant increase",
                          "significant decrease", "no significant change")
    out["q_value"] = np.nan
    boro = out["area_code"] != LONDON_CODE
    for _, idx in out[boro].groupby("period_end").groups.items():
        out.loc[idx, "q_value"] = fdr_bh(out.loc[idx, "p_value"].to_numpy())
    out.insert(0, "measure", measure)
    return out.sort_values(["area_code", "period_end"]).reset_index(drop=True)


def vs_london(value, london_value, a: Assumptions = Assumptions()) -> pd.DataFrame:
    """Borough minus London in the same window, allowing for the borough being part of London.

    With London the mean of ``k`` equal borough samples, ``L = w p + (1 - w) R`` where ``w = 1/k``
    and ``R`` is the rest of London, so ``p - L = (1 - w)(p - R)`` and
    ``var = (1 - w)^2 [p(1-p)/n + R(1-R)/((k-1) n)]`` (``n`` the effective borough base), plus the
    rounding variance of the two published values.
    """
    p = np.asarray(value, dtype=float)
    lon = np.asarray(london_value, dtype=float)
    w = 1.0 / a.boroughs
    rest = np.clip((lon - w * p) / (1 - w), 0, 1)
    n = a.borough_n_eff
    diff = p - lon
    se = np.sqrt((1 - w) ** 2 * (p * (1 - p) / n + rest * (1 - rest) / ((a.boroughs - 1) * n))
                 + 2 * a.rounding_var)
    pv = 2 * stats.norm.sf(np.abs(diff / se))
    return pd.DataFrame({"diff": diff, "se": se, "ci_low": diff - a.z * se,
                         "ci_high": diff + a.z * se, "p_value": pv,
                         "label": _label(diff, pv, a.alpha, "above London", "below London",
                                         "no significant difference")})


def ranking(values: pd.Series, a: Assumptions = Assumptions()) -> pd.DataFrame:
    """Rank 1 = highest share, with the range of ranks the data support.

    A borough is placed above another only if its value is significantly higher (pairwise test of
    independent samples): ``rank_best = 1 + (boroughs significantly higher)``, ``rank_worst = N -
    (boroughs significantly lower)``. Pairwise tests are not adjusted for multiplicity, so the
    ranges are if anything too narrow: ranks of boroughs in the middle are largely noise.
    """
    v = values.dropna().astype(float)
    p = v.to_numpy()
    n = a.borough_n_eff
    c = compare(p[:, None], p[None, :], n, n, a)
    sig = c["significant"].to_numpy().reshape(len(p), len(p))
    diff = c["diff"].to_numpy().reshape(len(p), len(p))
    higher = (sig & (diff < 0)).sum(axis=1)  # others significantly above this one
    lower = (sig & (diff > 0)).sum(axis=1)
    return pd.DataFrame({"rank": v.rank(ascending=False, method="min").astype(int).to_numpy(),
                         "rank_best": 1 + higher, "rank_worst": len(p) - lower}, index=v.index)


def borough_summary(survey: pd.DataFrame, measure: str, as_of=None,
                    a: Assumptions = Assumptions()) -> pd.DataFrame:
    """One row per borough for ``measure`` at the quarter ending ``as_of`` (default: latest).

    Columns: ``area_code``, ``borough``, ``period_end``, ``value`` with ``ci_low``/``ci_high``
    (Wilson on the effective base), ``london_value``, ``vs_london`` (difference) and
    ``vs_london_label``; ``rank``, ``rank_best``, ``rank_worst``; for 1 and 3 years:
    ``change_{k}y``, ``change_{k}y_low``, ``change_{k}y_high``, ``change_{k}y_p``,
    ``change_{k}y_q``, ``change_{k}y_label``. Sorted by rank. Shares are 0-1.
    """
    t = _as_of(survey, measure, as_of)
    s = _measure(survey, measure)
    cur = s[(s["period_end"] == t) & (s["area_code"] != LONDON_CODE)].set_index("area_code")
    out = pd.DataFrame({"area_code": cur.index, "borough": [borough_name(c) for c in cur.index],
                        "period_end": t, "value": cur["value"].to_numpy()})
    lo, hi = wilson(out["value"], a.borough_n_eff, 1 - a.alpha)
    out["ci_low"], out["ci_high"] = lo, hi
    out["london_value"] = cur["london_value"].to_numpy()
    vl = vs_london(out["value"], out["london_value"], a)
    out["vs_london"] = vl["diff"].to_numpy()
    out["vs_london_label"] = vl["label"].to_numpy()
    r = ranking(out.set_index("area_code")["value"], a)
    out = out.join(r, on="area_code")
    for years in (1, 3):
        ch = changes(s, measure, years, a)
        ch = ch[ch["period_end"] == t].set_index("area_code")
        k = f"change_{years}y"
        out[k] = out["area_code"].map(ch["change"])
        out[f"{k}_low"] = out["area_code"].map(ch["ci_low"])
        out[f"{k}_high"] = out["area_code"].map(ch["ci_high"])
        out[f"{k}_p"] = out["area_code"].map(ch["p_value"])
        out[f"{k}_q"] = out["area_code"].map(ch["q_value"])
        out[f"{k}_label"] = out["area_code"].map(ch["label"]).fillna("not available")
    return out.sort_values(["rank", "borough"]).reset_index(drop=True)


def london_summary(survey: pd.DataFrame, as_of=None, a: Assumptions = Assumptions()) -> pd.DataFrame:
    """London (MPS) value of every measure at ``as_of`` (default: each measure's latest quarter),
    with its interval, changes over 1 and 3 years, and how many boroughs changed significantly."""
    s = _check(survey)
    rows = []
    for m in [m for m in MEASURE_LABELS if m in set(s["measure"])]:
        t = _as_of(s, m, as_of)
        row = {"measure": m, "label": MEASURE_LABELS[m], "period_end": t}
        lon = trend(s, m)[LONDON_CODE]
        row["value"] = lon.get(t, np.nan)
        lo, hi = wilson(row["value"], a.london_n_eff, 1 - a.alpha)
        row["ci_low"], row["ci_high"] = float(lo), float(hi)
        for years in (1, 3):
            ch = changes(s, m, years, a)
            now = ch[ch["period_end"] == t]
            ldn = now[now["area_code"] == LONDON_CODE]
            k = f"change_{years}y"
            row[k] = ldn["change"].iloc[0] if len(ldn) else np.nan
            row[f"{k}_low"] = ldn["ci_low"].iloc[0] if len(ldn) else np.nan
            row[f"{k}_high"] = ldn["ci_high"].iloc[0] if len(ldn) else np.nan
            row[f"{k}_label"] = ldn["label"].iloc[0] if len(ldn) else "not available"
            b = now[(now["area_code"] != LONDON_CODE) & now["previous"].notna()]
            row[f"{k}_boroughs_up"] = int((b["label"] == "significant increase").sum())
            row[f"{k}_boroughs_down"] = int((b["label"] == "significant decrease").sum())
            row[f"{k}_boroughs_same"] = int((b["label"] == "no significant change").sum())
            row[f"{k}_boroughs_fdr"] = int((b["q_value"] <= a.alpha).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def relationships(values: pd.Series, covariates: pd.DataFrame, conf: float = 0.95) -> pd.DataFrame:
    """Rank (Spearman) and linear (Pearson) correlation of a borough measure with each covariate.

    Uses :func:`vru.analysis.drivers.correlation` (Fisher-z intervals; Bonett-Wright standard
    error for Spearman; t-test p-values), over the boroughs with both values. With about 32
    boroughs only fairly strong associations are distinguishable from chance, and an association
    between boroughs says nothing about individuals (the ecological fallacy) nor about cause.
    Columns: ``covariate``, ``n``, and for each method ``{method}``, ``{method}_low``,
    ``{method}_high``, ``{method}_p`` (NaN with fewer than 4 boroughs or a constant variable).
    """
    rows = []
    for col in covariates.columns:
        row: dict = {"covariate": col}
        for method in ("spearman", "pearson"):
            try:
                r = correlation(values.rename("measure"), covariates[col].rename(col),
                                method=method, conf=conf)
                row.update({"n": r.n, method: r.r, f"{method}_low": r.ci_low,
                            f"{method}_high": r.ci_high, f"{method}_p": r.p_value})
            except ValueError:
                n = int(pd.concat([values, covariates[col]], axis=1).dropna().shape[0])
                row.update({"n": n, method: np.nan, f"{method}_low": np.nan,
                            f"{method}_high": np.nan, f"{method}_p": np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


def detectable_change(p: float = 0.5, a: Assumptions = Assumptions(), power: float = 0.8,
                      london: bool = False) -> float:
    """Smallest change (0-1) a test at ``a.alpha`` detects with the given power, at share ``p``."""
    n = a.london_n_eff if london else a.borough_n_eff
    se = np.sqrt(2 * p * (1 - p) / n + 2 * a.rounding_var)
    return float((a.z + stats.norm.ppf(power)) * se)
