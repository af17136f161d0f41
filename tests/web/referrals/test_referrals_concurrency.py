"""Rescue and Response: the capacity lock holds under concurrency, on PostgreSQL (SQLite serialises
all writers, so the race exists only on a server database).

Two managers allocate two cases to a provider with one place left at the same moment: exactly one wins, the
other gets the form's message next to the provider field (400), never a 500, and nothing of theirs is
written. A second test makes the interleaving certain: while the provider's row is locked, an allocation
that has already passed the form's own capacity check waits for the lock, then finds the place taken.

Run: ``bash scripts/test-web-postgres.sh tests/web/referrals/test_referrals_concurrency.py``
"""

from __future__ import annotations

import threading

import pytest
import referrals_base as base
from django.db import connection, connections, transaction
from django.urls import reverse
from factories import at_once, signed_in, user
from referrals_base import make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import Allocation, Provider, Referral

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: set VRU_TEST_DATABASE_URL=postgres://... (SQLite serialises all writes)",
    ),
]


def _post_in_threads(posts: list) -> list:
    """Each ``(client, url, data)`` POST in its own thread, released at the same moment."""
    return at_once(len(posts), lambda i: posts[i][0].post(posts[i][1], posts[i][2]))


def _second_manager(w):
    """Another manager of the triage hub (provider A): only the hub's managers triage."""
    return user("mgra2@example.org", "provider manager", w.pa.organisation)


def _one_place_left(w) -> Provider:
    make_case(w, provider=w.pa)  # provider A: capacity 2, one taken
    return w.pa


@pytest.mark.parametrize("round_", range(3))
def test_two_managers_race_for_the_last_place_and_exactly_one_wins(w, round_):
    p = _one_place_left(w)
    r1, r2 = make_case(w, status="accepted"), make_case(w, status="accepted")
    posts = [
        (signed_in(w.mgr_a), reverse("referrals:allocate", args=[r1.pk]), {"provider": p.pk}),
        (signed_in(_second_manager(w)), reverse("referrals:allocate", args=[r2.pk]), {"provider": p.pk}),
    ]
    got = _post_in_threads(posts)
    assert not [g for g in got if isinstance(g, Exception)], got
    codes = sorted(g.status_code for g in got)
    assert codes == [302, 400], codes
    loser = next(g for g in got if g.status_code == 400).content.decode()
    assert 'id="id_provider-error"' in loser and "at capacity (2 of 2 open cases)" in loser
    assert p.open_cases() == 2
    placed = Referral.objects.filter(pk__in=[r1.pk, r2.pk], current_provider=p)
    assert placed.count() == 1
    assert Allocation.objects.filter(referral__in=[r1, r2]).count() == 1  # nothing of the loser's written
    assert AuditLog.objects.filter(action="allocate case").count() == 1


def test_an_allocation_waits_for_the_lock_then_finds_the_place_taken(w):
    p = _one_place_left(w)
    waiting, other = make_case(w, status="accepted"), make_case(w, status="accepted")
    result: list = []
    c = signed_in(_second_manager(w))

    def allocate():
        try:
            result.append(c.post(reverse("referrals:allocate", args=[waiting.pk]), {"provider": p.pk}))
        finally:
            connections.close_all()

    t = threading.Thread(target=allocate)
    with transaction.atomic():
        Provider.objects.select_for_update().get(pk=p.pk)  # as services.allocate does
        t.start()
        t.join(timeout=3)
        # the form's own check saw a free place; services.allocate now waits for the provider's row
        assert t.is_alive() and not result, "the allocation did not wait for the lock"
        services.allocate(other, p, w.mgr_a)  # the last place goes while it waits
    t.join(timeout=60)
    assert not t.is_alive() and result and result[0].status_code == 400
    assert "at capacity (2 of 2 open cases)" in result[0].content.decode()
    waiting.refresh_from_db()
    assert waiting.current_provider is None and not waiting.allocations.exists()
    assert p.open_cases() == 2


@pytest.mark.parametrize("round_", range(3))
def test_two_caseworkers_closing_a_case_at_once_close_it_once_and_neither_gets_a_500(w, round_):
    """Review 15, finding 19: the closure locks the referral and re-checks its status (before, the second
    closure hit the one-to-one constraint: a 500)."""
    from django.utils import timezone

    from vru.web.referrals.models import Closure, Need

    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    data = base.closing_post(need, timezone.localdate())
    url = reverse("referrals:close", args=[r.pk])
    posts = [(signed_in(w.cw_a), url, data), (signed_in(w.cw_a2), url, data)]
    got = _post_in_threads(posts)
    assert not [g for g in got if isinstance(g, Exception)], got
    assert [g.status_code for g in got] == [302, 302], [g.status_code for g in got]
    assert Closure.objects.filter(referral=r).count() == 1
    assert AuditLog.objects.filter(action="close case", object_id=str(r.pk)).count() == 1
    # whichever came second, before or after the first had ended, is told so on the case page
    told = [
        c
        for c, _, _ in posts
        for m in c.get(reverse("referrals:case", args=[r.pk])).context["messages"]
        if "closed by someone else" in str(m) or "is closed" in str(m)
    ]
    assert len(told) == 1
