"""Platform-wide authorisation: every URL of every app, including pages added later, follows the rules
of docs/web.md ("Access rules"):

- a page is either deliberately public (in its app's ``PUBLIC_VIEWS``, in ``urls.py`` or ``api.py``) or
  protected: an anonymous visitor is sent to sign in (HTML; the admin's own sign-in for /admin/) or
  refused with 401/403 (JSON API), even for a record that does not exist (a 404 before the sign-in
  check would tell a stranger which records exist);
- a signed-in user with no role gets 403 on every protected page (the admin sends non-staff to its
  sign-in page); views every signed-in user may use are listed in the app's ``LOGIN_ONLY_VIEWS``;
- a POST without a CSRF token is refused (403) everywhere, signed in or not.

(No secret is in the repository: test_platform_secrets.py.)

The URL map is walked with ``get_resolver()``; URL parameters get values that match their converter or
regular expression (no such record exists), or the values in ``URL_KWARGS`` below.
Per-object rules (another organisation's record is 404 for a provider) are tested by each app.
"""

from __future__ import annotations

import importlib
import itertools
import re
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from factories import signed_in, user

pytestmark = pytest.mark.django_db

# URL names public by design of Django or the platform, beyond the apps' PUBLIC_VIEWS: the admin's own
# sign-in and sign-out pages and its "view on site" redirect (it reveals only a public URL), and the OpenAPI
# description and its Swagger UI (they describe the API; every endpoint still checks its permission).
PLATFORM_PUBLIC = {"admin:login", "admin:logout", "admin:view_on_site", "api-schema", "api-docs"}

# Values for URL parameters that the generic candidates below cannot fill, by URL name.
URL_KWARGS: dict[str, dict[str, str]] = {}

# Tried in order for each parameter until the URL reverses: a number no record has, a UUID, a word,
# an app label the admin knows, a format suffix, a 64-digit hex digest.
CANDIDATES = ["987654", str(uuid.UUID(int=987654)), "no-such-thing", "accounts", "json", "0" * 64]


@dataclass(frozen=True)
class Route:
    name: str | None  # "namespace:name", or None for an unnamed pattern
    route: str  # the pattern as written, for messages
    params: tuple[str, ...]

    def url(self) -> str:
        """A URL for this pattern (reverse() with values that satisfy every parameter)."""
        if self.name is None:
            return "/" + _fill_route(self.route)
        given = URL_KWARGS.get(self.name, {})
        todo = [p for p in self.params if p not in given]
        for values in itertools.product(CANDIDATES, repeat=len(todo)):
            kwargs = {**given, **dict(zip(todo, values, strict=True))}
            try:
                return reverse(self.name, kwargs=kwargs or None)
            except NoReverseMatch:
                continue
        raise AssertionError(f"{self.name} ({self.route}): no value fits its parameters {self.params}; "
                             "add them to URL_KWARGS in tests/web/platform/test_platform_authz.py")

    @property
    def label(self) -> str:
        return f"{self.name or 'unnamed pattern'} {self.url()}"

    @property
    def is_api(self) -> bool:
        return self.url().startswith("/api/")

    @property
    def is_admin(self) -> bool:
        """Django's admin (its unnamed patterns too: the object redirect and the catch-all)."""
        return (self.name or "").startswith("admin:") or self.route.startswith("admin/")


def _fill_route(route: str) -> str:
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "no-such-thing", route)
    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "987654" if m.group(1) == "int" else "no-such-thing",
                   route)
    return route.replace("^", "").replace("$", "")


def _params(pattern) -> tuple[str, ...]:
    conv = getattr(pattern, "converters", None)
    if conv:
        return tuple(conv)
    regex = getattr(pattern, "regex", None)
    return tuple(regex.groupindex) if regex is not None else ()


def routes() -> list[Route]:
    """Every URL pattern of the platform, once per (name, parameter set)."""
    out: dict[tuple, Route] = {}

    def walk(patterns, namespace: str, prefix: str, params: tuple):
        for p in patterns:
            here = prefix + str(p.pattern)
            ps = params + _params(p.pattern)
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, ns, here, ps)
            elif isinstance(p, URLPattern):
                name = f"{namespace}{p.name}" if p.name else None
                key = (name, frozenset(ps)) if name else (here,)
                out.setdefault(key, Route(name, here, ps))

    walk(get_resolver().url_patterns, "", "", ())
    return sorted(out.values(), key=lambda r: (r.name or "", r.route))


def _declared(attribute: str, module_names: tuple[str, ...]) -> set[str]:
    """The URL names each app lists in ``attribute`` of its modules ``module_names`` (namespaced)."""
    names = set()
    for app in settings.INSTALLED_APPS:
        if not app.startswith("vru.web."):
            continue
        for module_name in module_names:
            try:
                module = importlib.import_module(f"{app}.{module_name}")
            except ModuleNotFoundError:
                continue
            namespace = getattr(module, "app_name", None)
            for n in getattr(module, attribute, ()):
                names.add(f"{namespace}:{n}" if namespace and ":" not in n else n)
    return names


def public_names() -> set[str]:
    """The URL names the apps declare public (``PUBLIC_VIEWS`` of each app's urls.py and api.py)."""
    return set(PLATFORM_PUBLIC) | _declared("PUBLIC_VIEWS", ("urls", "api"))


def login_only_names() -> set[str]:
    """The URL names every signed-in user may use (``LOGIN_ONLY_VIEWS`` of each app's urls.py)."""
    return _declared("LOGIN_ONLY_VIEWS", ("urls",))


ROUTES = routes()
PUBLIC = public_names()
PROTECTED = [r for r in ROUTES if r.name not in PUBLIC]


def _to_sign_in(route: Route, response) -> bool:
    if response.status_code != 302:
        return False
    login = reverse("admin:login") if route.is_admin else reverse(settings.LOGIN_URL)
    return response["Location"].split("?")[0] == login


def _report(problems: list[str], what: str) -> str:
    return f"{len(problems)} URL(s) {what}:\n  " + "\n  ".join(problems)


# --- the URL map itself ------------------------------------------------------------------------------


def test_the_walk_finds_every_app_and_the_public_lists_name_real_urls():
    names = {r.name for r in ROUTES}
    assert {"home", "login", "password_reset", "admin:index", "api-schema"} <= names
    unknown = sorted(PUBLIC - names - PLATFORM_PUBLIC)
    assert not unknown, f"PUBLIC_VIEWS name URLs that do not exist: {unknown}"
    unknown = sorted(login_only_names() - names)
    assert not unknown, f"LOGIN_ONLY_VIEWS name URLs that do not exist: {unknown}"
    assert not login_only_names() & PUBLIC, "a view cannot be both public and login-only"


def test_every_url_pattern_has_a_name():
    unnamed = [f"{r.route}" for r in ROUTES if r.name is None and not r.is_admin]
    assert not unnamed, _report(unnamed, "have no name, so they cannot be listed as public or checked "
                                         "by name: give each a name=")


# --- anonymous visitors ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_or_refused_everywhere_not_public():
    c = Client()
    problems = []
    for route in PROTECTED:
        url = route.url()
        r = c.get(url)
        if route.is_api:
            if r.status_code not in (401, 403):
                problems.append(f"{route.label}: anonymous GET got {r.status_code}, expected 401/403 "
                                "(protect the API view, or list it in PUBLIC_VIEWS of the app's api.py)")
            continue
        if r.status_code == 405:  # a POST-only view: the POST must be refused instead
            r = c.post(url)
            if not (_to_sign_in(route, r) or r.status_code == 403):
                problems.append(f"{route.label}: anonymous POST got {r.status_code} "
                                f"{r.get('Location', '')}, expected a redirect to sign in")
            continue
        if not _to_sign_in(route, r):
            hint = ("a 404 before the sign-in check tells strangers which records exist: check "
                    "permissions first (require_perms / PermsRequired)") if r.status_code == 404 else (
                    "protect it with require_perms / PermsRequired, or list it in the app's PUBLIC_VIEWS")
            problems.append(f"{route.label}: anonymous GET got {r.status_code} "
                            f"{r.get('Location', '')}, expected a redirect to sign in; {hint}")
    assert not problems, _report(problems, "are open to anonymous visitors")


def test_anonymous_posts_to_protected_urls_are_refused():
    c = Client()
    problems = []
    for route in PROTECTED:
        r = c.post(route.url(), {"x": "1"})
        if not (_to_sign_in(route, r) or r.status_code in (401, 403, 405)):
            problems.append(f"{route.label}: anonymous POST got {r.status_code} {r.get('Location', '')}")
    assert not problems, _report(problems, "accept an anonymous POST")


def test_public_pages_answer_anonymous_visitors_without_error():
    c = Client()
    problems = []
    for route in ROUTES:
        if route.name in PUBLIC:
            r = c.get(route.url())
            if r.status_code >= 500:
                problems.append(f"{route.label}: {r.status_code}")
    assert not problems, _report(problems, "fail for anonymous visitors")


# --- signed in without a role ------------------------------------------------------------------------


@pytest.fixture
def no_role_client() -> Client:
    return signed_in(user("no.role@example.org", full_name="No Role"))


def test_a_signed_in_user_with_no_role_is_refused_every_protected_page(no_role_client):
    c = no_role_client
    login_only = login_only_names()
    problems = []
    for route in PROTECTED:
        if route.name in login_only:
            continue
        url = route.url()
        r = c.get(url)
        if route.is_admin:  # Django's admin sends users who are not staff to its own sign-in page
            if not (_to_sign_in(route, r) or r.status_code == 403):
                problems.append(f"{route.label}: got {r.status_code}, expected the admin sign-in page")
            continue
        if r.status_code == 405:
            r = c.post(url)
        if r.status_code != 403:
            hint = ("a 404 before the permission check tells which records exist"
                    if r.status_code == 404 else
                    "check a permission (require_perms / PermsRequired / DRF permission_classes), or "
                    "list it in the app's LOGIN_ONLY_VIEWS if every signed-in user may use it")
            problems.append(f"{route.label}: got {r.status_code}, expected 403; {hint}")
    assert not problems, _report(problems, "are open to a signed-in user with no role")


# --- CSRF --------------------------------------------------------------------------------------------


def test_a_post_without_a_csrf_token_is_refused_everywhere():
    """Signed in as a superuser (so no permission check can refuse first) and anonymously. Every view
    that takes a POST must answer 403; views that take none answer 405 (DRF's read-only views, which
    are exempt from Django's CSRF middleware and enforce CSRF themselves for signed-in users)."""
    admin = user("root@example.org", is_staff=True, is_superuser=True)
    superuser = signed_in(admin, enforce_csrf_checks=True)
    anonymous = Client(enforce_csrf_checks=True)
    problems = []
    for route in ROUTES:
        for who, c in (("superuser", superuser), ("anonymous", anonymous)):
            r = c.post(route.url(), {"x": "1"})
            if r.status_code in (403, 405):  # refused, or a view that takes no POST at all
                continue
            if who == "anonymous" and route.name not in PUBLIC and _to_sign_in(route, r):
                continue  # refused before anything could happen
            problems.append(f"{route.label}: {who} POST without a CSRF token got {r.status_code}")
    assert not problems, _report(problems, "do not enforce CSRF")
