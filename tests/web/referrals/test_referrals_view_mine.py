"""Rescue and Response: the view ``referrals:mine`` (/referrals/mine/): what it shows and writes, who may use
it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in, user
from referrals_base import NAME, _case_urls, make_case

pytestmark = pytest.mark.django_db


def test_a_referrer_sees_the_status_of_their_referrals_only(w):
    r = make_case(w, provider=w.pa)
    c = signed_in(w.referrer)
    for url in _case_urls(r):
        assert c.get(url).status_code in (403, 405), url
    assert c.get(reverse("referrals:cases")).status_code == 403
    assert c.get("/api/v1/referrals/cases/").status_code == 403
    page = c.get(reverse("referrals:draft", args=[r.pk])).content.decode()
    assert "Accepted" in page and NAME not in page and "Norfolk" not in page
    assert [x["reference"] for x in c.get("/api/v1/referrals/mine/").json()["results"]] == [r.reference]
    other = user("ref2@example.org", "referrer")
    assert signed_in(other).get(reverse("referrals:draft", args=[r.pk])).status_code == 404
    assert signed_in(other).get("/api/v1/referrals/mine/").json()["count"] == 0
