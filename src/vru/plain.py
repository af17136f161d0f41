"""Plain, JSON-ready Python from the analysis results' pandas and numpy values.

One converter for every JSON output: the pipelines' ``as_dict()`` (:mod:`vru.pipelines`), the
analysis layer's result objects (:mod:`vru.analysis.evaluation`) and what the API and CLI write.
It lives below both layers so that each can use it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd


def jsonable(x: Any) -> Any:
    """``x`` as JSON-ready Python: DataFrames as lists of records, Series as dicts, numpy scalars as
    Python numbers, missing values (NaN, infinities, ``NaT``, ``pd.NA``) as ``None``, timestamps as
    ISO dates, objects with ``as_dict()`` through it."""
    if hasattr(x, "as_dict") and not isinstance(x, type):
        return jsonable(x.as_dict())
    if isinstance(x, pd.DataFrame):
        return [{str(k): jsonable(v) for k, v in r.items()} for r in x.to_dict(orient="records")]
    if isinstance(x, pd.Series | dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set | frozenset):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [jsonable(v) for v in x.tolist()]
    if x is pd.NA or x is pd.NaT:  # before the dates: NaT is a datetime
        return None
    if isinstance(x, pd.Timestamp):
        return x.strftime("%Y-%m-%d")
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, pd.Period):
        return str(x)
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x
