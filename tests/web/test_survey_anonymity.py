"""Anonymity fixes from review 14 (docs/web-survey.md, "Anonymity"): the CSRF cookie, the rate-limit keys,
the cache, and the database's own metadata (PostgreSQL xmin)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from vru.web.survey.demo import load_and_publish

pytestmark = pytest.mark.django_db

IP = "198.51.100.23"
UA = "Mozilla/5.0 (AnonTest2) UA-77e1"


@pytest.fixture
def version():
    return load_and_publish()


def client() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)


def test_the_csrf_cookie_is_a_browser_session_cookie(version):
    """Finding 6: the survey's CSRF cookie must not outlive the browser session (it used to last a year)."""
    r = client().get("/survey/en/")
    assert r.status_code == 200
    cookie = r.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == "" and cookie["expires"] == "", (cookie["max-age"], cookie["expires"])


def _usage(request, group, rate, key):
    from django_ratelimit.core import get_usage

    return get_usage(request, group=group, key=key, rate=rate, method="POST", increment=False)["count"]


def test_rate_limit_keys_cannot_be_recomputed_from_the_database_or_secret_key(version):
    """Finding 3: the per-code counter is not keyed by the stored code hash, and the per-network counter is
    not keyed by anything derived from SECRET_KEY (the old daily key): someone holding the database, the
    cache and the settings cannot find the counter of a code or of a guessed network."""
    from django.contrib.auth.models import Group
    from django.test import RequestFactory
    from django.utils import timezone
    from django.utils.crypto import salted_hmac

    from vru.web.accounts.models import User
    from vru.web.survey import codes, invitations, views
    from vru.web.survey.models import Invitation

    user = User.objects.create_user("police-anon@example.org", None)
    user.groups.add(Group.objects.get(name="police analyst"))
    _, issued = invitations.issue(user, 2)
    assert client().post("/survey/en/", {"code": issued[0]}).status_code == 302

    request = RequestFactory().post("/survey/en/", REMOTE_ADDR=IP)
    stored_hash = Invitation.objects.get(code_hash=codes.code_hash(issued[0], "invitation")).code_hash
    # the counters exist under the process's keys ...
    own = codes.code_rate_key(issued[0])
    assert _usage(request, "survey:code-starts", views.CODE_STARTS, lambda _g, _r: own) == 1
    assert _usage(request, "survey:network-starts", views.NETWORK_STARTS, codes.network_key) == 1
    # ... and not under anything computable from the database or SECRET_KEY
    assert _usage(request, "survey:code-starts", views.CODE_STARTS, lambda _g, _r: stored_hash) == 0
    day = timezone.localdate().isoformat()
    old_daily = salted_hmac(f"vru.survey.network.{day}", codes.network(IP), algorithm="sha256").hexdigest()
    assert _usage(request, "survey:network-starts", views.NETWORK_STARTS, lambda _g, _r: old_daily) == 0
    for kind, value in (("code", codes.normalise(issued[0])), ("network", codes.network(IP))):
        key = codes.rate_key(kind, value)
        assert key != salted_hmac(f"vru.survey.{kind}", value, algorithm="sha256").hexdigest()
        assert key not in (stored_hash, old_daily)
    # the key is random per process: a fresh key gives other counters (so the limits reset, never tighten)
    saved = codes._RATE_KEY
    try:
        codes._RATE_KEY = b"\0" * 32
        assert _usage(request, "survey:code-starts", views.CODE_STARTS,
                      lambda _g, _r: codes.code_rate_key(issued[0])) == 0
    finally:
        codes._RATE_KEY = saved
