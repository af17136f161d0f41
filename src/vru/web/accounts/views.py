"""The home page: a public landing page for visitors, and for a signed-in user the parts of the
platform their roles let them use.

``/`` is public on purpose (listed in ``urls.PUBLIC_VIEWS``): a young person who reaches the site
finds the opportunities from it without an account, and staff find the way to sign in. It shows no
data; every link it offers to a signed-in user is checked against that user's permissions.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

# (title, description, url name, permission or None, needs is_staff). A link whose URL is not
# installed is skipped, so the page never offers a page that does not exist.
HOME_LINKS = [
    ("Dashboard", "Violence, hot spots, drivers and evaluation from the analysis warehouse.",
     "dashboard:overview", "accounts.view_dashboard", False),
    ("Programme register", "MyEnds areas, consortia, grants, interventions and what they delivered.",
     "programme:index", "programme.view_register", False),
    ("Your organisation's opportunities", "Post and manage opportunities, and see who signed up.",
     "opportunities:provider_list", "opportunities.add_opportunity", False),
    ("Moderation", "Approve or reject opportunities that providers have posted.",
     "opportunities:moderation", "opportunities.moderate_opportunity", False),
    ("Provider organisations", "Verify providers before their staff may post opportunities.",
     "opportunities:organisations", "opportunities.verify_provider", False),
    ("Your opportunities", "The opportunities you saved and signed up for.",
     "opportunities:mine", "opportunities.view_favourite", False),
    ("Opportunities for young people", "Activities, jobs, apprenticeships and training near you.",
     "opportunities:search", None, False),
    ("API documentation", "The read-only JSON API and its OpenAPI description.",
     "api-docs", "accounts.view_dashboard", False),
    ("Administration", "Users, roles, organisations and the audit log.",
     "admin:index", None, True),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def links_for(user) -> list[dict]:
    """The home-page links ``user`` may follow (anonymous visitors: the public ones only)."""
    out = []
    for title, text, name, perm, staff in HOME_LINKS:
        if perm and not (user.is_authenticated and user.has_perm(perm)):
            continue
        if staff and not (user.is_authenticated and user.is_active and user.is_staff):
            continue
        href = _url(name)
        if href:
            out.append({"title": title, "text": text, "href": href})
    return out


def home(request):
    if not request.user.is_authenticated:
        return render(request, "accounts/landing.html", {"opportunities_url": _url("opportunities:search")})
    links = links_for(request.user)
    return render(request, "accounts/home.html", {"roles": request.user.roles, "links": links})
