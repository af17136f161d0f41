"""The ``programme:consortium_edit`` view, ``/programme/consortia/<int:pk>/edit/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in
from programme_helpers import _consortium_post, _error_next_to

pytestmark = pytest.mark.django_db


def test_editing_members_keeps_the_lead_a_member(forms_world):
    alpha, beta, gamma = forms_world["orgs"]
    cons = forms_world["consortium"]
    c = signed_in(forms_world["users"]["pm"])
    url = reverse("programme:consortium_edit", kwargs={"pk": cons.pk})
    html = c.get(url).content.decode()
    assert html.count("checked") == 2  # alpha (lead) and gamma are ticked
    # unticking the lead: the model's rule refuses it, next to the lead field
    r = c.post(url, _consortium_post(forms_world, name=cons.name, lead=str(alpha.pk),
                                     members=[str(gamma.pk)]))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "lead", "the lead organisation must be a member")
    assert sorted(cons.organisation_ids()) == sorted([alpha.pk, gamma.pk])
    # beta joins, gamma leaves
    r = c.post(url, _consortium_post(forms_world, name=cons.name, lead=str(alpha.pk),
                                     members=[str(alpha.pk), str(beta.pk)]))
    assert r.status_code == 302
    assert sorted(cons.organisation_ids()) == sorted([alpha.pk, beta.pk])
    # beta becomes the lead; alpha may then leave
    r = c.post(url, _consortium_post(forms_world, name=cons.name, lead=str(beta.pk), members=[str(beta.pk)]))
    assert r.status_code == 302
    cons.refresh_from_db()
    assert cons.lead == beta and cons.organisation_ids() == [beta.pk]
