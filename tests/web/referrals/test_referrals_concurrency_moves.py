"""Review 4, defect 10, on PostgreSQL (SQLite serialises all writers): a move of a case locks the case's
own row and re-checks its state inside the transaction (``services.allocate``), as the closure does, so that
a move and a closure, or two moves, of one case are one after the other and the second sees what the first
did.

Each test holds the referral's row lock (as the first of the two would), starts the second in a thread, checks
that it waits, does the first's change, releases the lock, and checks the second then refused (a message,
never a 500) and wrote nothing.

Run: ``bash scripts/test-web-postgres.sh tests/web/referrals/test_referrals_concurrency_moves.py``
"""

from __future__ import annotations

import threading

import pytest
import referrals_base as base
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import signed_in, user
from referrals_base import make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import Allocation, Closure, Need, Referral

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: set VRU_TEST_DATABASE_URL=postgres://... (SQLite serialises all writes)",
    ),
]


def _in_thread(c: Client, url: str, data: dict):
    result: list = []

    def run():
        try:
            result.append(c.post(url, data))
        except Exception as exc:  # reported by the test, not lost in the thread
            result.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run), result


def _second_hub_manager(w):
    return user("mgra2@example.org", "provider manager", w.pa.organisation)


def test_a_move_waits_for_a_closure_then_finds_the_case_closed(w):
    r = make_case(w, provider=w.pa)
    t, result = _in_thread(
        signed_in(w.mgr_a),
        reverse("referrals:allocate", args=[r.pk]),
        {"provider": w.pb.pk, "reason": "Closer to home"},
    )
    with transaction.atomic():
        Referral.objects.select_for_update().get(pk=r.pk)  # the closure's lock (views.close)
        t.start()
        t.join(timeout=3)
        assert t.is_alive() and not result, "the move did not wait for the case's row lock"
        Referral.objects.filter(pk=r.pk).update(status="closed")  # the closure, meanwhile
    t.join(timeout=60)
    assert not t.is_alive() and result and not isinstance(result[0], Exception), result
    assert result[0].status_code == 302  # back to triage, told why
    r.refresh_from_db()
    assert r.current_provider == w.pa and r.allocations.count() == 1
    assert not AuditLog.objects.filter(action="allocate case", object_id=str(r.pk)).exists()
    told = [str(m) for m in signed_in(w.mgr_a).get(reverse("referrals:triage")).context["messages"]]
    assert told == [] or any("no longer open" in m for m in told)


def test_a_closure_waits_for_a_move_then_finds_the_case_moved(w):
    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    t, result = _in_thread(
        signed_in(w.cw_a),
        reverse("referrals:close", args=[r.pk]),
        base.closing_post(need, timezone.localdate()),
    )
    with transaction.atomic():
        Referral.objects.select_for_update().get(pk=r.pk)  # services.allocate's lock
        t.start()
        t.join(timeout=3)
        assert t.is_alive() and not result, "the closure did not wait for the case's row lock"
        services.allocate(r, w.pb, w.mgr_a, reason="Moved to the other provider")  # the move, meanwhile
    t.join(timeout=60)
    assert not t.is_alive() and result and not isinstance(result[0], Exception), result
    assert result[0].status_code == 302
    r.refresh_from_db()
    assert r.status == "accepted" and r.current_provider == w.pb
    assert not Closure.objects.filter(referral=r).exists()
    assert not AuditLog.objects.filter(action="close case", object_id=str(r.pk)).exists()


@pytest.mark.parametrize("round_", range(3))
def test_two_hub_managers_moving_one_case_at_once_move_it_once(w, round_):
    r = make_case(w, provider=w.pb)
    url = reverse("referrals:allocate", args=[r.pk])
    data = {"provider": w.pa.pk, "reason": "The other provider is full"}
    barrier = threading.Barrier(2)
    out: list = [None, None]

    def run(i, u):
        try:
            c = signed_in(u)
            barrier.wait(timeout=30)
            out[i] = c.post(url, data)
        except Exception as exc:
            out[i] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, u)) for i, u in enumerate([w.mgr_a, _second_hub_manager(w)])
    ]
    for x in threads:
        x.start()
    for x in threads:
        x.join(timeout=120)
    assert not [g for g in out if isinstance(g, Exception)], out
    # the second is refused (a redirect with a message, or the form's "already with this provider": 400)
    assert sorted(g.status_code for g in out) in ([302, 302], [302, 400]), [g.status_code for g in out]
    r.refresh_from_db()
    assert r.current_provider == w.pa
    assert Allocation.objects.filter(referral=r).count() == 2  # the first allocation and one move
    assert AuditLog.objects.filter(action="allocate case", object_id=str(r.pk)).count() == 1
