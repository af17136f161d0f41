"""The ``opportunities:signup_confirm`` view, ``/opportunities/sign-up/confirm/<uidb64>/<token>/``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import PASSWORD, prefilled, young_person
from opportunities_helpers import SIGNUP, _error, _link, _signup

from vru.web.accounts.models import User
from vru.web.opportunities.models import YoungPerson

pytestmark = pytest.mark.django_db

# The accounts are made by signing up and confirming from plain anonymous clients (``Client``), not by
# factories.py: creating the account is what these tests are about.


def test_a_new_address_gets_a_link_that_activates_the_account_once():
    c = Client()
    r = _signup(c, "New.Person@Example.org", nickname="Nia")
    assert r.status_code == 302
    u = User.objects.get(email="new.person@example.org")
    assert not u.is_active and not u.has_usable_password() and u.young_person.nickname == "Nia"
    (msg,) = mail.outbox
    assert msg.to == ["new.person@example.org"]
    assert msg.subject == "Finish creating your Local Village Network account"
    assert "works once, for 3 days" in msg.body
    link = _link(msg)
    # an unconfirmed account cannot sign in, and password reset ignores it
    assert Client().post(reverse("login"), {"username": "new.person@example.org",
                                            "password": PASSWORD}).status_code == 200
    Client().post(reverse("password_reset"), {"email": "new.person@example.org"})
    assert len(mail.outbox) == 1

    r = c.get(link, follow=True)
    assert b"Choose your password" in r.content
    assert "/confirm/" in r.redirect_chain[-1][0] and link not in r.redirect_chain[-1][0]  # token hidden
    details = prefilled(r)
    r = c.post(r.redirect_chain[-1][0], details | {"new_password1": "short",
                                                    "new_password2": "short"})
    assert r.status_code == 200 and "too short" in _error(r.content.decode(), "new_password2")
    r = c.post(r.request["PATH_INFO"], details | {"new_password1": PASSWORD,
                                                "new_password2": PASSWORD})
    assert r.status_code == 302 and r["Location"] == reverse("opportunities:search")
    assert "Welcome, Nia" in c.get(r["Location"]).content.decode()
    u.refresh_from_db()
    assert u.is_active and u.check_password(PASSWORD)

    # once only
    again = Client().get(link, follow=True)
    assert b"This link has expired" in again.content and b"Choose your password" not in again.content

    # and the young person signs in with the password they chose
    fresh = Client()
    r = fresh.post(reverse("login"), {"username": "new.person@example.org", "password": PASSWORD})
    assert r.status_code == 302
    assert fresh.get(reverse("opportunities:mine")).status_code == 200


def test_the_link_keeps_where_the_person_was_going():
    opp_url = "/opportunities/123/register/"
    c = Client()
    c.post(SIGNUP + f"?next={opp_url}", {"email": "to@example.org", "nickname": "To",
                                          "birth_year": timezone.localdate().year - 16, "next": opp_url})
    r = c.get(_link(mail.outbox[0]) + f"?next={opp_url}", follow=True)
    r = c.post(r.redirect_chain[-1][0], prefilled(r) | {"new_password1": PASSWORD,
                                                   "new_password2": PASSWORD})
    assert r["Location"] == opp_url


def test_the_link_expires_after_three_days(monkeypatch):
    c = Client()
    _signup(c, "late@example.org")
    link = _link(mail.outbox[0])
    later = dt.datetime.now() + dt.timedelta(days=3, minutes=1)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    r = c.get(link, follow=True)
    assert b"This link has expired" in r.content
    assert not User.objects.get(email="late@example.org").is_active


def test_a_sign_up_link_is_not_a_password_reset_link_and_cannot_take_over_an_account():
    """The token is salted for sign-up only, and only an account waiting for confirmation can be
    confirmed: an active account's id with a sign-up token is refused."""
    _signup(Client(), "pending@example.org")
    link = _link(mail.outbox[0])
    uid, token = link.rstrip("/").split("/")[-2:]
    assert Client().get(f"/accounts/reset/{uid}/{token}/", follow=True).context["validlink"] is False
    active = young_person("active@example.org", "Al")
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from vru.web.opportunities.signup import signup_tokens

    forged = reverse("opportunities:signup_confirm", args=[urlsafe_base64_encode(force_bytes(active.pk)),
                                                           signup_tokens.make_token(active)])
    assert b"This link has expired" in Client().get(forged, follow=True).content


def test_the_owner_corrects_the_details_on_the_links_page_and_they_are_checked():
    """Someone else signed up first with the address: the owner's link shows their details, which the
    owner changes (checked like the sign-up form's) before choosing the password."""
    year = timezone.localdate().year
    _signup(Client(), "own@example.org", nickname="Wrong", birth_year=year - 20)
    c = Client()
    r = c.get(_link(mail.outbox[0]), follow=True)
    url = r.redirect_chain[-1][0]
    bad = c.post(url, {"nickname": "snap: sam_9", "birth_year": "1900", "new_password1": PASSWORD,
                       "new_password2": PASSWORD})
    html = bad.content.decode()
    assert bad.status_code == 200 and "must not be an email address" in _error(html, "nickname")
    assert "aged 14 to 24" in _error(html, "birth_year")
    assert not User.objects.get(email="own@example.org").is_active
    r = c.post(url, {"nickname": "Owen", "birth_year": str(year - 15), "new_password1": PASSWORD,
                     "new_password2": PASSWORD})
    assert r.status_code == 302
    yp = YoungPerson.objects.get(user__email="own@example.org")
    assert (yp.nickname, yp.birth_year, yp.user.is_active) == ("Owen", year - 15, True)
