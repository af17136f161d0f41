"""Generate data.police.uk street-level files at national scale (synthetic, seeded).

Writes ``<out>/YYYY-MM/YYYY-MM-<force>-street.csv`` for the 43 territorial police forces of
England and Wales and every month of one year, in the exact data.police.uk street format (12
columns, LF line endings, the header of the real files). The content is synthetic but shaped like
the real national files:

- about 6.6 million rows for the year (the real national archive holds roughly 6 to 7 million
  crimes and about a million anti-social behaviour reports a year), shared between forces roughly
  in proportion to their volumes (the Met about 15%);
- about 35,000 LSOA codes: each force has its own block of 2011 codes (``E01...`` in England,
  ``W01...`` in Wales); from July about 3% of LSOAs are split in two and carry new 2021 codes,
  as data.police.uk moved to 2021 LSOAs during 2023;
- approximately the national crime-type mix (violence and sexual offences ~39%, anti-social
  behaviour ~14%, criminal damage, public order and other theft ~7% each...);
  anti-social behaviour rows have no Crime ID and no outcome;
- ~1% of crimes appear twice in a month with a different outcome (a repeated Crime ID); half of
  those repeats are snapped to another point (often another LSOA, or "No Location"), as in the
  real files;
- ~2% of rows are "No Location" (empty coordinates and LSOA);
- anonymised snap points: every LSOA has a handful of points (coordinates repeat), named
  "On or near <street>".

Rows are generated with vectorised numpy and written with DuckDB ``COPY`` (Crime IDs are SHA-256
hashes computed by DuckDB), so 6.6 million rows take well under a minute.

Usage: ``python benchmarks/ingest/generate.py [--rows 6600000] [--out benchmarks/ingest/data]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

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

# data.police.uk crime types with their approximate national share of rows (2023).
CRIME_TYPES = [
    ("Anti-social behaviour", 0.145),
    ("Bicycle theft", 0.010),
    ("Burglary", 0.040),
    ("Criminal damage and arson", 0.070),
    ("Drugs", 0.025),
    ("Other crime", 0.020),
    ("Other theft", 0.070),
    ("Possession of weapons", 0.008),
    ("Public order", 0.075),
    ("Robbery", 0.012),
    ("Shoplifting", 0.060),
    ("Theft from the person", 0.015),
    ("Vehicle crime", 0.060),
    ("Violence and sexual offences", 0.390),
]
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
    "Supermarket", "Petrol Station", "Shopping Area", "Parking Area", "Nightclub", "Sports/Recreation Area",
    "Further/Higher Educational Building", "Hospital", "Police Station", "Theatre/Concert Hall",
    "Bus/Coach Station", "Conference/Exhibition Centre", "Pedestrian Subway", "Cemetery",
]
N_LSOA_2011 = 34_753  # England 32,844 + Wales 1,909 (2011 LSOAs)
N_LSOA_WALES = 1_909
SNAPS_PER_LSOA = 8


def _forces_lsoas(rng: np.random.Generator):
    """Give each force a contiguous block of 2011 LSOA codes, in proportion to its volume."""
    weights = np.array([f[2] for f in FORCES], dtype=float)
    welsh = np.array([f[6] for f in FORCES])
    n = np.zeros(len(FORCES), dtype=int)
    n[welsh] = np.round(weights[welsh] / weights[welsh].sum() * N_LSOA_WALES)
    eng = ~welsh
    n[eng] = np.round(weights[eng] / weights[eng].sum() * (N_LSOA_2011 - N_LSOA_WALES))
    n[[i for i, f in enumerate(FORCES) if f[0] == "city-of-london"][0]] = 6
    out, e_next, w_next = [], 1, 1
    for i, (slug, _name, _w, lon, lat, rad, is_welsh) in enumerate(FORCES):
        if is_welsh:
            codes = [f"W01{w_next + k:06d}" for k in range(n[i])]
            w_next += n[i]
        else:
            codes = [f"E01{e_next + k:06d}" for k in range(n[i])]
            e_next += n[i]
        area = slug.replace("-", " ").title()
        names = [f"{area} {k // 5 + 1:03d}{'ABCDE'[k % 5]}" for k in range(n[i])]
        clon = lon + rng.uniform(-rad, rad, n[i])
        clat = lat + rng.uniform(-rad, rad, n[i]) * 0.6
        popularity = rng.lognormal(0.0, 1.0, n[i])
        out.append(dict(codes=codes, names=names, lon=clon, lat=clat, p=popularity / popularity.sum()))
    return out, e_next, w_next


def _split_2021(rng, lsoas, e_next, w_next, share=0.03):
    """2021 vintage: ~3% of each force's LSOAs are split in two new codes (the rest keep theirs)."""
    out = []
    for f, is_welsh in zip(lsoas, [f[6] for f in FORCES], strict=True):
        n = len(f["codes"])
        split = rng.random(n) < share
        codes, names, lon, lat, p = [], [], [], [], []
        for k in range(n):
            if not split[k]:
                for lst, key in ((codes, "codes"), (names, "names"), (lon, "lon"), (lat, "lat"),
                                 (p, "p")):
                    lst.append(f[key][k])
                continue
            for half in range(2):
                if is_welsh:
                    codes.append(f"W01{w_next:06d}")
                    w_next += 1
                else:
                    codes.append(f"E01{e_next:06d}")
                    e_next += 1
                names.append(f["names"][k][:-1] + "FG"[half])
                lon.append(f["lon"][k] + (half - 0.5) * 0.002)
                lat.append(f["lat"][k])
                p.append(f["p"][k] / 2)
        out.append(dict(codes=codes, names=names, lon=np.array(lon), lat=np.array(lat),
                        p=np.array(p)))
    return out


def _dict(indices: np.ndarray, values: list[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(values))


def generate(out: Path, rows: int = 6_600_000, year: int = 2023, seed: int = 20230101) -> dict:
    rng = np.random.default_rng(seed)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    v2011, e_next, w_next = _forces_lsoas(rng)
    v2021 = _split_2021(rng, v2011, e_next, w_next)
    weights = np.array([f[2] for f in FORCES], dtype=float)
    per_force = rows * weights / weights.sum()
    type_names = [t for t, _ in CRIME_TYPES]
    type_p = np.array([p for _, p in CRIME_TYPES])
    type_p /= type_p.sum()
    asb = type_names.index("Anti-social behaviour")
    out_names = [o for o, _ in OUTCOMES]
    out_p = np.array([p for _, p in OUTCOMES])
    out_p /= out_p.sum()
    con = duckdb.connect()
    stats = dict(rows=0, files=0, asb=0, no_location=0, repeated=0)
    codes_seen: set[str] = set()
    for month in range(1, 13):
        mdir = out / f"{year}-{month:02d}"
        mdir.mkdir()
        mstr = f"{year}-{month:02d}"
        season = 1.0 + 0.08 * np.sin((month - 4) / 12 * 2 * np.pi)
        for fi, (slug, name, *_rest) in enumerate(FORCES):
            geo = (v2011 if month <= 6 else v2021)[fi]
            codes_seen.update(geo["codes"])
            n = max(1, int(rng.poisson(per_force[fi] / 12 * season)))
            n_rep = int(round(n * 0.01))
            n0 = n - n_rep
            ctype = rng.choice(len(type_names), n0, p=type_p)
            lsoa = rng.choice(len(geo["codes"]), n0, p=geo["p"])
            snap = rng.integers(0, SNAPS_PER_LSOA, n0)
            noloc = rng.random(n0) < 0.02
            outcome = rng.choice(len(out_names), n0, p=out_p)
            crime_no = np.arange(n0)
            # repeats: a crime listed again with another outcome; half snapped elsewhere
            crimes = np.flatnonzero(ctype != asb)
            src = rng.choice(crimes, n_rep, replace=False) if n_rep and len(crimes) else crimes[:0]
            moved = rng.random(len(src)) < 0.5
            r_lsoa = np.where(moved, rng.choice(len(geo["codes"]), len(src), p=geo["p"]), lsoa[src])
            r_noloc = np.where(moved, rng.random(len(src)) < 0.3, noloc[src])
            r_out = rng.choice(len(out_names), len(src), p=out_p)
            order = rng.permutation(n0 + len(src))
            ctype = np.concatenate([ctype, ctype[src]])[order]
            lsoa = np.concatenate([lsoa, r_lsoa])[order]
            snap = np.concatenate([snap, np.where(moved, rng.integers(0, SNAPS_PER_LSOA, len(src)),
                                                  snap[src])])[order]
            noloc = np.concatenate([noloc, r_noloc])[order]
            outcome = np.concatenate([outcome, r_out])[order]
            crime_no = np.concatenate([crime_no, crime_no[src]])[order]
            is_asb = ctype == asb
            # snap points: a fixed offset per (LSOA, snap) so coordinates repeat like the real files
            h = (lsoa.astype(np.int64) * 7919 + snap * 104729) % 100_003
            lon = np.round(geo["lon"][lsoa] + ((h % 997) / 997 - 0.5) * 0.01, 6)
            lat = np.round(geo["lat"][lsoa] + ((h % 991) / 991 - 0.5) * 0.006, 6)
            street = h % len(STREETS)
            m = len(ctype)
            tbl = pa.table({
                "crime_no": pa.array(np.where(is_asb, -1, crime_no)),
                "lon": pa.array(lon, mask=noloc),
                "lat": pa.array(lat, mask=noloc),
                "location": pa.array(np.where(noloc, "No Location",
                                              np.array(["On or near " + s for s in STREETS])[street])),
                "lsoa_code": pa.array(np.array(geo["codes"])[lsoa], mask=noloc),
                "lsoa_name": pa.array(np.array(geo["names"])[lsoa], mask=noloc),
                "crime_type": _dict(ctype, type_names),
                "outcome": pa.array(np.array(out_names)[outcome], mask=is_asb),
            })
            con.register("t", tbl)
            path = mdir / f"{mstr}-{slug}-street.csv"
            con.execute(f"""
                COPY (SELECT
                    CASE WHEN crime_no < 0 THEN NULL
                         ELSE sha256('{seed}/{slug}/{mstr}/' || crime_no) END AS "Crime ID",
                    '{mstr}' AS "Month", '{name}' AS "Reported by", '{name}' AS "Falls within",
                    printf('%.6f', lon) AS "Longitude", printf('%.6f', lat) AS "Latitude",
                    location AS "Location", lsoa_code AS "LSOA code", lsoa_name AS "LSOA name",
                    crime_type::VARCHAR AS "Crime type", outcome AS "Last outcome category",
                    NULL::VARCHAR AS "Context"
                  FROM t) TO '{path}' (FORMAT csv, HEADER true, DELIMITER ',')""")
            con.unregister("t")
            stats["rows"] += m
            stats["files"] += 1
            stats["asb"] += int(is_asb.sum())
            stats["no_location"] += int(noloc.sum())
            stats["repeated"] += len(src)
    stats["lsoa_codes"] = len(codes_seen)
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats


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
    print(stats)


if __name__ == "__main__":
    main()
