"""Rescue and Response: the view ``referrals:reports`` (/referrals/reports/): what it shows and writes, who
may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import NAME, make_case

from vru.web.referrals import demo, reports
from vru.web.referrals.models import (
    AppendOnlyImmutable,
    Need,
    Referral,
)

pytestmark = pytest.mark.django_db


def test_referrals_against_need_use_the_warehouse(w, settings, london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)
    demo.generate(seed=3)
    rows = reports.referrals_against_need()
    need = {r["code"]: r for r in rows}
    assert need["E09000002"]["need"] > 0 and need["E09000002"]["need_rank"] is not None
    ranks = sorted(r["need_rank"] for r in rows if r["need_rank"])
    assert len(ranks) >= 32 and ranks == list(range(1, len(ranks) + 1))  # the 32 MPS boroughs ranked
    page = signed_in(w.analyst).get(reverse("referrals:reports")).content.decode()
    assert "Barking and Dagenham" in page and "Referrals against need" in page and NAME not in page


def test_need_without_a_warehouse_is_left_empty(w, settings, tmp_path):
    settings.VRU_WAREHOUSE = str(tmp_path / "none.duckdb")
    assert reports.need_by_borough() is None
    assert signed_in(w.analyst).get(reverse("referrals:reports")).status_code == 200


# ------------------------------------------------------------- a year's figures: once, when final
def _year_cases(w, n: int, day: str) -> list:
    from vru.web.referrals.models import Referral

    cases = [make_case(w, status="accepted") for _ in range(n)]
    Referral.objects.filter(pk__in=[c.pk for c in cases]).update(referral_date=day)
    for c in cases:
        c.refresh_from_db()
    return cases


def test_a_years_figures_wait_for_its_cases_then_are_published_once(w, settings, monkeypatch):
    from vru.web.referrals import reports
    from vru.web.referrals.models import PublishedFigures, Referral

    settings.VRU_REFERRALS_MIN_N = 3
    monkeypatch.setattr(reports, "_today", lambda: date(2026, 6, 1))  # 2025-26 ended two months ago
    cases = _year_cases(w, 8, "2025-06-01")
    for c in cases[:4]:
        base.close_case(w, c, date(2025, 9, 1), involvement="ceased")
    for c in cases[4:7]:
        base.close_case(w, c, date(2025, 9, 1), involvement="no_change")
    # three accepted and not engaged, three declined: every part of every rate at least 3 (the chain's rule)
    for c in _year_cases(w, 3, "2025-06-01"):
        base.close_case(w, c, date(2025, 9, 1), engaged=False, involvement="no_change")
    for c in _year_cases(w, 3, "2025-06-01"):
        Referral.objects.filter(pk=c.pk).update(status="declined")
    a = signed_in(w.analyst)
    # one case of the year is open: nothing is published yet, and the page says when it will be
    page = a.get(reverse("referrals:reports")).content.decode()
    assert "published once every referral of that year is decided and every case closed" in page
    assert "1 October 2026 at the latest" in page.split('id="pending"')[1]
    api = a.get("/api/v1/referrals/reports/").json()
    assert api["report"] is None and api["pending"]["period"] == "2025-26"
    assert api["pending"]["publish_by"] == "2026-10-01"
    assert not PublishedFigures.objects.exists()
    # the last case closes: the year is final, and its release counts every outcome (4 of 8, not 4 of 7)
    base.close_case(w, cases[7], date(2026, 5, 1), involvement="no_change")
    api = a.get("/api/v1/referrals/reports/").json()
    assert api["pending"] is None and api["report"]["period"] == "2025-26"
    assert api["report"]["rates"]["reduced_or_ceased"] == {"rate": 50.0, "n": 8}
    assert api["report"]["still_open"] == 0
    assert (
        "once every referral of the year was decided and every case closed"
        in a.get(reverse("referrals:reports")).content.decode()
    )
    # one release of a year, never another: a case back-dated into it later changes nothing
    _year_cases(w, 1, "2025-07-01")
    assert a.get("/api/v1/referrals/reports/").json() == api
    assert PublishedFigures.objects.count() == 1


def test_a_year_with_open_cases_is_published_on_its_day_with_the_open_count(w, settings, monkeypatch):
    from vru.web.referrals import reports

    settings.VRU_REFERRALS_MIN_N = 3
    cases = _year_cases(w, 6, "2025-06-01")
    for c in cases[:2]:
        base.close_case(w, c, date(2025, 9, 1))
    with pytest.raises(reports.NotYetPublished):
        reports.release(2025, today=date(2026, 9, 30))
    monkeypatch.setattr(reports, "_today", lambda: date(2026, 10, 1))  # the latest publication day
    api = signed_in(w.analyst).get("/api/v1/referrals/reports/?year=2025").json()
    assert api["report"]["still_open"] == 4 and api["report"]["total"] == 6
    page = signed_in(w.analyst).get(reverse("referrals:reports") + "?year=2025").content.decode()
    assert "while 4 of the year's referrals were still open" in page


# --------------------------------------------------------------- 7, 15: figures that cannot be differenced
def test_published_figures_are_completed_years_frozen_so_one_new_case_cannot_be_found(w):

    from vru.web.referrals import demo, reports
    from vru.web.referrals.models import PublishedFigures, Referral

    demo.generate(seed=7)  # 2020-21
    a = signed_in(w.analyst)
    page = a.get(reverse("referrals:reports"))
    first = a.get("/api/v1/referrals/reports/").json()
    assert first["report"]["period"] == "2020-21" and first["report"]["total"] == 593
    assert "2020-21" in first["years"] and "Submitted referrals: 593" in page.content.decode()
    # a new referral today, and an outcome recorded now for a 2020-21 case (back-dated into the year)
    make_case(w, provider=w.pa, days_ago=0)
    old = make_case(w, provider=w.pa)  # entered now, back-dated into 2020-21 with its outcome
    Referral.objects.filter(pk=old.pk).update(referral_date="2020-06-01")
    old.refresh_from_db()
    Need.objects.create(referral=old, category="exit", desired_outcome="x")
    base.close_case(w, old, old.referral_date + timedelta(days=30), involvement="no_change", in_eet="no")
    assert reports.service_report()["total"] == 595  # the computation sees them ...
    assert a.get("/api/v1/referrals/reports/").json() == first  # ... the published figures never do
    figures = a.get(reverse("referrals:reports")).content.decode().split("<h1")[1].split("</main>")[0]
    assert figures == page.content.decode().split("<h1")[1].split("</main>")[0]
    # the current year is not published, a made-up year is 404, the stored release cannot be edited
    assert a.get("/api/v1/referrals/reports/?year=2026").status_code == 404
    assert a.get(reverse("referrals:reports") + "?year=abc").status_code == 404
    with pytest.raises(ValueError, match="has not ended"):
        reports.release(reports.financial_year(timezone.localdate()))
    row = PublishedFigures.objects.get()
    with pytest.raises(AppendOnlyImmutable):
        PublishedFigures.objects.filter(pk=row.pk).update(figures={})


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


# --------------------------------------------------------------- D2: engagement of the closed cases only
def test_a_year_published_with_open_cases_counts_engagement_of_its_closed_cases(w, settings, monkeypatch):
    settings.VRU_REFERRALS_MIN_N = 3
    _cases(w, 6, engaged=True, involvement="ceased")
    _cases(w, 4, engaged=False, involvement="no_change")
    _cases(w, 10)  # still open on the publication day
    _declined(w, 5)
    monkeypatch.setattr(reports, "_today", lambda: date(2026, 10, 1))
    api = signed_in(w.analyst).get("/api/v1/referrals/reports/?year=2025").json()["report"]
    assert api["still_open"] == 10
    assert api["rates"]["engagement"] == {"rate": 60.0, "n": 10}  # not 6 of 20 accepted, 30%
    page = signed_in(w.analyst).get(reverse("referrals:reports") + "?year=2025").content.decode()
    assert "60.0% of 10" in page and "Engaged (of the accepted cases closed" in page


# ------------------------------------------------------------------------------------------ D3: 500s
def test_a_year_of_non_ascii_digits_is_a_404_not_a_500(w):
    a = signed_in(w.analyst)
    assert a.get(reverse("referrals:reports") + "?year=²").status_code == 404
    assert a.get("/api/v1/referrals/reports/?year=%C2%B2").status_code == 404
    # more digits than Python converts to an int by default (4,300): still a 404
    assert a.get(reverse("referrals:reports") + "?year=" + "9" * 5000).status_code == 404
    assert a.get("/api/v1/referrals/reports/?year=" + "9" * 5000).status_code == 404
