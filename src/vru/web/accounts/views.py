"""The home page: a public landing page for visitors, and for a signed-in user the parts of the
platform their roles let them use.

``/`` is public on purpose (listed in ``urls.PUBLIC_VIEWS``): a young person who reaches the site
finds the opportunities from it without an account, and staff find the way to sign in. It shows no
data; every link it offers to a signed-in user is checked against that user's permissions.
"""

from __future__ import annotations

from django.contrib.auth.views import PasswordResetView
from django.http import HttpResponseRedirect
from django.shortcuts import render

from vru.web.core.nav import STAFF, may_see, url_or_none

from . import ratelimits

# Password-reset emails: at most 3 an hour and 10 a day to one address (beyond them nothing is sent, and
# the page answers as usual); at most 20 requests an hour from one client address (beyond: 429).
RESET_RATE_PER_ADDRESS, RESET_RATE_PER_ADDRESS_DAY, RESET_RATE_PER_IP = "3/h", "10/d", "20/h"

# (title, description, url name, permission or STAFF or None: see core.nav.may_see). A link whose URL
# is not installed is skipped, so the page never offers a page that does not exist.
HOME_LINKS = [
    ("Dashboard", "Violence, hot spots, drivers and evaluation from the analysis warehouse.",
     "dashboard:overview", "accounts.view_dashboard"),
    ("Programme register", "MyEnds areas, consortia, grants, interventions and what they delivered.",
     "programme:index", "programme.view_register"),
    ("Your organisation's opportunities", "Post and manage opportunities, and see who signed up.",
     "opportunities:provider_list", "opportunities.add_opportunity"),
    ("Moderation", "Approve or reject opportunities that providers have posted.",
     "opportunities:moderation", "opportunities.moderate_opportunity"),
    ("Provider organisations", "Verify providers before their staff may post opportunities.",
     "opportunities:organisations", "opportunities.verify_provider"),
    ("Your opportunities", "The opportunities you saved and signed up for.",
     "opportunities:mine", "opportunities.view_favourite"),
    ("Opportunities for young people", "Activities, jobs, apprenticeships and training near you.",
     "opportunities:search", None),
    ("API documentation", "The read-only JSON API and its OpenAPI description.",
     "api-docs", "accounts.view_dashboard"),
    ("Administration", "Users, roles, organisations and the audit log.",
     "admin:index", STAFF),
]


def links_for(user) -> list[dict]:
    """The home-page links ``user`` may follow (anonymous visitors: the public ones only)."""
    out = []
    for title, text, name, perm in HOME_LINKS:
        if not may_see(user, perm):
            continue
        href = url_or_none(name)
        if href:
            out.append({"title": title, "text": text, "href": href})
    return out


def home(request):
    if not request.user.is_authenticated:
        return render(request, "accounts/landing.html",
                      {"opportunities_url": url_or_none("opportunities:search")})
    links = links_for(request.user)
    return render(request, "accounts/home.html", {"roles": request.user.roles, "links": links})


class RateLimitedPasswordResetView(PasswordResetView):
    """Django's password reset (its form, token and email), with limits (``ratelimits``): over the
    per-client-address limit, the GOV.UK "Too many attempts" page (HTTP 429) and nothing is sent; over
    the per-email-address limits, the usual answer ("check your email") and nothing is sent, so that
    nobody can lock the owner of an address out of resetting their password. Counted for every address,
    known or not, so no limit tells which addresses have accounts."""

    def post(self, request, *args, **kwargs):
        if ratelimits.client_over_limit(request, "password-reset", RESET_RATE_PER_IP):
            return ratelimits.too_many(request, "reset a password")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if not ratelimits.address_may_send(self.request, "password-reset", form.cleaned_data["email"],
                                           per_hour=RESET_RATE_PER_ADDRESS,
                                           per_day=RESET_RATE_PER_ADDRESS_DAY):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
