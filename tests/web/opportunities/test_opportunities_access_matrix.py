"""The opportunities web app: every role against every page, and CSRF on every form."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from factories import LAMBETH, opportunity, signed_in, user, young_person
from opportunities_helpers import _form_data

from vru.web.opportunities import bookings
from vru.web.opportunities.models import Registration
from vru.web.opportunities.urls import PUBLIC_VIEWS

pytestmark = pytest.mark.django_db


def _protected(opp_pk: int, reg_pk: int, org_pk: int) -> dict[str, tuple[str, str]]:
    """url name -> (method, url) for every non-public page."""
    r = reverse
    return {
        "mine": ("get", r("opportunities:mine")),
        "favourite": ("post", r("opportunities:favourite", args=[opp_pk])),
        "register": ("get", r("opportunities:register", args=[opp_pk])),
        "cancel": ("post", r("opportunities:cancel", args=[reg_pk])),
        "provider_list": ("get", r("opportunities:provider_list")),
        "provider_new": ("get", r("opportunities:provider_new")),
        "provider_detail": ("get", r("opportunities:provider_detail", args=[opp_pk])),
        "provider_edit": ("get", r("opportunities:provider_edit", args=[opp_pk])),
        "provider_archive": ("get", r("opportunities:provider_archive", args=[opp_pk])),
        "provider_registrations": ("get", r("opportunities:provider_registrations", args=[opp_pk])),
        "moderation": ("get", r("opportunities:moderation")),
        "moderate": ("get", r("opportunities:moderate", args=[opp_pk])),
        "organisations": ("get", r("opportunities:organisations")),
        "verify": ("post", r("opportunities:verify", args=[org_pk])),
    }


def test_public_pages_need_no_account():
    opp = opportunity()
    urls = {
        "search": reverse("opportunities:search"), "detail": reverse("opportunities:detail", args=[opp.pk]),
        "signup": reverse("opportunities:signup"),
        "signup_check_email": reverse("opportunities:signup_check_email"),
        "signup_confirm": reverse("opportunities:signup_confirm", args=["MQ", "no-such-token"]),
        "shortlist": reverse("opportunities:shortlist") + f"?ids={opp.pk}",
        "shortlist_print": reverse("opportunities:shortlist_print") + f"?ids={opp.pk}",
        "borough_map": reverse("opportunities:borough_map", args=[LAMBETH]),
        "venue_map": reverse("opportunities:venue_map", args=[opp.pk]),
    }
    assert set(urls) == set(PUBLIC_VIEWS)
    for url in urls.values():
        r = Client().get(url)
        assert r.status_code == 200, url
        assert opp.title in r.content.decode() or "sign-up" in url or url.endswith(".svg")
    assert "This link has expired" in Client().get(urls["signup_confirm"], follow=True).content.decode()


def test_every_protected_page_sends_anonymous_visitors_to_sign_in_and_refuses_the_wrong_role(provider):
    from vru.web.opportunities import urls

    opp = opportunity(provider=provider.organisation, capacity=3)
    reg = bookings.register(young_person(), opp, shared_name="Sam")
    pages = _protected(opp.pk, reg.pk, provider.organisation_id)
    names = {p.name for p in urls.urlpatterns}
    assert set(pages) | set(PUBLIC_VIEWS) == names  # every page is checked
    analyst = signed_in(user("analyst@example.org", "analyst"))
    for name, (method, url) in pages.items():
        r = getattr(Client(), method)(url)
        assert r.status_code == 302 and r.headers["Location"].startswith(reverse("login")), name
        assert getattr(analyst, method)(url).status_code == 403, name


def test_a_young_person_cannot_reach_provider_or_moderator_pages_and_a_provider_cannot_moderate(provider):
    opp = opportunity(provider=provider.organisation)
    yp = signed_in(young_person())
    for name in ("provider_list", "provider_new", "moderation", "organisations"):
        assert yp.get(reverse(f"opportunities:{name}")).status_code == 403
    assert yp.get(reverse("opportunities:provider_registrations", args=[opp.pk])).status_code == 403
    pc = signed_in(provider)
    assert pc.get(reverse("opportunities:moderation")).status_code == 403
    assert pc.get(reverse("opportunities:moderate", args=[opp.pk])).status_code == 403
    assert pc.post(reverse("opportunities:verify", args=[provider.organisation_id]),
                   {"verified": "1"}).status_code == 403


def test_another_organisations_opportunity_is_404(provider, other_provider):
    opp = opportunity(provider=provider.organisation)
    c = signed_in(other_provider)
    for name in ("provider_detail", "provider_edit", "provider_archive", "provider_registrations"):
        assert c.get(reverse(f"opportunities:{name}", args=[opp.pk])).status_code == 404, name
    assert c.post(reverse("opportunities:provider_edit", args=[opp.pk]), _form_data()).status_code == 404
    archive = reverse("opportunities:provider_archive", args=[opp.pk])
    assert c.post(archive, {"reason": "x"}).status_code == 404
    opp.refresh_from_db()
    assert opp.status == "published"


@pytest.mark.parametrize("name", ["favourite", "register", "verify", "moderate", "provider_new", "signup"])
def test_csrf_is_enforced(name, provider, moderator):
    opp = opportunity(provider=provider.organisation, status="pending", capacity=3)
    live = opportunity(provider=provider.organisation, title="live", capacity=3)
    who = {"favourite": young_person, "register": young_person,
           "verify": lambda: user("a@example.org", "administrator"),
           "moderate": lambda: moderator, "provider_new": lambda: provider, "signup": lambda: None}[name]()
    args = {"favourite": [live.pk], "register": [live.pk], "verify": [provider.organisation_id],
            "moderate": [opp.pk], "provider_new": [], "signup": []}[name]
    c = signed_in(who, enforce_csrf_checks=True)
    data = {"action": "approve", "verified": "0"} if name in ("moderate", "verify") else _form_data()
    assert c.post(reverse(f"opportunities:{name}", args=args), data).status_code == 403
    opp.refresh_from_db()
    assert opp.status == "pending" and not Registration.objects.exists()
