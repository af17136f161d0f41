"""The service navigation and footer links, shown to each user according to their permissions.

Each app's entry names its URL and the permission needed to see it (None: everyone). A URL that is
not installed is skipped, so the navigation never links to a page the user cannot open.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

NAV = [
    # (text, url name, permission or None, path prefix for the active state)
    ("Dashboard", "dashboard:overview", "accounts.view_dashboard", "/dashboard/"),
    ("Programme register", "programme:index", "programme.view_register", "/programme/"),
    ("Opportunities", "opportunities:search", None, "/opportunities/"),
    ("API", "api-docs", "accounts.view_dashboard", "/api/"),
    ("Administration", "admin:index", "accounts.change_user", "/admin/"),
]
FOOTER = [
    ("Opportunities for young people", "opportunities:search", None),
    ("API description (OpenAPI)", "api-schema", "accounts.view_dashboard"),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


class _Anonymous:
    is_authenticated = False


def nav(request) -> dict:
    # DRF views (the Swagger UI page) set an anonymous user to None (UNAUTHENTICATED_USER).
    user = getattr(request, "user", None) or _Anonymous()
    items = []
    for text, name, perm, prefix in NAV:
        if perm and not (user.is_authenticated and user.has_perm(perm)):
            continue
        href = _url(name)
        if href:
            items.append({"text": text, "href": href, "active": request.path.startswith(prefix)})
    footer = []
    for text, name, perm in FOOTER:
        if perm and not (user.is_authenticated and user.has_perm(perm)):
            continue
        href = _url(name)
        if href:
            footer.append({"text": text, "href": href})
    roles = sorted(g.name for g in user.groups.all()) if user.is_authenticated else []
    return {"vru_nav": items, "vru_footer": footer, "vru_roles": roles}
