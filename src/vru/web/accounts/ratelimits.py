"""Rate limits on the pages that send email to an address typed by anyone: young people's sign-up
(``opportunities.views.signup``) and password reset (``accounts.views.RateLimitedPasswordResetView``).

Counting is django-ratelimit's (its cache alias ``ratelimit``, settings.py); the client's address is
the platform's (``RATELIMIT_IP_META_KEY``, trusted-proxy aware). Each POST counts once per client address
and once per email address (lower-cased, as accounts store it), whether or not an account has that
address, so being limited says nothing about which addresses have accounts.
"""

from __future__ import annotations

from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


def email_key(request) -> str:
    """The address a POST names, as accounts store it (stripped, lower-cased); "" if none."""
    return (request.POST.get("email") or "").strip().lower()


def over_limit(request, group: str, *, per_address: str, per_ip: str) -> bool:
    """Count this POST against ``group``'s two limits (rates such as ``"5/h"``) and say whether either
    is exceeded. Both counters are incremented on every call."""
    by_ip = is_ratelimited(request, group=f"{group}:ip", key="ip", rate=per_ip, method="POST",
                           increment=True)
    address = email_key(request)
    by_address = bool(address) and is_ratelimited(
        request, group=f"{group}:address", key=lambda _group, _request: address, rate=per_address,
        method="POST", increment=True)
    return by_ip or by_address


def too_many(request, what: str, again: str = "in an hour"):
    """The GOV.UK page for a request over its limit (HTTP 429 Too Many Requests)."""
    return render(request, "accounts/rate_limited.html", {"what": what, "again": again}, status=429)
