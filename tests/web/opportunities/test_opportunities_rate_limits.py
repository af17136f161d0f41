"""The opportunities web app: the password-reset rate limits and their cache."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.core.checks import run_checks
from django.test import Client
from django.urls import reverse
from factories import young_person

pytestmark = pytest.mark.django_db


def test_password_reset_emails_are_limited_per_address_without_a_429():
    """Over the per-address limit the page answers as usual (no 429, so nobody can
    lock the owner out of the page), and no email is sent."""
    young_person("sam@example.org", "Sam")
    url = reverse("password_reset")
    for i in range(3):
        r = Client(REMOTE_ADDR=f"10.1.0.{i + 1}").post(url, {"email": "sam@example.org"})
        assert r.status_code == 302
    assert len(mail.outbox) == 3
    r = Client(REMOTE_ADDR="10.1.0.9").post(url, {"email": "Sam@Example.org "})
    assert r.status_code == 302 and r["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 3
    # an unknown address gets the same answers
    codes = [Client().post(url, {"email": "nobody@example.org"}).status_code for _ in range(4)]
    assert codes == [302, 302, 302, 302] and len(mail.outbox) == 3


def test_password_reset_is_limited_per_client_address():
    c = Client(REMOTE_ADDR="198.51.100.4")
    url = reverse("password_reset")
    assert all(c.post(url, {"email": f"p{i}@example.org"}).status_code == 302 for i in range(20))
    assert c.post(url, {"email": "p20@example.org"}).status_code == 429


def test_rate_limit_cache_passes_django_ratelimit_checks():

    assert "django_ratelimit" in settings.INSTALLED_APPS and settings.RATELIMIT_USE_CACHE == "ratelimit"
    problems = [m for m in run_checks(include_deployment_checks=False) if m.id.startswith("django_ratelimit")
                and m.id not in settings.SILENCED_SYSTEM_CHECKS]
    assert problems == []
    assert set(settings.SILENCED_SYSTEM_CHECKS) >= {"django_ratelimit.W001"}
