"""Generate one year of data.police.uk street-level files at national scale (synthetic, seeded).

A thin wrapper of :mod:`vru.synthetic.police_uk_national` (the generator of the whole national
archive; its module doc says what is modelled): the 43 territorial forces of England and Wales
(no British Transport Police, no gaps) for the 12 months of one year, 2011 LSOA codes until June
and 2021 codes (about 3% of LSOAs split in two) from July, about 6.6 million rows with the
national crime-type mix (anti-social behaviour 14.5% in 2023, no Crime ID, no outcome), ~1%
repeated Crime IDs, ~2% "No Location" rows and repeating snap points.

Writes ``<out>/YYYY-MM/YYYY-MM-<force>-street.csv`` plus ``lsoas.csv`` and ``stats.json``.

Usage: ``python benchmarks/ingest/generate.py [--rows 6600000] [--year 2023] [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from vru.synthetic import police_uk_national as national

FORCES = national.FORCES
HEADER = national.HEADER


def generate(out: Path, rows: int = 6_600_000, year: int = 2023, seed: int = 20230101) -> dict:
    """One year, territorial forces only, 2021 LSOA codes from July (see the module doc)."""
    return national.generate(out, rows, f"{year}-01", f"{year}-12", seed=seed, btp=False,
                             gaps=[], lsoa_switch=f"{year}-07")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--rows", type=int, default=6_600_000)
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--seed", type=int, default=20230101)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    stats = generate(a.out, a.rows, a.year, a.seed)
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
