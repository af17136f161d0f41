"""Rescue and Response: the view ``referrals:new`` (/referrals/new/): what it shows and writes, who may use
it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import BRENT, NAME, _error_next_to, referral_post

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import (
    Referral,
    YoungPerson,
)

pytestmark = pytest.mark.django_db


# -------------------------------------------------------------------------------- referral and forms
def test_a_referrer_submits_and_the_person_is_kept_apart(w):
    c = signed_in(w.referrer)
    r = c.post(reverse("referrals:new"), referral_post())
    assert r.status_code == 302
    ref = Referral.objects.get()
    assert ref.status == "submitted" and ref.age_at_referral == 16 and ref.referrer == w.referrer
    assert ref.person.name == NAME and not hasattr(Referral, "name")
    # URLs and titles carry the reference or UUID, never the name
    assert str(ref.pk) in r["Location"] and NAME not in r["Location"]
    page = c.get(r["Location"])
    assert page.status_code == 200 and ref.reference in page.content.decode()
    assert NAME not in page.content.decode()  # the status page only
    assert "Found in" not in page.content.decode()
    audit = AuditLog.objects.get(action="submit referral")
    assert audit.object_id == str(ref.pk) and NAME not in audit.purpose


@pytest.mark.parametrize("age,says", [(9, "makes them 9"), (26, "makes them 26")])
def test_a_date_of_birth_out_of_range_is_refused_next_to_the_field(w, age, says):
    today = timezone.localdate()
    dob = date(today.year - age, today.month, 1) if today.day > 1 else date(today.year - age - 1, 12, 1)
    dob = dob if services.age_on(dob, today) == age else dob - timedelta(days=40)
    r = signed_in(w.referrer).post(reverse("referrals:new"), referral_post(date_of_birth=dob.isoformat()))
    html = r.content.decode()
    assert r.status_code == 400 and 'id="id_date_of_birth-error"' in html
    error = html.split('id="id_date_of_birth-error"')[1].split("</p>")[0]
    assert says in error and ("MASH" in error or "adult safeguarding" in error)
    assert not Referral.objects.exists() and not YoungPerson.objects.exists()


def test_ineligible_referrals_say_why_and_where_to_go(w):
    r = signed_in(w.referrer).post(reverse("referrals:new"), referral_post(borough="", ind_county_lines=None))
    html = r.content.decode()
    assert 'id="id_borough-error"' in html and "live in London" in html
    assert 'id="id_ind_county_lines-error"' in html and "at least one" in html
    assert not Referral.objects.exists()


def test_nrm_dates_must_follow_their_decisions(w):
    today = timezone.localdate()
    r = signed_in(w.referrer).post(
        reverse("referrals:new"),
        referral_post(
            nrm_referred="on",
            nrm_referred_on=(today - timedelta(days=5)).isoformat(),
            rg_decision="positive",
            rg_decided_on=(today - timedelta(days=9)).isoformat(),
            cg_decision="positive",
        ),
    )
    html = r.content.decode()
    assert 'id="id_rg_decided_on-error"' in html and 'id="id_cg_decided_on-error"' in html
    assert not Referral.objects.exists()


def test_intelligence_for_a_borough_without_a_council_is_refused_next_to_the_borough(w):
    from referrals_base import referral_post

    from vru.web.referrals.models import Referral

    c = signed_in(w.referrer)
    resp = c.post(reverse("referrals:new"), referral_post(kind="intelligence", borough="E09000002"))
    assert resp.status_code == 400 and not Referral.objects.exists()
    assert "does not receive intelligence" in _error_next_to(resp.content.decode(), "borough")
    resp = c.post(reverse("referrals:new"), referral_post(kind="intelligence", borough=BRENT))
    assert resp.status_code == 302 and Referral.objects.get().shared_with.borough == BRENT
    # a draft may still name it (the referrer may yet change the type)
    draft = referral_post(kind="intelligence", borough="E09000002", submit=None, draft="1")
    assert c.post(reverse("referrals:new"), draft).status_code == 302


def test_a_form_sent_twice_makes_one_referral(w):
    from referrals_base import referral_post

    from vru.web.referrals.models import Referral

    c = signed_in(w.referrer)
    page = c.get(reverse("referrals:new")).content.decode()
    once = page.split('name="once" value="')[1].split('"')[0]
    first = c.post(reverse("referrals:new"), {**referral_post(), "once": once})
    second = c.post(reverse("referrals:new"), {**referral_post(), "once": once})
    assert Referral.objects.count() == 1 and first["Location"] == second["Location"]
    other = c.get(reverse("referrals:new")).content.decode().split('name="once" value="')[1].split('"')[0]
    assert other != once


def test_nrm_dates_have_a_lower_bound_and_consent_matches_the_basis_and_the_date_is_the_submission(w):
    from datetime import timedelta

    from referrals_base import referral_post

    from vru.web.referrals.models import Referral

    c = signed_in(w.referrer)
    nrm = {"nrm_referred": "on", "nrm_referred_on": "1900-01-01"}
    resp = c.post(reverse("referrals:new"), referral_post(**nrm))
    assert resp.status_code == 400 and "2009" in _error_next_to(resp.content.decode(), "nrm_referred_on")
    dob = timezone.localdate() - timedelta(days=16 * 366)
    before_birth = (dob - timedelta(days=10)).isoformat()
    resp = c.post(reverse("referrals:new"), referral_post(nrm_referred="on", nrm_referred_on=before_birth))
    assert resp.status_code == 400 and "birth" in _error_next_to(resp.content.decode(), "nrm_referred_on")
    resp = c.post(reverse("referrals:new"), referral_post(consent="refused", lawful_basis="consent"))
    assert resp.status_code == 400 and "Consent" in _error_next_to(resp.content.decode(), "lawful_basis")
    assert not Referral.objects.exists()
    # a draft begun long ago takes the day of its submission
    assert c.post(reverse("referrals:new"), referral_post(submit=None, draft="1")).status_code == 302
    r = Referral.objects.get()
    Referral.objects.filter(pk=r.pk).update(referral_date=timezone.localdate() - timedelta(days=40))
    assert c.post(reverse("referrals:draft", args=[r.pk]), referral_post()).status_code == 302
    r.refresh_from_db()
    assert r.status == "submitted" and r.referral_date == timezone.localdate()
