"""Rescue and Response: the view ``referrals:break_glass`` (/referrals/cases/<uuid:pk>/break-glass/): what it
shows and writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
import referrals_base as base
from django.urls import reverse
from factories import signed_in
from referrals_base import NAME, REASON, _restricted_at_b, error_next_to, make_case, restricted_case, snapshot

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import (
    BreakGlass,
)

pytestmark = pytest.mark.django_db


def test_break_glass_needs_a_reason_leaves_its_rows_and_is_shown_to_a_manager(w):
    r = restricted_case(w)
    c = signed_in(w.cw_a)
    page = c.get(reverse("referrals:case", args=[r.pk]))
    assert (
        page.status_code == 200
        and "restricted record" in page.content.decode()
        and NAME not in page.content.decode()
    )
    assert c.get(f"/api/v1/referrals/cases/{r.pk}/").status_code == 403
    assert c.get(reverse("referrals:export", args=[r.pk, "json"])).status_code == 403
    assert c.post(reverse("referrals:contact", args=[r.pk]), {}).status_code == 403
    assert not AuditLog.objects.filter(action="view case").exists()
    resp = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "short"})
    assert resp.status_code == 400 and 'id="id_reason-error"' in resp.content.decode()
    assert not BreakGlass.objects.exists() and not AuditLog.objects.filter(action="break glass").exists()
    c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "Police called out of hours about him"})
    bg = BreakGlass.objects.get()
    assert (bg.user, bg.referral) == (w.cw_a, r)
    # the audit rows name the opening by id and the case by reference; the reason stays on the opening
    purpose = AuditLog.objects.get(action="break glass").purpose
    assert purpose == f"{r.reference}: break-glass opening {bg.pk} (its reason is on it)"
    page = c.get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert NAME in page
    assert AuditLog.objects.get(action="view case").purpose == f"{r.reference}: break-glass opening {bg.pk}"
    # the named member of staff opens it without a reason
    assert NAME in signed_in(w.cw_a2).get(reverse("referrals:case", args=[r.pk])).content.decode()
    report = signed_in(w.mgr_a).get(reverse("referrals:break_glass_report")).content.decode()
    assert "Police called out of hours" in report and r.reference in report
    assert (
        "Police called out"
        not in signed_in(w.mgr_b).get(reverse("referrals:break_glass_report")).content.decode()
    )
    # barred staff: 404, even with a reason
    r.barred_staff.add(w.cw_a2)
    assert signed_in(w.cw_a2).get(reverse("referrals:case", args=[r.pk])).status_code == 404
    assert (
        signed_in(w.cw_a2)
        .post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "I really need to see it"})
        .status_code
        == 404
    )


def test_a_break_glass_reason_too_short_is_refused_next_to_the_field(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    before = snapshot()
    resp = signed_in(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "need it"})
    assert resp.status_code == 400 and "at least 10" in error_next_to(resp.content.decode(), "reason")
    assert snapshot() == before


# ------------------------------------------------------------------------------------ 3: a reason in words
@pytest.mark.parametrize(
    "reason",
    ["\u200b" * 12, "..........", "- - - - - - -", "\u200b" * 12 + "ok", "1234567890", "\u2003" * 11],
    ids=["zero-width", "dots", "dashes", "two-letters", "digits", "em-spaces"],
)
def test_a_break_glass_reason_needs_words(w, reason):
    r = base.restricted_case(w)
    resp = signed_in(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": reason})
    assert resp.status_code == 400
    page = resp.content.decode()
    assert 'id="id_reason-error"' in page
    assert not BreakGlass.objects.exists()


def test_a_real_reason_is_kept_without_its_invisible_characters(w):
    r = base.restricted_case(w)
    reason = "Urgent\u200b safeguarding\u00a0 call\u200d from police"
    resp = signed_in(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": reason})
    assert resp.status_code == 302
    assert BreakGlass.objects.get().reason == "Urgent safeguarding call from police"


@pytest.mark.django_db
def test_hub_break_glass_without_then_lands_on_the_allocation_page(w):
    r = _restricted_at_b(w)
    bg = signed_in(w.mgr_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON})
    assert bg["Location"] == reverse("referrals:allocate", args=[r.pk])


@pytest.mark.django_db
def test_hub_break_glass_with_a_forged_return_to_the_access_page_lands_on_the_allocation_page(w):
    r = _restricted_at_b(w)
    c = signed_in(w.mgr_a)
    bg = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "restrict"})
    assert bg["Location"] == reverse("referrals:allocate", args=[r.pk])
    assert c.get(bg["Location"]).status_code == 200


@pytest.mark.django_db
def test_other_provider_manager_cannot_break_glass_on_a_case_not_theirs(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    resp = signed_in(w.mgr_b).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON})
    assert resp.status_code == 404 and not BreakGlass.objects.exists()


@pytest.mark.django_db
def test_a_caseworker_still_cannot_break_glass_to_the_access_page(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    c = signed_in(w.cw_a)
    bg = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "restrict"})
    assert bg["Location"] == reverse("referrals:case", args=[r.pk])
    assert c.get(reverse("referrals:restrict", args=[r.pk])).status_code == 403


@pytest.mark.django_db
def test_hub_break_glass_on_a_restricted_referral_waiting_for_a_decision_returns_to_the_decision(w):
    r = make_case(w, status="submitted")
    r.restricted = True
    r.save()
    c = signed_in(w.mgr_a)
    page = c.get(reverse("referrals:decide", args=[r.pk]))
    assert page.status_code == 200 and 'name="then" value="decide"' in page.content.decode()
    bg = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "decide"})
    assert bg["Location"] == reverse("referrals:decide", args=[r.pk])
    again = c.get(bg["Location"])
    assert again.status_code == 200 and "is a restricted record" not in again.content.decode()
