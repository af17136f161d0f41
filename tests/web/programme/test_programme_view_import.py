"""The ``programme:import`` view, ``/programme/import/``."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from factories import SOUTHWARK, SQUARE, signed_in
from programme_helpers import _bounds_area_post, _circle, _csv, _export

from vru.web.programme import csvio
from vru.web.programme.models import (
    Consortium,
    Grant,
    GrantStatusChange,
    Intervention,
    Membership,
    ProgrammeArea,
)

pytestmark = pytest.mark.django_db


def _upload(client, table, data: bytes):
    f = io.BytesIO(data)
    f.name = f"{table}.csv"
    return client.post(reverse("programme:import"), {"table": table, "file": f})


def test_import_good_files_then_reimport_changes_nothing(world):
    c = signed_in(world["users"]["pm"])
    areas = _csv([csvio.COLUMNS["areas"],
                  [SOUTHWARK, "New estate", "estate", "2024", "2", "E01003913", json.dumps(SQUARE)]])
    cons = _csv([csvio.COLUMNS["consortia"],
                 ["New consortium", SOUTHWARK, "New estate", "Beta Mentors (test)",
                  "Beta Mentors (test); Gamma Families (test)"]])
    grants = _csv([csvio.COLUMNS["grants"],
                   ["T-N", "New consortium", "awarded", "600000", "550000", "750000", "2024-04-01",
                    "2025-03-31"]])
    acts = _csv([csvio.COLUMNS["interventions"],
                 ["T-N", "Boxing", "2024", "sport", "48", "0", "10", "12", "3", "0", "25"]])
    for table, data in [("areas", areas), ("consortia", cons), ("grants", grants), ("interventions", acts)]:
        r = _upload(c, table, data)
        assert r.status_code == 302, r.content.decode()[:3000]
    g = Grant.objects.get(reference="T-N")
    assert g.status == "awarded" and g.consortium.area.name == "New estate"
    assert {o.name for o in g.consortium.members.all()} == {"Beta Mentors (test)", "Gamma Families (test)"}
    assert [(h.from_status, h.to_status) for h in g.history.all()] == [("", "awarded")]
    assert Intervention.objects.get(name="Boxing").people_reached == 25
    counts = [ProgrammeArea.objects.count(), Consortium.objects.count(), Membership.objects.count(),
              Grant.objects.count(), GrantStatusChange.objects.count(), Intervention.objects.count()]
    for table, data in [("areas", areas), ("consortia", cons), ("grants", grants), ("interventions", acts)]:
        res = csvio.import_csv(table, data)
        assert res.ok and (res.created, res.updated, res.unchanged) == (0, 0, 1), table
    assert counts == [ProgrammeArea.objects.count(), Consortium.objects.count(), Membership.objects.count(),
                      Grant.objects.count(), GrantStatusChange.objects.count(), Intervention.objects.count()]


def test_import_bad_file_names_row_and_column_and_imports_nothing(world):
    c = signed_in(world["users"]["pm"])
    data = _csv([csvio.COLUMNS["grants"],
                 ["T-OK", "Alpha consortium", "bid", "100000", "", "750000", "", ""],
                 ["T-CAP", "Alpha consortium", "bid", "800000", "", "750000", "", ""],
                 ["T-NOC", "No such consortium", "bid", "1000", "", "750000", "", ""],
                 ["T-DATE", "Alpha consortium", "awarded", "1000", "1000", "750000", "2022-13-01",
                  "2023-01-01"],
                 ["T-A", "Alpha consortium", "bid", "700000", "", "750000", "", ""]])  # awarded -> bid
    r = _upload(c, "grants", data)
    assert r.status_code == 200
    html = r.content.decode()
    assert "Nothing was imported" in html
    assert "Row 3, column amount_requested: £800,000.00 is more than the cap" in html
    assert "Row 4, column consortium: no consortium of that name" in html
    assert "Row 5, column start_date:" in html
    assert "Row 6, column status: the grant is awarded: it cannot become bid" in html
    assert not Grant.objects.filter(reference="T-OK").exists()
    assert Grant.objects.get(reference="T-A").status == "awarded"


def test_a_boundary_over_the_csv_modules_default_limit_round_trips(bounds_world):
    big = _circle(6000)
    text = json.dumps(big, separators=(",", ":"))
    assert len(text) > 131_072
    pm = signed_in(bounds_world["users"]["pm"])
    f = io.BytesIO(text.encode())
    f.name = "big.geojson"
    r = pm.post(reverse("programme:area_create"), _bounds_area_post(geometry="", geometry_file=f))
    assert r.status_code == 302, r.content.decode()[-3000:]
    exported = _export(pm, "areas")
    ProgrammeArea.objects.filter(name="Large estate (test)").delete()
    f = io.BytesIO(exported)
    f.name = "areas.csv"
    r = pm.post(reverse("programme:import"), {"table": "areas", "file": f})
    assert r.status_code == 302, r.content.decode()[-3000:]
    assert ProgrammeArea.objects.get(name="Large estate (test)").geometry == big
    assert _export(pm, "areas") == exported
