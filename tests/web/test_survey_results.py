"""Survey results (docs/web-survey.md, "Results"): equal to a hand computation on synthetic responses with
known rates; every published table suppressed (min 10) through one function; unsuppressed figures only
with accounts.view_unsuppressed, audited; CSV through csvsafe."""

from __future__ import annotations

import csv
import io
import math

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from vru.web.accounts.models import AuditLog, User
from vru.web.survey import results
from vru.web.survey.demo import generate, load_and_publish
from vru.web.survey.questionnaire import SATISFIED

pytestmark = pytest.mark.django_db
RATES = {"stage_contact": 0.9, "stage_actions": 0.8, "stage_followup": 0.6, "stage_treatment": 0.85,
         "stage_overall": 0.7}
BEFORE = {k: v - 0.1 for k, v in RATES.items()}


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture
def data():
    version = load_and_publish()
    before = generate(version, 300, 2025, BEFORE, seed=11)
    now = generate(version, 400, 2026, RATES, seed=12)
    return version, before, now


def test_london_satisfaction_equals_a_hand_computation_with_the_known_rates(data):
    _, before, now = data
    rel = results.release(year=2026)
    rows = rel["tables"][0].rows
    assert rel["n"] == 400 and len(rows) == 5
    for row, (stage, rate) in zip(rows, RATES.items(), strict=True):
        rated = [r[stage] for r in now if r[stage] != "dont_know"]
        k = sum(v in SATISFIED for v in rated)
        assert k == round(rate * len(rated))  # the generator's promise
        assert row[1] == len(rated)
        assert row[2] == round(100 * k / len(rated), 1)
        lo, hi = wilson_by_hand(k, len(rated))
        assert (row[3], row[4]) == (round(100 * lo, 1), round(100 * hi, 1))
        rated_b = [r[stage] for r in before if r[stage] != "dont_know"]
        kb = sum(v in SATISFIED for v in rated_b)
        assert row[5] == round(100 * kb / len(rated_b), 1)
        assert row[6] == pytest.approx(round(row[2] - row[5], 1))
        assert abs(row[2] / 100 - rate) < 0.005


def test_rights_met_and_borough_tables_equal_a_hand_count_where_published(data):
    version, _, now = data
    rel = results.release(year=2026)
    rights = next(t for t in rel["tables"] if t.key == "rights")
    for i, row in enumerate(rights.rows, start=1):
        yes = sum(r[f"right_{i}"] == "yes" for r in now)
        no = sum(r[f"right_{i}"] == "no" for r in now)
        assert row[1] == yes + no and row[2] == round(100 * yes / (yes + no), 1)
    borough = next(t for t in rel["tables"] if t.key == "stage_overall-by-borough")
    assert len(borough.rows) == 34  # every borough listed, zeros included, and London
    for row in borough.rows[:-1]:
        code = next(c for c in version.questionnaire.questions["borough"].options
                    if version.questionnaire.option_label("en", version.questionnaire.questions["borough"], c)
                    == row[0])
        rated = [r for r in now if r["borough"] == code and r["stage_overall"] != "dont_know"]
        sat = sum(r["stage_overall"] in SATISFIED for r in rated)
        if row[1] is not None:
            assert row[1] == len(rated) >= 10
        else:
            assert row[2] is None
        if row[2] is not None:  # a share only where satisfied, not satisfied and base are all published
            assert sat >= 10 and len(rated) - sat >= 10
            assert row[2] == round(100 * sat / len(rated), 1)


def test_every_published_cell_rests_on_at_least_10_respondents(data):
    rel = results.release(year=2026)
    for t in rel["tables"]:
        for row in t.rows:
            for col, v in zip(t.columns[1:], row[1:], strict=True):
                if v is not None and col in ("Respondents (base)", "Respondents (yes or no)", "Comments",
                                             "Comments mentioning it"):
                    assert v >= 10, (t.key, row[0], col, v)


def test_publish_is_the_one_place_of_suppression():
    import pandas as pd

    counts = pd.DataFrame({"a": [30, 3], "b": [40, 25]}, index=["satisfied", "not satisfied"])
    pub = results.publish(counts)
    assert pub.loc["not satisfied", "a"] is pd.NA and pub.isna().sum().sum() >= 4  # primary + complements
    full = results.publish(counts, unsuppressed=True)
    assert full.loc["not satisfied", "a"] == 3 and not full.isna().any().any()


def test_free_text_is_never_published_only_coded_themes(data):
    rel = results.release(year=2026)
    themes = next(t for t in rel["tables"] if t.key == "themes")
    assert [r[0] for r in themes.rows] == list(results.THEMES)
    out = io.StringIO()
    results.write_csv(rel, out)
    from vru.web.survey.demo import COMMENTS

    for comment in COMMENTS:
        assert comment not in out.getvalue()
    assert results.code_themes("Nobody kept me informed and I had to wait hours") == [
        "Kept informed / communication", "Speed of response"]


def _user(email, role):
    u = User.objects.create_user(email, None)
    u.groups.add(Group.objects.get(name=role))
    c = Client()
    c.force_login(u, backend="django.contrib.auth.backends.ModelBackend")
    return u, c


def test_results_pages_published_and_unsuppressed_with_audit(data):
    _, pm = _user("pm@example.org", "programme manager")
    r = pm.get("/survey/results/")
    assert r.status_code == 200 and "suppressed" in r.content.decode()
    assert "Unsuppressed figures (inside the unit)" not in r.content.decode()
    r = pm.get("/survey/results/", {"purpose": "checking the borough figures"})
    assert "for use inside the unit only" not in r.content.decode()
    analyst, ac = _user("an@example.org", "analyst")
    r = ac.get("/survey/results/", {"purpose": "quality check of the borough figures"})
    assert "for use inside the unit only" in r.content.decode()
    assert AuditLog.objects.filter(user=analyst, action="view unsuppressed survey results").count() == 1
    csv_r = ac.get("/survey/results.csv")
    rows = list(csv.reader(io.StringIO(csv_r.content.decode())))
    assert rows[0] == ["table", "title", "row", "column", "value"] and len(rows) > 100
    _, prov = _user("prov@example.org", "provider")
    assert prov.get("/survey/results/").status_code == 403
