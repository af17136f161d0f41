"""The client's address behind a proxy, as the lockout, the rate limits and the audit log see it: read
from ``X-Forwarded-For`` only when the connection comes from ``VRU_WEB_TRUSTED_PROXIES``, and
0.0.0.0 for a connection without one."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import is_ratelimited
from factories import PASSWORD, signed_in
from platform_helpers import superuser

from vru.web.accounts.audit import audit
from vru.web.accounts.models import AuditLog
from vru.web.core.clientip import client_ip

pytestmark = pytest.mark.django_db

PROXY = "10.9.9.9"
CLIENT_A = "203.0.113.10"
CLIENT_B = "198.51.100.20"


def _login(client: Client, password: str, ip: str, xff: str | None = None):
    extra = {"REMOTE_ADDR": ip}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return client.post(reverse("login"), {"username": "alice@example.org", "password": password}, **extra)


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(alice, rf, settings):
    settings.VRU_WEB_TRUSTED_PROXIES = []
    request = rf.get("/", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR=CLIENT_A)
    assert client_ip(request) == "192.0.2.7"
    request.user = alice
    assert audit(request, "view", None, "test").ip_address == "192.0.2.7"
    # the lockout counts the connection's address, whatever each attempt claims to forward for
    c = Client()
    for i in range(5):
        _login(c, "wrong", "192.0.2.7", xff=f"203.0.113.{i}")
    assert _login(c, PASSWORD, "192.0.2.7", xff="203.0.113.99").status_code == 429
    assert _login(Client(), PASSWORD, "192.0.2.8").status_code == 302


def test_behind_a_trusted_proxy_locking_one_client_out_leaves_the_others(alice, settings):
    settings.VRU_WEB_TRUSTED_PROXIES = [PROXY]
    a, b = Client(), Client()
    for _ in range(5):
        _login(a, "wrong", PROXY, xff=CLIENT_A)
    assert _login(a, PASSWORD, PROXY, xff=CLIENT_A).status_code == 429
    # A forges a left-most entry; the proxy appends A's real address, which is what counts
    assert _login(a, PASSWORD, PROXY, xff=f"{CLIENT_B}, {CLIENT_A}").status_code == 429
    # B, behind the same proxy, signs in
    assert _login(b, PASSWORD, PROXY, xff=CLIENT_B).status_code == 302


def test_behind_a_trusted_proxy_the_audit_log_records_the_real_client(alice, rf, settings):
    settings.VRU_WEB_TRUSTED_PROXIES = ["10.9.0.0/16"]
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CLIENT_A}")
    request.user = alice
    assert audit(request, "view", None, "test").ip_address == CLIENT_A
    # a chain of trusted proxies is skipped from the right; forged entries left of the client are not read
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CLIENT_B}, 10.9.1.1")
    assert client_ip(request) == CLIENT_B
    # the proxy's own request (no header) is the proxy's
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY)) == PROXY
    # a client that is not the proxy cannot forward for anyone
    assert client_ip(rf.get("/", REMOTE_ADDR=CLIENT_B, HTTP_X_FORWARDED_FOR=CLIENT_A)) == CLIENT_B


def test_audit_rows_written_by_a_page_record_the_client_behind_the_proxy(settings):
    settings.VRU_WEB_TRUSTED_PROXIES = [PROXY]
    admin = superuser()
    c = signed_in(admin)
    r = c.get(reverse("admin:accounts_user_changelist"), REMOTE_ADDR=PROXY,
              HTTP_X_FORWARDED_FOR=f"6.6.6.6, {CLIENT_A}")
    assert r.status_code == 200
    assert AuditLog.objects.latest("id").ip_address == CLIENT_A


def test_rate_limits_count_each_client_behind_the_proxy(rf, settings):
    settings.VRU_WEB_TRUSTED_PROXIES = [PROXY]
    group = f"test-{uuid.uuid4()}"

    def limited(xff):
        request = rf.post("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff)
        return is_ratelimited(request, group=group, key="ip", rate="2/h", increment=True)

    assert not limited(CLIENT_A) and not limited(CLIENT_A)
    assert limited(CLIENT_A)
    assert limited(f"{CLIENT_B}, {CLIENT_A}")  # a forged left-most entry does not reset the count
    assert not limited(CLIENT_B)


def test_a_bad_trusted_proxy_setting_stops_the_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VRU_WEB", "DATABASE_URL"))}
    env.update(XDG_DATA_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="vru.web.settings",
               VRU_WEB_TRUSTED_PROXIES="10.0.0.1, nginx")
    r = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "VRU_WEB_TRUSTED_PROXIES: 'nginx'" in r.stderr


def test_a_connection_without_an_address_is_0_0_0_0_and_nothing_crashes(alice, rf):

    from vru.web.core.clientip import NO_ADDRESS, client_ip_for_limits

    assert NO_ADDRESS == "0.0.0.0"
    for remote in ("", "not an address"):
        request = rf.get("/", REMOTE_ADDR=remote)
        assert client_ip(request) == client_ip_for_limits(request) == NO_ADDRESS
    c = Client(REMOTE_ADDR="", raise_request_exception=False)
    r = c.post(reverse("opportunities:signup"), {"email": "kid@example.org", "nickname": "Kid",
                                                  "birth_year": timezone.localdate().year - 15})
    assert r.status_code == 302
    r = c.post(reverse("password_reset"), {"email": alice.email})
    assert r.status_code == 302 and len(mail.outbox) == 2
    assert c.post(reverse("login"), {"username": alice.email, "password": "wrong"}).status_code == 200
    assert c.post(reverse("login"), {"username": alice.email, "password": PASSWORD}).status_code == 302
    request = rf.get("/", REMOTE_ADDR="")
    request.user = alice
    assert audit(request, "view", None, "test").ip_address == NO_ADDRESS
