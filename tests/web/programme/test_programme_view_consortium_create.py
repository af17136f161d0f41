"""The ``programme:consortium_create`` view, ``/programme/consortia/new/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in
from programme_helpers import _consortium_post, _error_next_to, _form_counts

from vru.web.programme.models import Consortium

pytestmark = pytest.mark.django_db


def test_create_pages_preselect_the_area_or_consortium_they_were_opened_from(forms_world):
    c = signed_in(forms_world["users"]["pm"])
    area, cons = forms_world["areas"][1], forms_world["consortium"]
    html = c.get(reverse("programme:consortium_create") + f"?area={area.pk}").content.decode()
    assert f'<option value="{area.pk}" selected>' in html
    html = c.get(reverse("programme:grant_create") + f"?consortium={cons.pk}").content.decode()
    assert f'<option value="{cons.pk}" selected>' in html


def test_manager_creates_a_consortium_with_its_members(forms_world):
    alpha, beta, gamma = forms_world["orgs"]
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:consortium_create"),
                                                   _consortium_post(forms_world))
    c = Consortium.objects.get(name="New consortium (test)")
    assert r.status_code == 302 and r["Location"] == reverse("programme:consortium", kwargs={"pk": c.pk})
    assert c.lead == beta and sorted(c.organisation_ids()) == sorted([beta.pk, gamma.pk])


def test_new_consortium_whose_lead_is_not_a_member_is_refused(forms_world):
    alpha, beta, gamma = forms_world["orgs"]
    before = _form_counts()
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:consortium_create"),
                                           _consortium_post(forms_world, members=[str(gamma.pk)]))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "lead", "the lead organisation must be a member")
    assert _form_counts() == before


def test_consortium_name_must_be_unique_and_members_chosen(forms_world):
    before = _form_counts()
    c = signed_in(forms_world["users"]["pm"])
    r = c.post(reverse("programme:consortium_create"), _consortium_post(forms_world, name="Alpha consortium"))
    assert _error_next_to(r.content.decode(), "name", "already exists")
    r = c.post(reverse("programme:consortium_create"), _consortium_post(forms_world, members=[]))
    assert _error_next_to(r.content.decode(), "members", "This field is required")
    assert _form_counts() == before
