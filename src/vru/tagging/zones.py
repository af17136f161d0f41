"""Exclusion and inclusion zones, curfews and breaches that don't cry wolf.

Zones are shapely polygons in British National Grid metres with an optional schedule (an iCalendar
RRULE, a local start time and a duration, in Europe/London wall-clock time so that a 19:00-07:00
curfew stays 19:00-07:00 across the changes to and from British Summer Time). A curfew is an
inclusion zone: a circle round the address, active during its timetable.

Containment is tri-state, judged with the fix's precision circle (radius ``precision_m``):
``INSIDE`` when the circle lies inside the polygon (the point is inside and further than
``precision_m`` from the boundary), ``OUTSIDE`` when the circle misses it (outside and further than
``precision_m``), else ``POSSIBLY``.

A breach (:func:`detect_breaches`) opens only after a run of consecutive GPS/WIFI fixes, ordered by
fix time and de-duplicated on (device_id, fix_time), that are all definitely in violation
(``INSIDE`` an active exclusion zone, ``OUTSIDE`` an active inclusion zone) spans at least
``min_dwell_s`` seconds and ``min_fixes`` fixes. LBS and RF fixes are ignored: they neither open,
extend, break nor close a run (a cell fix hundreds of metres off must not end a real breach
either; the next GPS fix decides). A ``POSSIBLY`` fix breaks the run. An open breach closes at the
first fix of a run of ``close_fixes`` definitely-clear fixes spanning ``close_dwell_s``, or when the
zone's schedule interval ends. :func:`naive_breaches` is the single-fix rule of Traccar and similar
trackers (the point, not its circle; any fix; an event on every entry), kept for comparison.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from dateutil.rrule import rrulestr
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from vru import format as F
from vru.tagging import schema as s

LONDON = ZoneInfo("Europe/London")
EXCLUSION, INCLUSION = "exclusion", "inclusion"
OUTSIDE, POSSIBLY, INSIDE = 0, 1, 2
STATE_NAMES = {OUTSIDE: "definitely outside", POSSIBLY: "possibly inside", INSIDE: "definitely inside"}
# Great Britain's National Grid extent (with its offshore margin)
BNG_BOUNDS = (0.0, 0.0, 700000.0, 1300000.0)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class ZoneError(ValueError):
    """A zone, schedule or curfew that cannot be used, with a message saying why."""


# ------------------------------------------------------------------------------------- schedules
@dataclass(frozen=True)
class Schedule:
    """When a zone applies: occurrences of ``rrule`` starting at ``start`` (local wall-clock time,
    Europe/London), each lasting ``duration`` of wall-clock time (19:00 + 12 h ends at 07:00 local,
    11 or 13 real hours on the nights the clocks change).

    A local time that does not exist (01:30 on the spring-forward Sunday) is read with the offset
    before the change (02:30 BST), and an occurrence starting there moves forward whole, keeping its
    duration (01:30 + 1 h is 02:30-03:30 BST); an ambiguous one (01:30 on the autumn Sunday) is read as
    its first occurrence (BST).
    """

    rrule: str
    start: datetime  # naive, local London time: the first occurrence (the rule's DTSTART)
    duration: timedelta

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None:
            raise ZoneError("a schedule's start is a local London wall-clock time, without a time zone")
        if not FIRST_YEAR <= self.start.year <= LAST_YEAR:
            raise ZoneError(f"a schedule's first occurrence must be between {FIRST_YEAR} and {LAST_YEAR}, "
                            f"not {self.start:%Y-%m-%d}")
        if not self.duration > timedelta(0):
            raise ZoneError("a schedule's duration must be positive")
        check_schedule_rule(self.rrule, self.start)
        try:
            rrulestr(self.rrule, dtstart=self.start)
            # the rule as breach detection reads it (a rule that parses may still fail there, e.g. an
            # UNTIL in UTC against the local start)
            self.intervals(pd.Timestamp(self.start, tz=LONDON), pd.Timestamp(self.start, tz=LONDON)
                           + pd.Timedelta(days=8))
        except (ValueError, TypeError, OverflowError) as exc:
            if isinstance(exc, ZoneError):
                raise
            raise ZoneError(f"schedule rule {self.rrule!r} is not an iCalendar RRULE: {exc}") from exc

    def intervals(self, t_from: pd.Timestamp, t_to: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
        """UTC (start, end) of every occurrence overlapping [t_from, t_to], as datetime64[us] arrays.

        The rule is expanded from its first occurrence, at most :data:`MAX_EXPANSION` occurrences per call
        (a daily rule from 2000 to 2100 is 36,525): a call that would need more raises :class:`ZoneError`
        instead of holding a worker."""
        rule = rrulestr(self.rrule, dtstart=self.start)
        lo = pd.Timestamp(t_from).tz_convert(LONDON).tz_localize(None).to_pydatetime()
        hi = pd.Timestamp(t_to).tz_convert(LONDON).tz_localize(None).to_pydatetime()
        # a wall-clock duration spans at most one hour more of real time
        lo, hi = lo - self.duration - timedelta(hours=1), hi + timedelta(hours=1)
        occ = []
        for n, o in enumerate(rule):
            if o > hi:
                break
            if n >= MAX_EXPANSION:
                raise ZoneError(f"schedule rule {self.rrule!r} from {self.start:%Y-%m-%d %H:%M} needs more "
                                f"than {MAX_EXPANSION:,} occurrences to reach {hi:%Y-%m-%d}")
            if o >= lo:
                occ.append(_in_force(o))
        starts = [_local_to_utc(o) for o in occ]
        ends = [_local_to_utc(o + self.duration) for o in occ]
        return (np.array(starts, dtype="datetime64[us]"), np.array(ends, dtype="datetime64[us]"))


#: the parts of a rule a zone's timetable needs: days and weeks, never hours, minutes or seconds (a
#: FREQ=SECONDLY rule makes 86,400 occurrences a day and stalls breach detection for everyone)
RULE_FREQS = ("DAILY", "WEEKLY")
RULE_PARTS = ("FREQ", "INTERVAL", "UNTIL", "COUNT", "BYDAY", "BYMONTH", "BYMONTHDAY", "WKST")


#: bounds of a rule's numbers: INTERVAL (every 1st to 365th day or week), COUNT (occurrences; a nightly curfew
#: for 27 years), a first occurrence's and an UNTIL's year; and of the occurrences one expansion may step
#: through (INTERVAL=0 or an impossible day would otherwise loop for ever or for seconds: review 3, 1)
MAX_INTERVAL = 365
MAX_COUNT = 10_000
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_EXPANSION = 100_000
#: a BYDAY item with a number: the first Monday (1MO), the last Friday (-1FR) of a month or year
_NUMBERED_DAY = re.compile(r"[+-]?\d{1,3}(MO|TU|WE|TH|FR|SA|SU)")


def rule_parts(rule: str) -> dict[str, str]:
    """The NAME=VALUE parts of a one-line rule (``RRULE:`` optional), names and values upper-cased;
    ZoneError if it is not one line of such parts. What the parts say is checked by the schedule."""
    text = rule.strip()
    if "\n" in text or "\r" in text or not text:
        raise ZoneError("a schedule rule is one RRULE line (no DTSTART, EXDATE or RDATE: the first "
                        "occurrence is its own field)")
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = {}
    for item in text.split(";"):
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ZoneError(f"schedule rule {rule!r} is not an iCalendar RRULE: {item!r} is not NAME=VALUE")
        parts[name.strip().upper()] = value.strip().upper()
    return parts


def _check_rule(rule: str) -> dict[str, str]:
    """A single RRULE line (``RRULE:`` optional) of FREQ=DAILY or WEEKLY with the parts in RULE_PARTS; its
    start is the schedule's local start, so no DTSTART, and no EXDATE/RDATE lines. INTERVAL, COUNT, UNTIL,
    BYMONTH and BYMONTHDAY are bounded, BYDAY lists plain weekdays (MO..SU: no numbered ``1MO`` or
    dateutil's ``TU(1)``, which DAILY and WEEKLY rules cannot use and which would escape
    :func:`first_day`); a rule whose days never exist (BYMONTH=2;BYMONTHDAY=30) is left to
    :func:`check_schedule_rule`, which knows its first occurrence and its end.
    Returns the parts, names and values upper-cased."""
    parts = rule_parts(rule)
    bad = sorted(set(parts) - set(RULE_PARTS))
    if bad:
        raise ZoneError(f"a schedule rule may use {', '.join(RULE_PARTS)}, not {', '.join(bad)}")
    if parts.get("FREQ") not in RULE_FREQS:
        freq = parts.get("FREQ") or "missing"
        raise ZoneError(f"a schedule rule's FREQ must be DAILY or WEEKLY, not {freq}")
    if parts.get("UNTIL", "").endswith("Z"):
        raise ZoneError("a schedule rule's UNTIL is a local London time, without Z (e.g. 20241231T235959)")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ZoneError("a schedule rule has COUNT or UNTIL, not both")
    for name, top in (("INTERVAL", MAX_INTERVAL), ("COUNT", MAX_COUNT)):
        if name in parts:
            _int_part(parts, name, 1, top)
    _until(parts)
    if parts.get("WKST", "MO") not in WEEKDAYS:
        raise ZoneError(f"a schedule rule's WKST is a weekday ({', '.join(WEEKDAYS)}), not {parts['WKST']!r}")
    for day in parts["BYDAY"].split(",") if "BYDAY" in parts else ():
        if _NUMBERED_DAY.fullmatch(day.strip()):
            raise ZoneError(f"BYDAY={day.strip()} numbers a weekday within a month or year, which "
                            f"FREQ={parts['FREQ']} does not allow (RFC 5545, 3.3.10): use plain weekdays, "
                            "such as BYDAY=MO,WE for every Monday and Wednesday")
        if day.strip() not in WEEKDAYS:
            raise ZoneError(f"schedule rule {rule!r} is not an iCalendar RRULE: BYDAY lists weekdays "
                            f"({', '.join(WEEKDAYS)}), not {day.strip()!r}")
    for m in parts["BYMONTH"].split(",") if "BYMONTH" in parts else ():
        _int_part({"BYMONTH": m}, "BYMONTH", 1, 12)
    for d in parts["BYMONTHDAY"].split(",") if "BYMONTHDAY" in parts else ():
        if _int_part({"BYMONTHDAY": d}, "BYMONTHDAY", -31, 31) == 0:
            raise ZoneError("a schedule rule's BYMONTHDAY must be 1 to 31 or -31 to -1, not 0")
    return parts


def check_schedule_rule(rule: str, first: datetime) -> dict[str, str]:
    """Everything :class:`Schedule` checks of a rule (its parts, :func:`_check_rule`) and of its first
    occurrence ``first`` (naive London time) without expanding the rule: an UNTIL before ``first``, and a
    rule with no occurrence from ``first`` to its UNTIL or to the end of LAST_YEAR (:func:`first_day`:
    dateutil, finding no matching day, would step the rule to the year 9999, a second or more on every
    expansion). ZoneError says what is wrong; returns the parts."""
    parts = _check_rule(rule)
    until = _until(parts)
    if until is not None and until < first:
        raise ZoneError(f"a schedule rule's UNTIL ({until:%Y-%m-%d %H:%M}) is before its first "
                        f"occurrence ({first:%Y-%m-%d %H:%M}): the zone would never be active")
    if not FIRST_YEAR <= first.year <= LAST_YEAR:  # Schedule's own message
        return parts
    end = min(until or datetime.max, datetime(LAST_YEAR, 12, 31, 23, 59, 59))
    soon = min(end, first + timedelta(days=400))  # most rules occur within days: the long look only if not
    if first_day(parts, first, soon) is None and (soon == end or first_day(parts, first, end) is None):
        to = f"its UNTIL ({F.day(end)})" if until is not None else f"the end of {LAST_YEAR}"
        raise ZoneError(f"This rule never occurs: no day from its first occurrence ({F.day(first)}) to {to} "
                        "matches it. Check FREQ, INTERVAL, BYDAY, BYMONTH and BYMONTHDAY together")
    return parts


def first_day(parts: Mapping[str, str], first: datetime, end: datetime) -> date | None:
    """The first day from ``first`` to ``end`` (naive London times) with an occurrence of a DAILY or WEEKLY
    rule (its ``parts``, checked by :func:`_check_rule`; its time of day is ``first``'s), found over the
    days at once (numpy: one array of at most some 37,000 days, 2000 to 2100) instead of stepping the rule:
    None, none. The rule as dateutil reads it: the INTERVAL counts days from ``first`` (DAILY) or weeks from
    ``first``'s week starting on WKST (WEEKLY); a WEEKLY rule with neither BYDAY nor BYMONTHDAY keeps
    ``first``'s weekday; BYMONTHDAY -1 is a month's last day."""
    last = end.date() if first.time() <= end.time() else end.date() - timedelta(days=1)
    if last < first.date():
        return None
    days = pd.date_range(first.date(), last, freq="D")
    step = int(parts.get("INTERVAL", "1"))
    ok = np.ones(len(days), dtype=bool)
    offset = (days - pd.Timestamp(first.date())).days.to_numpy()
    if parts["FREQ"] == "DAILY":
        ok &= offset % step == 0
    else:
        wkst = WEEKDAYS.index(parts.get("WKST", "MO"))
        week0 = (first.weekday() - wkst) % 7  # days from first's week's start to first
        ok &= ((offset + week0) // 7) % step == 0
    weekdays = [WEEKDAYS.index(d.strip()) for d in parts["BYDAY"].split(",")] if "BYDAY" in parts else \
        ([first.weekday()] if parts["FREQ"] == "WEEKLY" and "BYMONTHDAY" not in parts else None)
    if weekdays is not None:
        ok &= np.isin(days.dayofweek.to_numpy(), weekdays)
    if "BYMONTH" in parts:
        ok &= np.isin(days.month.to_numpy(), [int(m) for m in parts["BYMONTH"].split(",")])
    if "BYMONTHDAY" in parts:
        monthdays = [int(d) for d in parts["BYMONTHDAY"].split(",")]
        day, size = days.day.to_numpy(), days.days_in_month.to_numpy()
        ok &= (np.isin(day, [d for d in monthdays if d > 0])
               | np.isin(day - size - 1, [d for d in monthdays if d < 0]))
    hit = np.flatnonzero(ok)
    return days[hit[0]].date() if len(hit) else None


def _int_part(parts: Mapping[str, str], name: str, lo: int, hi: int) -> int:
    value = parts[name]
    if not re.fullmatch(r"[+-]?\d{1,6}", value) or not lo <= int(value) <= hi:
        raise ZoneError(f"a schedule rule's {name} must be a whole number from {lo} to {hi:,}, not {value!r}")
    return int(value)


def _until(parts: Mapping[str, str]) -> datetime | None:
    """The rule's UNTIL as a naive local time (None: none); a date alone is its midnight."""
    value = parts.get("UNTIL")
    if value is None:
        return None
    m = re.fullmatch(r"(\d{8})(?:T(\d{6}))?", value)
    try:
        if m is None:
            raise ValueError
        until = datetime.strptime(m[1] + (m[2] or "000000"), "%Y%m%d%H%M%S")
    except ValueError:
        raise ZoneError(f"a schedule rule's UNTIL must be a real local date and time like 20241231T235959, "
                        f"not {value!r}") from None
    if not FIRST_YEAR <= until.year <= LAST_YEAR:
        raise ZoneError(f"a schedule rule's UNTIL must be between {FIRST_YEAR} and {LAST_YEAR}, "
                        f"not {value!r}")
    return until


def _in_force(t: datetime) -> datetime:
    """``t`` (naive London time), or, where it falls in the spring-forward gap, the wall-clock time it is
    read as: with the offset before the change (RFC 5545, 3.3.5), 01:30 on that Sunday is 01:30 GMT, which
    the clocks show as 02:30 BST. An occurrence starting in the gap moves forward whole by it, so it keeps
    its duration (01:30 + 1 h is 02:30-03:30 BST, not 02:30-02:30)."""
    return t.replace(tzinfo=LONDON).astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)


def _local_to_utc(t: datetime) -> np.datetime64:
    aware = t.replace(tzinfo=LONDON)
    return np.datetime64(pd.Timestamp(aware).tz_convert("UTC").tz_localize(None), "us")


def weekly(days: Iterable[str], start: str | time, end: str | time, first_day: date,
           until: date | None = None) -> Schedule:
    """A weekly timetable: ``days`` (MO..SU) from ``start`` to ``end`` local time (next day if
    ``end <= start``), from ``first_day`` (and until ``until`` if given)."""
    days = [d.strip().upper()[:2] for d in days]
    bad = [d for d in days if d not in WEEKDAYS]
    if bad or not days:
        raise ZoneError(f"weekdays must be among {', '.join(WEEKDAYS)}, not {bad or 'none'}")
    t0, t1 = (_hhmm(x) for x in (start, end))
    dur = datetime.combine(date(2000, 1, 1), t1) - datetime.combine(date(2000, 1, 1), t0)
    if dur <= timedelta(0):
        dur += timedelta(days=1)
    rule = f"FREQ=WEEKLY;BYDAY={','.join(days)}"
    if until is not None:
        rule += f";UNTIL={until:%Y%m%d}T235959"
    return Schedule(rule, datetime.combine(first_day, t0), dur)


def _hhmm(x: str | time) -> time:
    if isinstance(x, time):
        return x
    try:
        return time.fromisoformat(str(x).strip())
    except ValueError as exc:
        raise ZoneError(f"{x!r} is not a time of day (HH:MM)") from exc


# ----------------------------------------------------------------------------------------- zones
@dataclass
class Zone:
    """An exclusion or inclusion zone in British National Grid, active by its schedules (always if none)."""

    zone_id: str
    kind: str
    geometry: BaseGeometry
    schedules: Sequence[Schedule] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in (EXCLUSION, INCLUSION):
            raise ZoneError(f"zone {self.zone_id}: kind must be {EXCLUSION!r} or {INCLUSION!r}")
        self.geometry = _valid_polygon(self.geometry, self.zone_id)
        shapely.prepare(self.geometry)
        if isinstance(self.schedules, Schedule):
            self.schedules = (self.schedules,)

    def active_interval(self, times: pd.Series) -> np.ndarray:
        """For each UTC time, an id of the (merged) schedule interval it falls in; -1: not active.

        Always-active zones give 0 everywhere.
        """
        return self._intervals(times)[0]

    def interval_end(self, times: pd.Series) -> np.ndarray:
        """The UTC end of each time's active interval (NaT when always active or not active)."""
        return self._intervals(times)[1]

    def _intervals(self, times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        t = pd.to_datetime(pd.Series(times), utc=True).dt.tz_localize(None)
        t = t.to_numpy().astype("datetime64[us]")
        nat = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[us]")
        if not self.schedules:
            return np.zeros(len(t), dtype=np.int64), nat
        if len(t) == 0:
            return np.zeros(0, dtype=np.int64), nat
        lo, hi = pd.Timestamp(t.min(), tz="UTC"), pd.Timestamp(t.max(), tz="UTC")
        parts = [sc.intervals(lo, hi) for sc in self.schedules]
        starts = np.concatenate([p[0] for p in parts])
        ends = np.concatenate([p[1] for p in parts])
        if len(starts) == 0:
            return np.full(len(t), -1, dtype=np.int64), nat
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
        # merge overlapping or touching intervals: one continuous active period, one id
        merged_s, merged_e = [starts[0]], [ends[0]]
        for a, b in zip(starts[1:], ends[1:], strict=True):
            if a <= merged_e[-1]:
                merged_e[-1] = max(merged_e[-1], b)
            else:
                merged_s.append(a)
                merged_e.append(b)
        ms, me = np.array(merged_s), np.array(merged_e)
        i = np.searchsorted(ms, t, side="right") - 1
        ok = (i >= 0) & (t < me[np.clip(i, 0, None)])
        return np.where(ok, i, -1).astype(np.int64), np.where(ok, me[np.clip(i, 0, None)], nat)


def _valid_polygon(geom: BaseGeometry, zone_id: str) -> BaseGeometry:
    if not isinstance(geom, BaseGeometry) or geom.geom_type not in ("Polygon", "MultiPolygon"):
        kind = getattr(geom, "geom_type", type(geom).__name__)
        raise ZoneError(f"zone {zone_id}: a zone must be a Polygon or MultiPolygon, not {kind}")
    if geom.is_empty:
        raise ZoneError(f"zone {zone_id}: the polygon is empty")
    if not geom.is_valid:
        raise ZoneError(f"zone {zone_id}: the polygon is not valid ({explain_validity(geom)})")
    x0, y0, x1, y1 = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds) or x0 < BNG_BOUNDS[0] or y0 < BNG_BOUNDS[1] \
            or x1 > BNG_BOUNDS[2] or y1 > BNG_BOUNDS[3]:
        raise ZoneError(f"zone {zone_id}: coordinates {geom.bounds} are outside British National Grid "
                        "(easting 0..700000, northing 0..1300000 m); was WGS84 meant?")
    if geom.area < 1.0:
        raise ZoneError(f"zone {zone_id}: the polygon's area is under 1 m2")
    return geom


def zone_from_geojson(obj, zone_id: str, kind: str = EXCLUSION, *, crs: str = "WGS84",
                      schedules: Sequence[Schedule] = ()) -> Zone:
    """A zone from GeoJSON (text or dict: a Polygon, MultiPolygon, Feature, or a FeatureCollection of
    one feature), in WGS84 longitude/latitude (``crs="WGS84"``, RFC 7946) or BNG metres (``"BNG"``)."""
    if isinstance(obj, str | bytes):
        try:
            obj = json.loads(obj)
        except ValueError as exc:
            raise ZoneError(f"zone {zone_id}: not JSON ({exc})") from exc
    if not isinstance(obj, Mapping):
        raise ZoneError(f"zone {zone_id}: GeoJSON must be an object")
    if obj.get("type") == "FeatureCollection":
        feats = obj.get("features") or []
        if len(feats) != 1:
            raise ZoneError(f"zone {zone_id}: a FeatureCollection must hold exactly one feature, "
                            f"not {len(feats)}")
        obj = feats[0]
    if isinstance(obj, Mapping) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    try:
        geom = shape(obj)
    except Exception as exc:  # shapely raises several types on malformed GeoJSON
        raise ZoneError(f"zone {zone_id}: not a GeoJSON geometry ({exc})") from exc
    crs = crs.upper()
    if crs in ("WGS84", "EPSG:4326", "CRS84"):
        x0, y0, x1, y1 = geom.bounds if not geom.is_empty else (0, 0, 0, 0)
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise ZoneError(f"zone {zone_id}: coordinates {geom.bounds} are not longitude/latitude; "
                            "give crs='BNG' for British National Grid metres")
        from vru.geography.grids import to_bng

        geom = shapely.transform(geom, lambda xy: np.column_stack(to_bng(xy[:, 0], xy[:, 1])))
    elif crs not in ("BNG", "EPSG:27700"):
        raise ZoneError(f"zone {zone_id}: crs must be 'WGS84' or 'BNG', not {crs!r}")
    return Zone(zone_id, kind, geom, tuple(schedules))


def curfew(zone_id: str, easting: float, northing: float, radius_m: float,
           timetable: Iterable[tuple[Iterable[str] | str, str, str]], first_day: date,
           until: date | None = None) -> Zone:
    """A curfew: an inclusion zone of ``radius_m`` round the address, active during the weekly
    ``timetable`` rows ``(days, "19:00", "07:00")`` in London local time."""
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise ZoneError(f"curfew {zone_id}: the radius must be positive")
    scheds = []
    for days, a, b in timetable:
        scheds.append(weekly([days] if isinstance(days, str) else days, a, b, first_day, until))
    if not scheds:
        raise ZoneError(f"curfew {zone_id}: the timetable is empty")
    return Zone(zone_id, INCLUSION, Point(easting, northing).buffer(radius_m, quad_segs=64), tuple(scheds))


# ------------------------------------------------------------------------------------ containment
def containment(geom: BaseGeometry, easting, northing, precision_m) -> np.ndarray:
    """Tri-state containment of each fix's precision circle: INSIDE (2), POSSIBLY (1), OUTSIDE (0)."""
    x = np.asarray(easting, dtype=float)
    y = np.asarray(northing, dtype=float)
    r = np.maximum(np.asarray(precision_m, dtype=float), 0.0)
    inside = shapely.contains_xy(geom, x, y)
    d = shapely.distance(geom.boundary, shapely.points(x, y))
    clear = d > r
    return np.where(clear & inside, INSIDE, np.where(clear, OUTSIDE, POSSIBLY)).astype(np.int8)


# ------------------------------------------------------------------------------------------ breaches
@dataclass(frozen=True)
class BreachRule:
    """When a breach opens and closes (docs/tagging-matching.md gives the reasons)."""

    min_dwell_s: float = 120.0
    min_fixes: int = 3
    close_dwell_s: float = 120.0
    close_fixes: int = 3
    #: consecutive GPS/WIFI fixes further apart than this do not make one run: three fixes inside a zone
    #: hours apart prove nothing about the time between them (the tag sends one a minute)
    max_gap_s: float = 600.0

    def __post_init__(self) -> None:
        if self.min_fixes < 1 or self.close_fixes < 1 or self.min_dwell_s < 0 or self.close_dwell_s < 0:
            raise ZoneError("min_fixes/close_fixes must be >= 1 and the dwell times >= 0")
        if not self.max_gap_s > 0:
            raise ZoneError("max_gap_s must be positive")


BREACH_COLUMNS = ["wearer_ref", "zone_id", "kind", "started", "opened", "closed", "close_reason",
                  "n_fixes", "evidence"]


def _prepare(positions: pd.DataFrame, activations: pd.DataFrame | None) -> pd.DataFrame:
    need = [s.DEVICE_ID, s.FIX_TIME, s.EASTING, s.NORTHING, s.PRECISION_M, s.MECHANISM]
    missing = [c for c in need if c not in positions.columns]
    if missing:
        raise ValueError(f"positions lack the column(s) {', '.join(missing)}")
    df = positions.copy()
    df[s.FIX_TIME] = pd.to_datetime(df[s.FIX_TIME], utc=True)
    # reconnect bursts resend fixes: keep the first copy of each (device, fix time)
    sort_cols = [s.DEVICE_ID, s.FIX_TIME] + ([s.RECEIVED_TIME] if s.RECEIVED_TIME in df else [])
    df = df.sort_values(sort_cols, kind="stable").drop_duplicates([s.DEVICE_ID, s.FIX_TIME], keep="first")
    if activations is not None:
        a = activations[[s.DEVICE_ID, s.WEARER_REF, s.ACTIVE_FROM, s.ACTIVE_TO]].copy()
        a[s.ACTIVE_FROM] = pd.to_datetime(a[s.ACTIVE_FROM], utc=True)
        a[s.ACTIVE_TO] = pd.to_datetime(a[s.ACTIVE_TO], utc=True)
        df = df.drop(columns=[s.WEARER_REF], errors="ignore").merge(a, on=s.DEVICE_ID)
        end = df[s.ACTIVE_TO].fillna(pd.Timestamp.max.tz_localize("UTC"))
        df = df[(df[s.FIX_TIME] >= df[s.ACTIVE_FROM]) & (df[s.FIX_TIME] < end)]
    elif s.WEARER_REF not in df:
        raise ValueError("positions need a wearer_ref column, or give the activations")
    return df.sort_values([s.WEARER_REF, s.FIX_TIME, s.DEVICE_ID], kind="stable").reset_index(drop=True)


def _zones_by_wearer(zones) -> Mapping[str, Sequence[Zone]]:
    if isinstance(zones, Mapping):
        return {k: ([v] if isinstance(v, Zone) else list(v)) for k, v in zones.items()}
    raise TypeError("zones must map wearer_ref -> a zone or a list of zones")


def _runs(flag: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Run id of each element (consecutive True flags, cut where ``breaks``); -1 where not flagged."""
    start = flag & (np.r_[True, ~flag[:-1]] | breaks)
    rid = np.cumsum(start) - 1
    return np.where(flag, rid, -1)


def _qualifying(t: np.ndarray, rid: np.ndarray, k: int, dwell_s: float) -> list[tuple[int, int]]:
    """For each run that qualifies: (index of its first fix, index where it first has k fixes spanning
    dwell_s seconds), in time order."""
    idx = np.flatnonzero(rid >= 0)
    if len(idx) == 0:
        return []
    r = rid[idx]
    first = np.r_[True, r[1:] != r[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(idx)), 0))
    n = np.arange(len(idx)) - start + 1
    elapsed = (t[idx] - t[idx[start]]) / np.timedelta64(1, "s")
    ok = np.flatnonzero((n >= k) & (elapsed >= dwell_s))
    _, at = np.unique(r[ok], return_index=True)
    hits = ok[at]
    return [(int(idx[start[h]]), int(idx[h])) for h in hits]


def detect_breaches(positions: pd.DataFrame, zones, activations: pd.DataFrame | None = None,
                    rule: BreachRule | None = None) -> pd.DataFrame:
    """Breaches of each wearer's zones (``zones``: wearer_ref -> Zone or list of Zones).

    ``positions`` have the POSITIONS columns (and ``wearer_ref`` unless ``activations`` are given).
    One row per breach: wearer_ref, zone_id, kind, started (first fix of the run that proved it),
    opened (the alert: the fix at which the run reached the dwell and the count), closed (NaT while
    open at the end of the data), close_reason ("left", "schedule ended", ""), n_fixes (GPS/WIFI
    fixes in violation while open) and evidence (the fix times of the run that opened it).
    """
    rule = rule or BreachRule()
    df = _prepare(positions, activations)
    by_wearer = _zones_by_wearer(zones)
    rows = []
    for wearer, g in df.groupby(s.WEARER_REF, sort=True):
        g = g[~g[s.MECHANISM].isin(s.COARSE_MECHANISMS)]  # LBS/RF: ignored entirely
        if g.empty:
            continue
        t = g[s.FIX_TIME].dt.tz_localize(None).to_numpy().astype("datetime64[us]")
        for zone in by_wearer.get(wearer, []):
            rows.extend(_breaches_one(wearer, zone, g, t, rule))
    out = pd.DataFrame(rows, columns=BREACH_COLUMNS)
    for c in ("started", "opened", "closed"):
        out[c] = pd.to_datetime(out[c], utc=True)
    out["n_fixes"] = out["n_fixes"].astype("int64")
    return out


def _breaches_one(wearer: str, zone: Zone, g: pd.DataFrame, t: np.ndarray, rule: BreachRule) -> list[dict]:
    state = containment(zone.geometry, g[s.EASTING], g[s.NORTHING], g[s.PRECISION_M])
    interval = zone.active_interval(g[s.FIX_TIME])
    active = interval >= 0
    violating = active & (state == (INSIDE if zone.kind == EXCLUSION else OUTSIDE))
    clear = active & (state == (OUTSIDE if zone.kind == EXCLUSION else INSIDE))
    gap = np.r_[True, (t[1:] - t[:-1]) > np.timedelta64(int(rule.max_gap_s * 1e6), "us")]
    new_interval = np.r_[True, interval[1:] != interval[:-1]] | gap
    v_runs = _qualifying(t, _runs(violating, new_interval), rule.min_fixes, rule.min_dwell_s)
    c_runs = _qualifying(t, _runs(clear, new_interval), rule.close_fixes, rule.close_dwell_s)
    ends = zone.interval_end(g[s.FIX_TIME])
    breaches = []
    ci = 0
    pos = 0  # no breach may open before this index (the previous one's close)
    for first, alert in v_runs:
        if first < pos:
            continue
        # closed by the first qualifying clear run after the alert, or by the end of the schedule
        # interval (once the data runs past it), whichever comes first
        while ci < len(c_runs) and c_runs[ci][0] <= alert:
            ci += 1
        closed, reason = None, ""
        if ci < len(c_runs):
            closed, reason = t[c_runs[ci][0]], "left"
        end = ends[alert]
        if not np.isnat(end) and end <= t[-1] and (closed is None or end < closed):
            closed, reason = end, "schedule ended"
        stop = int(np.searchsorted(t, closed, side="left")) if closed is not None else len(t)
        run = np.arange(first, alert + 1)
        breaches.append({
            "wearer_ref": wearer, "zone_id": zone.zone_id, "kind": zone.kind,
            "started": pd.Timestamp(t[first], tz="UTC"), "opened": pd.Timestamp(t[alert], tz="UTC"),
            "closed": pd.Timestamp(closed, tz="UTC") if closed is not None else pd.NaT,
            "close_reason": reason,
            "n_fixes": int(violating[first:stop].sum()),
            "evidence": [pd.Timestamp(x, tz="UTC") for x in t[run]],
        })
        pos = stop
        if closed is None:
            break
    return breaches


def naive_breaches(positions: pd.DataFrame, zones, activations: pd.DataFrame | None = None) -> pd.DataFrame:
    """The single-fix rule (Traccar's geofence events): every fix of any mechanism whose point is
    inside an active exclusion zone (outside an active inclusion zone) after one that was not is an
    entry event, i.e. a breach. Fixes are ordered by fix time. One row per event."""
    df = _prepare(positions, activations)
    by_wearer = _zones_by_wearer(zones)
    rows = []
    for wearer, g in df.groupby(s.WEARER_REF, sort=True):
        for zone in by_wearer.get(wearer, []):
            inside = shapely.contains_xy(zone.geometry, g[s.EASTING].to_numpy(float),
                                         g[s.NORTHING].to_numpy(float))
            active = zone.active_interval(g[s.FIX_TIME]) >= 0
            viol = active & (inside if zone.kind == EXCLUSION else ~inside)
            enter = viol & ~np.r_[False, viol[:-1]]
            for i in np.flatnonzero(enter):
                rows.append({"wearer_ref": wearer, "zone_id": zone.zone_id, "kind": zone.kind,
                             "time": g[s.FIX_TIME].iloc[i], "mechanism": g[s.MECHANISM].iloc[i]})
    return pd.DataFrame(rows, columns=["wearer_ref", "zone_id", "kind", "time", "mechanism"])
