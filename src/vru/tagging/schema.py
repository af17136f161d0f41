"""Canonical tables of the tagging layer: column names and pyarrow schemas, one definition for all.

Conventions: coordinates for computation are British National Grid (EPSG:27700) metres
(``easting``, ``northing``); WGS 84 ``lat``/``lon`` are kept as received. Every time is UTC, held as
``timestamp[us, tz=UTC]`` (pandas: ``datetime64[us, UTC]``). Local (Europe/London) time appears only
where a schedule is defined in local time.

Tables
------
POSITIONS: one row per fix. The store is Parquet, hive-partitioned by ``day=YYYY-MM-DD`` of
    ``fix_time`` (UTC). De-duplicated on (device_id, fix_time) at import; decisions order fixes by
    ``fix_time``, never by ``received_time``.
ACTIVATIONS: which wearer wore which device when: half-open ``[active_from, active_to)``
    (``active_to`` null = still active).
KEEP: intervals of positions that retention must keep (a qualified match, a breach): the fixes of
    ``device_id`` with ``time_from <= fix_time <= time_to``.
CRIMES: one row per crime *version* to match.
MATCHES: output of matching, one row per (crime version, wearer, fix or interpolated point);
    MATCH_SUMMARY: one row per (crime version, wearer).
GROUND_TRUTH: the true position of each simulated wearer at every tick, the mode, and the mechanism of
    the fix reported at that tick (null: none was reported).
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

# ---------------------------------------------------------------- mechanisms (geolocation source)
GPS, RF, LBS, WIFI = "GPS", "RF", "LBS", "WIFI"
MECHANISMS = (GPS, RF, LBS, WIFI)
#: mechanisms that never make a match or open a breach on their own (cell towers, RF beacons)
COARSE_MECHANISMS = (RF, LBS)

# ---------------------------------------------------------------- column names
DEVICE_ID = "device_id"
FIX_TIME = "fix_time"
RECEIVED_TIME = "received_time"
LAT = "lat"
LON = "lon"
EASTING = "easting"
NORTHING = "northing"
PRECISION_M = "precision_m"
SPEED_KMH = "speed_kmh"
HEADING_DEG = "heading_deg"
MECHANISM = "mechanism"

WEARER_REF = "wearer_ref"
ACTIVE_FROM = "active_from"
ACTIVE_TO = "active_to"

CRIME_VERSION_ID = "crime_version_id"
CRIME_REF = "crime_ref"
FORCE = "force"
CRIME_TYPE = "crime_type"
TIME_FROM = "time_from"
TIME_TO = "time_to"

VISIT = "visit"
SEQ = "seq"
DISTANCE_M = "distance_m"
INTERPOLATED = "interpolated"

TIME = "time"
MODE = "mode"
MODES = ("walk", "bus", "stationary")

#: hive partition column of the positions store (``day=YYYY-MM-DD`` of fix_time UTC)
DAY = "day"

# ---------------------------------------------------------------- schemas
#: every column's one type, whichever table holds it
TYPES: dict[str, pa.DataType] = {
    DEVICE_ID: pa.string(), FIX_TIME: UTC_TS, RECEIVED_TIME: UTC_TS, LAT: pa.float64(), LON: pa.float64(),
    EASTING: pa.float64(), NORTHING: pa.float64(), PRECISION_M: pa.float64(), SPEED_KMH: pa.float64(),
    HEADING_DEG: pa.float64(), MECHANISM: pa.string(),
    WEARER_REF: pa.string(), ACTIVE_FROM: UTC_TS, ACTIVE_TO: UTC_TS,
    CRIME_VERSION_ID: pa.string(), CRIME_REF: pa.string(), FORCE: pa.string(), CRIME_TYPE: pa.string(),
    TIME_FROM: UTC_TS, TIME_TO: UTC_TS,
    VISIT: pa.string(), SEQ: pa.int64(), DISTANCE_M: pa.float64(), INTERPOLATED: pa.bool_(),
    "n_fixes": pa.int64(), "first_time": UTC_TS, "last_time": UTC_TS, "min_distance_m": pa.float64(),
    "p_within": pa.float64(), "dwell_s": pa.float64(), "explanation": pa.string(),
    TIME: UTC_TS, MODE: pa.string(),
}
#: the columns that may be null in every table that holds them (a fix without speed or heading, an
#: activation still open); every other column is required unless a table says otherwise
NULLABLE = frozenset({SPEED_KMH, HEADING_DEG, ACTIVE_TO})


def _schema(*names: str, nullable: frozenset[str] = NULLABLE) -> pa.Schema:
    """The schema of the columns ``names``, in order, with their :data:`TYPES`."""
    return pa.schema([pa.field(n, TYPES[n], nullable=n in nullable) for n in names])


POSITIONS = _schema(DEVICE_ID, FIX_TIME, RECEIVED_TIME, LAT, LON, EASTING, NORTHING, PRECISION_M, SPEED_KMH,
                    HEADING_DEG, MECHANISM)

#: the supplier position feed (docs/tagging-positions.md): POSITIONS without the BNG columns
FEED = _schema(DEVICE_ID, FIX_TIME, LAT, LON, PRECISION_M, SPEED_KMH, HEADING_DEG, MECHANISM, RECEIVED_TIME)

ACTIVATIONS = _schema(DEVICE_ID, WEARER_REF, ACTIVE_FROM, ACTIVE_TO)

CRIMES = _schema(CRIME_VERSION_ID, CRIME_REF, FORCE, CRIME_TYPE, TIME_FROM, TIME_TO, EASTING, NORTHING)

MATCHES = _schema(CRIME_VERSION_ID, WEARER_REF, DEVICE_ID, VISIT, SEQ, FIX_TIME, EASTING, NORTHING,
                  PRECISION_M, SPEED_KMH, HEADING_DEG, MECHANISM, DISTANCE_M, INTERPOLATED)

MATCH_SUMMARY = _schema(CRIME_VERSION_ID, WEARER_REF, "n_fixes", "first_time", "last_time", "min_distance_m",
                        "p_within", "dwell_s", "explanation")

# the mechanism is that of the fix the tag reported at this tick; null when it reported none (a GPS gap)
GROUND_TRUTH = _schema(DEVICE_ID, WEARER_REF, TIME, EASTING, NORTHING, MODE, MECHANISM,
                       nullable=NULLABLE | {MECHANISM})

KEEP = _schema(DEVICE_ID, TIME_FROM, TIME_TO)

SCHEMAS: dict[str, pa.Schema] = {
    "positions": POSITIONS,
    "activations": ACTIVATIONS,
    "crimes": CRIMES,
    "matches": MATCHES,
    "match_summary": MATCH_SUMMARY,
    "ground_truth": GROUND_TRUTH,
    "keep": KEEP,
}


def columns(schema: pa.Schema) -> list[str]:
    """The column names of a schema, in order."""
    return list(schema.names)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly the columns of ``schema``, in order, cast to its types.

    Raises ``ValueError`` naming the missing columns. Extra columns are dropped.
    """
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    return table.select(schema.names).cast(schema)
