"""Reading an area's boundary from a user: the one place that parses JSON typed, pasted, uploaded,
imported (CSV) or entered in the admin, and that decides what a stored boundary is.

- :func:`loads`: strict JSON. Text longer than :data:`MAX_TEXT_CHARS`, nested deeper than
  :data:`MAX_DEPTH` (checked before parsing, so ``[[[[...`` cannot exhaust the parser's recursion),
  ``NaN``/``Infinity``/out-of-range numbers and lone surrogates (``"\\ud800"``: not Unicode, so not
  storable in PostgreSQL nor encodable as UTF-8 in a response) are refused with a ``ValidationError``.
- :func:`parse`: a boundary from text: a bare geometry, a Feature, or a FeatureCollection holding one
  feature (a collection's ``crs`` is kept for :func:`normalise_geometry` to check).
- :func:`normalise_geometry`: the model's rule. A Polygon or MultiPolygon in WGS84 longitude/latitude
  inside Greater London, valid and not empty, at most :data:`MAX_GEOMETRY_CHARS` characters as
  compact JSON (the CSV export's form). Returns the canonical geometry, ``{"type", "coordinates"}``
  only: other members (``bbox``, a WGS84 ``crs``, foreign members) are dropped.
- :func:`for_output`: a stored boundary as pages and the API may show it, or None when a row stored
  before these rules is not a well-formed geometry (it is shown as "no boundary", never a crash).
"""

from __future__ import annotations

import json
import math
import re

import shapely
import shapely.geometry
import shapely.validation
from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput, JSONString

#: The most characters a boundary may have: the area form's 5 MB upload limit. The CSV export writes
#: the canonical compact form, which is checked against the same limit, so an export always imports.
MAX_GEOMETRY_CHARS = 5 * 1024 * 1024
MAX_TEXT_CHARS = MAX_GEOMETRY_CHARS
#: Nesting a boundary needs: FeatureCollection > features > Feature > MultiPolygon > polygons >
#: rings > positions: 8 levels. 20 leaves room and is far below Python's recursion limit.
MAX_DEPTH = 20
# Greater London with a margin (WGS84 longitude, latitude): the bounds every area must lie within.
LONDON_BOUNDS = (-0.52, 51.28, 0.34, 51.70)
TYPES = ("Polygon", "MultiPolygon")

# A string (to its closing quote, or to the end of an unterminated one: a string match never fails
# once started, and the quantifiers are possessive, so the scan is linear in the text, even for
# '"\\"\\"\\"...'), or a bracket.
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.S)


def depth(text: str, stop: int | None = None) -> int:
    """How deeply arrays and objects nest in JSON ``text`` (brackets inside strings do not count).
    Stops counting once past ``stop``."""
    level = deepest = 0
    for m in _TOKEN.finditer(text):
        ch = m.group()
        if ch[0] == '"':
            continue
        if ch in "[{":
            level += 1
            if level > deepest:
                deepest = level
                if stop is not None and deepest > stop:
                    break
        else:
            level -= 1
    return deepest


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _strings(value):
    """Every string (keys and values) in a parsed JSON value, without recursion."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def loads(text: str, *, max_depth: int = MAX_DEPTH, max_chars: int = MAX_TEXT_CHARS, what="GeoJSON"):
    """Strict ``json.loads`` for text from a user; raises ``ValidationError`` saying what is wrong."""
    if len(text) > max_chars:
        raise ValidationError(f"Not valid {what}: the text is {len(text):,} characters long; "
                              f"at most {max_chars:,} are accepted")
    if depth(text, stop=max_depth) > max_depth:
        raise ValidationError(f"Not valid {what}: nested more than {max_depth} levels deep")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError as e:  # not reached after the depth check; never a crash all the same
        raise ValidationError(f"Not valid {what}: nested too deeply") from e
    except ValueError as e:  # JSONDecodeError, NaN/Infinity, an integer with too many digits
        raise ValidationError(f"Not valid {what}: {e}") from e
    for s in _strings(value):
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValidationError(
                f"Not valid {what}: it holds a lone surrogate escape (\\u{ord(s[e.start]):04x}), "
                "which is not a Unicode character") from e
    return value


def parse(text: str):
    """A boundary from pasted, uploaded or imported text. A Feature, or a FeatureCollection holding
    one feature, gives its geometry (a collection's ``crs`` is kept, so a non-WGS84 one is refused)."""
    value = loads(text)
    if not isinstance(value, dict):
        raise ValidationError("Not valid GeoJSON: expected an object such as {\"type\": \"Polygon\", ...}")
    crs = value.get("crs")
    if value.get("type") == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list):
            raise ValidationError("The collection has no list of features")
        if len(features) != 1:
            raise ValidationError(f"The collection holds {len(features)} features; the boundary must be "
                                  "one feature (a Polygon or MultiPolygon)")
        value = features[0]
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
        if not isinstance(value, dict):
            raise ValidationError("The feature has no geometry")
    if crs is not None and isinstance(value, dict) and "crs" not in value:
        value = {**value, "crs": crs}
    return value


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_coordinates(kind: str, coords) -> None:
    """The shape of GeoJSON coordinates: Polygon = rings of at least 4 positions, MultiPolygon =
    polygons; a position is 2 or 3 finite numbers. Raises ``ValidationError``."""
    def bad(why):
        return ValidationError(f"coordinates are not a valid {kind}: {why}")

    seq = (list, tuple)
    polygons = [coords] if kind == "Polygon" else coords
    if not isinstance(polygons, seq):
        raise bad("expected a list")
    for polygon in polygons:
        if not isinstance(polygon, seq):
            raise bad("a polygon must be a list of rings")
        for ring in polygon:
            if not isinstance(ring, seq):
                raise bad("a ring must be a list of positions")
            if len(ring) < 4:
                raise bad("a ring needs at least 4 positions (the first repeated at the end)")
            for pos in ring:
                if not (isinstance(pos, seq) and len(pos) in (2, 3) and all(_number(x) for x in pos)):
                    raise bad("a position must be 2 or 3 numbers (longitude, latitude)")


def _crs_name(crs) -> str:
    props = crs.get("properties") if isinstance(crs, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str):
        raise ValidationError("the crs must name a coordinate reference system "
                              "({\"type\": \"name\", \"properties\": {\"name\": ...}})")
    return name


def normalise_geometry(value) -> dict:
    """The canonical boundary (``{"type", "coordinates"}``) of a GeoJSON Polygon or MultiPolygon in
    WGS84 (longitude, latitude) inside Greater London, valid (no self-intersection), not empty and
    not too large. Raises ``ValidationError`` saying what is wrong."""
    if isinstance(value, str):
        try:
            value = loads(value)
        except ValidationError as e:
            raise ValidationError(e.messages[0].replace("Not valid GeoJSON", "not valid JSON")) from e
    if not isinstance(value, dict):
        raise ValidationError("must be a GeoJSON geometry object")
    kind = value.get("type")
    if kind not in TYPES:
        shown = kind if isinstance(kind, str) and len(kind) <= 40 else type(kind).__name__
        raise ValidationError(f"must be a GeoJSON Polygon or MultiPolygon, not {shown!r}")
    crs = value.get("crs")
    if crs is not None:
        name = _crs_name(crs)
        if not (name.endswith("CRS84") or name.endswith("4326")):
            raise ValidationError(f"must be in WGS84 longitude/latitude, not {name[:80]!r}")
    coords = value.get("coordinates")
    _check_coordinates(kind, coords)
    geometry = {"type": kind, "coordinates": coords}
    size = len(json.dumps(geometry, separators=(",", ":")))
    if size > MAX_GEOMETRY_CHARS:
        raise ValidationError(f"the boundary is {size:,} characters of GeoJSON; at most "
                              f"{MAX_GEOMETRY_CHARS:,} are accepted (simplify it)")
    try:
        geom = shapely.geometry.shape(geometry)
    except Exception as e:  # shapely raises several types for malformed coordinates
        raise ValidationError(f"coordinates are not a valid {kind}: {e}") from e
    if geom.is_empty:
        raise ValidationError("the geometry is empty")
    minx, miny, maxx, maxy = geom.bounds
    w, s, e, n = LONDON_BOUNDS
    if minx < w or maxx > e or miny < s or maxy > n:
        raise ValidationError(
            f"lies outside London (longitude {w} to {e}, latitude {s} to {n}); coordinates must be "
            "WGS84 longitude, latitude in that order"
        )
    if not geom.is_valid:
        raise ValidationError(f"is not a valid polygon: {shapely.validation.explain_validity(geom)}")
    return geometry


def validate_geometry(value) -> None:
    """:func:`normalise_geometry` as a validator (raises ``ValidationError``, returns nothing)."""
    normalise_geometry(value)


def for_output(value) -> dict | None:
    """A stored boundary as pages, maps and the API may show it: the canonical geometry, or None when
    the row (stored before these rules) is not a well-formed Polygon or MultiPolygon."""
    if not isinstance(value, dict) or value.get("type") not in TYPES:
        return None
    try:
        _check_coordinates(value["type"], value.get("coordinates"))
    except ValidationError:
        return None
    return {"type": value["type"], "coordinates": value["coordinates"]}


class StrictJSONField(forms.JSONField):
    """``forms.JSONField`` that reads with :func:`loads` (for the admin's JSON fields): deep nesting,
    NaN and lone surrogates are a message next to the field, never a crash."""

    def to_python(self, value):
        if self.disabled:
            return value
        if value in self.empty_values:
            return None
        if isinstance(value, (list, dict, int, float, JSONString)):
            return value
        converted = loads(value, what="JSON")
        return JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data, initial):
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            return loads(data, what="JSON")
        except ValidationError:
            return InvalidJSONInput(data)

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        text = json.dumps(value, ensure_ascii=False, cls=self.encoder)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate stored before these rules: show it escaped
            text = json.dumps(value, cls=self.encoder)
        return text
