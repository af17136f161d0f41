"""Canonical warehouse tables: one definition used by loaders, the warehouse and the tests.

Every loader returns a :class:`Batch`: a mapping of table name -> pandas DataFrame whose columns
are exactly those listed here (in this order), with these dtypes. :func:`conform` checks a frame
against its table and returns it with canonical dtypes and column order.

Conventions
-----------
- ``month`` is a ``datetime64[ns]`` timestamp at the first day of the month.
- ``level`` is one of :data:`LEVELS`.
- Area codes are ONS GSS codes (E01..., E05..., E09..., E12000007 for London). Non-geographic MPS
  reporting units (Heathrow/City airports, "Unknown") get pseudo-codes from
  :mod:`vru.geography.boroughs`.
- ``vintage`` of an area is the boundary set its code belongs to ("2011" or "2021" for LSOAs,
  "2018" or "2022" for wards, "2022" for boroughs). LSOA codes shared by the 2011 and 2021 sets
  appear once per vintage.
- ``source`` names the dataset a row came from (e.g. ``mps_borough_detailed``,
  ``police_uk_street/City of London Police``); rows from different sources are never summed
  together by the warehouse: the choice of source is explicit in every query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

LEVELS = ("lsoa", "ward", "borough", "region", "force")

# name -> list of (column, pandas dtype)
TABLES: dict[str, list[tuple[str, str]]] = {
    # One row per area and boundary vintage. geometry: WKB in British National Grid (EPSG:27700),
    # or None for non-geographic units.
    "areas": [
        ("level", "string"),
        ("code", "string"),
        ("vintage", "string"),
        ("name", "string"),
        ("parent_code", "string"),  # borough code for LSOAs and wards, region code for boroughs
        ("geometry", "object"),  # bytes (WKB) or None
    ],
    # Recorded crime counts by area, month and harmonised category (vru.taxonomy code).
    "crime": [
        ("source", "string"),
        ("level", "string"),
        ("area_code", "string"),
        ("month", "datetime64[ns]"),
        ("category", "string"),
        ("count", "int64"),
    ],
    # Crime counts published only per calendar year (e.g. the LSOA annual aggregation).
    "crime_annual": [
        ("source", "string"),
        ("level", "string"),
        ("area_code", "string"),
        ("year", "int64"),
        ("category", "string"),
        ("count", "float64"),  # NaN where the source value is known to be wrong
    ],
    # Resident population estimates. sex in {persons, males, females};
    # age_band e.g. "all", "0-15", "16-29", "30-44", "45-64", "65+", "16-64".
    "population": [
        ("source", "string"),
        ("level", "string"),
        ("area_code", "string"),
        ("year", "int64"),
        ("sex", "string"),
        ("age_band", "string"),
        ("population", "int64"),
    ],
    # Deprivation measures, long format: measure e.g. "imd_score", "imd_rank", "imd_decile",
    # "income_score", ... (see vru.sources.imd for the full list).
    "deprivation": [
        ("source", "string"),
        ("edition", "string"),
        ("level", "string"),
        ("area_code", "string"),
        ("measure", "string"),
        ("value", "float64"),
    ],
    # Labour-market measures. period is the reference month (first day); for annual series the
    # first month of the period (Jan-Dec YYYY -> YYYY-01-01) with period_months giving its length.
    # measure e.g. "unemployment_rate_model", "unemployment_rate_model_ci95", "claimant_count",
    # "claimant_rate", "population_16_64".
    "unemployment": [
        ("source", "string"),
        ("level", "string"),
        ("area_code", "string"),
        ("period", "datetime64[ns]"),
        ("period_months", "int64"),
        ("measure", "string"),
        ("value", "float64"),
    ],
    # Survey measures (e.g. MOPAC Public Attitude Survey): share agreeing, per quarter end date.
    "survey": [
        ("source", "string"),
        ("level", "string"),
        ("area_code", "string"),
        ("period_end", "datetime64[ns]"),
        ("measure", "string"),
        ("value", "float64"),
        ("london_value", "float64"),
    ],
    # Respondent-level survey answers (e.g. Public Attitude Survey microdata). Personal data: no
    # name, address, exact date or free text is ever stored; respondent_id is the survey's own
    # pseudonymous serial, needed only to keep one answer per respondent and measure.
    "survey_responses": [
        ("source", "string"),
        ("period_end", "datetime64[ns]"),
        ("respondent_id", "string"),
        ("area_code", "string"),
        ("weight", "float64"),
        ("ethnicity", "string"),
        ("sex", "string"),
        ("age_band", "string"),
        ("measure", "string"),
        ("answer", "string"),
    ],
}

# Natural keys: loading a row whose key exists replaces it (this is what makes ingest idempotent,
# and lets a newer release of a source revise earlier figures).
KEYS: dict[str, tuple[str, ...]] = {
    "areas": ("level", "code", "vintage"),
    "crime": ("source", "level", "area_code", "month", "category"),
    "crime_annual": ("source", "level", "area_code", "year", "category"),
    "population": ("source", "level", "area_code", "year", "sex", "age_band"),
    "deprivation": ("source", "edition", "level", "area_code", "measure"),
    "unemployment": ("source", "level", "area_code", "period", "period_months", "measure"),
    "survey": ("source", "level", "area_code", "period_end", "measure"),
    "survey_responses": ("source", "period_end", "respondent_id", "measure"),
}

# What a batch replaces. For crime panels a file is the publisher's statement about whole months
# of one source: loading it replaces every stored row of that (source, level, month), so an area
# whose count was revised to zero (and so is absent from a file that omits zeros) is not left
# behind with its old count. Other tables replace row by row on their natural key.
REPLACE_SCOPE: dict[str, tuple[str, ...]] = {
    **KEYS,
    "crime": ("source", "level", "month"),
    "crime_annual": ("source", "level", "year", "category"),
}


@dataclass
class Batch:
    """What one source file contributes: canonical tables plus provenance."""

    path: str
    source: str  # dataset name, e.g. "mps_borough_detailed"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # documented treatments applied (for the log)

    def rows(self) -> int:
        return sum(len(t) for t in self.tables.values())


def conform(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the canonical columns of ``table``, in order, with canonical dtypes.

    Raises ``ValueError`` (a programming error in a loader, not a user error) if a column is missing
    or extra, or if a key column holds nulls.
    """
    spec = TABLES[table]
    want = [c for c, _ in spec]
    missing = [c for c in want if c not in df.columns]
    extra = [c for c in df.columns if c not in want]
    if missing or extra:
        raise ValueError(f"table {table}: missing columns {missing}, unexpected columns {extra}")
    out = df[want].copy()
    for col, dtype in spec:
        if dtype == "object":
            continue
        if dtype.startswith("datetime64"):
            out[col] = pd.to_datetime(out[col]).astype(dtype)
        else:
            out[col] = out[col].astype(dtype)
    for col in KEYS[table]:
        if out[col].isna().any():
            raise ValueError(f"table {table}: key column {col} has nulls")
    if out.duplicated(list(KEYS[table])).any():
        dup = out[out.duplicated(list(KEYS[table]), keep=False)].head(4)
        raise ValueError(f"table {table}: duplicate keys, e.g.\n{dup}")
    return out.reset_index(drop=True)
