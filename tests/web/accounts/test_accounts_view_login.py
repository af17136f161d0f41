"""The ``login`` view, ``/accounts/login/``: the email address is the login, in any case; a wrong
password or an inactive account is refused; CSRF; GOV.UK error messages."""

from __future__ import annotations

import re

import pytest
from accounts_helpers import is_signed_in, login
from django.test import Client
from django.urls import reverse
from factories import PASSWORD

from vru.web.accounts.models import User

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_is_lowercased(alice):
    assert User.USERNAME_FIELD == "email"
    assert alice.email == "alice@example.org"


def test_sign_in_ignores_the_case_of_the_address(alice):
    assert login(Client(), "ALICE@EXAMPLE.ORG", PASSWORD).status_code == 302


def test_wrong_password_is_refused(alice):
    c = Client()
    r = login(c, "alice@example.org", "not the password")
    assert r.status_code == 200
    assert b"did not match" in r.content
    assert not is_signed_in(c)


def test_inactive_user_cannot_sign_in(alice):
    alice.is_active = False
    alice.save()
    c = Client()
    assert login(c, "alice@example.org", PASSWORD).status_code == 200
    assert not is_signed_in(c)


def test_login_post_without_csrf_token_is_refused(alice):
    c = Client(enforce_csrf_checks=True)
    r = login(c, "alice@example.org", PASSWORD)
    assert r.status_code == 403
    assert not is_signed_in(c)


def test_login_post_with_csrf_token_is_accepted(alice):
    c = Client(enforce_csrf_checks=True)
    page = c.get(reverse("login"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    r = c.post(
        reverse("login"),
        {"username": "alice@example.org", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert r.status_code == 302 and r["Location"] == reverse("home")


def test_sign_in_errors_are_summarised_and_shown_next_to_the_field(alice):
    r = Client().post(reverse("login"), {"username": "", "password": ""})
    body = r.content.decode()
    assert r.status_code == 200
    assert "<title>Error: Sign in" in body
    assert 'class="govuk-error-summary"' in body
    assert 'href="#id_username"' in body and 'href="#id_password"' in body
    assert 'id="id_username-error" class="govuk-error-message"' in body
    assert 'aria-describedby="id_username-error"' in body and 'aria-invalid="true"' in body
    assert "govuk-input--error" in body
    # GOV.UK messages say what to do
    assert "Enter your email address" in body and "Enter your password" in body
    assert "This field is required" not in body
