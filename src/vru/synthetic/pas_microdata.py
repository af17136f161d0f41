"""Synthetic respondent-level trust-and-confidence survey data (SYNTHETIC: no real person).

Produces files in the VRU microdata layout read by :mod:`vru.sources.pas_microdata`, shaped like
the MOPAC Public Attitude Survey: about 100 interviews per borough per quarter in the 32 MPS
boroughs, weights correcting for differential response, and answers whose borough shares follow a
target (by default typical London levels; optionally the published borough figures of the bundled
PAS file, passed as ``targets``).

How each respondent is drawn (all from one seeded generator, so a seed gives identical data):

1. demographics: ethnicity from approximate London shares (Census 2021 high-level groups), varied
   by borough with a Dirichlet draw; sex and age band from approximate London adult shares;
   respondents are *sampled* with response propensities that under-represent young people and
   men, as face-to-face surveys do;
2. weight: the ratio of population share to sample share of the respondent's age x sex cell,
   times log-normal noise (sd 0.2), scaled to average 1 in each borough and quarter;
3. answers: agreement with each measure is drawn with log-odds = borough/quarter intercept + group
   effects (:data:`ETHNICITY_EFFECT`, :data:`SEX_EFFECT`, :data:`AGE_EFFECT`: ILLUSTRATIVE
   values chosen to mimic the direction of published findings, not estimates) + a respondent
   "trust" effect shared across measures (so answers correlate). Each intercept is solved so that
   the borough's weighted expected share equals its target. Agreeing answers split into
   "strongly" / "tend to" agree; others into neither / tend to disagree / strongly disagree /
   don't know. ``trust_mps`` is not asked before 2016 (as in the PAS); 1% of answers are missing.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vru.geography.boroughs import BOROUGHS, MPS_BOROUGHS  # the PAS does not cover the City
from vru.sources.pas_microdata import AGE_BANDS, ETHNICITY, LEADING, MEASURES, SEX

#: Typical London shares agreeing (the MPS values of the bundled PAS file for Q4 2023, rounded).
DEFAULT_LEVELS = {
    "good_job_local": 0.47, "contact_ward_officer": 0.13, "informed_local": 0.29,
    "listen_to_concerns": 0.57, "relied_on_to_be_there": 0.59, "treat_everyone_fairly": 0.62,
    "understand_issues": 0.57, "trust_mps": 0.69,
}
#: Approximate London population shares (Census 2021 ethnic groups; adults by sex and age).
ETHNICITY_SHARE = {"Asian": 0.207, "Black": 0.135, "Mixed": 0.057, "White": 0.538, "Other": 0.063}
SEX_SHARE = {"Female": 0.515, "Male": 0.485}
AGE_SHARE = {"16-24": 0.13, "25-34": 0.22, "35-44": 0.19, "45-54": 0.16, "55-64": 0.13, "65+": 0.17}
#: Relative chance of being interviewed (drives the weights).
AGE_PROPENSITY = {"16-24": 0.7, "25-34": 0.8, "35-44": 0.95, "45-54": 1.05, "55-64": 1.15, "65+": 1.3}
SEX_PROPENSITY = {"Female": 1.0, "Male": 0.88}
NOT_STATED = 0.01
#: ILLUSTRATIVE log-odds effects (synthetic; not estimates from any survey).
ETHNICITY_EFFECT = {"Asian": 0.15, "Black": -0.55, "Mixed": -0.35, "White": 0.0, "Other": -0.05,
                    "Not stated": 0.0}
SEX_EFFECT = {"Female": -0.1, "Male": 0.0, "Not stated": 0.0}
AGE_EFFECT = {"16-24": -0.35, "25-34": -0.2, "35-44": -0.1, "45-54": 0.0, "55-64": 0.1, "65+": 0.35,
              "Not stated": 0.0}
PERSON_SD = 0.9
BOROUGH_SD = 0.3
AGREE_SPLIT = {"strongly agree": 0.3, "tend to agree": 0.7}
OTHER_SPLIT = {"neither agree nor disagree": 0.4, "tend to disagree": 0.3, "strongly disagree": 0.18,
               "don't know": 0.12}
MISSING = 0.01
TRUST_FROM = pd.Timestamp("2016-01-01")

assert set(ETHNICITY_EFFECT) == set(ETHNICITY) and set(AGE_EFFECT) == set(AGE_BANDS)
assert set(SEX_EFFECT) == set(SEX) and set(DEFAULT_LEVELS) == set(MEASURES)


def _draw(rng: np.random.Generator, shares: dict[str, float], n: int, weights=None) -> np.ndarray:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    if weights is not None:
        p = p * np.array([weights[k] for k in keys])
    p = p / p.sum()
    out = np.array(keys, dtype=object)[rng.choice(len(keys), n, p=p)]
    out[rng.random(n) < NOT_STATED] = "Not stated"
    return out


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _intercepts(offset: np.ndarray, weight: np.ndarray, cell: np.ndarray, target: np.ndarray,
                iters: int = 60) -> np.ndarray:
    """Per cell, the intercept ``a`` with weighted mean of expit(a + offset) equal to the target."""
    lo = np.full(len(target), -15.0)
    hi = np.full(len(target), 15.0)
    wsum = np.bincount(cell, weights=weight, minlength=len(target))
    for _ in range(iters):
        mid = (lo + hi) / 2
        mean = np.bincount(cell, weights=weight / (1 + np.exp(-(mid[cell] + offset))),
                           minlength=len(target)) / wsum
        below = mean < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return (lo + hi) / 2


def _quarter_end(q: str) -> pd.Timestamp:
    return pd.Period(q.replace("-", ""), freq="Q").end_time.normalize()


def generate(*, quarters: Sequence[str] = ("2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"),
             per_borough: int = 100, boroughs: Sequence[str] = MPS_BOROUGHS,
             measures: Sequence[str] = MEASURES, targets: pd.DataFrame | None = None,
             seed: int = 0) -> pd.DataFrame:
    """Synthetic respondents in the file layout (columns :data:`LEADING` + ``measures``).

    ``targets``: optional rows ``(area_code, period_end, measure, value)`` (e.g. the warehouse
    ``survey`` table of the PAS): each borough's share agreeing is aimed at its published value for
    that quarter; missing targets fall back to :data:`DEFAULT_LEVELS` plus a borough effect.
    """
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ValueError(f"unknown measures {unknown}")
    bad = [b for b in boroughs if b not in BOROUGHS]
    if bad:
        raise ValueError(f"unknown borough codes {bad}")
    if per_borough < 1:
        raise ValueError("per_borough must be at least 1")
    rng = np.random.default_rng(seed)
    q_end = [_quarter_end(q) for q in quarters]
    borough_eff = {(b, m): rng.normal(0, BOROUGH_SD) for b in boroughs for m in measures}
    eth_mix = {b: rng.dirichlet(40 * np.array(list(ETHNICITY_SHARE.values()))) for b in boroughs}

    frames = []
    for q, qe in zip(quarters, q_end, strict=True):
        for b in boroughs:
            n = per_borough
            eth = _draw(rng, dict(zip(ETHNICITY_SHARE, eth_mix[b], strict=True)), n)
            sex = _draw(rng, SEX_SHARE, n, SEX_PROPENSITY)
            age = _draw(rng, AGE_SHARE, n, AGE_PROPENSITY)
            frames.append(pd.DataFrame({"quarter": q, "period_end": qe, "code": b,
                                        "borough": BOROUGHS[b],
                                        "ethnicity": eth, "sex": sex, "age_band": age}))
    df = pd.concat(frames, ignore_index=True)
    n = len(df)

    # weights: population share / sample share of the age x sex cell, with noise
    def ratio(values, shares, propensity):
        keys = list(shares)
        pop = np.array([shares[k] for k in keys])
        samp = pop * np.array([propensity[k] for k in keys])
        r = dict(zip(keys, (pop / pop.sum()) / (samp / samp.sum()), strict=True))
        return np.array([r.get(v, 1.0) for v in values])

    w = ratio(df["age_band"], AGE_SHARE, AGE_PROPENSITY) * ratio(df["sex"], SEX_SHARE, SEX_PROPENSITY)
    w = w * rng.lognormal(0, 0.2, n)
    cell = df.groupby(["quarter", "code"], sort=False).ngroup().to_numpy()
    w = w / (np.bincount(cell, weights=w) / np.bincount(cell))[cell]
    df["weight"] = w

    person = rng.normal(0, PERSON_SD, n)
    effects = (df["ethnicity"].map(ETHNICITY_EFFECT).to_numpy(dtype=float)
               + df["sex"].map(SEX_EFFECT).to_numpy(dtype=float)
               + df["age_band"].map(AGE_EFFECT).to_numpy(dtype=float) + person)
    tmap = {}
    if targets is not None:
        t = targets.dropna(subset=["value"])
        tmap = {(a, pd.Timestamp(p), m): v for a, p, m, v in
                zip(t["area_code"], t["period_end"], t["measure"], t["value"], strict=True)}
    # one row per (quarter, borough) cell, in the order of ngroup(sort=False) numbering
    info = df[["quarter", "code", "period_end"]].drop_duplicates()
    assert (df.groupby(["quarter", "code"], sort=False).ngroup().iloc[info.index]
            == np.arange(len(info))).all()
    agree_labels = np.array(list(AGREE_SPLIT), dtype=object)
    other_labels = np.array(list(OTHER_SPLIT), dtype=object)
    for m in measures:
        target = np.array([
            tmap.get((b, pe, m),
                     1 / (1 + np.exp(-(_logit(DEFAULT_LEVELS[m]) + borough_eff[(b, m)]))))
            for b, pe in zip(info["code"], info["period_end"], strict=True)
        ])
        a = _intercepts(effects, w, cell, target)
        p = 1 / (1 + np.exp(-(a[cell] + effects)))
        agree = rng.random(n) < p
        ans = np.where(
            agree,
            agree_labels[rng.choice(2, n, p=list(AGREE_SPLIT.values()))],
            other_labels[rng.choice(4, n, p=list(OTHER_SPLIT.values()))],
        ).astype(object)
        ans[rng.random(n) < MISSING] = ""
        if m == "trust_mps":
            ans[(df["period_end"] < TRUST_FROM).to_numpy()] = ""
        df[m] = ans
    df["respondent_id"] = [f"SYN{i:07d}" for i in range(1, n + 1)]
    return df[[*LEADING, *measures]]


def to_csv_text(df: pd.DataFrame) -> str:
    """Synthetic respondents as microdata CSV text (what :func:`write_csv` writes)."""
    return df.to_csv(index=False, float_format="%.6f", lineterminator="\n")


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write synthetic respondents as a microdata CSV (gzipped, byte-reproducible, if ``.gz``)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = to_csv_text(df).encode("utf-8")
    if p.suffix == ".gz":
        with open(p, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(data)
    else:
        p.write_bytes(data)
    return p
