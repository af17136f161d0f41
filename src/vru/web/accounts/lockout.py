"""The lockout's user name, and its ceiling per account.

django-axes locks a user name *and* client pair after ``AXES_FAILURE_LIMIT`` (5) failures, so that one
attacker cannot lock a user out everywhere. Alone, that lets an attacker with many addresses (a botnet,
or the many /64 networks of one IPv6 allocation) try a password list against one account, 4 guesses per
address. :class:`UsernameCeilingBackend` adds a ceiling per account, whatever the address:
``VRU_WEB_LOCKOUT_USERNAME_LIMIT`` (50) failures for one user name, from all addresses together, within
the cool-off (``AXES_COOLOFF_TIME``, an hour) lock that account for everyone, with the same locked-out
page (429).

Why not axes's own settings: ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["username"]]``
combines the two with OR under one ``AXES_FAILURE_LIMIT`` (axes counts the largest of the two), so any
account would be locked everywhere after 5 failures from anywhere. Why not django-ratelimit on the sign-in
view: it would count successful sign-ins too, in a per-host file cache that is not exact, and only on
``/accounts/login/`` (not ``/admin/login/``). The ceiling reads the failures axes has already recorded in
the database (``AccessAttempt``): exact, shared by every host, failures only, on every sign-in path, and
``python -m django axes_reset`` clears it with the rest.
"""

from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

DEFAULT_USERNAME_LIMIT = 50


def lockout_username(request, credentials: dict | None) -> str | None:
    """The email address from the login credentials (or the POSTed form), lower-cased and stripped.

    Lower-casing stops ``Alice@x`` and ``alice@x`` counting as different users; the form field is
    ``username`` (Django's AuthenticationForm) while backends may pass ``email`` (USERNAME_FIELD).
    """
    value = None
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    if not value and request is not None:
        data = getattr(request, "POST", None) or {}
        value = data.get("username") or data.get("email")
    return value.strip().lower() if value else None


def username_failures(username: str, request=None) -> int:
    """Failed sign-ins for ``username`` from every address within the cool-off, as axes recorded them."""
    since = timezone.now() - get_cool_off(request)
    total = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
             .aggregate(n=Sum("failures_since_start"))["n"])
    return total or 0


class UsernameCeilingBackend:
    """An authentication backend that authenticates no one: listed after axes's backend, it refuses a
    sign-in (the locked-out page) for a user name that has reached the ceiling (module docstring)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        name = lockout_username(request, {"username": username, **kwargs})
        limit = getattr(settings, "VRU_WEB_LOCKOUT_USERNAME_LIMIT", DEFAULT_USERNAME_LIMIT)
        if name and username_failures(name, request) >= limit:
            request.axes_locked_out = True  # axes's middleware answers with the locked-out page
            raise AxesBackendPermissionDenied("too many failed sign-ins for this account")
        return None

    # No get_user(): it authenticates no one, and Django's force_login() and session look-ups take the
    # first backend that has one.
