"""Rescue and Response: no name, date of birth or contact in a log, an email, a title or a URL."""

from __future__ import annotations

import logging

import pytest
import referrals_base as base
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import BRENT

from vru.web.referrals.models import (
    Referral,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------- no personal data in logs, mails, titles
def test_no_name_date_of_birth_or_contact_in_a_log_an_email_a_title_or_a_url(w, caplog):
    """The whole journey by the test client, with mistakes, refusals and 404s on the way: every log record
    (every logger, every level), every e-mail, every page title and every URL (redirects included) is free
    of the young person's name, date of birth and contact."""
    caplog.set_level(logging.DEBUG)
    name, contact = "Quilla Xylophone", "07700 900456"
    dob = timezone.localdate().replace(year=timezone.localdate().year - 15, day=3)
    secrets = [name, "Quilla", "Xylophone", contact, dob.isoformat(), dob.strftime("%d/%m/%Y")]
    seen_urls, titles = [], []

    def visit(c, method, url, data=None):
        resp = c.post(url, data or {}) if method == "post" else c.get(url)
        seen_urls.append(url)
        if resp.has_header("Location"):
            seen_urls.append(resp["Location"])
        body = b"" if resp.streaming else resp.content
        if b"<title>" in body:
            titles.append(body.split(b"<title>")[1].split(b"</title>")[0].decode())
        return resp

    ref = signed_in(w.referrer)
    bad = base.referral_post(name=name, contact=contact, date_of_birth="2000-01-01")  # 26 or so: refused
    assert visit(ref, "post", reverse("referrals:new"), bad).status_code == 400
    visit(
        ref,
        "post",
        reverse("referrals:new"),
        base.referral_post(name=name, contact=contact, date_of_birth=dob.isoformat()),
    )
    r = Referral.objects.get(person__name=name)
    visit(ref, "get", reverse("referrals:draft", args=[r.pk]))
    mgr = signed_in(w.mgr_a)
    visit(mgr, "get", reverse("referrals:decide", args=[r.pk]))
    visit(mgr, "post", reverse("referrals:decide", args=[r.pk]), {"decision": "bogus"})
    visit(mgr, "post", reverse("referrals:decide", args=[r.pk]), {"decision": "accept"})
    visit(mgr, "post", reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk})
    cw = signed_in(w.cw_a)
    visit(cw, "post", reverse("referrals:cases"), {"q": "Quilla"})
    visit(cw, "post", reverse("referrals:cases"), {"q": "Quilla\x00"})
    visit(cw, "get", reverse("referrals:case", args=[r.pk]))
    visit(cw, "post", reverse("referrals:contact", args=[r.pk]), {"when": "abc"})
    visit(
        cw,
        "post",
        reverse("referrals:update", args=[r.pk]),
        {
            "borough": BRENT,
            "gender": "female",
            "missing_episodes": "2",
            "name": name,
            "contact": "07700 900457",
            "date_of_birth": dob.isoformat(),
            "reason": "moved house",
        },
    )
    visit(signed_in(w.cw_b), "get", reverse("referrals:case", args=[r.pk]))  # 404
    visit(signed_in(w.analyst), "get", reverse("referrals:case", args=[r.pk]))  # 403
    visit(signed_in(w.cw_b), "get", "/api/v1/referrals/cases/not-a-uuid/")
    visit(cw, "get", f"/api/v1/referrals/cases/{r.pk}/")
    visit(mgr, "get", reverse("referrals:export", args=[r.pk, "json"]))
    assert r.changes.filter(field="contact").exists()  # the journey did reach the change
    assert not mail.outbox, [m.subject for m in mail.outbox]
    assert len(titles) >= 8
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(v) for v in vars(record).values())
        for s in secrets + ["07700 900457"]:
            assert s not in text, (s, record.name, text[:300])
    for text in titles + seen_urls:
        for s in secrets + ["07700 900457"]:
            assert s not in text, (s, text)
