"""Rescue and Response: the view ``referrals:close`` (/referrals/cases/<uuid:pk>/close/): what it shows and
writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import make_case

from vru.web.referrals.models import (
    Closure,
    Contact,
    Need,
    Rescue,
)

pytestmark = pytest.mark.django_db


def _error_next_to(html: str, field: str) -> str:
    marker = f'id="id_{field}-error"'
    assert marker in html, f"no message next to {field}"
    return html.split(marker)[1].split("</p>")[0]


# --------------------------------------------------------------- closing a case that has no needs
def test_closing_a_case_without_needs_puts_the_message_next_to_the_outcomes(w):
    r = make_case(w, provider=w.pa)
    data = base.closing_post(Need(pk=0), timezone.localdate())
    resp = signed_in(w.cw_a).post(reverse("referrals:close", args=[r.pk]), data)
    html = resp.content.decode()
    assert resp.status_code == 400
    assert "Record at least one need" in _error_next_to(html, "outcomes")
    summary = html.split("govuk-error-summary__list")[1].split("</ul>")[0]
    assert '<a href="#id_outcomes">Record at least one need' in summary  # linked, not a bare line
    assert '<output id="id_outcomes"' in html and 'aria-describedby="id_outcomes-error"' in html
    assert reverse("referrals:need", args=[r.pk]) in html.split('id="id_outcomes"')[1].split("</output>")[0]
    r.refresh_from_db()
    assert r.status == "accepted" and not Closure.objects.filter(referral=r).exists()
    # with a need, the same form closes it (the field is gone)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    ok = signed_in(w.cw_a).post(
        reverse("referrals:close", args=[r.pk]), base.closing_post(need, timezone.localdate())
    )
    assert ok.status_code == 302 and Closure.objects.filter(referral=r).exists()


# ------------------------------------------------------------------- 7: a closure after the casework
def test_a_closure_dated_before_recorded_casework_is_refused_next_to_the_date(w):
    r = make_case(w, provider=w.pa, days_ago=20)
    today = timezone.localdate()
    Contact.objects.create(
        referral=r, when=timezone.now() - timedelta(days=2), attendance="attended", recorded_by=w.cw_a
    )
    Rescue.objects.create(
        referral=r, county="Kent", police_force="kent", rescued_on=today - timedelta(days=5),
        returned_on=today - timedelta(days=1),
    )
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    c = signed_in(w.cw_a)
    url = reverse("referrals:close", args=[r.pk])
    resp = c.post(url, base.closing_post(need, today - timedelta(days=15)))
    assert resp.status_code == 400
    page = resp.content.decode()
    assert 'id="id_closed_on-error"' in page and "before its last recorded rescue" in page
    resp = c.post(url, base.closing_post(need, today - timedelta(days=3)))  # before the return, too
    assert resp.status_code == 400
    r.refresh_from_db()
    assert r.status == "accepted" and not Closure.objects.exists()
    assert c.post(url, base.closing_post(need, today - timedelta(days=1))).status_code == 302
    # the correction of the closure is held to the same
    data = {**base.closing_post(need, today - timedelta(days=10)), "reason_for_change": "Wrong date typed"}
    resp = c.post(reverse("referrals:change_closure", args=[r.pk]), data)
    assert resp.status_code == 400 and 'id="id_closed_on-error"' in resp.content.decode()
    assert Closure.objects.get().closed_on == today - timedelta(days=1)


def test_a_closure_before_a_contact_names_the_contact(w):
    r = make_case(w, provider=w.pa, days_ago=20)
    Contact.objects.create(referral=r, when=timezone.now(), attendance="dna", dna_reason="unknown",
                           recorded_by=w.cw_a)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    closed = timezone.localdate() - timedelta(days=15)
    resp = signed_in(w.cw_a).post(reverse("referrals:close", args=[r.pk]), base.closing_post(need, closed))
    assert resp.status_code == 400 and "before its last recorded contact or session" in resp.content.decode()
