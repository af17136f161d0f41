"""The ``programme:intervention_create`` view, ``/programme/grants/<int:grant_pk>/interventions/new/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in
from programme_helpers import (
    ATTACK,
    COUNTS,
    _bounds_counts,
    _bounds_error_next_to,
    _error_next_to,
    _intervention_post,
)

from vru.web.programme.models import (
    AGE_BAND_FIELDS,
    MAX_COUNT,
    Intervention,
)

pytestmark = pytest.mark.django_db


def _act_post(**over):
    data = {"kind": "sport", "name": "Friday club", "year": "2022", "sessions_delivered": "10",
            **{f: "0" for f in AGE_BAND_FIELDS}}
    data.update(over)
    return data


def test_provider_records_delivery_for_own_grant(world):
    ga = world["grants"][0]
    c = signed_in(world["users"]["gamma"])  # a member, not the lead
    r = c.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}), _intervention_post())
    assert r.status_code == 302
    i = Intervention.objects.get(grant=ga, name="Friday club")
    assert i.people_reached == 15
    r = c.post(reverse("programme:intervention_edit", kwargs={"pk": i.pk}),
               _intervention_post(sessions_delivered="31"))
    assert r.status_code == 302
    i.refresh_from_db()
    assert i.sessions_delivered == 31


def test_intervention_form_errors_are_shown_next_to_the_field(world):
    ga = world["grants"][0]
    c = signed_in(world["users"]["alpha"])
    r = c.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}),
               _intervention_post(year="2025", reached_10_13="-1"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="id_year-error"' in html and "outside it" in html
    assert 'id="id_reached_10_13-error"' in html
    r = c.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}),
               _intervention_post(name="Mentoring"))  # same name and year as an existing one
    assert 'id="id_name-error"' in r.content.decode()
    assert Intervention.objects.filter(grant=ga).count() == 1


def test_provider_cannot_record_for_another_consortium(world):
    gb = world["grants"][1]
    r = signed_in(world["users"]["alpha"]).post(
        reverse("programme:intervention_create", kwargs={"grant_pk": gb.pk}), _intervention_post())
    assert r.status_code == 404
    assert not Intervention.objects.filter(name="Friday club").exists()


def test_a_field_with_two_errors_has_one_message_element_holding_both(forms_world):
    """GOV.UK: one error message per field, so ``aria-describedby`` names a single, unique id."""
    _, funded = forms_world["grants"]
    url = reverse("programme:intervention_create", args=[funded.pk])
    data = {"kind": "mentoring", "name": "Mentoring", "year": "1990", "sessions_delivered": "3"}
    html = signed_in(forms_world["users"]["pm"]).post(url, data).content.decode()
    assert html.count('id="id_year-error"') == 1
    assert _error_next_to(html, "year", "greater than or equal to 2000")
    assert _error_next_to(html, "year", "T-A runs from")


@pytest.mark.parametrize("field", COUNTS)
def test_the_attack_number_is_refused_by_the_delivery_form(bounds_world, field):
    before = _bounds_counts()
    url = reverse("programme:intervention_create", kwargs={"grant_pk": bounds_world["grant"].pk})
    r = signed_in(bounds_world["users"]["provider"]).post(url, _act_post(**{field: str(ATTACK)}))
    assert r.status_code == 200
    assert _bounds_error_next_to(r.content.decode(), field, "Enter at most 1,000,000")
    assert _bounds_counts() == before
    # the largest allowed value is accepted
    r = signed_in(bounds_world["users"]["provider"]).post(url, _act_post(**{field: str(MAX_COUNT)}))
    assert r.status_code == 302
    assert getattr(Intervention.objects.get(name="Friday club"), field) == MAX_COUNT
