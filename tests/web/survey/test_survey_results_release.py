"""The survey's results as one release (issue 14, items 5 and 6; docs/web-survey.md, "Results"): an
attacker who reads the published CSVs of two consecutive periods (a year to date beside its quarters)
solves linear programmes and never shows a small cell; the pattern does not depend on the order of the
tables; "suppressed" and "not available" are distinct; publishing is an explicit, audited, one-off
action; previews are never recorded; the expiry purge of drafts."""

from __future__ import annotations

import csv
import io
import itertools
import random

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from factories import user_and_client
from scipy.optimize import linprog

from vru.web.accounts.models import AuditLog
from vru.web.survey import codes, results
from vru.web.survey.demo import generate, load_and_publish
from vru.web.survey.models import Answer, PublishedRelease, Response, VersionLocked

pytestmark = pytest.mark.django_db
RATES = {"stage_contact": 0.9, "stage_actions": 0.8, "stage_followup": 0.6, "stage_treatment": 0.85,
         "stage_overall": 0.7}
DIMS = ("sex", "disability")  # a narrower fixed set than the full one keeps the attacker's grid dense
Y = codes.iso_week()[0] - 1  # the last full ISO year: its quarters have ended, so they can be published


@pytest.fixture
def data():
    version = load_and_publish()
    generate(version, 200, Y - 1, {k: v - 0.1 for k, v in RATES.items()}, seed=21)
    generate(version, 260, Y, RATES, seed=22)
    return version


# -- the attacker ------------------------------------------------------------------------------------------


class Attacker:
    """Everything the published CSVs say, as linear constraints over the finest cells of each population
    (every category of every dimension by every quarter: a dense grid, independent of the library's
    junction tree), and the largest value any cell can take."""

    def __init__(self, q, quarters):
        self.q, self.quarters = q, quarters
        self.pops = {}
        for s in results.stage_keys(q):
            self.pops[s] = [("outcome", results.OUTCOMES), *[(d, results._categories(q, d)) for d in DIMS]]
        for r in results.right_keys(q):
            self.pops[r] = [("answer", ["yes", "no"])]
        self.pops["comments"] = [(t, ["mentioned", "not mentioned"]) for t in results.THEMES]
        self.eq = {p: [] for p in self.pops}
        self.ub = {p: [] for p in self.pops}

    def grid(self, pop):
        return list(itertools.product(*[c for _, c in self.pops[pop]], self.quarters))

    def row(self, pop, fixed: dict, quarters) -> np.ndarray:
        names = [d for d, _ in self.pops[pop]]
        return np.array([float(g[-1] in quarters and all(g[names.index(d)] == x for d, x in fixed.items()))
                         for g in self.grid(pop)])

    def total(self, pop, fixed, quarters, n):
        self.eq[pop].append((self.row(pop, fixed, quarters), float(n)))

    def share(self, pop, fixed, quarters, p, n=None, positive=("outcome", "satisfied")):
        """A published share: with its base, the numerator is exact (0.1% of fewer than 1,000 is under one
        respondent); without it, numerator / base lies within the rounding."""
        num = self.row(pop, {**fixed, positive[0]: positive[1]}, quarters)
        base = self.row(pop, fixed, quarters)
        if n is not None:
            self.eq[pop].append((num, float(round(p * n / 100))))
        else:
            self.ub[pop].append((num - (p + 0.05) / 100 * base, 0.0))
            self.ub[pop].append((-(num - (p - 0.05) / 100 * base), 0.0))

    def upper(self, pop, target: np.ndarray) -> float:
        a_eq = np.array([r for r, _ in self.eq[pop]]) if self.eq[pop] else None
        b_eq = np.array([v for _, v in self.eq[pop]]) if self.eq[pop] else None
        a_ub = np.array([r for r, _ in self.ub[pop]]) if self.ub[pop] else None
        b_ub = np.array([v for _, v in self.ub[pop]]) if self.ub[pop] else None
        res = linprog(-target, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        if res.status == 3:
            return np.inf
        assert res.status == 0, res.message  # the truth is feasible: the attacker read the CSV right
        return -res.fun


def _read(attacker: Attacker, rows: list[dict], period: results.Period, q):
    ytd = period.quarters()
    prev = period.previous_year().quarters()
    stage_of = {q.text("en", f"q.{s}"): s for s in results.stage_keys(q)}
    right_of = {q.text("en", f"q.{r}"): r for r in results.right_keys(q)}
    by = {}
    for r in rows:
        by.setdefault((r["table"], r["row"]), {})[r["column"]] = (
            float(r["value"]) if r["value"] != "" else r["status"])
    for (table, label), v in by.items():
        def num(c, v=v):
            return v.get(c) if isinstance(v.get(c), float) else None

        if table == "stages":
            s = stage_of[label]
            base, p = num("Respondents (base)"), num("% satisfied")
            prev_p = num(next(c for c in v if c.startswith("% satisfied ")))
            _fact(attacker, s, {}, ytd, base, p)
            if prev_p is not None:
                attacker.share(s, {}, prev, prev_p)
        elif table == "rights":
            _fact(attacker, right_of[label], {}, ytd, num("Respondents (yes or no)"), num("% yes"),
                  positive=("answer", "yes"))
        elif table == "themes":
            if num("Comments") is not None:
                attacker.total("comments", {}, ytd, num("Comments"))
            if num("Comments mentioning it") is not None:
                attacker.total("comments", {label: "mentioned"}, ytd, num("Comments mentioning it"))
        elif table.endswith("-by-quarter"):
            s = table[:-len("-by-quarter")]
            quarters = ytd if label == period.title() else [label]
            _fact(attacker, s, {}, quarters, num("Respondents (base)"), num("% satisfied"))
            if num("% satisfied a year before") is not None:
                attacker.share(s, {}, prev if label == period.title() else [f"{Y - 1} {label[-2:]}"],
                               num("% satisfied a year before"))
        else:
            s, dim = table.split("-by-")
            question = q.questions[dim]
            cat = {("Not answered" if c == results.NOT_ANSWERED else q.option_label("en", question, c)): c
                   for c in results._categories(q, dim)}.get(label)
            _fact(attacker, s, {} if label == "London" else {dim: cat}, ytd, num("Respondents (base)"),
                  num("% satisfied"))


def _fact(attacker, pop, fixed, quarters, n, p, positive=("outcome", "satisfied")):
    if n is not None:
        attacker.total(pop, fixed, quarters, n)
        if p is not None:
            attacker.share(pop, fixed, quarters, p, n, positive=positive)


def test_an_attacker_reading_two_consecutive_periods_never_shows_a_small_cell(data):
    analyst, ac = user_and_client("an@example.org", "analyst")
    q = data.questionnaire
    periods = [results.Period(Y, 2), results.Period(Y, 3)]
    for p in periods:
        results.publish_period(p, analyst, dimensions=DIMS)
    quarters = [results.quarter_label(y, i) for y in (Y - 1, Y) for i in (1, 2, 3)]
    attacker = Attacker(q, quarters)
    for p in periods:
        r = ac.get("/survey/results.csv", {"period": str(p)})
        assert r.status_code == 200
        rows = list(csv.DictReader(io.StringIO(r.content.decode())))
        assert {x["status"] for x in rows} <= {"", "suppressed", "not available"}
        _read(attacker, rows, p, q)
    # the truth, and every cell an attacker might want: each cell of each table in each quarter, in each
    # published year to date, this year and the year before
    df = results.responses_frame()
    df = df[df["quarter"].isin(quarters)]
    checked = small = 0
    atoms = [[x] for x in quarters] + [per.quarters() for per in periods] + \
            [per.previous_year().quarters() for per in periods]
    for pop, dims in attacker.pops.items():
        names = [d for d, _ in dims]
        if pop in RATES:
            col = results._outcome(df, pop)
            truth = {n: (col if n == "outcome" else df[n].fillna(results.NOT_ANSWERED)) for n in names}
            keep = col.notna()
        elif pop == "comments":
            found = [results.code_themes(t) if isinstance(t, str) and t.strip() else None
                     for t in df["comment"]]
            keep = np.array([f is not None for f in found])
            truth = {t: np.array(["mentioned" if f and t in f else "not mentioned" for f in found])
                     for t in names}
        else:
            keep = df[pop].isin(["yes", "no"]).to_numpy()
            truth = {"answer": df[pop].to_numpy()}
        lines = [{}] + [{d: x} for d, cats in dims for x in cats]
        lines += [{names[0]: o, d: x} for o in dims[0][1] for d, cats in dims[1:] for x in cats]
        for fixed, qs in itertools.product(lines, atoms):
            mask = np.asarray(keep) & df["quarter"].isin(qs).to_numpy()
            for d, x in fixed.items():
                mask &= np.asarray(truth[d]) == x
            n = int(mask.sum())
            checked += 1
            if n >= results.MIN_N:
                continue
            small += 1
            hi = attacker.upper(pop, attacker.row(pop, fixed, qs))
            assert hi >= results.MIN_N - 1e-6, (pop, fixed, qs, n, hi)
    assert small > 100 and checked > small  # the test has small cells to attack


def test_the_pattern_does_not_depend_on_the_order_of_the_tables(data):
    q = data.questionnaire
    df = results.responses_frame()
    tables = results.release_tables(df, q, results.Period(Y, 2), dimensions=DIMS)
    a, _ = results.protect(tables)
    shuffled = tables[:]
    random.Random(5).shuffle(shuffled)
    b, _ = results.protect(shuffled)
    assert a == b and any(v is None for c in a.values() for v in c.values())


def test_suppressed_and_not_available_are_distinct(data):
    q = data.questionnaire
    # nobody answered in Q2, and nobody chose "other" for sex; the year before has no survey at all
    q2_weeks = [w for w in range(1, 54) if _week_ok(Y, w) and results.quarter_of(Y, w) == f"{Y} Q2"]
    Response.objects.filter(iso_year=Y, iso_week__in=q2_weeks).delete()
    Response.objects.filter(iso_year=Y - 1).delete()
    Answer.objects.filter(question="sex", value="other").delete()
    rel = results.preview(results.Period(Y, 3), dimensions=DIMS)
    by = {t.key: t for t in rel["tables"]}
    quarter = {r[0]: r for r in by["stage_overall-by-quarter"].rows}
    assert quarter[f"{Y} Q2"][1:] == ["not available"] * 6
    assert isinstance(quarter[f"{Y} Q1"][1], int) and quarter[f"{Y} Q1"][5] == "not available"
    for row in by["stages"].rows:
        assert row[5:] == ["not available", "not available"]
    label = q.option_label("en", q.questions["sex"], "other")
    other = next(r for r in by["stage_overall-by-sex"].rows if r[0] == label)
    assert other[1:] == ["suppressed"] * 4  # a zero is "suppressed", never "not available"
    out = io.StringIO()
    results.write_csv(rel, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["status"] for r in rows} == {"", "suppressed", "not available"}
    assert all((r["value"] == "") == (r["status"] != "") for r in rows)


def _week_ok(year, week):
    try:
        results.quarter_of(year, week)
    except ValueError:
        return False
    return True


def test_a_change_is_shown_only_where_both_shares_are(data):
    rel = results.preview(results.Period(Y, 3), dimensions=DIMS)
    tables = [t for t in rel["tables"] if t.key == "stages" or t.key.endswith("-by-quarter")]
    shown = hidden = 0
    for t in tables:
        i = t.columns.index("Change (points)")
        for row in t.rows:
            now, before, change = row[2], row[i - 1], row[i]
            if isinstance(now, float) and isinstance(before, float):
                assert change == round(now - before, 1)
                shown += 1
            else:
                assert change in ("suppressed", "not available")
                assert (change == "not available") == ("not available" in (now, before))
                hidden += 1
    assert shown and hidden


def test_publishing_is_explicit_once_audited_and_previews_are_never_recorded(data):
    analyst, ac = user_and_client("an2@example.org", "analyst")
    pm, pmc = user_and_client("pm2@example.org", "programme manager")
    assert pmc.get("/survey/results/").content.decode().count("No results have been published yet") == 1
    r = ac.post("/survey/results/", {"purpose": "checking before publication", "period": f"{Y}-Q2"})
    assert "for use inside the unit only" in r.content.decode() and PublishedRelease.objects.count() == 0
    assert AuditLog.objects.filter(user=analyst, action="view unsuppressed survey results").count() == 1
    results.preview(f"{Y}-Q2", dimensions=DIMS)  # the protected preview records nothing either
    assert PublishedRelease.objects.count() == 0 and pmc.get("/survey/results.csv").status_code == 404
    with pytest.raises(CommandError, match="survey.publish_results"):
        call_command("survey_publish", f"{Y}-Q2", "--by", pm.email, "--purpose", "quarterly publication")
    with pytest.raises(CommandError, match="has not ended"):
        call_command("survey_publish", f"{Y + 1}-Q4", "--by", analyst.email, "--purpose", "too early!!")
    with pytest.raises(CommandError, match="no responses"):
        call_command("survey_publish", f"{Y - 5}-Q4", "--by", analyst.email, "--purpose", "no survey then")
    with pytest.raises(CommandError, match="e.g. 2026-Q3"):
        call_command("survey_publish", "2025 quarter 3", "--by", analyst.email, "--purpose", "a bad period")
    out = io.StringIO()
    call_command("survey_publish", f"{Y}-Q1", "--by", analyst.email, "--purpose", "look first", "--dry-run",
                 stdout=out)
    assert out.getvalue().startswith('"table","title","row","column","value","status"')
    assert not PublishedRelease.objects.exists()
    entry = results.publish_period(f"{Y}-Q1", analyst, dimensions=DIMS)
    with pytest.raises(results.PublishError, match="already published"):
        results.publish_period(f"{Y}-Q1", analyst, dimensions=DIMS)
    with pytest.raises(VersionLocked):
        entry.save()
    with pytest.raises(VersionLocked):
        entry.delete()
    page = pmc.get("/survey/results/").content.decode()
    assert f"{Y}-Q1" in page and "Unsuppressed figures (inside the unit)" not in page
    assert pmc.get("/survey/results/", {"period": "1999-Q1"}).status_code == 404
    assert entry.ledger["tables"] and all(c["n"] is None or c["n"] >= 10
                                          for t in entry.ledger["tables"] for c in t["cells"])


def test_the_publish_command_records_and_audits(data, monkeypatch):
    analyst, _ = user_and_client("an3@example.org", "analyst")
    real = results.publish_period
    monkeypatch.setattr(results, "publish_period", lambda p, u: real(p, u, dimensions=DIMS))
    out = io.StringIO()
    call_command("survey_publish", f"{Y}-Q1", "--by", analyst.email, "--purpose", "quarterly publication",
                 stdout=out)
    assert f"{Y}-Q1" in out.getvalue()
    entry = PublishedRelease.objects.get()
    log = AuditLog.objects.get(action="publish survey results")
    assert log.user == analyst and log.object_id == str(entry.pk) and log.purpose == "quarterly publication"
