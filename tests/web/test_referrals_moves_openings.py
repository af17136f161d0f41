"""What the managers of a provider are told on their caseload page of moves away and break-glass openings:
nothing of a case they are barred from, no "moved away" once the case is back, and the hub's openings of
their cases (with or without a move)."""

from __future__ import annotations

import pytest
import test_referrals as base
from django.urls import reverse

from vru.web.referrals import services
from vru.web.referrals.models import BreakGlass

w = base.w  # the fixture
client, make_case = base.client, base.make_case
REASON = "Need to check the allocation for the safety of the family"

pytestmark = pytest.mark.django_db


def _cases_page(user) -> str:
    return client(user).get(reverse("referrals:cases")).content.decode()


def _second_manager_b(w):
    return base.user("mgrb2@example.org", "provider manager", w.pb.organisation)


def test_a_manager_barred_from_a_case_is_not_told_of_its_move_away(w):
    r = make_case(w, provider=w.pb)
    mgr_b2 = _second_manager_b(w)
    r.barred_staff.add(w.mgr_b)
    client(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]),
                         {"provider": w.pa.pk, "reason": "Closer to home"})
    assert services.recent_moves_away(w.mgr_b).count() == 0
    barred = _cases_page(w.mgr_b)
    assert r.reference not in barred and 'id="moves-away"' not in barred
    other = _cases_page(mgr_b2)  # a manager not barred from it is told
    assert 'id="moves-away"' in other and r.reference in other


def test_the_move_away_notice_goes_once_the_case_is_moved_back(w):
    r = make_case(w, provider=w.pb)
    hub = client(w.mgr_a)
    hub.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk, "reason": "Closer to home"})
    assert 'id="moves-away"' in _cases_page(w.mgr_b)
    hub.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "Back with them"})
    r.refresh_from_db()
    assert r.current_provider_id == w.pb.pk
    assert services.recent_moves_away(w.mgr_b).count() == 0
    page = _cases_page(w.mgr_b)
    assert 'id="moves-away"' not in page and "no longer see" not in page
    # moved away again: one notice, of the latest move
    hub.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk, "reason": "Nearer again"})
    moves = list(services.recent_moves_away(w.mgr_b))
    assert len(moves) == 1 and moves[0].pk == r.allocations.latest("allocated_at", "pk").pk


def test_the_hubs_opening_without_a_move_is_reported_to_the_providers_managers_too(w):
    r = make_case(w, provider=w.pb)
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_b)
    bg = client(w.mgr_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON,
                                                                             "then": "allocate"})
    assert bg.status_code == 302
    opening = BreakGlass.objects.get(referral=r, user=w.mgr_a)
    assert services.openings_of_organisation(w.mgr_a).filter(pk=opening.pk).exists()  # the hub's own
    assert services.openings_of_organisation(w.mgr_b).filter(pk=opening.pk).exists()  # and the holder's
    assert services.recent_openings(w.mgr_b) == 1
    assert 'id="recent-openings"' in _cases_page(w.mgr_b)
    report = client(w.mgr_b).get(reverse("referrals:break_glass_report")).content.decode()
    assert r.reference in report and REASON in report and str(w.mgr_a.organisation) in report
    # a manager barred from the case is not shown it
    mgr_b2 = _second_manager_b(w)
    r.barred_staff.add(mgr_b2)
    assert not services.openings_of_organisation(mgr_b2).exists()
    assert r.reference not in client(mgr_b2).get(reverse("referrals:break_glass_report")).content.decode()


def test_a_later_move_takes_no_opening_to_the_new_providers_managers(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    c = client(w.cw_a)  # provider A's own caseworker, outside the named staff
    assert c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON}).status_code == 302
    opening = BreakGlass.objects.get(referral=r, user=w.cw_a)
    services.allocate(r, w.pb, w.mgr_a, reason="Closer to home")
    assert services.openings_of_organisation(w.mgr_a).filter(pk=opening.pk).exists()
    assert not services.openings_of_organisation(w.mgr_b).filter(pk=opening.pk).exists()
