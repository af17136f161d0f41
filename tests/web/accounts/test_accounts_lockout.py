"""The sign-in lockout (django-axes): five failures from one address lock that address out of the
account, whatever the case of the address typed; an IPv6 client counts as its /64; many addresses
together lock the account for everyone at a ceiling."""

from __future__ import annotations

import pytest
from accounts_helpers import is_signed_in, login
from django.test import Client
from factories import PASSWORD, user

from vru.web.accounts.audit import audit

pytestmark = pytest.mark.django_db


def test_lockout_after_five_failures_even_with_the_right_password(alice, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    c = Client()
    for _ in range(4):
        assert login(c, "alice@example.org", "wrong").status_code == 200
    r = login(c, "alice@example.org", "wrong")  # the fifth failure locks out
    assert r.status_code == 429
    r = login(c, "alice@example.org", PASSWORD)
    assert r.status_code == 429
    assert b"Account locked" in r.content
    assert not is_signed_in(c)


def test_lockout_ignores_the_case_of_the_address(alice):
    c = Client()
    for i in range(5):
        login(c, "ALICE@example.org" if i % 2 else "alice@Example.ORG", "wrong")
    assert login(c, "alice@example.org", PASSWORD).status_code == 429


def test_lockout_is_per_address_and_user(alice):
    c = Client()
    for _ in range(5):
        login(c, "alice@example.org", "wrong", ip="10.0.0.1")
    assert login(c, "alice@example.org", PASSWORD, ip="10.0.0.1").status_code == 429
    assert login(Client(), "alice@example.org", PASSWORD, ip="10.0.0.2").status_code == 302


def test_four_failures_do_not_lock_out(alice):
    c = Client()
    for _ in range(4):
        login(c, "alice@example.org", "wrong")
    assert login(c, "alice@example.org", PASSWORD).status_code == 302


def test_rotating_ipv6_addresses_within_one_64_does_not_escape_the_lockout(alice, rf):
    codes = [login(Client(), alice.email, "wrong", f"2001:db8:0:7::{i}").status_code for i in range(1, 6)]
    assert codes == [200, 200, 200, 200, 429]  # five addresses of one customer's /64: locked at the 5th
    assert login(Client(), alice.email, PASSWORD, "2001:db8:0:7:ffff::1").status_code == 429
    assert login(Client(), alice.email, PASSWORD, "2001:db8:0:8::1").status_code == 302  # another network
    # the audit log keeps the whole address
    request = rf.get("/", REMOTE_ADDR="2001:db8:0:7::abcd")
    request.user = alice
    assert audit(request, "view", None, "test").ip_address == "2001:db8:0:7::abcd"


def test_many_addresses_together_lock_an_account_at_the_ceiling_for_everyone(alice, settings):
    assert settings.VRU_WEB_LOCKOUT_USERNAME_LIMIT == 50
    settings.VRU_WEB_LOCKOUT_USERNAME_LIMIT = 12  # the same rule, fewer slow password checks
    bob = user("bob@example.org", password=PASSWORD)
    for i in range(12):  # 3 tries from each of 4 addresses: no pair reaches axes's 5
        assert login(Client(), "Alice@Example.org", "wrong", f"198.51.100.{i // 3}").status_code == 200
    r = login(Client(), alice.email, PASSWORD, "192.0.2.200")  # the right password, from a fresh address
    assert r.status_code == 429 and b"Account locked" in r.content
    assert login(Client(), alice.email, PASSWORD, "192.0.2.201", path="/admin/login/").status_code == 429
    assert login(Client(), bob.email, PASSWORD, "198.51.100.0").status_code == 302  # other accounts are not
    from django.core.management import call_command
    call_command("axes_reset")
    assert login(Client(), alice.email, PASSWORD, "192.0.2.200").status_code == 302
