"""The survey's rate limits (vru.web.survey.ratelimit, codes.network_key): counters in memory, keyed hashes
of the network that cannot be recomputed, no cache writes."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from factories import user
from survey_helpers import IP, client

from vru.web.survey import codes
from vru.web.survey.ratelimit import LIMITER, Limiter

pytestmark = pytest.mark.django_db


def test_rate_limits_write_no_cache_keep_no_time_and_end_with_their_window(version, _record_keys):
    """Review 14, finding 3: the counters are in the process's memory, not in a cache whose files outlive
    their expiry and carry the time they were written; a counter holds a count and nothing else, and all of
    a window's counters go when it ends."""
    caches["ratelimit"].clear()
    c = client()
    for _ in range(3):
        assert c.post("/survey/en/", {"code": codes.new_code()}).status_code == 400
    assert _record_keys == [] and not caches["ratelimit"]._list_cache_files()
    held = LIMITER.entries()
    assert sorted(n for _, _, n in held) == [1, 1, 1, 3, 3]  # 3 starts, 3 wrong codes, 3 codes once each
    assert all(set(key) <= set("0123456789abcdef") and len(key) == 64 for _, key, _ in held)
    now = [1000.0]
    limiter = Limiter(clock=lambda: now[0])
    for _ in range(3):
        limiter.hit("g", "k", "2/h")
    assert limiter.hit("g", "k", "2/h", increment=False) and limiter.entries() == [("g", "k", 3)]
    now[0] += 3600
    assert not limiter.hit("g", "k", "2/h", increment=False) and limiter.entries() == []
    full = Limiter(max_keys=2)
    assert [full.hit("g", k, "1/h") for k in "abc"] == [False, False, False]  # loosens, never locks out
    assert len(full.entries()) == 2
    with pytest.raises(ValueError, match="like 300/h"):
        Limiter().hit("g", "k", "300 an hour")


def test_the_rate_limit_key_is_a_keyed_hash_of_the_network():
    from django.test import RequestFactory

    req = RequestFactory().get("/", REMOTE_ADDR="203.0.113.77")
    key = codes.network_key("g", req)
    assert "203.0.113" not in key and len(key) == 64
    assert key == codes.network_key("g", RequestFactory().get("/", REMOTE_ADDR="203.0.113.200"))
    assert key != codes.network_key("g", RequestFactory().get("/", REMOTE_ADDR="203.0.114.1"))


def _usage(request, group, rate, key):
    from vru.web.survey.ratelimit import LIMITER

    return LIMITER.count(group, key(group, request), rate)


def test_rate_limit_keys_cannot_be_recomputed_from_the_database_or_secret_key(version):
    """Finding 3: the per-code counter is not keyed by the stored code hash, and the per-network counter is
    not keyed by anything derived from SECRET_KEY (the old daily key): someone holding the database, the
    cache and the settings cannot find the counter of a code or of a guessed network."""
    from django.test import RequestFactory
    from django.utils import timezone
    from django.utils.crypto import salted_hmac

    from vru.web.survey import codes, invitations, views
    from vru.web.survey.models import Invitation

    _, issued = invitations.issue(user("police-anon@example.org", "police analyst"), 20)
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
