"""Rate limits on the pages that send email to an address typed by anyone: young people's sign-up
(``opportunities.views.signup``) and password reset (``accounts.views.RateLimitedPasswordResetView``).

Counting is django-ratelimit's (its cache alias ``ratelimit``, settings.py); the client's address is
the platform's (``RATELIMIT_IP_META_KEY``, trusted-proxy aware). Two different limits:

- **per client address** (:func:`client_over_limit`): every POST counts; over it, the page answers
  "Too many attempts" (HTTP 429, :func:`too_many`). It slows a client that probes or floods.
- **per email address** (:func:`address_may_send`): every email about to be sent counts, per hour and
  per day; over it, *nothing is sent* but the page answers exactly as usual ("check your email"). The
  limit is invisible, so nobody can use it to lock the owner of an address out of the page (they keep
  getting the usual answer, and their emails flow again in the next hour), and it never says whether
  an account has the address (addresses are counted lower-cased, with or without an account).
"""

from __future__ import annotations

from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


def email_key(request) -> str:
    """The address a POST names, as accounts store it (stripped, lower-cased); "" if none."""
    return (request.POST.get("email") or "").strip().lower()


def client_over_limit(request, group: str, rate: str) -> bool:
    """Count this POST against ``group``'s per-client-address limit (a rate such as ``"20/h"``) and say
    whether it is exceeded."""
    return is_ratelimited(request, group=f"{group}:ip", key="ip", rate=rate, method="POST", increment=True)


def address_may_send(request, group: str, address: str, *, per_hour: str, per_day: str) -> bool:
    """Count one email to ``address`` (lower-cased here) against ``group``'s per-address limits and say
    whether it may be sent. Over either limit the caller sends nothing and answers as usual."""
    address = address.strip().lower()
    over = False
    for suffix, rate in (("address", per_hour), ("address-day", per_day)):
        over = is_ratelimited(request, group=f"{group}:{suffix}", key=lambda _g, _r: address, rate=rate,
                              method="POST", increment=True) or over
    return not over


def too_many(request, what: str, again: str = "in an hour"):
    """The GOV.UK page for a request over its limit (HTTP 429 Too Many Requests)."""
    return render(request, "accounts/rate_limited.html", {"what": what, "again": again}, status=429)
