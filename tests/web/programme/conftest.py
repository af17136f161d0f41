"""Fixtures shared by several of the programme web test modules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from factories import awarded_grant, consortium, estate, partners, user, ward

from vru.web.programme.models import (
    Grant,
    Intervention,
)


@pytest.fixture
def world(db):
    """Two providers, each leading a consortium with one awarded grant and one intervention."""
    alpha, beta, gamma = partners()
    a_sw, a_br = estate(), ward()
    ca = consortium("Alpha consortium", a_sw, alpha, gamma)
    cb = consortium("Beta consortium", a_br, beta)
    ga = awarded_grant(ca, "T-A", "700000", "650000.50", dt.date(2021, 9, 1), dt.date(2022, 8, 31))
    gb = awarded_grant(cb, "T-B", "500000", "400000", dt.date(2022, 4, 1), dt.date(2023, 3, 31))
    ia = Intervention.objects.create(grant=ga, kind="mentoring", name="Mentoring", year=2022,
                                     sessions_delivered=100, reached_10_13=5, reached_14_17=7)
    ib = Intervention.objects.create(grant=gb, kind="after_school", name="Club", year=2022,
                                     sessions_delivered=40, reached_under_10=3, reached_10_13=4)
    users = {
        "pm": user("pm@example.org", "programme manager"),
        "admin": user("admin@example.org", "administrator"),
        "analyst": user("analyst@example.org", "analyst"),
        "alpha": user("staff@alpha.example.org", "provider", alpha),
        "gamma": user("staff@gamma.example.org", "provider", gamma),
        "beta": user("staff@beta.example.org", "provider", beta),
        "caseworker": user("cw@example.org", "caseworker"),
        "offender": user("om@example.org", "offender manager"),
    }
    return {"orgs": (alpha, beta, gamma), "areas": (a_sw, a_br), "consortia": (ca, cb), "grants": (ga, gb),
            "interventions": (ia, ib), "users": users}


@pytest.fixture
def forms_world(db):
    alpha, beta, gamma = partners()
    area, other = estate(), ward()
    cons = consortium("Alpha consortium", area, alpha, gamma)
    bid = Grant.objects.create(reference="T-BID", consortium=cons, amount_requested=Decimal("500000"))
    funded = awarded_grant(cons, "T-A", "700000", "650000", dt.date(2021, 9, 1), dt.date(2022, 8, 31))
    users = {
        "pm": user("pm@example.org", "programme manager"),
        "admin": user("admin@example.org", "administrator"),
        "analyst": user("analyst@example.org", "analyst"),
        "provider": user("staff@alpha.example.org", "provider", alpha),
        "caseworker": user("cw@example.org", "caseworker"),
    }
    return {"orgs": (alpha, beta, gamma), "areas": (area, other), "consortium": cons,
            "grants": (bid, funded), "users": users}


@pytest.fixture
def bounds_world(db):
    alpha, beta = partners(2)
    area = estate(["E01003911"])
    cons = consortium("Alpha consortium", area, alpha, beta)
    grant = awarded_grant(cons, "T-A", "700000", "650000", dt.date(2021, 9, 1), dt.date(2022, 8, 31))
    act = Intervention.objects.create(grant=grant, kind="mentoring", name="Mentoring", year=2022,
                                      sessions_delivered=100, reached_10_13=5, reached_14_17=7)
    users = {"pm": user("pm@example.org", "programme manager"),
             "provider": user("staff@alpha.example.org", "provider", alpha)}
    return {"orgs": (alpha, beta), "area": area, "consortium": cons, "grant": grant, "act": act,
            "users": users}
