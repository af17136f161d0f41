"""The ``logout`` view, ``/accounts/logout/``: signing out (after signing in) ends the session."""

from __future__ import annotations

import pytest
from accounts_helpers import is_signed_in, login
from django.test import Client
from django.urls import reverse
from factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_then_logout(alice):
    c = Client()
    r = login(c, "alice@example.org", PASSWORD)
    assert r.status_code == 302 and r["Location"] == reverse("home")
    assert is_signed_in(c)
    r = c.get(reverse("home"))
    assert r.status_code == 200
    assert b"Welcome, Alice Analyst" in r.content
    r = c.post(reverse("logout"))
    assert r.status_code == 302
    assert not is_signed_in(c)
