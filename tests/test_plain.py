"""vru.plain.jsonable: the one JSON-ready converter the pipelines and the analysis results share."""

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vru.pipelines.base import jsonable as pipelines_jsonable
from vru.plain import jsonable


@dataclass
class _Result:
    n: np.int64

    def as_dict(self):
        return {"n": self.n}


def test_pandas_and_numpy_values_become_plain_python():
    df = pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan], "when": pd.to_datetime(["2024-01-31", None])})
    got = jsonable({"table": df, "series": pd.Series({3: np.float64(1.5)}), "flag": np.bool_(True),
                    "codes": ("E1", "E2"), "seen": {"x"}, "array": np.array([1, 2]),
                    "inf": float("inf"), "na": pd.NA, "day": dt.date(2024, 2, 1),
                    "month": pd.Period("2024-03", "M"), "result": _Result(np.int64(7)), 4: None})
    assert got == {"table": [{"a": 1, "b": 0.5, "when": "2024-01-31"}, {"a": 2, "b": None, "when": None}],
                   "series": {"3": 1.5}, "flag": True, "codes": ["E1", "E2"], "seen": ["x"],
                   "array": [1, 2], "inf": None, "na": None, "day": "2024-02-01", "month": "2024-03",
                   "result": {"n": 7}, "4": None}
    assert type(got["table"][0]["a"]) is int and type(got["flag"]) is bool
    json.dumps(got, allow_nan=False)


def test_pipelines_use_the_same_converter():
    assert pipelines_jsonable is jsonable
