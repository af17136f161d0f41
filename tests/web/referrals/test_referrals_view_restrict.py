"""Rescue and Response: the view ``referrals:restrict`` (/referrals/cases/<uuid:pk>/access/): what it shows
and writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
import referrals_base as base
from django.urls import reverse
from factories import signed_in, user
from referrals_base import REASON, _restricted_at_b, make_case

from vru.web.accounts.models import AuditLog, User

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------- a restriction made on its page
def test_a_manager_restricts_a_case_to_named_staff_and_bars_another_on_its_page(w):
    r = make_case(w, provider=w.pa)
    cw_a3 = user("cwa3@example.org", "caseworker", w.pa.organisation)
    mgr = signed_in(w.mgr_a)
    resp = mgr.post(
        reverse("referrals:restrict", args=[r.pk]),
        {"restricted": "on", "allowed_staff": [w.cw_a2.pk, w.mgr_a.pk], "barred_staff": [cw_a3.pk]},
    )
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.restricted and set(r.allowed_staff.all()) == {w.cw_a2, w.mgr_a}
    assert list(r.barred_staff.all()) == [cw_a3]
    row = AuditLog.objects.get(action="restrict case")
    ids = sorted([w.cw_a2.pk, w.mgr_a.pk])
    assert row.purpose == (
        f"{r.reference}: management: restricted=True, 2 named, 1 barred; restricted False -> True; "
        f"named +{ids} -[] (user ids); barred +[{cw_a3.pk}] -[] (user ids)"
    )
    # named: opens it; not named: the break-glass page (no name on it); barred: 404, and not in the caseload
    assert base.NAME in signed_in(w.cw_a2).get(reverse("referrals:case", args=[r.pk])).content.decode()
    page = signed_in(w.cw_a).get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert "restricted record" in page and base.NAME not in page
    assert signed_in(cw_a3).get(reverse("referrals:case", args=[r.pk])).status_code == 404
    assert r.reference not in signed_in(cw_a3).get(reverse("referrals:cases")).content.decode()
    # staff of another organisation cannot be named (not one of the choices)
    resp = mgr.post(
        reverse("referrals:restrict", args=[r.pk]), {"restricted": "on", "allowed_staff": [w.cw_b.pk]}
    )
    assert resp.status_code == 400 and 'id="id_allowed_staff-error"' in resp.content.decode()
    r.refresh_from_db()
    assert set(r.allowed_staff.all()) == {w.cw_a2, w.mgr_a}


def _restrict(c, r, **data):
    return c.post(reverse("referrals:restrict", args=[r.pk]), data)


# ------------------------------------------------------------------ 1: bars on staff the form does not offer
def test_a_bar_on_another_providers_staff_survives_a_move_and_their_managers_save(w):
    r = make_case(w, provider=w.pa)
    assert _restrict(signed_in(w.mgr_a), r, barred_staff=[w.cw_a.pk]).status_code == 302
    moved = {"provider": w.pb.pk, "reason": "Closer to home"}
    assert signed_in(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), moved).status_code == 302
    mgr_b = signed_in(w.mgr_b)
    page = mgr_b.get(reverse("referrals:restrict", args=[r.pk])).content.decode()
    assert "kept as they are" in page and "cwa" in page  # the bar not offered is shown
    assert _restrict(mgr_b, r, barred_staff=[w.cw_b.pk]).status_code == 302
    assert set(r.barred_staff.all()) == {w.cw_a, w.cw_b}  # before: only cw_b, the bar on cw_a silently gone
    back = {"provider": w.pa.pk, "reason": "Back to the first provider"}
    assert signed_in(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), back).status_code == 302
    assert signed_in(w.cw_a).get(reverse("referrals:case", args=[r.pk])).status_code == 404  # still barred
    rows = AuditLog.objects.filter(action="restrict case").order_by("pk").values_list("purpose", flat=True)
    assert rows[0].endswith(f"barred +[{w.cw_a.pk}] -[] (user ids)")
    assert rows[1].endswith(f"barred +[{w.cw_b.pk}] -[] (user ids)")  # cw_a neither added nor removed


def test_a_bar_on_someone_no_longer_active_survives_a_save(w):
    r = make_case(w, provider=w.pa)
    mgr = signed_in(w.mgr_a)
    _restrict(mgr, r, barred_staff=[w.cw_a.pk])
    User.objects.filter(pk=w.cw_a.pk).update(is_active=False)
    assert _restrict(mgr, r, restricted="on", allowed_staff=[w.cw_a2.pk]).status_code == 302
    assert list(r.barred_staff.all()) == [w.cw_a]
    User.objects.filter(pk=w.cw_a.pk).update(is_active=True)  # back from leave: still barred
    assert signed_in(w.cw_a).get(reverse("referrals:case", args=[r.pk])).status_code == 404


def test_a_name_not_offered_counts_as_the_named_staff_of_a_restricted_case(w):
    r = base.restricted_case(w)  # named: cw_a2
    r.allowed_staff.add(w.mgr_a)
    User.objects.filter(pk=w.cw_a2.pk).update(is_active=False)
    # the manager takes themself off: cw_a2, not offered, is still named, so the case is not left with none
    assert _restrict(signed_in(w.mgr_a), r, restricted="on").status_code == 302
    assert list(r.allowed_staff.all()) == [w.cw_a2]
    row = AuditLog.objects.get(action="restrict case")
    assert row.purpose.endswith(f"named +[] -[{w.mgr_a.pk}] (user ids)")


# ------------------------------------------------ 5: a restricted case naming no one at its provider
@pytest.mark.django_db
def test_manager_reaches_the_access_page_of_a_case_naming_no_one_of_theirs(w):
    r = _restricted_at_b(w)  # named: cw_b, at B
    c = signed_in(w.mgr_a)
    c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "allocate"})
    c.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk, "reason": "Closer to home"})
    r.refresh_from_db()
    assert r.current_provider_id == w.pa.pk
    # a manager of A without an opening in this session: the access page asks for break-glass, not a 403
    m = signed_in(w.mgr_a)
    page = m.get(reverse("referrals:restrict", args=[r.pk]))
    assert page.status_code == 200 and 'name="then" value="restrict"' in page.content.decode()
    assert m.post(reverse("referrals:restrict", args=[r.pk]), {"restricted": "on"}).status_code == 403
    bg = m.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "restrict"})
    assert bg["Location"] == reverse("referrals:restrict", args=[r.pk])
    page = m.get(reverse("referrals:restrict", args=[r.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and 'id="access-notice"' in body and "No one at" in body
    saved = m.post(reverse("referrals:restrict", args=[r.pk]),
                   {"restricted": "on", "allowed_staff": [w.cw_a.pk]})
    assert saved.status_code == 302
    assert set(r.allowed_staff.values_list("pk", flat=True)) == {w.cw_a.pk, w.cw_b.pk}
    assert 'id="access-notice"' not in m.get(reverse("referrals:restrict", args=[r.pk])).content.decode()
