"""The ``password_reset`` view, ``/accounts/password_reset/``, and the pages its link leads to
(``password_reset_done``, ``password_reset_confirm``, ``password_reset_complete``)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_password_reset_sends_a_working_link(alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    c = Client()
    r = c.post(reverse("password_reset"), {"email": "alice@example.org"})
    assert r.status_code == 302 and r["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["alice@example.org"]
    assert msg.subject == "Reset your vru password"
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", msg.body).group(1)
    r = c.get(link, follow=True)
    assert r.status_code == 200 and b"Choose a new password" in r.content
    new = "a brand new long passphrase"
    r = c.post(r.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert r.status_code == 302 and r["Location"] == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_password_reset_for_unknown_address_sends_nothing(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    r = Client().post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert r.status_code == 302  # no hint whether the address exists
    assert mail.outbox == []


def test_password_reset_form_shows_a_bad_address_next_to_the_field():
    r = Client().post(reverse("password_reset"), {"email": "not an address"})
    body = r.content.decode()
    assert r.status_code == 200
    assert 'href="#id_email"' in body and 'id="id_email-error"' in body
    assert "Enter a valid email address" in body
