"""Who may see what: the permission helpers every view of the platform uses.

Rules (docs/web.md, "Access rules"):

- an anonymous visitor to a protected page is sent to sign in (302 to the login page);
- a signed-in user without the permission gets 403 (``PermissionDenied``), never the page;
- an object that belongs to another organisation is 404 for a provider's staff (``owned_or_404``):
  a provider is not even told that the record exists.

Views use Django's own ``permission_required`` / ``PermissionRequiredMixin`` (which already behave as
above) or ``require_perms`` below for function views; nothing of authentication is hand-written.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404


def require_perms(*perms: str):
    """Decorator: anonymous -> sign-in redirect; signed in without every ``perms`` -> 403."""

    def deco(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.vru_perms = perms  # read by the authorisation tests, which check every view
        return wrapped

    return deco


class PermsRequired(PermissionRequiredMixin):
    """Class-based views: set ``permission_required``; anonymous -> sign in, wrong role -> 403."""

    raise_exception = False  # Django: 403 for signed-in users, redirect for anonymous ones


def organisation_of(user):
    return getattr(user, "organisation_id", None)


def sees_all_organisations(user, perm: str) -> bool:
    """True if ``user`` holds ``perm`` (e.g. ``programme.view_all``), i.e. is not limited to their own."""
    return user.is_authenticated and user.has_perm(perm)


def owned_or_404(user, obj, org_ids, *, all_perm: str):
    """Return ``obj`` if the user may see every organisation's records (``all_perm``) or if their
    organisation is among ``org_ids`` (the organisations the record belongs to); else raise 404."""
    if sees_all_organisations(user, all_perm):
        return obj
    mine = organisation_of(user)
    if mine is None or mine not in set(org_ids):
        raise Http404("no such record")
    return obj
