"""The programme web app: the CSV import and export module on its own."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from factories import SOUTHWARK, SQUARE, signed_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from programme_helpers import ATTACK, _bounds_counts, _cells, _circle, _csv, _formula

from vru.outputs import csvsafe
from vru.web.programme import csvio, geojson, scope
from vru.web.programme.models import (
    Intervention,
    validate_geometry,
)

pytestmark = pytest.mark.django_db


class _Undo(Exception):
    pass


_STORABLE = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                    min_size=1, max_size=60).filter(lambda s: s.strip() == s or csvsafe.neutralise(s) != s)


def test_import_checks_header_geometry_totals_and_duplicates(world):
    res = csvio.import_csv("areas", _csv([["borough", "name", "colour"], [SOUTHWARK, "x", "red"]]))
    assert any("missing columns kind" in e for e in res.errors) and any("unknown column colour" in e
                                                                         for e in res.errors)
    res = csvio.import_csv("areas", _csv([csvio.COLUMNS["areas"],
                                          [SOUTHWARK, "Bad", "estate", "2021", "1", "", '{"type":"Point"}']]))
    assert res.errors == ["Row 2, column geometry: must be a GeoJSON Polygon or MultiPolygon, not 'Point'"]
    talks = ["T-A", "Talks", "2022", "other", "1", "1", "1", "1", "1", "1"]
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"], talks + ["6"],
                                                  talks + ["5"]]))
    assert res.errors == ["Row 2, column people_reached: 6 is not the sum of the age bands (5)",
                          "Row 3, column grant: the same record as row 2."]
    assert not Intervention.objects.filter(name="Talks").exists()
    cons = ["C", SOUTHWARK, "Test estate", "Alpha Youth (test)"]
    res = csvio.import_csv("consortia", _csv([csvio.COLUMNS["consortia"], cons + ["Nobody Ltd"]]))
    assert "Row 2, column members: no organisation named Nobody Ltd (add it first)" in res.errors
    res = csvio.import_csv("consortia", _csv([csvio.COLUMNS["consortia"], cons + ["Beta Mentors (test)"]]))
    assert res.errors == ["Row 2, column members: the lead organisation 'Alpha Youth (test)' must be listed "
                          "as a member"]


def test_the_attack_number_is_refused_by_the_import_naming_row_and_column(bounds_world):
    before = _bounds_counts()
    ok = ["T-A", "Boxing", "2022", "sport", "48", "0", "10", "12", "3", "0", "25"]
    bad = ["T-A", "Talks", "2022", "other", "1", str(ATTACK), "1", "1", "1", "1", ""]
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"], ok, bad]))
    assert res.errors == ["Row 3, column reached_under_10: Enter at most 1,000,000 (the most one record "
                          "may hold)"]
    assert _bounds_counts() == before
    # a total that no record could reach is refused too, not compared with overflowing sums
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"], ok[:-1] + [str(ATTACK)]]))
    assert res.errors and res.errors[0].startswith("Row 2, column people_reached: ")
    assert _bounds_counts() == before


def test_numbers_typed_in_an_import_stay_numbers(bounds_world):
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"],
                                                  ["T-A", "Neg", "2022", "sport", "-5", "0", "0", "0", "0",
                                                   "0", ""]]))
    assert res.errors == ["Row 2, column sessions_delivered: Ensure this value is greater than or equal to "
                          "0."]
    # a cell a person typed with the spreadsheet's quote is read as a spreadsheet shows it
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"],
                                                  ["T-A", "'=Quoted", "2022", "sport", "'-0", "0", "0", "0",
                                                   "0", "0", ""]]))
    assert res.ok, res.errors
    assert Intervention.objects.get(name="=Quoted").sessions_delivered == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_STORABLE)
def test_any_name_survives_the_real_export_and_import(bounds_world, name):
    """Any text a record can hold (the forms strip surrounding whitespace; a cell the export
    neutralised comes back exactly, tabs and carriage returns included) is the same after
    ``csvio.write_csv`` and ``csvio.import_csv``."""
    try:
        with transaction.atomic():
            act = bounds_world["act"]
            Intervention.objects.filter(pk=act.pk).update(name=name)
            out = io.StringIO()
            csvio.write_csv(out, "interventions", scope.interventions_for(bounds_world["users"]["pm"]))
            data = out.getvalue().encode()
            assert not any(_formula(cell) for cell in _cells(data))
            assert csvio.import_csv("interventions", data).unchanged == 1
            Intervention.objects.all().delete()
            res = csvio.import_csv("interventions", data)
            assert res.ok and res.created == 1, res.errors
            assert Intervention.objects.get().name == name
            raise _Undo
    except _Undo:
        pass


def test_a_boundary_larger_than_the_form_accepts_is_a_per_record_error(bounds_world):
    before = _bounds_counts()
    huge = json.dumps(_circle(160_000), separators=(",", ":"))
    assert len(huge) > geojson.MAX_GEOMETRY_CHARS and len(huge) < csvio.MAX_BYTES
    res = csvio.import_csv("areas", _csv([csvio.COLUMNS["areas"],
                                          [SOUTHWARK, "Ok estate", "estate", "2022", "1", "",
                                           json.dumps(SQUARE)],
                                          [SOUTHWARK, "Huge estate", "estate", "2022", "1", "", huge]]))
    assert res.errors == [f"Row 3, column geometry: Not valid GeoJSON: the text is {len(huge):,} characters "
                          "long; at most 5,242,880 are accepted"]
    assert _bounds_counts() == before
    with pytest.raises(ValidationError, match="at most 5,242,880 are accepted"):
        validate_geometry(json.loads(huge))


def test_odd_numbers_in_query_strings_and_import_keys_are_not_a_crash(bounds_world):
    pm = signed_in(bounds_world["users"]["pm"])
    for value in ["²", "٣", "9" * 5000, "99999999999999999999999"]:
        assert pm.get(reverse("programme:consortium_create"), {"area": value}).status_code == 200
        assert pm.get(reverse("programme:grant_create"), {"consortium": value}).status_code == 200
        res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"],
                                                      ["T-A", "Odd", value, "sport", "1", "0", "0", "0", "0",
                                                       "0", ""]]))
        assert res.errors and res.errors[0].startswith("Row 2, column year: "), res.errors
    for q in ["offset=99999999999999999999999", "limit=99999999999999999999999", "offset=-1"]:
        assert pm.get(reverse("programme-api-interventions") + "?" + q).status_code in (200, 400), q


def test_a_file_the_csv_module_cannot_read_is_an_error_not_a_crash(bounds_world):
    res = csvio.import_csv("areas", b'borough,name,kind,selected_year,funding_round,lsoa_codes,geometry\n'
                                    + b'"' + b"x" * (csvio.MAX_BYTES - 100))
    assert res.errors and not res.ok
