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
POSITIONS = pa.schema([
    pa.field(DEVICE_ID, pa.string(), nullable=False),
    pa.field(FIX_TIME, UTC_TS, nullable=False),
    pa.field(RECEIVED_TIME, UTC_TS, nullable=False),
    pa.field(LAT, pa.float64(), nullable=False),
    pa.field(LON, pa.float64(), nullable=False),
    pa.field(EASTING, pa.float64(), nullable=False),
    pa.field(NORTHING, pa.float64(), nullable=False),
    pa.field(PRECISION_M, pa.float64(), nullable=False),
    pa.field(SPEED_KMH, pa.float64()),
    pa.field(HEADING_DEG, pa.float64()),
    pa.field(MECHANISM, pa.string(), nullable=False),
])

#: the supplier position feed (docs/tagging-positions.md): POSITIONS without the BNG columns
FEED = pa.schema([POSITIONS.field(c) for c in (
    DEVICE_ID, FIX_TIME, LAT, LON, PRECISION_M, SPEED_KMH, HEADING_DEG, MECHANISM, RECEIVED_TIME)])

ACTIVATIONS = pa.schema([
    pa.field(DEVICE_ID, pa.string(), nullable=False),
    pa.field(WEARER_REF, pa.string(), nullable=False),
    pa.field(ACTIVE_FROM, UTC_TS, nullable=False),
    pa.field(ACTIVE_TO, UTC_TS),
])

CRIMES = pa.schema([
    pa.field(CRIME_VERSION_ID, pa.string(), nullable=False),
    pa.field(CRIME_REF, pa.string(), nullable=False),
    pa.field(FORCE, pa.string(), nullable=False),
    pa.field(CRIME_TYPE, pa.string(), nullable=False),
    pa.field(TIME_FROM, UTC_TS, nullable=False),
    pa.field(TIME_TO, UTC_TS, nullable=False),
    pa.field(EASTING, pa.float64(), nullable=False),
    pa.field(NORTHING, pa.float64(), nullable=False),
])

MATCHES = pa.schema([
    pa.field(CRIME_VERSION_ID, pa.string(), nullable=False),
    pa.field(WEARER_REF, pa.string(), nullable=False),
    pa.field(DEVICE_ID, pa.string(), nullable=False),
    pa.field(VISIT, pa.string(), nullable=False),
    pa.field(SEQ, pa.int64(), nullable=False),
    pa.field(FIX_TIME, UTC_TS, nullable=False),
    pa.field(EASTING, pa.float64(), nullable=False),
    pa.field(NORTHING, pa.float64(), nullable=False),
    pa.field(PRECISION_M, pa.float64(), nullable=False),
    pa.field(SPEED_KMH, pa.float64()),
    pa.field(HEADING_DEG, pa.float64()),
    pa.field(MECHANISM, pa.string(), nullable=False),
    pa.field(DISTANCE_M, pa.float64(), nullable=False),
    pa.field(INTERPOLATED, pa.bool_(), nullable=False),
])

MATCH_SUMMARY = pa.schema([
    pa.field(CRIME_VERSION_ID, pa.string(), nullable=False),
    pa.field(WEARER_REF, pa.string(), nullable=False),
    pa.field("n_fixes", pa.int64(), nullable=False),
    pa.field("first_time", UTC_TS, nullable=False),
    pa.field("last_time", UTC_TS, nullable=False),
    pa.field("min_distance_m", pa.float64(), nullable=False),
    pa.field("p_within", pa.float64(), nullable=False),
    pa.field("dwell_s", pa.float64(), nullable=False),
    pa.field("explanation", pa.string(), nullable=False),
])

GROUND_TRUTH = pa.schema([
    pa.field(DEVICE_ID, pa.string(), nullable=False),
    pa.field(WEARER_REF, pa.string(), nullable=False),
    pa.field(TIME, UTC_TS, nullable=False),
    pa.field(EASTING, pa.float64(), nullable=False),
    pa.field(NORTHING, pa.float64(), nullable=False),
    pa.field(MODE, pa.string(), nullable=False),
    # mechanism of the fix the tag reported at this tick; null when it reported none (a GPS gap)
    pa.field(MECHANISM, pa.string()),
])

KEEP = pa.schema([
    pa.field(DEVICE_ID, pa.string(), nullable=False),
    pa.field(TIME_FROM, UTC_TS, nullable=False),
    pa.field(TIME_TO, UTC_TS, nullable=False),
])

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
