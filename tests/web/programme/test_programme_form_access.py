"""The programme web app: who may open the create and edit forms, the links to them and CSRF on them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from factories import signed_in
from programme_helpers import _consortium_post, _form_area_post, _form_counts, _grant_post

from vru.web.accounts.models import User
from vru.web.programme.models import Grant

pytestmark = pytest.mark.django_db


def _pages(w):
    area, cons, (bid, _) = w["areas"][0], w["consortium"], w["grants"]
    return [
        ("programme:area_create", {}),
        ("programme:area_edit", {"pk": area.pk}),
        ("programme:consortium_create", {}),
        ("programme:consortium_edit", {"pk": cons.pk}),
        ("programme:grant_create", {}),
        ("programme:grant_edit", {"pk": bid.pk}),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(forms_world):
    for name, kw in _pages(forms_world):
        for method in ("get", "post"):
            r = getattr(Client(), method)(reverse(name, kwargs=kw))
            assert r.status_code == 302 and r["Location"].startswith(reverse("login")), (name, method)


@pytest.mark.parametrize("role", ["caseworker", "provider", "analyst"])
def test_caseworkers_providers_and_analysts_are_forbidden_and_change_nothing(forms_world, role):
    c = signed_in(forms_world["users"][role])
    before = _form_counts()
    posts = {"programme:area_create": _form_area_post(), "programme:area_edit": _form_area_post(),
             "programme:consortium_create": _consortium_post(forms_world),
             "programme:consortium_edit": _consortium_post(forms_world),
             "programme:grant_create": _grant_post(forms_world),
             "programme:grant_edit": _grant_post(forms_world)}
    for name, kw in _pages(forms_world):
        assert c.get(reverse(name, kwargs=kw)).status_code == 403, (role, name)
        assert c.post(reverse(name, kwargs=kw), posts[name]).status_code == 403, (role, name)
    assert _form_counts() == before
    forms_world["areas"][0].refresh_from_db()
    assert forms_world["areas"][0].name == "Test estate"


def test_provider_staff_never_edit_even_if_given_the_manage_permission(forms_world):
    provider = forms_world["users"]["provider"]
    provider.user_permissions.add(Permission.objects.get(codename="manage_programme"))
    provider = User.objects.get(pk=provider.pk)  # fresh permission cache
    assert provider.has_perm("accounts.manage_programme")
    c = signed_in(provider)
    for name, kw in _pages(forms_world):
        assert c.get(reverse(name, kwargs=kw)).status_code == 403, name


@pytest.mark.parametrize("role", ["pm", "admin"])
def test_programme_managers_and_administrators_open_every_page(forms_world, role):
    c = signed_in(forms_world["users"][role])
    for name, kw in _pages(forms_world):
        r = c.get(reverse(name, kwargs=kw))
        assert r.status_code == 200, name
        html = r.content.decode()
        assert 'name="csrfmiddlewaretoken"' in html, name
        assert "style=" not in html and "<style" not in html and "<script>" not in html, name


def test_edit_pages_of_missing_records_are_404(forms_world):
    c = signed_in(forms_world["users"]["pm"])
    for name in ("programme:area_edit", "programme:consortium_edit", "programme:grant_edit"):
        assert c.get(reverse(name, kwargs={"pk": 99999})).status_code == 404, name


def test_links_to_the_forms_are_shown_only_to_those_who_may_use_them(forms_world):
    area, cons, (bid, _) = forms_world["areas"][0], forms_world["consortium"], forms_world["grants"]
    pages = [reverse("programme:index"), reverse("programme:area", kwargs={"pk": area.pk}),
             reverse("programme:consortium", kwargs={"pk": cons.pk}),
             reverse("programme:grant", kwargs={"pk": bid.pk})]
    links = {
        pages[0]: [reverse("programme:area_create"), reverse("programme:consortium_create"),
                   reverse("programme:grant_create"), reverse("programme:area_edit", kwargs={"pk": area.pk})],
        pages[1]: [reverse("programme:area_edit", kwargs={"pk": area.pk}),
                   f'{reverse("programme:consortium_create")}?area={area.pk}'],
        pages[2]: [reverse("programme:consortium_edit", kwargs={"pk": cons.pk}),
                   f'{reverse("programme:grant_create")}?consortium={cons.pk}'],
        pages[3]: [reverse("programme:grant_edit", kwargs={"pk": bid.pk})],
    }
    pm = signed_in(forms_world["users"]["pm"])
    for page, hrefs in links.items():
        html = pm.get(page).content.decode()
        for href in hrefs:
            assert f'href="{href}"' in html, (page, href)
    for role in ("analyst", "provider"):
        c = signed_in(forms_world["users"][role])
        for page in pages:
            html = c.get(page).content.decode()
            for hrefs in links.values():
                for href in hrefs:
                    assert f'href="{href}"' not in html, (role, page, href)


def test_csrf_is_enforced_on_every_form(forms_world):
    pm = forms_world["users"]["pm"]
    c = signed_in(pm, enforce_csrf_checks=True)
    before = _form_counts()
    posts = {"programme:area_create": _form_area_post(), "programme:area_edit": _form_area_post(),
             "programme:consortium_create": _consortium_post(forms_world),
             "programme:consortium_edit": _consortium_post(forms_world),
             "programme:grant_create": _grant_post(forms_world),
             "programme:grant_edit": _grant_post(forms_world)}
    for name, kw in _pages(forms_world):
        assert c.post(reverse(name, kwargs=kw), posts[name]).status_code == 403, name
    assert _form_counts() == before
    # with the token from the form it works
    url = reverse("programme:grant_create")
    page = c.get(url).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert c.post(url, _grant_post(forms_world, csrfmiddlewaretoken=token)).status_code == 302
    assert Grant.objects.filter(reference="T-NEW").exists()
