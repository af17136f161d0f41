"""The tagging forms: justifications and review reasons, trail windows across the clock changes."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from vru.web.tagging import forms as F
from vru.web.tagging.models import DeviceActivation, Wearer

pytestmark = pytest.mark.django_db


INVISIBLE = ["\u200b" * 12, "\u200b\u200c\u200d\u2060\ufeff" * 3, "\u00a0\u2003\u3000" * 5, ". . . . . . . ."]


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_justification_of_invisible_characters_is_refused(text):
    f = F.JustificationForm({"purpose": "crime investigation", "justification": text})
    assert not f.is_valid()
    assert "justification" in f.errors


def test_a_justification_is_kept_without_its_invisible_characters():
    f = F.JustificationForm({"purpose": "crime investigation",
                             "justification": "Crime\u200b ref  01/234567/24"})
    assert f.is_valid(), f.errors
    assert f.purpose_text() == "crime investigation: Crime ref 01/234567/24"


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_review_reason_of_invisible_characters_is_refused(text):
    f = F.ReviewForm({"decision": "dismissed", "reason": text})
    assert not f.is_valid() and "reason" in f.errors


def _trail_form(start, end):
    w, new = Wearer.objects.get_or_create(ref="W-CLOCK", defaults={
        "order_type": "knife_licence", "order_start": date(2024, 1, 1),
        "organisation": Wearer.objects.first().organisation})
    if new:
        DeviceActivation.objects.create(wearer=w, device_id="DEV-CLOCK",
                                        active_from=datetime.fromisoformat("2024-01-01T00:00+00:00"))
    return F.TrailForm({"purpose": "crime investigation", "justification": "Crime ref 01/234567/24",
                        "start": start, "end": end}, wearer=w)


@pytest.mark.world("no_store")
def test_forty_eight_wall_clock_hours_over_the_october_change_are_49_real_hours_and_refused(world):
    f = _trail_form("2024-10-26T12:00", "2024-10-28T12:00")  # clocks go back at 02:00 BST on the 27th
    assert not f.is_valid()
    assert f.errors["end"] == ["The search window must not exceed 48 hours"]
    assert _trail_form("2024-10-26T13:00", "2024-10-28T12:00").is_valid()  # 48 real hours


@pytest.mark.world("no_store")
def test_forty_nine_wall_clock_hours_over_the_march_change_are_48_real_hours_and_allowed(world):
    f = _trail_form("2024-03-30T11:00", "2024-04-01T12:00")  # clocks go forward at 01:00 GMT on the 31st
    assert f.is_valid(), f.errors
    assert not _trail_form("2024-03-30T10:59", "2024-04-01T12:00").is_valid()


@pytest.mark.world("no_store")
def test_a_trail_window_out_of_range_is_a_message(world):
    f = _trail_form("9999-12-31T22:00", "9999-12-31T23:30")
    assert not f.is_valid() and "Enter a date from 2000-01-01" in f.errors["start"][0]
