"""ONS mid-year population estimates by LSOA (2011 LSOAs) and broad age band.

Source: Office for National Statistics, "Lower layer Super Output Area population estimates"
(SAPE22DT13 mid-2019, SAPE23DT13 mid-2020, "Broad ages"), London subset with the Persons, Males
and Females sheets joined side by side by J. Millington (github.com/jamesdamillington/london-data);
Open Government Licence. See ``data/bundled/population_lsoa/SOURCE.md``.

Layout: ``LSOA11CD, LSOA11NM, [MSOA11CD, MSOA11NM,] LAD11CD, LAD11NM`` then, for each of
``Persons``, ``Males``, ``Females``, the columns ``<sex>_All-Ages, <sex>_0-15, <sex>_16-29,
<sex>_30-44, <sex>_45-64, <sex>_65+``.

Output: ``population`` rows (source ``ons_mye_lsoa``, level ``lsoa``) for sex ``persons`` /
``males`` / ``females`` and age_band ``all``, ``0-15``, ``16-29``, ``30-44``, ``45-64``, ``65+``,
plus ``16-64`` = 16-29 + 30-44 + 45-64 (exact; the working-age denominator of claimant rates).
Never sum over age bands: use ``all``.

The reference year is not in the file's content: it is taken from the file name (``mid2019``,
``mid-2019``, ``mid_2019``: the ONS "mid-YYYY" estimate, reference date 30 June YYYY), or from the
``year`` argument of :func:`load`; a file whose year can be told neither way is refused.

Checks (every row, refused with file line and column otherwise): LSOA codes are GSS LSOA codes
(E01/W01) and unique; counts are whole numbers >= 0; the five bands sum to All-Ages; Males +
Females = Persons for every band.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from vru.errors import SourceError
from vru.schema import Batch, conform
from vru.sources import catalogue
from vru.sources._io import base_name, check_columns, csv_header_fields, read_csv_strings
from vru.sources._io import fail_first as _fail

SOURCE = catalogue.ONS_MYE_LSOA
SEXES = {"Persons": "persons", "Males": "males", "Females": "females"}
BANDS = {"0-15": "0-15", "16-29": "16-29", "30-44": "30-44", "45-64": "45-64", "65+": "65+"}
ALL = "All-Ages"
ID_REQUIRED = ("LSOA11CD", "LSOA11NM", "LAD11CD", "LAD11NM")
ID_OPTIONAL = ("MSOA11CD", "MSOA11NM")
VALUE_COLUMNS = [f"{s}_{b}" for s in SEXES for b in (ALL, *BANDS)]

_YEAR_IN_NAME = re.compile(r"mid[-_ ]?((?:19|20)\d\d)(?!\d)", re.IGNORECASE)


def sniff(path: str | Path) -> bool:
    """A CSV whose header has ``LSOA11CD`` and ``Persons_All-Ages``."""
    fields = csv_header_fields(path)
    return "LSOA11CD" in fields and "Persons_All-Ages" in fields


def year_from_name(path: str | Path) -> int | None:
    """Reference year from a file name such as ``london-mid2019-pop.csv`` (None if absent)."""
    m = _YEAR_IN_NAME.search(base_name(path))
    return int(m.group(1)) if m else None


def load(path: str | Path, *, year: int | None = None) -> Batch:
    """Load a mid-year LSOA estimate file; ``year`` overrides/replaces the year in the name."""
    p = Path(path)
    named = year_from_name(p)
    if year is not None and named is not None and year != named:
        raise SourceError(p, f"year {year} given but the file name says mid-{named}")
    year = year if year is not None else named
    if year is None:
        raise SourceError(p, "cannot tell the reference year: the file name has no 'midYYYY' "
                          "and no year was given")
    raw = read_csv_strings(p)
    check_columns(p, raw.columns, [*ID_REQUIRED, *VALUE_COLUMNS], ID_OPTIONAL)
    if raw.empty:
        raise SourceError(p, "no data rows")
    lines = np.arange(len(raw)) + 2

    codes = raw["LSOA11CD"].fillna("").str.strip()
    _fail(p, ~codes.str.fullmatch(r"[EW]01\d{6}"), lines, "LSOA11CD", codes,
          "not an LSOA GSS code")
    _fail(p, codes.duplicated(), lines, "LSOA11CD", codes, "duplicate LSOA code")
    for col in ("LSOA11NM", "LAD11NM"):
        s = raw[col].fillna("").str.strip()
        _fail(p, s == "", lines, col, s, "missing value")
    lad = raw["LAD11CD"].fillna("").str.strip()
    _fail(p, ~lad.str.fullmatch(r"[EW]0[6-9]\d{6}"), lines, "LAD11CD", lad,
          "not a local authority GSS code")

    counts = {c: _counts(p, raw[c], lines, c) for c in VALUE_COLUMNS}
    for sex in SEXES:
        total = sum(counts[f"{sex}_{b}"] for b in BANDS)
        _fail(p, pd.Series(total != counts[f"{sex}_{ALL}"]), lines, f"{sex}_{ALL}",
              pd.Series(counts[f"{sex}_{ALL}"]),
              f"age bands sum to a different total than {sex}_{ALL}")
    for band in (ALL, *BANDS):
        mf = counts[f"Males_{band}"] + counts[f"Females_{band}"]
        _fail(p, pd.Series(mf != counts[f"Persons_{band}"]), lines, f"Persons_{band}",
              pd.Series(counts[f"Persons_{band}"]), f"Males_{band} + Females_{band} differs")

    frames = []
    for sex, sex_out in SEXES.items():
        bands = {"all": counts[f"{sex}_{ALL}"]}
        bands |= {out: counts[f"{sex}_{b}"] for b, out in BANDS.items()}
        bands["16-64"] = counts[f"{sex}_16-29"] + counts[f"{sex}_30-44"] + counts[f"{sex}_45-64"]
        for band, values in bands.items():
            frames.append(pd.DataFrame({"area_code": codes.to_numpy(), "sex": sex_out,
                                        "age_band": band, "population": values}))
    df = pd.concat(frames, ignore_index=True)
    df["source"], df["level"], df["year"] = SOURCE, "lsoa", year
    df = conform("population", df)
    total = int(counts[f"Persons_{ALL}"].sum())
    notes = [
        f"mid-{year} estimates ({'from the file name' if named else 'year given'}): "
        f"{len(codes)} LSOAs, {lad.nunique()} local authorities, persons all ages {total:,}",
        "age band 16-64 derived as 16-29 + 30-44 + 45-64 (exact)",
    ]
    return Batch(path=str(p), source=SOURCE, tables={"population": df}, notes=notes)


def _counts(path, raw: pd.Series, lines: np.ndarray, column: str) -> np.ndarray:
    s = raw.fillna("").str.strip()
    _fail(path, s == "", lines, column, s, "missing value (truncated row?)")
    _fail(path, ~s.str.fullmatch(r"\d+"), lines, column, s, "not a whole number >= 0")
    return s.astype("int64").to_numpy()
