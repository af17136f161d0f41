"""The ``opportunities:signup`` view, ``/opportunities/sign-up/``."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import PASSWORD, prefilled, user, young_person
from opportunities_helpers import SIGNUP, _error, _link, _signup

from vru.web.accounts.models import User
from vru.web.opportunities.models import YoungPerson

pytestmark = pytest.mark.django_db

# The sign-ups go through the view from plain anonymous clients (``Client``), not factories.py: creating the
# account is what these tests are about.


CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def _without_csrf(body: bytes) -> bytes:
    return CSRF.sub(b'name="csrfmiddlewaretoken" value=""', body)


def test_sign_up_creates_a_young_persons_account_once_the_emailed_link_is_used():
    from django.core import mail

    from vru.web.accounts.models import User

    year = timezone.localdate().year
    c = Client()
    r = c.post(reverse("opportunities:signup"), {"email": "Jo@Example.org", "nickname": "Jo",
                                                 "birth_year": year - 16})
    assert r.status_code == 302 and r["Location"] == reverse("opportunities:signup_check_email")
    u = User.objects.get(email="jo@example.org")
    assert not u.is_active and not u.has_usable_password()  # nothing can sign in until confirmed
    (msg,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/opportunities/sign-up/confirm/\S+/)", msg.body).group(1)
    r = c.get(link, follow=True)
    assert b"Choose your password" in r.content
    r = c.post(r.redirect_chain[-1][0], prefilled(r) | {"new_password1": PASSWORD,
                                                   "new_password2": PASSWORD})
    assert r.status_code == 302
    u = User.objects.get(email="jo@example.org")
    assert u.is_active and u.check_password(PASSWORD)
    assert u.roles == ["young person"]
    assert u.young_person.nickname == "Jo" and u.young_person.birth_year == year - 16
    assert u.has_perm("opportunities.add_registration") and not u.has_perm("opportunities.signpost")


@pytest.mark.parametrize("change, field, message", [
    ({"birth_year": timezone.localdate().year - 12}, "birth_year", "aged 14 to 24"),
    ({"birth_year": timezone.localdate().year - 30}, "birth_year", "aged 14 to 24"),
    ({"nickname": "jo@example.org"}, "nickname", "must not be an email"),
    ({"email": "not-an-email"}, "email", "valid email"),
])
def test_sign_up_rejects_bad_input_next_to_the_field(change, field, message):
    data = {"email": "jo@example.org", "nickname": "Jo",
            "birth_year": timezone.localdate().year - 16} | change
    r = Client().post(reverse("opportunities:signup"), data)
    assert r.status_code == 200
    err = _error(r.content.decode(), field)
    assert err and message in err


@pytest.mark.parametrize("birth_year_change", [0, -40], ids=["valid", "invalid birth year"])
def test_sign_up_answers_the_same_for_an_address_with_and_without_an_account(birth_year_change):
    """The same address, first with no account, then with one: the answers are byte-identical (apart from
    the CSRF token), for a valid sign-up and for one with a mistake in another field."""
    year = timezone.localdate().year - 16 + birth_year_change

    def answer():
        from django.core.cache import caches

        caches["ratelimit"].clear()
        c = Client()
        r = _signup(c, "sam@example.org", birth_year=year)
        page = c.get(r["Location"]) if r.status_code == 302 else None
        return (r.status_code, r.get("Location"), _without_csrf(r.content),
                page and (page.status_code, _without_csrf(page.content)))

    new = answer()
    User.objects.filter(email="sam@example.org").delete()
    young_person("sam@example.org", "Sam")  # an active account for the address
    existing = answer()
    assert existing == new
    if birth_year_change == 0:
        assert new[0] == 302 and b"Check your email" in new[3][1]
    else:
        assert new[0] == 200 and b"aged 14 to 24" in new[2]
    assert b"already exists" not in existing[2]


def test_sign_up_with_only_an_email_is_not_an_oracle():
    """The probe of the penetration test: only an email, no password. Both answers are the same form
    errors (nickname and year missing), with nothing about the address."""
    young_person("known@example.org", "Kim")
    known = Client().post(SIGNUP, {"email": "known@example.org"})
    unknown = Client().post(SIGNUP, {"email": "known@example.org".replace("known", "nobody")})
    assert known.status_code == unknown.status_code == 200
    assert _without_csrf(known.content).replace(b"known@", b"X@") == \
        _without_csrf(unknown.content).replace(b"nobody@", b"X@")
    assert _error(known.content.decode(), "email") is None and mail.outbox == []


def test_an_existing_address_is_told_by_email_and_nothing_changes():
    sam = young_person("sam@example.org", "Sam")
    before = User.objects.get(pk=sam.pk).password
    r = _signup(Client(), "SAM@example.org", nickname="Someone else")
    assert r.status_code == 302
    (msg,) = mail.outbox
    assert msg.to == ["sam@example.org"]
    assert msg.subject == "You already have a Local Village Network account"
    assert "http://testserver/accounts/login/" in msg.body
    assert "http://testserver/accounts/password_reset/" in msg.body
    assert "/sign-up/confirm/" not in msg.body
    sam.refresh_from_db()
    assert sam.password == before and sam.is_active and YoungPerson.objects.get(user=sam).nickname == "Sam"


def test_someone_else_signing_up_with_your_address_cannot_get_in():
    """Pre-hijacking: the password is chosen from the emailed link, so whoever signs up with another
    person's address never knows the password of the account. Signing up again sends a new link."""
    _signup(Client(), "victim@example.org", nickname="Attacker")
    u = User.objects.get(email="victim@example.org")
    assert not u.has_usable_password()
    _signup(Client(), "victim@example.org", nickname="Vic")
    assert len(mail.outbox) == 2
    c = Client()
    r = c.get(_link(mail.outbox[1]), follow=True)
    c.post(r.redirect_chain[-1][0], prefilled(r) | {"nickname": "Vic", "new_password1": PASSWORD,
                                                   "new_password2": PASSWORD})
    u.refresh_from_db()
    assert u.is_active and u.young_person.nickname == "Vic" and User.objects.count() == 1


def test_a_second_sign_up_never_changes_a_pending_accounts_details():
    """The victim signs up; someone else signs up with the victim's address and other
    details. The victim's first link still works, and confirms the victim's own details: a request
    without the link never changes them. The link's page shows them to check and correct."""
    year = timezone.localdate().year
    victim = Client(REMOTE_ADDR="10.9.0.1")
    _signup(victim, "kid@example.org", nickname="Kid", birth_year=year - 16)
    first = _link(mail.outbox[0])
    _signup(Client(REMOTE_ADDR="10.9.0.2"), "kid@example.org", nickname="Robin", birth_year=year - 14)
    assert len(mail.outbox) == 2 and "Robin" not in mail.outbox[1].body  # a new link, nothing of theirs
    yp = YoungPerson.objects.get(user__email="kid@example.org")
    assert (yp.nickname, yp.birth_year) == ("Kid", year - 16)
    r = victim.get(first, follow=True)
    assert prefilled(r) == {"nickname": "Kid", "birth_year": str(year - 16)}
    r = victim.post(r.redirect_chain[-1][0], prefilled(r) | {"new_password1": PASSWORD,
                                                            "new_password2": PASSWORD})
    assert r.status_code == 302
    yp.refresh_from_db()
    assert (yp.nickname, yp.birth_year, yp.user.is_active) == ("Kid", year - 16, True)


def test_a_resent_link_is_not_purged_while_it_still_works():
    """A sign-up four days old is sent a new link; the daily purge must not delete
    the account while that link works, and deletes it once the new link has expired too."""
    from vru.web.opportunities.signup import purge_unconfirmed

    c = Client()
    _signup(c, "kid@example.org")
    User.objects.filter(email="kid@example.org").update(date_joined=timezone.now() - dt.timedelta(days=4))
    _signup(c, "kid@example.org")
    link = _link(mail.outbox[1])
    assert purge_unconfirmed() == 0
    r = c.get(link, follow=True)
    assert b"Choose your password" in r.content
    later = timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT, minutes=1)
    assert purge_unconfirmed(now=later) == 1 and not User.objects.filter(email="kid@example.org").exists()


def test_a_deactivated_accounts_address_gets_one_email_and_nothing_changes():
    """Every path sends exactly one email, so the time of the answer does not tell
    a deactivated account from a new address."""
    gone = user("gone@example.org", password=PASSWORD, is_active=False)
    r = _signup(Client(), "Gone@example.org", nickname="Someone")
    assert r.status_code == 302 and r["Location"] == reverse("opportunities:signup_check_email")
    (msg,) = mail.outbox
    assert msg.to == ["gone@example.org"]
    assert msg.subject == "Your Local Village Network account is not active"
    assert "contact the organisation" in msg.body and "/sign-up/confirm/" not in msg.body
    gone.refresh_from_db()
    assert not gone.is_active and gone.check_password(PASSWORD)
    assert not YoungPerson.objects.filter(user=gone).exists()


def test_a_sign_up_that_loses_the_race_for_a_new_address_continues_as_pending(monkeypatch):
    """On any database: the address is inserted by a parallel sign-up between the
    look-up and the insert. The second sign-up answers as usual and sends a link (no 500)."""
    from vru.web.opportunities import signup as flow

    real, raced = User.set_unusable_password, []

    def a_parallel_sign_up_inserts_the_address(self):
        real(self)
        if self.pk is None and self.email == "race@example.org" and not raced:
            raced.append(1)
            other = User(email="race@example.org", is_active=False)
            real(other)
            other.save()
            YoungPerson.objects.create(user=other, nickname="First",
                                       birth_year=timezone.localdate().year - 16)

    monkeypatch.setattr(User, "set_unusable_password", a_parallel_sign_up_inserts_the_address)
    r = _signup(Client(), "race@example.org", nickname="Second")
    assert r.status_code == 302 and raced
    (msg,) = mail.outbox
    assert "/sign-up/confirm/" in msg.body and flow.is_pending(User.objects.get(email="race@example.org"))
    assert User.objects.filter(email="race@example.org").count() == 1
    assert YoungPerson.objects.get(user__email="race@example.org").nickname == "First"


def test_the_sixth_sign_up_for_one_address_in_an_hour_sends_nothing_and_answers_as_usual():
    """The per-address limit stops the emails but is invisible, so nobody can keep
    the owner of an address at a 429 page."""
    for i in range(5):
        assert _signup(Client(REMOTE_ADDR=f"10.0.0.{i + 1}"), "sam@example.org").status_code == 302
    assert len(mail.outbox) == 5
    c = Client(REMOTE_ADDR="10.0.0.99")
    r = _signup(c, "sam@example.org")
    assert r.status_code == 302 and r["Location"] == reverse("opportunities:signup_check_email")
    assert b"Check your email" in c.get(r["Location"]).content
    assert len(mail.outbox) == 5
    # the limit is the address's: another address is still sent its email
    assert _signup(Client(REMOTE_ADDR="10.0.0.99"), "other@example.org").status_code == 302
    assert len(mail.outbox) == 6


def test_an_address_gets_at_most_ten_sign_up_emails_a_day(monkeypatch):
    """The daily cap, on its own (the hourly limit raised out of the way): the 11th email of the day to
    one address is not sent, and the page answers as usual."""
    from vru.web.opportunities import views

    monkeypatch.setattr(views, "SIGNUP_RATE_PER_ADDRESS", "1000/h")
    codes = [_signup(Client(REMOTE_ADDR=f"10.2.0.{i}"), "sam@example.org").status_code for i in range(11)]
    assert codes == [302] * 11 and len(mail.outbox) == 10


def test_the_limit_treats_every_address_alike_and_invalid_attempts_send_nothing():
    """An address with an account is limited exactly like one without; invalid attempts send nothing
    and do not use up the address's emails."""
    young_person("sam@example.org", "Sam")
    for j, e in enumerate(("sam@example.org", "nobody@example.org")):
        assert [_signup(Client(REMOTE_ADDR=f"10.3.{j}.{i}"), e, birth_year=1900).status_code
                for i in range(6)] == [200] * 6
    assert mail.outbox == []
    codes = {e: [_signup(Client(REMOTE_ADDR=f"10.4.{j}.{i}"), e).status_code for i in range(6)]
             for j, e in enumerate(("sam@example.org", "nobody@example.org"))}
    assert codes["sam@example.org"] == codes["nobody@example.org"] == [302] * 6
    assert sorted(m.to[0] for m in mail.outbox) == ["nobody@example.org"] * 5 + ["sam@example.org"] * 5


def test_one_client_address_gets_429_after_twenty_sign_ups_in_an_hour(monkeypatch):
    # django-ratelimit counts in fixed windows: hold its clock still so that a window ending while the 21
    # sign-ups run (a slow machine) cannot restart the count
    import time as real_time
    from types import SimpleNamespace

    now = real_time.time()
    monkeypatch.setattr("django_ratelimit.core.time", SimpleNamespace(time=lambda: now))
    c = Client(REMOTE_ADDR="192.0.2.7")
    assert all(_signup(c, f"p{i}@example.org").status_code == 302 for i in range(20))
    assert _signup(c, "p20@example.org").status_code == 429
    assert _signup(Client(REMOTE_ADDR="192.0.2.8"), "p20@example.org").status_code == 302


def test_a_count_survives_requests_paced_more_than_five_minutes_apart(monkeypatch):
    """Django's file cache adds one by writing the value again with the cache's default timeout; at
    Django's default (5 minutes) a client pacing its sign-ups 6 minutes apart restarted the hourly count
    every time and got a sixth email within the hour. One clock, moved on 6 minutes a request, drives
    django-ratelimit's windows and the cache's expiry."""
    from types import SimpleNamespace

    from django_ratelimit import core

    address = "paced@example.org"
    clock = SimpleNamespace(now=0.0)
    fake = SimpleNamespace(time=lambda: clock.now)
    for module in ("django_ratelimit.core", "django.core.cache.backends.base",
                   "django.core.cache.backends.filebased"):
        monkeypatch.setattr(f"{module}.time", fake)
    clock.now = 1_800_000_000.0
    clock.now = core._get_window(address, 3600) - 3600 + 1  # the first second of the address's hour
    for i in range(6):
        assert _signup(Client(REMOTE_ADDR=f"10.9.0.{i}"), address).status_code == 302
        clock.now += 6 * 60
    assert len(mail.outbox) == 5
