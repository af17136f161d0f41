"""The ``programme:area_create`` view, ``/programme/areas/new/``."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from factories import SOUTHWARK, SQUARE, signed_in
from programme_helpers import (
    _bounds_area_post,
    _bounds_counts,
    _bounds_error_next_to,
    _csv,
    _error_next_to,
    _form_area_post,
    _form_counts,
)

from vru.web.programme import csvio
from vru.web.programme.models import (
    ProgrammeArea,
)

pytestmark = pytest.mark.django_db


# A real Brent LSOA (2011): not in Southwark.
BRENT_LSOA = "E01000471"


BAD_BOUNDARIES = [
    ('{"type":"Polygon","coordinates":[[[-0.088,51.471],[-0.082,51.471],[-0.082,51.475],[-0.088,51.471]]],'
     '"name":"\\ud800"}', "lone surrogate"),
    ('{"type":"Polygon","coordinates":[[[-0.088,51.471],[-0.082,51.471],[-0.082,51.475],[-0.088,51.471]]],'
     '"crs":"EPSG:27700"}', "the crs must name a coordinate reference system"),
    ('{"type":"Polygon","coordinates":[[[-0.088,51.471],[-0.082,51.471],[-0.082,51.475],[-0.088,51.471]]],'
     '"crs":{"properties":"x"}}', "the crs must name a coordinate reference system"),
    ('{"type":"FeatureCollection","features":{"0":{}}}', "no list of features"),
    ('{"type":"FeatureCollection","features":5}', "no list of features"),
    ('{"type":"Polygon","coordinates":[[[NaN,51.471],[-0.082,51.471],[-0.082,51.475],[NaN,51.471]]]}',
     "NaN is not a number JSON allows"),
    ('{"type":"Polygon","coordinates":[[[1e999,51.471],[-0.082,51.471],[-0.082,51.475],[1e999,51.471]]]}',
     "out of range"),
    ('{"type":"Polygon","coordinates":[[[true,51.471],[-0.082,51.471],[-0.082,51.475],[true,51.471]]]}',
     "a position must be 2 or 3 numbers"),
    ('{"type":"Polygon","coordinates":"x"}', "not a valid Polygon"),
    ('{"type":["Polygon"],"coordinates":[]}', "not 'list'"),
    ("[" * 100_000, "nested more than 20 levels deep"),
    ('{"a":' * 100_000, "nested more than 20 levels deep"),
    ('{"type":"Polygon","coordinates":' + "[" * 30 + "]" * 30 + "}", "nested more than 20 levels deep"),
]


def test_manager_creates_an_area_with_lsoas_and_a_pasted_boundary(forms_world):
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:area_create"), _form_area_post())
    area = ProgrammeArea.objects.get(name="Rockingham estate (test)")
    assert r.status_code == 302 and r["Location"] == reverse("programme:area", kwargs={"pk": area.pk})
    assert area.lsoa_codes == ["E01003911", "E01003912", "E01003913"]  # upper-cased, in order
    assert area.geometry == SQUARE and area.borough == SOUTHWARK and area.funding_round == 2


@pytest.mark.parametrize("field, value, message", [
    ("lsoa_codes", f"E01003911\n{BRENT_LSOA}", f"not in Southwark: {BRENT_LSOA}"),
    ("lsoa_codes", "E0100391", "not LSOA codes (E01 and 6 digits): E0100391"),
    ("lsoa_codes", "E01003911, E01003911", "listed more than once: E01003911"),
    ("geometry", "{not json", "Not valid GeoJSON"),
    ("geometry", json.dumps({"type": "Point", "coordinates": [-0.08, 51.47]}),
     "must be a GeoJSON Polygon or MultiPolygon, not &#x27;Point&#x27;"),
    ("geometry", json.dumps({"type": "Polygon", "coordinates": [[[51.471, -0.088], [51.471, -0.082],
                                                                 [51.475, -0.082], [51.471, -0.088]]]}),
     "lies outside London"),
    ("geometry", json.dumps({"type": "Polygon", "coordinates": [[[-0.088, 51.471], [-0.082, 51.475],
                                                                 [-0.082, 51.471], [-0.088, 51.475],
                                                                 [-0.088, 51.471]]]}),
     "is not a valid polygon: Self-intersection"),
    ("geometry", json.dumps({"type": "FeatureCollection", "features": []}), "holds 0 features"),
    ("name", "", "This field is required"),
    ("selected_year", "1850", "greater than or equal to 2000"),
])
def test_bad_area_values_are_shown_next_to_the_field_and_nothing_is_saved(forms_world, field, value, message):
    before = _form_counts()
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:area_create"),
                                                   _form_area_post(**{field: value}))
    assert r.status_code == 200
    html = r.content.decode()
    assert _error_next_to(html, field, message), html.split('govuk-error-summary', 1)[-1][:2000]
    assert "govuk-error-summary" in html and "<title>Error:" in html
    assert _form_counts() == before


def test_bad_boundary_file_is_reported_next_to_the_upload(forms_world):
    line = {"type": "LineString", "coordinates": [[-0.08, 51.47], [-0.07, 51.47]]}
    f = io.BytesIO(json.dumps(line).encode())
    f.name = "line.geojson"
    before = _form_counts()
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:area_create"),
                                           _form_area_post(geometry="", geometry_file=f))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "geometry_file", "not &#x27;LineString&#x27;")
    assert _form_counts() == before


def test_an_area_of_the_same_name_in_the_borough_is_refused(forms_world):
    before = _form_counts()
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:area_create"),
                                                   _form_area_post(name="Test estate"))
    assert r.status_code == 200
    assert "already exists" in r.content.decode()
    assert _form_counts() == before


@pytest.mark.parametrize("text, message", BAD_BOUNDARIES)
def test_bad_boundaries_are_a_message_next_to_the_field_and_nothing_is_saved(bounds_world, text, message):
    before = _bounds_counts()
    pm = signed_in(bounds_world["users"]["pm"])
    r = pm.post(reverse("programme:area_create"), _bounds_area_post(geometry=text))
    assert r.status_code == 200
    html = r.content.decode()
    assert _bounds_error_next_to(html, "geometry", message.replace("'", "&#x27;")), \
        html.split("govuk-error-summary", 1)[-1][:1500]
    # uploaded as a file: the same message next to the upload
    f = io.BytesIO(text.encode())
    f.name = "bad.geojson"
    r = pm.post(reverse("programme:area_create"), _bounds_area_post(geometry="", geometry_file=f))
    assert r.status_code == 200
    assert _bounds_error_next_to(r.content.decode(), "geometry_file", message.replace("'", "&#x27;"))
    # imported: a per-record error naming row and column
    res = csvio.import_csv("areas", _csv([csvio.COLUMNS["areas"],
                                          [SOUTHWARK, "Bad estate", "estate", "2022", "1", "", text]]))
    assert len(res.errors) == 1 and res.errors[0].startswith("Row 2, column geometry: ")
    assert message in res.errors[0]
    assert _bounds_counts() == before


def test_extra_keys_are_dropped_and_the_canonical_boundary_is_stored(bounds_world):
    extra = {**SQUARE, "bbox": [-0.088, 51.471, -0.082, 51.475], "name": "x", "properties": {"a": [1]},
             "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    r = signed_in(bounds_world["users"]["pm"]).post(reverse("programme:area_create"),
                                           _bounds_area_post(geometry=json.dumps(extra)))
    assert r.status_code == 302
    assert ProgrammeArea.objects.get(name="Large estate (test)").geometry == SQUARE
    area = bounds_world["area"]
    area.geometry = extra
    area.full_clean()
    assert area.geometry == SQUARE
