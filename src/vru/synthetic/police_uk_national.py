"""A synthetic national data.police.uk street archive (SYNTHETIC: invented records, real format).

Writes ``<out>/YYYY-MM/YYYY-MM-<force>-street.csv`` for the 43 territorial police forces of England
and Wales and the British Transport Police, for every month from ``start`` to ``end`` (by default
December 2010, the first month of data.police.uk street data, to October 2026: 191 months, about
100 million rows), in the exact street format (12 columns, the header of the real files, LF line
endings). Nothing is derived from real records; the shape follows published descriptions of the
archive. What is modelled (each a parameter of :func:`generate`):

- **Volume**: ``rows`` in all, shared between months by a yearly profile (:data:`YEAR_VOLUME`:
  a fall to 2015, a rise to 2019, the 2020 dip in crime with a rise of anti-social behaviour,
  then a plateau) and a seasonal wave, and between forces roughly in proportion to their real
  volumes (the Met about 15%, British Transport Police about 1.5%).
- **Crime types as published over time** (:func:`crime_types`): from December 2010 to April 2011
  only Anti-social behaviour, Burglary, Robbery, Vehicle crime, Violent crime and Other crime;
  from May 2011 also Criminal damage and arson, Drugs, Other theft, Public disorder and weapons
  and Shoplifting; from May 2013 Violent crime is published as Violence and sexual offences and
  Public disorder and weapons is split into Public order and Possession of weapons, with
  Bicycle theft and Theft from the person added. Anti-social behaviour's share falls from about
  38% of rows in 2011 to about 14.5% from 2023 (it rose in 2020). Exact changeover months of the
  real archive were not all checked: these are the documented April 2011 and April 2013 changes.
- **LSOA vintages**: about 34,753 2011 LSOA codes (``E01``/``W01`` + 6 digits, a block per
  force); from ``lsoa_switch`` (default 2023-07, an assumption: data.police.uk moved to 2021
  LSOAs during 2023) about 3% of LSOAs are split in two new 2021 codes and the parents disappear.
- **Gaps**: no file for a force in the months of :data:`GAPS`: City of London Police from
  September 2017 for six months (the "change of IT infrastructure" gap; its length is an
  assumption) and Greater Manchester Police from July 2019 to March 2020 (GMP's submissions had
  gaps after its 2019 IT change; the exact months were not confirmed in public sources).
- **British Transport Police**: its crimes lie in about 4% of all LSOAs (stations and lines), so
  its LSOAs overlap every force's, and a fifth of its rows have no location.
- **Record quirks**: anti-social behaviour rows have no Crime ID and no outcome; ~1% of crimes are
  listed twice in a month with another outcome (a repeated Crime ID), half of the repeats snapped
  to another point (often another LSOA, 30% of them to "No Location"); ~2% of rows are
  "No Location" (empty coordinates, LSOA code and name); snap points repeat within an LSOA
  ("On or near <street>").

Not modelled: outcome updates across months (the outcomes file), the Context column (always
empty), Northern Ireland (PSNI files use other area codes), files re-issued with corrections,
real street names or coordinates, and the per-force details of the real gaps beyond the two above.

Rows are drawn with vectorised numpy (one seeded generator: a seed gives identical files) and
written with DuckDB ``COPY`` (Crime IDs are SHA-256 hex computed by DuckDB); a ``lsoas.csv``
(code, name, force, first and last vintage, WGS84 centroid) and a ``stats.json`` are written
beside the month folders, with a marker file ``.vru-national-archive``. About 3 microseconds a
row on one core.

``--out`` must be new, empty, or an archive this generator wrote (its marker; it is replaced
whole): any other non-empty folder is refused, not deleted. ``vru ingest DIR`` of the archive
skips ``lsoas.csv`` and ``stats.json`` (``vru ingest DIR/20*`` names the month folders only).

Run it: ``python -m vru.synthetic.police_uk_national --out /tmp/national [--rows 100000000]
[--start 2010-12] [--end 2026-10]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["FORCES", "BTP", "GAPS", "YEAR_VOLUME", "crime_types", "asb_share", "months",
           "generate", "main"]

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
          "LSOA name,Crime type,Last outcome category,Context")

# slug, "Falls within" name, relative volume, centre lon, centre lat, radius (degrees), Welsh?
FORCES = [
    ("avon-and-somerset", "Avon and Somerset Constabulary", 150, -2.75, 51.35, 0.35, False),
    ("bedfordshire", "Bedfordshire Police", 60, -0.45, 52.05, 0.15, False),
    ("cambridgeshire", "Cambridgeshire Constabulary", 80, 0.05, 52.35, 0.25, False),
    ("cheshire", "Cheshire Constabulary", 90, -2.55, 53.2, 0.2, False),
    ("city-of-london", "City of London Police", 9, -0.092, 51.515, 0.01, False),
    ("cleveland", "Cleveland Police", 90, -1.2, 54.57, 0.1, False),
    ("cumbria", "Cumbria Constabulary", 40, -2.9, 54.6, 0.35, False),
    ("derbyshire", "Derbyshire Constabulary", 90, -1.6, 53.05, 0.25, False),
    ("devon-and-cornwall", "Devon & Cornwall Police", 130, -4.3, 50.55, 0.6, False),
    ("dorset", "Dorset Police", 50, -2.2, 50.75, 0.25, False),
    ("durham", "Durham Constabulary", 60, -1.75, 54.7, 0.2, False),
    ("dyfed-powys", "Dyfed-Powys Police", 30, -4.0, 52.1, 0.5, True),
    ("essex", "Essex Police", 180, 0.55, 51.75, 0.3, False),
    ("gloucestershire", "Gloucestershire Constabulary", 50, -2.2, 51.85, 0.25, False),
    ("greater-manchester", "Greater Manchester Police", 360, -2.25, 53.48, 0.15, False),
    ("gwent", "Gwent Police", 60, -3.0, 51.65, 0.15, True),
    ("hampshire", "Hampshire Constabulary", 170, -1.25, 51.0, 0.35, False),
    ("hertfordshire", "Hertfordshire Constabulary", 100, -0.25, 51.8, 0.2, False),
    ("humberside", "Humberside Police", 110, -0.5, 53.7, 0.3, False),
    ("kent", "Kent Police", 190, 0.75, 51.2, 0.35, False),
    ("lancashire", "Lancashire Constabulary", 160, -2.6, 53.8, 0.25, False),
    ("leicestershire", "Leicestershire Police", 100, -1.1, 52.65, 0.25, False),
    ("lincolnshire", "Lincolnshire Police", 60, -0.3, 53.1, 0.4, False),
    ("merseyside", "Merseyside Police", 150, -2.95, 53.42, 0.1, False),
    ("metropolitan", "Metropolitan Police Service", 1000, -0.12, 51.5, 0.2, False),
    ("norfolk", "Norfolk Constabulary", 70, 1.0, 52.65, 0.35, False),
    ("north-wales", "North Wales Police", 60, -3.6, 53.1, 0.35, True),
    ("north-yorkshire", "North Yorkshire Police", 60, -1.4, 54.1, 0.45, False),
    ("northamptonshire", "Northamptonshire Police", 70, -0.9, 52.3, 0.2, False),
    ("northumbria", "Northumbria Police", 170, -1.6, 55.0, 0.25, False),
    ("nottinghamshire", "Nottinghamshire Police", 110, -1.05, 53.1, 0.2, False),
    ("south-wales", "South Wales Police", 130, -3.4, 51.55, 0.2, True),
    ("south-yorkshire", "South Yorkshire Police", 170, -1.35, 53.5, 0.2, False),
    ("staffordshire", "Staffordshire Police", 100, -2.05, 52.85, 0.25, False),
    ("suffolk", "Suffolk Constabulary", 60, 1.0, 52.2, 0.3, False),
    ("surrey", "Surrey Police", 80, -0.4, 51.25, 0.2, False),
    ("sussex", "Sussex Police", 140, -0.3, 50.95, 0.3, False),
    ("thames-valley", "Thames Valley Police", 190, -1.0, 51.65, 0.35, False),
    ("warwickshire", "Warwickshire Police", 40, -1.55, 52.3, 0.2, False),
    ("west-mercia", "West Mercia Police", 120, -2.5, 52.4, 0.4, False),
    ("west-midlands", "West Midlands Police", 360, -1.9, 52.48, 0.15, False),
    ("west-yorkshire", "West Yorkshire Police", 330, -1.65, 53.78, 0.2, False),
    ("wiltshire", "Wiltshire Police", 50, -1.9, 51.35, 0.25, False),
]
BTP = ("btp", "British Transport Police", 80)
BTP_LSOA_SHARE = 0.04
BTP_NO_LOCATION = 0.2

#: (force slug, first missing month, last missing month): months with no file for that force.
GAPS = [
    ("city-of-london", "2017-09", "2018-02"),
    ("greater-manchester", "2019-07", "2020-03"),
]

#: relative rows per month, by year (a year not listed takes the nearest listed one).
YEAR_VOLUME = {2010: 1.00, 2011: 1.00, 2012: 0.95, 2013: 0.90, 2014: 0.87, 2015: 0.88,
               2016: 0.93, 2017: 1.00, 2018: 1.05, 2019: 1.08, 2020: 1.10, 2021: 1.02,
               2022: 1.06, 2023: 1.05, 2024: 1.04, 2025: 1.03, 2026: 1.03}

# the crime types other than anti-social behaviour, with their relative weights (2023 mix)
_MODERN = [
    ("Bicycle theft", 0.010), ("Burglary", 0.040), ("Criminal damage and arson", 0.070),
    ("Drugs", 0.025), ("Other crime", 0.020), ("Other theft", 0.070),
    ("Possession of weapons", 0.008), ("Public order", 0.075), ("Robbery", 0.012),
    ("Shoplifting", 0.060), ("Theft from the person", 0.015), ("Vehicle crime", 0.060),
    ("Violence and sexual offences", 0.390),
]
_MAY_2011 = [
    ("Burglary", 0.060), ("Criminal damage and arson", 0.090), ("Drugs", 0.035),
    ("Other crime", 0.045), ("Other theft", 0.110), ("Public disorder and weapons", 0.030),
    ("Robbery", 0.012), ("Shoplifting", 0.050), ("Vehicle crime", 0.090), ("Violent crime", 0.160),
]
_DEC_2010 = [("Burglary", 0.070), ("Other crime", 0.300), ("Robbery", 0.015),
             ("Vehicle crime", 0.100), ("Violent crime", 0.150)]

OUTCOMES = [
    ("Investigation complete; no suspect identified", 0.40),
    ("Unable to prosecute suspect", 0.30),
    ("Status update unavailable", 0.08),
    ("Under investigation", 0.06),
    ("Court result unavailable", 0.04),
    ("Awaiting court outcome", 0.03),
    ("Local resolution", 0.025),
    ("Further investigation is not in the public interest", 0.015),
    ("Action to be taken by another organisation", 0.015),
    ("Offender given a caution", 0.01),
    ("Formal action is not in the public interest", 0.008),
    ("Offender given a drugs possession warning", 0.008),
    ("Offender given penalty notice", 0.004),
    ("Suspect charged as part of another case", 0.005),
]
STREETS = [
    "High Street", "Station Road", "Church Street", "Park Road", "London Road", "Victoria Road",
    "Green Lane", "Manor Road", "Church Road", "Park Avenue", "Queen Street", "Mill Lane",
    "Kings Road", "New Road", "School Lane", "The Avenue", "North Street", "South Street",
    "Grange Road", "Albert Road", "Springfield Road", "West Street", "Windsor Road", "York Road",
    "Supermarket", "Petrol Station", "Shopping Area", "Parking Area", "Nightclub",
    "Sports/Recreation Area", "Further/Higher Educational Building", "Hospital", "Police Station",
    "Theatre/Concert Hall", "Bus/Coach Station", "Conference/Exhibition Centre",
    "Pedestrian Subway", "Cemetery",
]
BTP_PLACES = ["Railway Station", "Underground Station", "Bus/Coach Station", "Parking Area",
              "Pedestrian Subway"]
N_LSOA_2011 = 34_753  # England 32,844 + Wales 1,909 (2011 LSOAs)
N_LSOA_WALES = 1_909
SNAPS_PER_LSOA = 8
ASB = "Anti-social behaviour"


# in every archive written: the next run may replace the folder, and `vru ingest` of the folder
# skips lsoas.csv and stats.json (vru.warehouse.ingest.NATIONAL_MARKER)
MARKER = ".vru-national-archive"


def _check_out(out: Path) -> None:
    """Refuse an ``out`` that is a file, or a non-empty folder that is not a previous archive of
    this generator (its marker file, or the ``stats.json`` and ``lsoas.csv`` of one written
    before the marker): replacing it would delete someone's files."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: is a file, not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if (out / MARKER).is_file():
        return
    try:
        stats = json.loads((out / "stats.json").read_text())
        if (out / "lsoas.csv").is_file() and {"seed", "lsoa_codes", "forces"} <= set(stats):
            return
    except (OSError, ValueError, TypeError):
        pass
    raise ValueError(f"--out {out}: the folder is not empty and is not an archive this generator "
                     f"wrote (no {MARKER} file): it would be deleted whole; give an empty or new "
                     "folder")


def months(start: str, end: str) -> list[str]:
    """The months ``start`` .. ``end`` (``YYYY-MM``, both included)."""
    for what, v in (("start", start), ("end", end)):
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(v)):
            raise ValueError(f"{what} {v!r}: give a month as YYYY-MM (month 01 to 12)")
    y, m = (int(x) for x in start.split("-"))
    ey, em = (int(x) for x in end.split("-"))
    if (y, m) > (ey, em):
        raise ValueError(f"start {start} is after end {end}")
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def asb_share(month: str) -> float:
    """Anti-social behaviour's share of rows in ``month``: ~38% in 2011 down to 14.5% by 2023."""
    y = int(month[:4]) + (int(month[5:]) - 1) / 12
    share = float(np.interp(y, [2011.0, 2016.0, 2019.0, 2023.0], [0.38, 0.27, 0.19, 0.145]))
    if month.startswith("2020-") and month >= "2020-04":
        share *= 1.6  # lockdown breaches were reported as anti-social behaviour
    return share


def crime_types(month: str) -> list[tuple[str, float]]:
    """The crime types published for ``month`` with their share of rows (summing to 1)."""
    base = _DEC_2010 if month < "2011-05" else _MAY_2011 if month < "2013-05" else _MODERN
    total = sum(p for _, p in base)
    a = asb_share(month)
    return [(ASB, a)] + [(t, p / total * (1 - a)) for t, p in base]


def _year_volume(year: int) -> float:
    keys = sorted(YEAR_VOLUME)
    return YEAR_VOLUME[min(max(year, keys[0]), keys[-1])]


def _in_gap(slug: str, month: str, gaps) -> bool:
    return any(slug == s and a <= month <= b for s, a, b in gaps)


def _geography(rng: np.random.Generator, split_share: float):
    """Every LSOA of both vintages as arrays, and each force's LSOAs in each vintage."""
    weights = np.array([f[2] for f in FORCES], dtype=float)
    welsh = np.array([f[6] for f in FORCES])
    n = np.zeros(len(FORCES), dtype=int)
    n[welsh] = np.round(weights[welsh] / weights[welsh].sum() * N_LSOA_WALES)
    eng = ~welsh
    n[eng] = np.round(weights[eng] / weights[eng].sum() * (N_LSOA_2011 - N_LSOA_WALES))
    n[[i for i, f in enumerate(FORCES) if f[0] == "city-of-london"][0]] = 6
    codes, names, lon, lat, pop, force = [], [], [], [], [], []
    nxt = {"E": 1, "W": 1}

    def add(country: str, name: str, x: float, y: float, people: float, fi: int) -> None:
        """A new LSOA: the next code of ``country`` (E or W), in the order codes are handed out."""
        codes.append(f"{country}01{nxt[country]:06d}")
        nxt[country] += 1
        names.append(name)
        lon.append(x)
        lat.append(y)
        pop.append(people)
        force.append(fi)

    for i, (slug, _name, _w, clon, clat, rad, is_welsh) in enumerate(FORCES):
        area = slug.replace("-", " ").title()
        x = clon + rng.uniform(-rad, rad, n[i])
        y = clat + rng.uniform(-rad, rad, n[i]) * 0.6
        p = rng.lognormal(0.0, 1.0, n[i])
        for k in range(n[i]):
            add("W" if is_welsh else "E", f"{area} {k // 5 + 1:03d}{'ABCDE'[k % 5]}", x[k], y[k], p[k], i)
    n2011 = len(codes)
    split = rng.random(n2011) < split_share
    station = rng.random(n2011) < BTP_LSOA_SHARE
    v2011 = [True] * n2011
    v2021 = list(~split)
    stations = list(station)
    for k in np.flatnonzero(split):
        for half in range(2):
            add(codes[k][0], names[k][:-1] + "FG"[half], lon[k] + (half - 0.5) * 0.002, lat[k], pop[k] / 2,
                force[k])
            v2011.append(False)
            v2021.append(True)
            stations.append(bool(station[k]) and half == 0)
    g = dict(codes=np.array(codes), names=np.array(names), lon=np.array(lon), lat=np.array(lat),
             pop=np.array(pop), force=np.array(force), v2011=np.array(v2011),
             v2021=np.array(v2021), station=np.array(stations))
    per = {}
    for vintage in ("v2011", "v2021"):
        for i in range(len(FORCES)):
            idx = np.flatnonzero(g[vintage] & (g["force"] == i))
            per[vintage, i] = (idx, g["pop"][idx] / g["pop"][idx].sum())
        idx = np.flatnonzero(g[vintage] & g["station"])
        per[vintage, len(FORCES)] = (idx, g["pop"][idx] / g["pop"][idx].sum())
    return g, per


def _dict(indices: np.ndarray, values: Sequence[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(list(values)))


def generate(out: Path, rows: int = 100_000_000, start: str = "2010-12", end: str = "2026-10", *,
             seed: int = 20101201, btp: bool = True, gaps=GAPS, lsoa_switch: str = "2023-07",
             split_share: float = 0.03, repeat_share: float = 0.01,
             no_location_share: float = 0.02, progress: bool = False) -> dict:
    """Write the archive under ``out`` (replaced if it exists) and return its statistics.

    ``rows`` is the expected total over ``start`` .. ``end`` before the gaps remove their files
    (the real count differs by Poisson noise). See the module doc for what each option models.
    """
    out = Path(out)
    _check_rows(rows)
    months(start, end)  # a bad month is refused before anything is removed
    _check_out(out)
    rng = np.random.default_rng(seed)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("written by python -m vru.synthetic.police_uk_national: the next run "
                              "with --out here replaces this folder\n")
    geo, per = _geography(rng, split_share)
    forces = [(f[0], f[1], f[2]) for f in FORCES] + ([BTP] if btp else [])
    fweight = np.array([f[2] for f in forces], dtype=float)
    fweight /= fweight.sum()
    mlist = months(start, end)
    mweight = np.array([_year_volume(int(m[:4])) * (1.0 + 0.08 * np.sin((int(m[5:]) - 4) / 6 * np.pi))
                        for m in mlist])
    mweight /= mweight.sum()
    out_names = [o for o, _ in OUTCOMES]
    out_p = np.array([p for _, p in OUTCOMES])
    out_p /= out_p.sum()
    locations = ["On or near " + s for s in STREETS] + ["No Location"]
    btp_locations = ["On or near " + s for s in BTP_PLACES] + ["No Location"]
    con = duckdb.connect()
    stats = dict(rows=0, files=0, asb=0, no_location=0, repeated=0, months=len(mlist),
                 start=start, end=end, seed=seed, forces=len(forces), missing_files=[])
    used = np.zeros(len(geo["codes"]), dtype=bool)
    t0 = time.perf_counter()
    for mi, mstr in enumerate(mlist):
        mdir = out / mstr
        mdir.mkdir()
        types = crime_types(mstr)
        type_names = [t for t, _ in types]
        type_p = np.array([p for _, p in types])
        type_p /= type_p.sum()
        vintage = "v2011" if mstr < lsoa_switch else "v2021"
        for fi, (slug, name, _w) in enumerate(forces):
            if _in_gap(slug, mstr, gaps):
                stats["missing_files"].append(f"{mstr}-{slug}")
                continue
            is_btp = fi == len(FORCES)
            idx, p = per[vintage, fi]
            n = max(1, int(rng.poisson(rows * mweight[mi] * fweight[fi])))
            n_rep = int(round(n * repeat_share))
            n0 = n - n_rep
            ctype = rng.choice(len(type_names), n0, p=type_p)
            lsoa = rng.choice(len(idx), n0, p=p)
            snap = rng.integers(0, SNAPS_PER_LSOA, n0)
            noloc = rng.random(n0) < (BTP_NO_LOCATION if is_btp else no_location_share)
            outcome = rng.choice(len(out_names), n0, p=out_p)
            crime_no = np.arange(n0)
            # repeats: a crime listed again with another outcome; half snapped elsewhere
            crimes = np.flatnonzero(ctype != 0)
            src = (rng.choice(crimes, min(n_rep, len(crimes)), replace=False) if n_rep
                   else crimes[:0])
            moved = rng.random(len(src)) < 0.5
            r_lsoa = np.where(moved, rng.choice(len(idx), len(src), p=p), lsoa[src])
            r_noloc = np.where(moved, rng.random(len(src)) < 0.3, noloc[src])
            r_out = rng.choice(len(out_names), len(src), p=out_p)
            order = rng.permutation(n0 + len(src))
            ctype = np.concatenate([ctype, ctype[src]])[order]
            lsoa = idx[np.concatenate([lsoa, r_lsoa])[order]]
            snap = np.concatenate([snap, np.where(moved, rng.integers(0, SNAPS_PER_LSOA, len(src)),
                                                  snap[src])])[order]
            noloc = np.concatenate([noloc, r_noloc])[order]
            outcome = np.concatenate([outcome, r_out])[order]
            crime_no = np.concatenate([crime_no, crime_no[src]])[order]
            is_asb = ctype == 0
            used[lsoa[~noloc]] = True
            # snap points: a fixed offset per (LSOA, snap) so coordinates repeat like the real files
            h = (lsoa.astype(np.int64) * 7919 + snap * 104729) % 100_003
            lon = np.round(geo["lon"][lsoa] + ((h % 997) / 997 - 0.5) * 0.01, 6)
            lat = np.round(geo["lat"][lsoa] + ((h % 991) / 991 - 0.5) * 0.006, 6)
            places = btp_locations if is_btp else locations
            place = np.where(noloc, len(places) - 1, h % (len(places) - 1))
            tbl = pa.table({
                "crime_no": pa.array(np.where(is_asb, -1, crime_no)),
                "lon": pa.array(lon, mask=noloc),
                "lat": pa.array(lat, mask=noloc),
                "location": _dict(place, places),
                "lsoa_code": pa.array(geo["codes"][lsoa], mask=noloc),
                "lsoa_name": pa.array(geo["names"][lsoa], mask=noloc),
                "crime_type": _dict(ctype, type_names),
                "outcome": pa.array(np.array(out_names)[outcome], mask=is_asb),
            })
            con.register("t", tbl)
            path = mdir / f"{mstr}-{slug}-street.csv"
            sql_name = name.replace("'", "''")
            con.execute(f"""
                COPY (SELECT
                    CASE WHEN crime_no < 0 THEN NULL
                         ELSE sha256('{seed}/{slug}/{mstr}/' || crime_no) END AS "Crime ID",
                    '{mstr}' AS "Month", '{sql_name}' AS "Reported by",
                    '{sql_name}' AS "Falls within",
                    printf('%.6f', lon) AS "Longitude", printf('%.6f', lat) AS "Latitude",
                    location::VARCHAR AS "Location", lsoa_code AS "LSOA code",
                    lsoa_name AS "LSOA name", crime_type::VARCHAR AS "Crime type",
                    outcome AS "Last outcome category", NULL::VARCHAR AS "Context"
                  FROM t) TO '{path}' (FORMAT csv, HEADER true, DELIMITER ',')""")
            con.unregister("t")
            stats["rows"] += len(ctype)
            stats["files"] += 1
            stats["asb"] += int(is_asb.sum())
            stats["no_location"] += int(noloc.sum())
            stats["repeated"] += len(src)
        if progress:
            print(f"{mstr}: {stats['rows']:,} rows in {stats['files']:,} files, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    stats["lsoa_codes"] = int(used.sum())
    first = np.where(geo["v2011"], "2011", "2021")
    last = np.where(geo["v2021"], "2021", "2011")
    con.register("g", pa.table({
        "code": geo["codes"], "name": geo["names"],
        "force": np.array([f[0] for f in FORCES])[geo["force"]],
        "first_vintage": first, "last_vintage": last,
        "longitude": np.round(geo["lon"], 6), "latitude": np.round(geo["lat"], 6),
        "btp": geo["station"]}))
    con.execute(f"COPY g TO '{out / 'lsoas.csv'}' (FORMAT csv, HEADER true)")
    con.close()
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats


def _check_rows(rows: int) -> None:
    """Refuse a total that is not a positive whole number (a Poisson mean cannot be negative)."""
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
        raise ValueError(f"--rows must be a whole number of at least 1, not {rows!r}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--out", type=Path, required=True,
                    help="folder to write: new, empty, or an archive written here before (replaced)")
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--start", default="2010-12", help="first month, YYYY-MM")
    ap.add_argument("--end", default="2026-10", help="last month, YYYY-MM")
    ap.add_argument("--seed", type=int, default=20101201)
    ap.add_argument("--no-btp", action="store_true", help="leave out British Transport Police")
    ap.add_argument("--no-gaps", action="store_true", help="a file for every force and month")
    ap.add_argument("--lsoa-switch", default="2023-07", help="first month with 2021 LSOA codes")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        _check_rows(a.rows)
        months(a.start, a.end)
        _check_out(a.out)
    except ValueError as e:
        ap.error(str(e))
    stats = generate(a.out, a.rows, a.start, a.end, seed=a.seed, btp=not a.no_btp,
                     gaps=[] if a.no_gaps else GAPS, lsoa_switch=a.lsoa_switch, progress=True)
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    stats["missing_files"] = len(stats["missing_files"])
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
