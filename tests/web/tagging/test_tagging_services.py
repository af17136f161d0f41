"""Tagging services not tied to one page: the store folder, device activations and their overlaps."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from tagging_util import NOON

from vru.web.tagging import services
from vru.web.tagging.models import DeviceActivation, Wearer

pytestmark = pytest.mark.django_db


def test_the_store_folder_is_private(world):
    root = services.store_root()
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700


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
