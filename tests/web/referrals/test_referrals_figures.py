"""Rescue and Response: the published figures' small-number suppression (vru.web.referrals.reports)."""

from __future__ import annotations

from datetime import date

import pytest
import referrals_base as base
from django.utils import timezone
from referrals_base import make_case

from vru.web.referrals import reports
from vru.web.referrals.models import (
    Contact,
    Referral,
)

pytestmark = pytest.mark.django_db


def test_small_numbers_are_suppressed_through_one_function(w):
    for p in (w.pa, w.pb, w.pb):
        make_case(w, provider=p)
    rep = reports.service_report()
    assert rep["total"] is None  # 3 referrals: below the threshold
    assert all(
        c["count"] is None or c["count"] >= reports.min_n() or c["count"] == 0 for c in rep["by_borough"]
    )
    assert rep["rates"]["acceptance"]["rate"] is None
    cells = reports.publish(__import__("pandas").Series({"a": 40, "b": 3, "c": 30}))
    assert [c["count"] for c in cells] == [40, None, None, 73]  # 3 hidden, and 30 with it


def test_the_first_contact_count_is_published_as_a_pair(w, settings):
    from vru.web.referrals import reports
    from vru.web.referrals.models import Referral

    settings.VRU_REFERRALS_MIN_N = 3
    for _ in range(5):
        r = make_case(w)
        Contact.objects.create(referral=r, when=timezone.now(), attendance="attended", recorded_by=w.cw_b)
    r = make_case(w)  # one accepted case without a first contact: 5 and 1
    fc = reports.first_contact_days(Referral.objects.filter(status="accepted"))
    assert fc == {"n": None, "median": None}  # 1 below 3: "accepted minus n" would give it away
    for _ in range(3):
        make_case(w)
    assert reports.first_contact_days(Referral.objects.filter(status="accepted"))["n"] == 5


def _cases(w, n: int, *, day: str = "2025-06-01", **closure) -> list[Referral]:
    """``n`` accepted cases referred on ``day``; closed on 1 September 2025 with ``closure`` when given."""
    cases = [make_case(w, status="accepted") for _ in range(n)]
    Referral.objects.filter(pk__in=[c.pk for c in cases]).update(referral_date=day)
    for c in cases:
        c.refresh_from_db()
        if closure:
            base.close_case(w, c, date(2025, 9, 1), **closure)
    return cases


def _declined(w, n: int, day: str = "2025-06-01") -> None:
    for c in _cases(w, n, day=day):
        Referral.objects.filter(pk=c.pk).update(status="declined")


# ---------------------------------------------------------------- D1: totals giving a hidden cell away
def test_a_rates_total_is_published_only_with_both_of_its_parts():
    assert reports._rate(95, 5) == {"rate": None, "n": None}  # "n 100" beside "n 95" gave the 5 away
    assert reports._rate(90, 10) == {"rate": 90.0, "n": 100}


def test_95_of_100_accepted_hides_the_acceptance_total_and_every_total_giving_the_5_away(w, settings):
    settings.VRU_REFERRALS_MIN_N = 3  # 10 accepted of 12 is the 95 of 100 at a threshold of 3
    _cases(w, 3, engaged=True, involvement="ceased")
    _cases(w, 3, engaged=True, involvement="no_change")
    _cases(w, 4, engaged=False, involvement="no_change")
    _declined(w, 2)
    rates = reports.service_report()["rates"]
    assert rates["acceptance"] == {"rate": None, "n": None}  # 2 declined: the rate and its 12 hidden
    # the closed cases are the 10 accepted: their total beside the 12 submitted would give the 2 away
    assert rates["engagement"] == {"rate": None, "n": None}
    # the engaged (6) and reduced (3) are far enough from every published total: shown
    assert rates["reduced_or_ceased"] == {"rate": 50.0, "n": 6}


def test_a_total_chained_to_a_shown_rate_is_hidden_when_it_would_give_a_hidden_part_away(w, settings):
    settings.VRU_REFERRALS_MIN_N = 3
    _cases(w, 10, engaged=True, involvement="ceased")
    _cases(w, 3, engaged=True, involvement="no_change")
    _cases(w, 2, engaged=False, involvement="no_change")  # 2 not engaged: below 3
    _declined(w, 5)
    rep = reports.service_report()
    assert rep["total"] == 20
    assert rep["rates"]["acceptance"] == {"rate": 75.0, "n": 20}
    assert rep["rates"]["engagement"] == {"rate": None, "n": None}
    # before: "reduced or ceased, 76.9% of 13" beside "accepted 15" told that 2 were not engaged
    assert rep["rates"]["reduced_or_ceased"] == {"rate": None, "n": None}


def test_the_open_count_of_a_release_is_hidden_when_it_would_give_a_small_part_away(w, settings):
    settings.VRU_REFERRALS_MIN_N = 3
    _cases(w, 6, engaged=True, involvement="ceased")
    _cases(w, 4)  # open
    undecided = make_case(w, status="submitted")
    Referral.objects.filter(pk=undecided.pk).update(referral_date="2025-06-01")
    _declined(w, 4)
    # 5 open = 4 accepted not closed (accepted 10 minus closed 6, both shown) + 1 undecided: it gives the 1
    assert reports.release(2025, today=date(2026, 10, 1))["still_open"] is None
