"""Rescue and Response: the view ``referrals:update`` (/referrals/cases/<uuid:pk>/update/): what it shows and
writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import BRENT, _error_next_to, make_case

from vru.web.referrals.models import (
    ChangeRecord,
    YoungPerson,
)

pytestmark = pytest.mark.django_db


def test_changes_after_submission_keep_old_and_new_values_and_the_reason(w):
    r = make_case(w, provider=w.pa)
    c = signed_in(w.cw_a)
    data = {
        "borough": BRENT,
        "gender": "male",
        "missing_episodes": "4",
        "contact": "07700 900999",
        "nrm_referred": "on",
        "nrm_referred_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
    }
    resp = c.post(reverse("referrals:update", args=[r.pk]), data)
    assert resp.status_code == 400 and 'id="id_reason-error"' in resp.content.decode()
    assert not ChangeRecord.objects.exists()
    c.post(reverse("referrals:update", args=[r.pk]), {**data, "reason": "NRM referral made by the council"})
    got = {x.field: (x.old_value, x.new_value, x.reason) for x in ChangeRecord.objects.filter(referral=r)}
    assert got["missing_episodes"][:2] == ("0", "4")
    assert got["nrm_referred"][:2] == ("False", "True")
    assert got["contact"][:2] == ("07700 900123", "07700 900999")
    assert all(v[2] == "NRM referral made by the council" for v in got.values())


def test_a_change_sent_without_the_contact_keeps_it_and_one_sent_empty_removes_it(w):
    """The change page's form always carries the contact; a POST made without it (a script, a form of one's
    own) keeps the contact as it is, as it keeps the name and date of birth, instead of blanking it."""
    r = make_case(w, provider=w.pa)
    c = signed_in(w.cw_a)
    data = {"borough": BRENT, "gender": "male", "missing_episodes": "3", "reason": "two more episodes"}
    assert c.post(reverse("referrals:update", args=[r.pk]), data).status_code == 302
    r.refresh_from_db()
    assert r.person.contact == "07700 900123" and r.person.name == base.NAME
    assert list(r.changes.values_list("field", flat=True)) == ["missing_episodes"]
    data = {**data, "contact": "", "reason": "the phone was taken from them"}
    assert c.post(reverse("referrals:update", args=[r.pk]), data).status_code == 302
    r.person.refresh_from_db()
    assert r.person.contact == "" and r.changes.filter(field="contact", new_value="").exists()


def test_name_and_date_of_birth_are_corrected_with_their_change_records(w):
    from datetime import timedelta

    from vru.web.referrals.models import ChangeRecord

    r = make_case(w, provider=w.pa)
    c = signed_in(w.cw_a)
    url = reverse("referrals:update", args=[r.pk])
    page = c.get(url).content.decode()
    assert base.NAME in page  # shown to be corrected (an audited read)
    keep = {"borough": BRENT, "gender": "male", "missing_episodes": "0", "contact": "07700 900123"}
    too_old = (r.referral_date - timedelta(days=27 * 366)).isoformat()
    resp = c.post(url, {**keep, "date_of_birth": too_old, "reason": "Typo in the year"})
    assert resp.status_code == 400 and "makes them 2" in _error_next_to(
        resp.content.decode(), "date_of_birth"
    )
    resp = c.post(url, {**keep, "name": "", "reason": "Typo in the name"})
    assert resp.status_code == 400 and "full name" in _error_next_to(resp.content.decode(), "name")
    dob = r.referral_date - timedelta(days=18 * 366)
    resp = c.post(
        url,
        {**keep, "name": "Zebedee Testperson-Smith", "date_of_birth": dob.isoformat(), "reason": "ID seen"},
    )
    assert resp.status_code == 302
    person = YoungPerson.objects.get(referral=r)
    r.refresh_from_db()
    assert (person.name, person.date_of_birth, r.age_at_referral) == ("Zebedee Testperson-Smith", dob, 18)
    changes = {
        c.field: (c.old_value, c.new_value) for c in ChangeRecord.objects.filter(referral=r, record="person")
    }
    assert (
        changes["name"] == (base.NAME, "Zebedee Testperson-Smith")
        and changes["date_of_birth"][1] == dob.isoformat()
    )
    # a form without them (the existing clients) keeps them
    assert c.post(url, {**keep, "missing_episodes": "1", "reason": "One more"}).status_code == 302
    assert YoungPerson.objects.get(referral=r).name == "Zebedee Testperson-Smith"
