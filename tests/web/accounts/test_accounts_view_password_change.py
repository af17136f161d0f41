"""The ``password_change`` view, ``/accounts/password_change/``, and ``password_change_done``."""

from __future__ import annotations

import pytest
from accounts_helpers import login
from django.test import Client
from django.urls import reverse
from factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_signed_in_user_changes_their_password(alice):
    c = Client()
    login(c, "alice@example.org", PASSWORD)
    new = "another long passphrase here"
    r = c.post(reverse("password_change"),
               {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert r.status_code == 302 and r["Location"] == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert b"Your password has been changed" in c.get(reverse("password_change_done")).content
