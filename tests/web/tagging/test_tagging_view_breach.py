"""The ``tagging:breach`` page, /tagging/breaches/<pk>/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import pandas as pd
import pytest
from django.urls import reverse
from factories import signed_in
from tagging_util import JUNE, _utc

from vru.web.accounts.models import AuditLog
from vru.web.tagging import demo, services
from vru.web.tagging.models import Breach, Zone

pytestmark = pytest.mark.django_db


@pytest.mark.world("pages")
def test_another_organisations_breach_is_404(world):
    c = signed_in(world.other_om)
    assert c.get(reverse("tagging:breach", args=[world.breach.pk])).status_code == 404
    assert c.post(reverse("tagging:breach", args=[world.breach.pk])).status_code == 404
    theirs = Breach.objects.filter(wearer__organisation=world.other_probation)
    assert world.breach.pk not in [b.pk for b in theirs]


@pytest.mark.world("pages")
def test_the_breach_lifecycle_is_recorded_step_by_step_and_audited(world):
    c = signed_in(world.om)
    url = reverse("tagging:breach", args=[world.breach.pk])
    for _ in range(3):
        assert c.post(url).status_code == 302
    r = c.post(url, {"outcome": ""})
    assert "Choose an outcome" in r.content.decode()
    assert c.post(url, {"outcome": "recall"}).status_code == 302
    b = Breach.objects.get(pk=world.breach.pk)
    assert b.outcome == "recall" and b.identified_at and b.police_notified_at
    assert b.response_at and b.outcome_at
    assert AuditLog.objects.filter(object_id=str(b.pk), action__startswith="breach").count() == 4
    r = c.post(url, {"outcome": "warning"})
    assert Breach.objects.get(pk=b.pk).outcome == "recall"


def test_breach_times_are_utc_in_summer(june):
    w = june.wearers[0]
    geometry = demo.zone_on_trail(june.june, w.ref)
    Zone.objects.create(wearer=w, kind="exclusion", name="Zone J", geometry=geometry)
    one = type(w).objects.filter(pk=w.pk)
    found = services.detect_breaches(JUNE, JUNE + pd.Timedelta(days=1), wearers=one)
    assert found
    b = found[0]
    c = signed_in(june.om)
    body = c.get(reverse("tagging:breach", args=[b.pk])).content.decode()
    assert _utc(b.started_at) in body
    assert _utc(b.alert_at, "%d %b %Y %H:%M").lstrip("0") in body
    body = c.get(reverse("tagging:breaches")).content.decode()
    assert _utc(b.alert_at, "%d %b %Y %H:%M").lstrip("0") in body
