"""A device passed from one wearer to another: each wearer's trail holds only the fixes of their own
activation, and overlapping activations of one device are refused."""

from __future__ import annotations

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.forms.models import inlineformset_factory
from django.urls import reverse
from test_tagging_util import START, client, make_world

from vru.web.tagging import services
from vru.web.tagging.admin import ActivationFormSet
from vru.web.tagging.models import DeviceActivation, Wearer

pytestmark = pytest.mark.django_db
NOON = START + pd.Timedelta(hours=12)


@pytest.fixture
def handed_over(settings, tmp_path):
    """W000000 wore D0000000 until noon, and a new device from 11:00; at noon D0000000 went to W000002 (of
    another organisation)."""
    w = make_world(settings, tmp_path)
    a, b = w.wearers[0], w.wearers[2]
    old = a.activations.get()
    w.device = old.device_id
    old.active_to = NOON
    old.save()
    DeviceActivation.objects.create(wearer=a, device_id="D-NEW", active_from=NOON - pd.Timedelta(hours=1))
    DeviceActivation.objects.create(wearer=b, device_id=w.device, active_from=NOON)
    return w


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
    r = client(w.om).post(reverse("tagging:trail", args=[a.pk]), {
        "purpose": "breach review", "justification": "Alert on the new device", "start": "2024-03-04T11:00",
        "end": "2024-03-04T13:00"})
    body = r.content.decode()
    assert r.status_code == 200 and "2024-03-04 11:5" in body and "2024-03-04 12:" not in body
    r = client(w.om).get(reverse("tagging-api-trail", args=[a.pk]), {
        "purpose": "breach review", "reason": "Alert on the new device", "start": start.isoformat(),
        "end": end.isoformat()})
    assert r.status_code == 200, r.content
    got = pd.to_datetime([p["fix_time"] for p in r.json()["positions"]], utc=True)
    assert len(got) == len(df) and (got < NOON).all()
    # and W000002's trail has the device's fixes after noon, not before
    other = services.trail_frame(w.wearers[2], NOON - pd.Timedelta(hours=1), NOON + pd.Timedelta(hours=1))
    dev = other[other["device_id"] == w.device]
    assert len(dev) and (dev["fix_time"] >= NOON).all()


def test_an_overlapping_activation_of_a_device_is_refused(handed_over):
    w = handed_over
    act = DeviceActivation(wearer=w.wearers[3], device_id=w.device,
                           active_from=NOON - pd.Timedelta(hours=2), active_to=NOON - pd.Timedelta(hours=1))
    with pytest.raises(ValidationError, match="must not overlap"):
        act.full_clean()
    # touching periods (half-open) are not an overlap
    DeviceActivation(wearer=w.wearers[3], device_id="D-SPARE", active_from=NOON).full_clean()


def test_activations_written_round_the_form_are_refused_before_matching_or_breaches(handed_over):
    w = handed_over
    services.activations_frame()  # consistent
    later = NOON + pd.Timedelta(hours=3)
    DeviceActivation.objects.create(wearer=w.wearers[3], device_id=w.device, active_from=later)
    with pytest.raises(services.ActivationOverlap, match=w.device):
        services.activations_frame()
    with pytest.raises(services.ActivationOverlap):
        services.activations_frame(Wearer.objects.filter(pk=w.wearers[0].pk))


def test_the_admin_inline_refuses_two_overlapping_rows_sent_together(handed_over):
    w = handed_over
    wearer = w.wearers[3]
    FormSet = inlineformset_factory(Wearer, DeviceActivation, formset=ActivationFormSet,
                                    fields=["device_id", "active_from", "active_to"], extra=2)
    prefix = FormSet().prefix
    data = {f"{prefix}-TOTAL_FORMS": "3", f"{prefix}-INITIAL_FORMS": "1", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000"}
    cur = wearer.activations.get()
    data |= {f"{prefix}-0-id": str(cur.pk), f"{prefix}-0-wearer": str(wearer.pk),
             f"{prefix}-0-device_id": cur.device_id, f"{prefix}-0-active_from": "2024-03-01 00:00:00"}
    for i in (1, 2):
        data |= {f"{prefix}-{i}-device_id": "D-TWICE",
                 f"{prefix}-{i}-active_from": f"2024-03-0{i + 4} 00:00:00"}
    fs = FormSet(data, instance=wearer)
    assert not fs.is_valid()
    assert "Two activations of device D-TWICE overlap" in str(fs.non_form_errors())
