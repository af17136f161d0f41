"""The programme web app: every role against every page, and CSRF on every form."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from factories import signed_in
from programme_helpers import _intervention_post

from vru.web.programme.models import (
    Intervention,
)

pytestmark = pytest.mark.django_db


def _views(w):
    """(url name, kwargs for an object of Alpha's consortium, kwargs for one of Beta's, object view?)."""
    (a_sw, a_br), (ca, cb), (ga, gb), (ia, ib) = w["areas"], w["consortia"], w["grants"], w["interventions"]
    return [
        ("programme:index", {}, None),
        ("programme:area", {"pk": a_sw.pk}, {"pk": a_br.pk}),
        ("programme:consortium", {"pk": ca.pk}, {"pk": cb.pk}),
        ("programme:grant", {"pk": ga.pk}, {"pk": gb.pk}),
        ("programme:intervention_create", {"grant_pk": ga.pk}, {"grant_pk": gb.pk}),
        ("programme:intervention_edit", {"pk": ia.pk}, {"pk": ib.pk}),
        ("programme:export", {"table": "grants"}, None),
        ("programme:export", {"table": "rollup-area"}, None),
        ("programme:import", {}, None),
    ]


def test_every_view_sends_anonymous_visitors_to_sign_in(world):
    for name, mine, _ in _views(world):
        r = Client().get(reverse(name, kwargs=mine))
        assert r.status_code == 302 and r["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("role", ["caseworker", "offender"])
def test_every_view_is_forbidden_to_caseworkers_and_offender_managers(world, role):
    c = signed_in(world["users"][role])
    for name, mine, _ in _views(world):
        assert c.get(reverse(name, kwargs=mine)).status_code == 403, name
    r = c.get("/api/v1/programme/grants/")
    assert r.status_code == 403


def test_provider_gets_404_for_another_organisations_records(world):
    c = signed_in(world["users"]["alpha"])
    for name, _, theirs in _views(world):
        if theirs is not None:
            assert c.get(reverse(name, kwargs=theirs)).status_code == 404, name


def test_provider_sees_own_records_and_member_not_only_lead(world):
    for who in ("alpha", "gamma"):
        c = signed_in(world["users"][who])
        for name, mine, _ in _views(world):
            expected = 403 if name == "programme:import" else 200
            assert c.get(reverse(name, kwargs=mine)).status_code == expected, (who, name)
    page = signed_in(world["users"]["alpha"]).get(reverse("programme:index")).content.decode()
    assert "Alpha consortium" in page and "Beta consortium" not in page


@pytest.mark.parametrize("role", ["pm", "admin"])
def test_managers_open_every_view_of_every_organisation(world, role):
    c = signed_in(world["users"][role])
    for name, mine, theirs in _views(world):
        for kw in filter(None, (mine, theirs)):
            assert c.get(reverse(name, kwargs=kw)).status_code == 200, (name, kw)


def test_analyst_reads_everything_but_changes_nothing(world):
    c = signed_in(world["users"]["analyst"])
    for name, mine, theirs in _views(world):
        for kw in filter(None, (mine, theirs)):
            expected = 403 if name in ("programme:import", "programme:intervention_create",
                                       "programme:intervention_edit") else 200
            assert c.get(reverse(name, kwargs=kw)).status_code == expected, (name, kw)
    gb = world["grants"][1]
    r = c.post(reverse("programme:grant", kwargs={"pk": gb.pk}), {"to_status": "closed"})
    assert r.status_code == 403
    gb.refresh_from_db()
    assert gb.status == "awarded"


def test_pages_have_no_inline_styles_and_the_map_is_an_image_with_alt_text(world):
    c = signed_in(world["users"]["pm"])
    for name, mine, _ in _views(world):
        r = c.get(reverse(name, kwargs=mine))
        if r["Content-Type"].startswith("text/html"):
            html = r.content.decode()
            assert "style=" not in html and "<style" not in html, name
            assert "<script>" not in html, name
    html = c.get(reverse("programme:area", kwargs={"pk": world["areas"][0].pk})).content.decode()
    assert '<img class="programme-map" src="data:image/svg+xml;base64,' in html
    assert 'alt="Map of Test estate (shaded) within the borough of Southwark"' in html


def test_csrf_is_enforced_on_every_form(world):
    ga = world["grants"][0]
    pm = signed_in(world["users"]["pm"], enforce_csrf_checks=True)
    r = pm.post(reverse("programme:grant", kwargs={"pk": ga.pk}), {"to_status": "closed"})
    assert r.status_code == 403
    f = io.BytesIO(b"x")
    f.name = "x.csv"
    assert pm.post(reverse("programme:import"), {"table": "areas", "file": f}).status_code == 403
    alpha = signed_in(world["users"]["alpha"], enforce_csrf_checks=True)
    r = alpha.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}), _intervention_post())
    assert r.status_code == 403
    ga.refresh_from_db()
    assert ga.status == "awarded" and not Intervention.objects.filter(name="Friday club").exists()
    # with the token from the form it works
    page = alpha.get(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk})).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    r = alpha.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}),
                   _intervention_post(csrfmiddlewaretoken=token))
    assert r.status_code == 302
