"""The ``tagging:trail`` page, /tagging/wearers/<pk>/trail/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.urls import reverse
from factories import signed_in
from tagging_util import NOON, _cell

from vru.web.accounts.models import AuditLog
from vru.web.tagging import services

pytestmark = pytest.mark.django_db


def test_a_trail_holds_only_the_fixes_of_the_wearers_own_activations(handed_over):
    w = handed_over
    a = w.wearers[0]
    start, end = NOON - pd.Timedelta(hours=1), NOON + pd.Timedelta(hours=1)
    every = services.positions_frame(start, end, devices=[w.device])
    assert (every["fix_time"] >= NOON).sum() > 30  # the device's fixes after noon are W000002's
    df = services.trail_frame(a, start, end)
    assert len(df) and (df["fix_time"] < NOON).all()
    assert len(df) == (every["fix_time"] < NOON).sum()
    # the page and the API show the same (March: London time is UTC)
    r = signed_in(w.om).post(reverse("tagging:trail", args=[a.pk]), {
        "purpose": "breach review", "justification": "Alert on the new device", "start": "2024-03-04T11:00",
        "end": "2024-03-04T13:00"})
    body = r.content.decode()
    assert r.status_code == 200 and "2024-03-04 11:5" in body and "2024-03-04 12:" not in body
    r = signed_in(w.om).get(reverse("tagging-api-trail", args=[a.pk]), {
        "purpose": "breach review", "reason": "Alert on the new device", "start": start.isoformat(),
        "end": end.isoformat()})
    assert r.status_code == 200, r.content
    got = pd.to_datetime([p["fix_time"] for p in r.json()["positions"]], utc=True)
    assert len(got) == len(df) and (got < NOON).all()
    # and W000002's trail has the device's fixes after noon, not before
    other = services.trail_frame(w.wearers[2], NOON - pd.Timedelta(hours=1), NOON + pd.Timedelta(hours=1))
    dev = other[other["device_id"] == w.device]
    assert len(dev) and (dev["fix_time"] >= NOON).all()


@pytest.mark.world("no_store")
def test_the_trail_search_needs_no_identity_request(world):
    c, w = signed_in(world.om), world.wearers[0]
    page = c.get(reverse("tagging:wearer", args=[w.pk])).content.decode()
    assert reverse("tagging:trail", args=[w.pk]) in page
    r = c.post(reverse("tagging:trail", args=[w.pk]), {
        "purpose": "breach review", "justification": "Alert on 4 March, case 24/1234",
        "start": "2024-03-04T08:00", "end": "2024-03-04T10:00"})
    assert r.status_code == 200 and "Secret Name" not in r.content.decode()
    assert list(AuditLog.objects.values_list("action", flat=True)) == ["view trail"]


def _trail(c, w, start, end, justification="Breach review of the alert on 4 March", purpose="breach review"):
    return c.post(reverse("tagging:trail", args=[w.pk]), {"purpose": purpose, "justification": justification,
                                                         "start": start, "end": end})


@pytest.mark.world("pages")
def test_a_trail_search_is_audited_with_its_justification_and_shows_the_fixes(world):
    w = world.wearers[0]
    r = _trail(world.om and signed_in(world.om), w, "2024-03-04T08:00", "2024-03-04T12:00")
    assert r.status_code == 200
    assert 'id="fixes"' in r.content.decode()
    row = AuditLog.objects.get(action="view trail")
    assert row.user == world.om and row.object_id == str(w.pk)
    assert "breach review: Breach review of the alert on 4 March" in row.purpose
    assert "2024-03-04" in row.purpose


@pytest.mark.world("pages")
@pytest.mark.parametrize("start,end,field,message", [
    ("2024-03-04T08:00", "2024-03-06T08:01", "end", "must not exceed 48 hours"),
    ("2024-03-04T08:00", "2024-03-04T07:00", "end", "must be after the start"),
    ("2024-03-01T08:00", "2024-03-01T10:00", "start", "activation periods"),
    ("not a date", "2024-03-04T10:00", "start", "Enter a date and time"),
])
def test_a_trail_search_is_limited_to_48_hours_inside_an_activation(world, start, end, field, message):
    r = _trail(signed_in(world.om), world.wearers[0], start, end)
    assert r.status_code == 200
    assert message in r.content.decode()
    assert 'id="fixes"' not in r.content.decode()
    assert not AuditLog.objects.filter(action="view trail").exists()


@pytest.mark.world("pages")
def test_a_trail_search_needs_a_justification(world):
    r = _trail(signed_in(world.om), world.wearers[0], "2024-03-04T08:00", "2024-03-04T09:00",
               justification="", purpose="")
    body = r.content.decode()
    assert "Enter a justification" in body and "Choose a purpose" in body
    assert not AuditLog.objects.filter(action="view trail").exists()


@pytest.mark.world("pages")
def test_exactly_48_hours_is_allowed(world):
    r = _trail(signed_in(world.om), world.wearers[0], "2024-03-04T00:00", "2024-03-06T00:00")
    assert 'id="fixes"' in r.content.decode()


@pytest.mark.world("pages")
def test_dates_of_the_window_are_london_local_time(world):
    w = world.wearers[0]
    _trail(signed_in(world.om), w, "2024-03-04T08:00", "2024-03-04T09:00")
    row = AuditLog.objects.get(action="view trail")
    assert "2024-03-04T08:00:00+00:00" in row.purpose  # GMT in March before the change of clocks
    assert dt.datetime(2024, 3, 4).month == 3


def test_trail_is_utc_in_summer_while_the_window_is_entered_in_london_time(june):
    w = june.wearers[0]
    c = signed_in(june.om)
    # 09:00-10:00 London time on 10 June is 08:00-09:00 UTC
    r = c.post(reverse("tagging:trail", args=[w.pk]), {
        "purpose": "breach review", "justification": "Reviewing the June alert", "start": "2024-06-10T09:00",
        "end": "2024-06-10T10:00"})
    body = r.content.decode()
    assert r.status_code == 200
    pos = services.positions_frame(pd.Timestamp("2024-06-10T08:00Z"), pd.Timestamp("2024-06-10T09:00Z"),
                                   devices=[a.device_id for a in w.activations.all()])
    assert len(pos) > 10
    times = [t.strftime("%Y-%m-%d %H:%M:%S") for t in pos["fix_time"]]
    assert _cell(times[0]) in body and _cell(times[-1]) in body
    assert "2024-06-10 09:30:00" not in body  # no fix after 09:00 UTC is in the window
