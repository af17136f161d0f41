"""The service navigation and footer links, shown to each user according to their permissions.

Each app's entry names its URL and the permission needed to see it (None: everyone). A URL that is
not installed is skipped, so the navigation never links to a page the user cannot open.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

STAFF = "staff"  # instead of a permission: Django's admin, which only staff may open

NAV = [
    # (text, url name, permission or STAFF or None, path prefix for the active state)
    ("Dashboard", "dashboard:overview", "accounts.view_dashboard", "/dashboard/"),
    ("Programme register", "programme:index", "programme.view_register", "/programme/"),
    ("Opportunities", "opportunities:search", None, "/opportunities/"),
    ("Survey results", "survey:results", "survey.view_results", "/survey/"),
    # GPS tagging: offender managers land on their wearers, police analysts on their force's matches (one
    # link: the first entry of a text the user may see wins). The unit's figures are linked from the
    # dashboard overview; administrators hold view_figures only to give the unit's roles.
    ("GPS tagging", "tagging:wearers", "tagging.view_wearer", "/tagging/"),
    ("GPS tagging", "tagging:matches", "tagging.view_match", "/tagging/"),
    ("Referrals", "referrals:cases", "referrals.view_case", "/referrals/"),
    ("Refer a young person", "referrals:mine", "referrals.add_referral", "/referrals/mine/"),
    ("Intelligence", "referrals:intelligence", "referrals.view_intelligence", "/referrals/intelligence/"),
    ("Referral figures", "referrals:reports", "referrals.view_reports", "/referrals/reports/"),
    ("API", "api-docs", "accounts.view_dashboard", "/api/"),
    ("Administration", "admin:index", STAFF, "/admin/"),
]
FOOTER = [
    ("Opportunities for young people", "opportunities:search", None),
    ("API description (OpenAPI)", "api-schema", "accounts.view_dashboard"),
]


def may_see(user, perm: str | None) -> bool:
    """Whether ``user`` is shown a link that needs ``perm`` (None: everyone; :data:`STAFF`: active
    staff, the admin site's own test). The one rule for the navigation and the home page."""
    if perm is None:
        return True
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_staff if perm == STAFF else user.has_perm(perm)


def url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


class _Anonymous:
    is_authenticated = False
    is_active = False


def nav(request) -> dict:
    # DRF views (the Swagger UI page) set an anonymous user to None (UNAUTHENTICATED_USER).
    user = getattr(request, "user", None) or _Anonymous()
    items = []
    for text, name, perm, prefix in NAV:
        if not may_see(user, perm) or any(i["text"] == text for i in items):
            continue
        href = url_or_none(name)
        if href:
            items.append({"text": text, "href": href, "active": request.path.startswith(prefix)})
    footer = []
    for text, name, perm in FOOTER:
        if not may_see(user, perm):
            continue
        href = url_or_none(name)
        if href:
            footer.append({"text": text, "href": href})
    roles = sorted(g.name for g in user.groups.all()) if user.is_authenticated else []
    return {"vru_nav": items, "vru_footer": footer, "vru_roles": roles}
