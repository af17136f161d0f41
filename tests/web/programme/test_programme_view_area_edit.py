"""The ``programme:area_edit`` view, ``/programme/areas/<int:pk>/edit/``."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from factories import BRENT, SOUTHWARK_LSOAS, SQUARE, signed_in
from programme_helpers import _form_area_post

pytestmark = pytest.mark.django_db


def test_manager_uploads_a_boundary_file_which_replaces_the_pasted_one(forms_world):
    area = forms_world["areas"][1]
    brent_square = {"type": "Polygon", "coordinates": [[[-0.25, 51.55], [-0.24, 51.55], [-0.24, 51.56],
                                                        [-0.25, 51.56], [-0.25, 51.55]]]}
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "x"}, "geometry": brent_square}]}
    f = io.BytesIO(json.dumps(collection).encode())
    f.name = "boundary.geojson"
    r = signed_in(forms_world["users"]["pm"]).post(
        reverse("programme:area_edit", kwargs={"pk": area.pk}),
        _form_area_post(name="Test ward", kind="ward", borough=BRENT, lsoa_codes="", geometry="not json",
                   geometry_file=f))
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.geometry == brent_square and area.lsoa_codes == [] and area.kind == "ward"


def test_edit_form_shows_the_current_values_and_saving_them_unchanged_changes_nothing(forms_world):
    area = forms_world["areas"][0]
    c = signed_in(forms_world["users"]["pm"])
    html = c.get(reverse("programme:area_edit", kwargs={"pk": area.pk})).content.decode()
    assert "E01003911\nE01003912</textarea>" in html
    assert json.dumps(SQUARE).replace('"', "&quot;") in html
    r = c.post(reverse("programme:area_edit", kwargs={"pk": area.pk}),
               _form_area_post(name="Test estate", selected_year="2021", funding_round="1",
                          lsoa_codes="E01003911\nE01003912"))
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.lsoa_codes == SOUTHWARK_LSOAS and area.geometry == SQUARE and area.selected_year == 2021


def test_clearing_the_boundary_removes_it(forms_world):
    area = forms_world["areas"][0]
    r = signed_in(forms_world["users"]["pm"]).post(
        reverse("programme:area_edit", kwargs={"pk": area.pk}),
        _form_area_post(name="Test estate", geometry="", lsoa_codes="E01003911"))
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.geometry is None and area.lsoa_codes == ["E01003911"]
