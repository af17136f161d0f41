"""A zone rule breach detection cannot read is refused by the form, and one stored before the check never
stops breach detection for the other zones."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from django.core.management import call_command
from django.urls import reverse
from test_tagging_util import START, client, make_world

from vru.web.tagging import demo
from vru.web.tagging.models import Breach, Zone

pytestmark = pytest.mark.django_db
SQUARE = '{"type":"Polygon","coordinates":[[[-0.13,51.50],[-0.12,51.50],[-0.12,51.51],[-0.13,51.50]]]}'


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path)


@pytest.mark.parametrize("rule, message", [
    ("RRULE:FREQ=DAILY\nEXDATE:20240305T190000Z", "one RRULE line"),
    ("DTSTART:20240302T090000Z\nRRULE:FREQ=DAILY", "one RRULE line"),
    ("FREQ=SECONDLY", "DAILY or WEEKLY"),
])
def test_the_zone_form_refuses_a_rule_breach_detection_cannot_read(world, rule, message):
    r = client(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]), {
        "kind": "exclusion", "name": "Bad", "geojson": SQUARE, "crs": "WGS84", "rrule": rule,
        "local_start": "2024-03-02T09:00", "duration_minutes": "60"})
    assert r.status_code == 200 and message in r.content.decode()
    assert not Zone.objects.filter(name="Bad").exists()


def test_a_stored_zone_with_a_bad_rule_is_skipped_and_logged_the_others_are_checked(world, caplog):
    w = world.wearers[0]
    geometry = demo.zone_on_trail(world.sim, w.ref)
    # written round the form (as a zone stored before the rule was checked)
    bad = Zone.objects.create(wearer=w, kind="exclusion", name="Old rule", geometry=geometry,
                              rrule="RRULE:FREQ=DAILY\nEXDATE:20240305T190000Z",
                              local_start=START.to_pydatetime(), duration_minutes=600)
    good = Zone.objects.create(wearer=w, kind="exclusion", name="Good", geometry=geometry)
    with caplog.at_level(logging.ERROR):
        call_command("tagging_breaches", "--start", START.isoformat(),
                     "--end", (START + pd.Timedelta(days=1)).isoformat())
    assert Breach.objects.filter(zone=good).exists()
    assert not Breach.objects.filter(zone=bad).exists()
    assert any(f"zone {bad.pk} " in r.getMessage() for r in caplog.records)
