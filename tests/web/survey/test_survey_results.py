"""Survey results (docs/web-survey.md, "Results"): equal to a hand computation on synthetic responses with
known rates; every published table protected (min 10) through one function, as one release; unsuppressed
figures only with accounts.view_unsuppressed, audited; CSV through csvsafe. The release as a whole (the
attacker, the ledger, publishing): test_survey_results_release.py."""

from __future__ import annotations

import io
import math

import pytest
from factories import user_and_client

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


def _quarter(r):
    return results.quarter_of(2026, r["_week"])


def test_london_satisfaction_equals_a_hand_computation_with_the_known_rates(data):
    _, before, now = data
    rel = results.preview("2026-Q4", unsuppressed=True)  # the platform's computation, every figure
    published = results.preview("2026-Q4", dimensions=("sex",))  # the same, protected as a release
    rows = rel["tables"][0].rows
    assert rel["n"] == 400 and len(rows) == 5
    for row, pub, (stage, rate) in zip(rows, published["tables"][0].rows, RATES.items(), strict=True):
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
        assert all(p == x or p == "suppressed" for p, x in zip(pub, row, strict=True))  # published: equal
    assert any(isinstance(x, float) for row in published["tables"][0].rows for x in row[2:])


def test_rights_met_and_borough_tables_equal_a_hand_count_where_published(data):
    version, _, now = data
    q = version.questionnaire
    now = [r for r in now if _quarter(r) in ("2026 Q1", "2026 Q2")]
    rel = results.preview("2026-Q2", dimensions=("borough",))
    rights = next(t for t in rel["tables"] if t.key == "rights")
    shown = 0
    for i, row in enumerate(rights.rows, start=1):
        yes = sum(r[f"right_{i}"] == "yes" for r in now)
        no = sum(r[f"right_{i}"] == "no" for r in now)
        assert row[1] in (yes + no, "suppressed")
        if row[2] != "suppressed":
            assert row[2] == round(100 * yes / (yes + no), 1) and yes >= 10 and no >= 10
            shown += 1
    assert shown
    borough = next(t for t in rel["tables"] if t.key == "stage_overall-by-borough")
    assert len(borough.rows) == 34  # every borough listed, zeros included, and London
    labels = {q.option_label("en", q.questions["borough"], c): c for c in q.questions["borough"].options}
    for row in borough.rows:
        rated = [r for r in now if (row[0] == "London" or r["borough"] == labels[row[0]])
                 and r["stage_overall"] != "dont_know"]
        sat = sum(r["stage_overall"] in SATISFIED for r in rated)
        if row[1] != "suppressed":
            assert row[1] == len(rated) >= 10
        else:
            assert row[2] == "suppressed"
        if row[2] != "suppressed":  # a share only where satisfied, not satisfied and base are all published
            assert sat >= 10 and len(rated) - sat >= 10
            assert row[2] == round(100 * sat / len(rated), 1)


def test_every_published_cell_rests_on_at_least_10_respondents(data):
    rel = results.preview("2026-Q2", dimensions=("crime_type", "sex"))
    for t in rel["tables"]:
        for row in t.rows:
            for col, v in zip(t.columns[1:], row[1:], strict=True):
                if isinstance(v, int) and col in ("Respondents (base)", "Respondents (yes or no)", "Comments",
                                                  "Comments mentioning it"):
                    assert v >= 10, (t.key, row[0], col, v)


def test_protect_is_the_one_place_of_suppression():
    import pandas as pd

    from vru.analysis.disclosure import Table

    counts = pd.DataFrame({"a": [30, 3], "b": [40, 25]}, index=["satisfied", "not satisfied"])
    counts.index.name, counts.columns.name = "outcome", "group"
    cells, rel = results.protect([Table(counts, ("2026 Q1",), "p", "t")])
    pub = cells["t"]
    assert pub[("not satisfied", "a")] is None and sum(v is None for v in pub.values()) >= 4  # + complements
    assert rel is not None and (rel.audit["upper"] >= 10).all()
    full, none = results.protect([Table(counts, ("2026 Q1",), "p", "t")], unsuppressed=True)
    assert full["t"][("not satisfied", "a")] == 3 and none is None and None not in full["t"].values()


def test_free_text_is_never_published_only_coded_themes(data):
    rel = results.preview("2026-Q1", dimensions=("sex",))
    themes = next(t for t in rel["tables"] if t.key == "themes")
    assert [r[0] for r in themes.rows] == list(results.THEMES)
    out = io.StringIO()
    results.write_csv(rel, out)
    from vru.web.survey.demo import COMMENTS

    for comment in COMMENTS:
        assert comment not in out.getvalue()
    assert results.code_themes("Nobody kept me informed and I had to wait hours") == [
        "Kept informed / communication", "Speed of response"]


def test_each_group_gets_the_change_against_the_same_period_published_a_year_before():
    """The change per borough, crime type or group: this year's published share minus the share published
    for the same period a year before (both already public; a hidden share hides the change)."""
    version = load_and_publish()
    generate(version, 300, 2024, BEFORE, seed=21)
    generate(version, 300, 2025, RATES, seed=22)
    analyst, _ = user_and_client("an-change@example.org", "analyst")
    first = results.publish_period("2024-Q4", analyst, dimensions=("sex",))
    assert all(t["columns"][-1] != "Change (points)" for t in first.tables if t["key"].endswith("-by-sex"))
    second = results.publish_period("2025-Q4", analyst, dimensions=("sex",))
    then = {t["key"]: {r[0]: r[2] for r in t["rows"]} for t in first.tables}
    shown = hidden = 0
    for t in second.tables:
        if not t["key"].endswith("-by-sex"):
            continue
        assert t["columns"][-2:] == ["% satisfied 2024", "Change (points)"]
        for row in t["rows"]:
            assert row[-2] == then[t["key"]][row[0]]  # the share as published a year before
            if isinstance(row[2], float) and isinstance(row[-2], float):
                assert row[-1] == round(row[2] - row[-2], 1)
                shown += 1
            else:
                assert row[-1] == "suppressed"
                hidden += 1
    assert shown and hidden and shown + hidden == 5 * 6  # five stages: four sexes, not answered, London
    preview = results.preview("2025-Q4", unsuppressed=True, dimensions=("sex",))
    assert all(t.columns[-1] != "Change (points)" for t in preview["tables"] if t.key.endswith("-by-sex"))
