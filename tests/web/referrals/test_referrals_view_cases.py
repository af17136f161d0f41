"""Rescue and Response: the view ``referrals:cases`` (/referrals/): what it shows and writes, who may use it,
its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in, user
from referrals_base import make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import (
    BreakGlass,
    Referral,
)

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------------------- search
def test_the_caseload_search_is_a_post_and_a_name_in_a_url_finds_nothing(w):
    r = make_case(w, provider=w.pa)
    other = make_case(w, provider=w.pa, name="Someone Else")
    c = signed_in(w.cw_a)
    got = c.get(reverse("referrals:cases"), {"q": "Zebedee"}).content.decode().split('id="cases"')[1]
    assert r.reference in got and other.reference in got  # the query string is ignored: the whole list
    assert not AuditLog.objects.filter(action="search").exists()
    page = c.get(reverse("referrals:cases")).content.decode()
    assert '<form method="post"' in page and "csrfmiddlewaretoken" in page.split('role="search"')[1]
    got = c.post(reverse("referrals:cases"), {"q": "Zebedee"}).content.decode().split('id="cases"')[1]
    assert r.reference in got and other.reference not in got
    assert AuditLog.objects.get(action="search").purpose == "casework: search of the caseload, 1 found"


REASON = "Need to check the allocation for the safety of the family"


def _cases_page(user) -> str:
    return signed_in(user).get(reverse("referrals:cases")).content.decode()


def _second_manager_b(w):
    return user("mgrb2@example.org", "provider manager", w.pb.organisation)


def test_a_manager_barred_from_a_case_is_not_told_of_its_move_away(w):
    r = make_case(w, provider=w.pb)
    mgr_b2 = _second_manager_b(w)
    r.barred_staff.add(w.mgr_b)
    signed_in(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]),
                         {"provider": w.pa.pk, "reason": "Closer to home"})
    assert services.recent_moves_away(w.mgr_b).count() == 0
    barred = _cases_page(w.mgr_b)
    assert r.reference not in barred and 'id="moves-away"' not in barred
    other = _cases_page(mgr_b2)  # a manager not barred from it is told
    assert 'id="moves-away"' in other and r.reference in other


def test_the_move_away_notice_goes_once_the_case_is_moved_back(w):
    r = make_case(w, provider=w.pb)
    hub = signed_in(w.mgr_a)
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
    bg = signed_in(w.mgr_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON,
                                                                             "then": "allocate"})
    assert bg.status_code == 302
    opening = BreakGlass.objects.get(referral=r, user=w.mgr_a)
    assert services.openings_of_organisation(w.mgr_a).filter(pk=opening.pk).exists()  # the hub's own
    assert services.openings_of_organisation(w.mgr_b).filter(pk=opening.pk).exists()  # and the holder's
    assert services.recent_openings(w.mgr_b) == 1
    assert 'id="recent-openings"' in _cases_page(w.mgr_b)
    report = signed_in(w.mgr_b).get(reverse("referrals:break_glass_report")).content.decode()
    assert r.reference in report and REASON in report and str(w.mgr_a.organisation) in report
    # a manager barred from the case is not shown it
    mgr_b2 = _second_manager_b(w)
    r.barred_staff.add(mgr_b2)
    assert not services.openings_of_organisation(mgr_b2).exists()
    assert r.reference not in signed_in(mgr_b2).get(reverse("referrals:break_glass_report")).content.decode()


def test_a_later_move_takes_no_opening_to_the_new_providers_managers(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    c = signed_in(w.cw_a)  # provider A's own caseworker, outside the named staff
    assert c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON}).status_code == 302
    opening = BreakGlass.objects.get(referral=r, user=w.cw_a)
    services.allocate(r, w.pb, w.mgr_a, reason="Closer to home")
    assert services.openings_of_organisation(w.mgr_a).filter(pk=opening.pk).exists()
    assert not services.openings_of_organisation(w.mgr_b).filter(pk=opening.pk).exists()


def test_a_search_with_a_nul_character_is_refused_next_to_the_box(w):
    make_case(w, provider=w.pa)
    resp = signed_in(w.cw_a).post(reverse("referrals:cases"), {"q": "Zeb\x00"})
    assert resp.status_code == 400
    page = resp.content.decode()
    assert 'id="q-error"' in page and "without control characters" in page
    assert not AuditLog.objects.filter(action="search").exists()
    r = Referral.objects.get()
    found = signed_in(w.cw_a).post(reverse("referrals:cases"), {"q": "Zebedee"})
    assert found.status_code == 200 and r.reference in found.content.decode()
    assert AuditLog.objects.filter(action="search").count() == 1


# ------------------------------------------------- 3: the losing provider's managers are told of a move
@pytest.mark.django_db
def test_the_losing_providers_managers_see_the_move_away_on_their_caseload_page(w):
    r = make_case(w, provider=w.pb)
    fresh = make_case(w, provider=None)  # accepted, waiting for its first allocation
    hub = signed_in(w.mgr_a)
    hub.post(reverse("referrals:allocate", args=[fresh.pk]), {"provider": w.pb.pk})
    assert Referral.objects.get(pk=fresh.pk).current_provider_id == w.pb.pk
    assert services.recent_moves_away(w.mgr_b).count() == 0  # a first allocation takes nothing away
    hub.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk, "reason": "Closer to home"})
    assert Referral.objects.get(pk=r.pk).current_provider_id == w.pa.pk
    page = signed_in(w.mgr_b).get(reverse("referrals:cases")).content.decode()
    assert 'id="moves-away"' in page and r.reference in page and str(w.pa) in page
    assert "Closer to home" not in page  # the reason stays with the case
    assert 'id="moves-away"' not in signed_in(w.mgr_a).get(reverse("referrals:cases")).content.decode()
    assert 'id="moves-away"' not in signed_in(w.cw_b).get(reverse("referrals:cases")).content.decode()
