"""Rescue and Response: the view ``referrals:allocate`` (/referrals/cases/<uuid:pk>/allocate/): what it shows
and writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
import referrals_base as base
from django.urls import reverse
from factories import signed_in
from referrals_base import REASON, _restricted_at_b, error_next_to, make_case, snapshot

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import (
    Allocation,
    AppendOnlyImmutable,
    BreakGlass,
    Referral,
)

pytestmark = pytest.mark.django_db


def test_allocation_to_a_provider_at_capacity_is_refused_and_nothing_is_written(w):
    make_case(w, provider=w.pa), make_case(w, provider=w.pa)  # capacity 2: full
    r = make_case(w, status="accepted")
    resp = signed_in(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk})
    html = resp.content.decode()
    assert resp.status_code == 400 and 'id="id_provider-error"' in html and "at capacity" in html
    r.refresh_from_db()
    assert r.current_provider is None and not Allocation.objects.filter(referral=r).exists()
    with pytest.raises(services.AtCapacity):
        services.allocate(r, w.pa, w.mgr_a)


def test_reassignment_needs_a_reason_and_the_history_is_append_only(w):
    r = make_case(w, provider=w.pa)
    c = signed_in(w.mgr_a)
    resp = c.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk})
    assert resp.status_code == 400 and 'id="id_reason-error"' in resp.content.decode()
    resp = c.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "Young woman"})
    r.refresh_from_db()
    assert r.current_provider == w.pb
    assert [a.provider for a in r.allocations.all()] == [w.pa, w.pb]
    a = r.allocations.first()
    a.reason = "rewritten"
    with pytest.raises(AppendOnlyImmutable):
        a.save()
    with pytest.raises(AppendOnlyImmutable):
        a.delete()
    with pytest.raises(AppendOnlyImmutable):
        Allocation.objects.filter(referral=r).update(reason="x")
    with pytest.raises(AppendOnlyImmutable):
        Allocation.objects.all().delete()
    # the case has moved: provider A's staff no longer see it
    assert signed_in(w.cw_a).get(reverse("referrals:case", args=[r.pk])).status_code == 404


def test_allocation_to_a_full_provider_is_a_message_next_to_the_field_and_writes_nothing(w):
    make_case(w, provider=w.pa), make_case(w, provider=w.pa)  # capacity 2: full
    r = make_case(w, status="accepted")
    before = snapshot()
    resp = signed_in(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk})
    assert resp.status_code == 400
    assert "at capacity (2 of 2 open cases)" in error_next_to(resp.content.decode(), "provider")
    assert snapshot() == {**before, "AuditLog": before["AuditLog"] + 1}  # the page sent back: one read


# ------------------------------------------------------------------- the allocation history's words
def test_only_a_real_reassignment_is_called_one(w):
    r = make_case(w, status="accepted")
    m = signed_in(w.mgr_a)
    page = m.get(reverse("referrals:allocate", args=[r.pk])).content.decode()
    assert 'name="reason"' not in page  # a first allocation asks for no reason
    # a reason sent anyway with a first allocation does not make it a reassignment
    resp = m.post(
        reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk, "reason": "Close to home"}
    )
    assert resp.status_code == 302
    first = AuditLog.objects.get(action="allocate case")
    assert first.purpose == f"{r.reference}: allocation to {w.pa}"
    assert Allocation.objects.get(referral=r).reason == ""
    resp = m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "Young woman"})
    assert resp.status_code == 302
    second = AuditLog.objects.filter(action="allocate case").latest("pk")
    assert second.purpose == f"{r.reference}: allocation to {w.pb} (reassignment)"
    page = signed_in(w.mgr_b).get(reverse("referrals:case", args=[r.pk])).content.decode()  # now B's case
    history = page.split('id="allocations"')[1].split("</ul>")[0]
    assert f"allocated to {w.pa}</li>" in history and f"reassigned to {w.pb}: Young woman" in history
    assert history.count("reassigned") == 1


def test_a_restricted_case_is_neither_decided_nor_reassigned_without_break_glass(w):
    r = base.restricted_case(w)
    m = signed_in(w.mgr_a)
    page = m.get(reverse("referrals:allocate", args=[r.pk]))
    assert "restricted record" in page.content.decode() and not AuditLog.objects.filter(action="view case")
    resp = m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "moving it"})
    r.refresh_from_db()
    assert resp.status_code == 403 and r.current_provider == w.pa and r.allocations.count() == 1
    # after break-glass, it may
    bg = m.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "Safeguarding call"})
    assert bg.status_code == 302
    resp = m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "moving it"})
    r.refresh_from_db()
    assert resp.status_code == 302 and r.current_provider == w.pb


# ---------------------------------------------------------------------- 6: only the triage hub reassigns
def test_a_manager_outside_the_hub_cannot_reassign_even_their_own_case(w):
    r = make_case(w, provider=w.pb)
    c = signed_in(w.mgr_b)
    url = reverse("referrals:allocate", args=[r.pk])
    assert c.get(url).status_code == 404
    assert c.post(url, {"provider": w.pa.pk, "reason": "We are full today"}).status_code == 404
    r.refresh_from_db()
    assert r.current_provider == w.pb and r.allocations.count() == 1
    page = c.get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert url not in page and reverse("referrals:restrict", args=[r.pk]) in page  # access is still theirs
    # the hub's manager reaches the case at the other provider, and moves it (the read is audited as triage)
    hub = signed_in(w.mgr_a)
    assert hub.get(url).status_code == 200
    row = AuditLog.objects.filter(action="view case", user=w.mgr_a).latest("pk")
    assert "triage: reassignment of a case allocated to" in row.purpose
    assert hub.post(url, {"provider": w.pa.pk, "reason": "The other provider is full"}).status_code == 302
    r.refresh_from_db()
    assert r.current_provider == w.pa


@pytest.mark.django_db
def test_hub_moves_restricted_case_at_other_provider(w):
    r = _restricted_at_b(w)
    c = signed_in(w.mgr_a)
    page = c.get(reverse("referrals:allocate", args=[r.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "is a restricted record" in body
    assert 'name="then" value="allocate"' in body
    # before the glass is broken, the move is refused
    assert c.post(reverse("referrals:allocate", args=[r.pk]),
                  {"provider": w.pa.pk, "reason": "Closer to the family home"}).status_code == 403
    # an empty reason is sent back, nothing recorded
    bad = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "\u3164" * 12, "then": "allocate"})
    assert bad.status_code == 400 and not BreakGlass.objects.filter(referral=r).exists()
    bg = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "allocate"})
    assert bg.status_code == 302 and bg["Location"] == reverse("referrals:allocate", args=[r.pk])
    opening = BreakGlass.objects.get(referral=r, user=w.mgr_a)
    assert opening.reason == REASON
    assert AuditLog.objects.filter(action="break glass", user=w.mgr_a).exists()
    # reported to the hub's managers as any break-glass opening is
    assert services.openings_of_organisation(w.mgr_a).filter(pk=opening.pk).exists()
    again = c.get(reverse("referrals:allocate", args=[r.pk]))
    assert again.status_code == 200 and "is a restricted record" not in again.content.decode()
    moved = c.post(reverse("referrals:allocate", args=[r.pk]),
                   {"provider": w.pa.pk, "reason": "Closer to the family home"})
    assert moved.status_code == 302
    assert Referral.objects.get(pk=r.pk).current_provider_id == w.pa.pk
