"""Results for the insight team (docs/web-survey.md, "Results").

Satisfaction is the USS headline: the share *completely, very or fairly satisfied* among those who gave a
rating on the 7-point scale ("don't know" and unanswered are outside the base), with a Wilson 95% interval
(the platform's ``vru.analysis.survey_weights.wilson``; responses are unweighted, so n is the base). It is
given for each of the five stages, London-wide and by borough, crime type, each respondent group and
quarter, for one year (ISO years of completion), with the change in percentage points against the year
before. Rights met: the share answering *yes* among yes and no. Free text is never published: comments are
coded into themes by a keyword frame (:data:`THEMES`) and only theme counts are.

Every published table goes through :func:`publish`, the one place disclosure control is applied
(``vru.analysis.disclosure`` with ``min_n`` = 10: primary suppression of cells under 10, zeros included,
and complementary suppression with a linear-programming audit); a share is shown only where its numerator,
its complement and its base are all published. ``unsuppressed=True`` (analysts holding
``accounts.view_unsuppressed``, inside the unit, audited by the view) skips the suppression.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vru.analysis.disclosure import suppress_table
from vru.analysis.survey_weights import wilson
from vru.outputs import csvsafe

from .models import Answer, QuestionnaireVersion, Response
from .questionnaire import DONT_KNOW, SATISFIED, Questionnaire

MIN_N = 10
SATISFIED_ROW, NOT_SATISFIED_ROW = "satisfied", "not satisfied"
DIMENSIONS = ("borough", "crime_type", "age_band", "sex", "ethnic_group", "disability", "sexual_orientation")
# A simple, documented keyword coding frame for the free text (English keywords; a comment in another
# language is coded only where it uses these words). A comment can carry several themes.
THEMES: dict[str, tuple[str, ...]] = {
    "Kept informed / communication": ("inform", "update", "call back", "called back", "contact",
                                      "heard nothing", "no reply", "never told", "kept me"),
    "Attitude and respect": ("rude", "respect", "kind", "listen", "believed", "polite", "dismissive",
                             "caring", "sympath"),
    "Speed of response": ("slow", "wait", "quick", "late", "delay", "hours", "fast", "took ages"),
    "Investigation and outcome": ("no action", "nothing was done", "closed", "arrest", "caught", "charged",
                                  "investigat", "cctv", "evidence"),
    "Language and access": ("interpreter", "translat", "language", "english", "disab", "access"),
}


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


def quarter_of(year: int, week: int) -> str:
    """The calendar quarter of an ISO week (of its Thursday, which fixes the ISO year)."""
    thursday = dt.date.fromisocalendar(int(year), int(week), 4)
    return f"{thursday.year} Q{(thursday.month - 1) // 3 + 1}"


def responses_frame(slug: str = "victim-voice") -> pd.DataFrame:
    """One row per response: ``year`` (ISO), ``quarter``, ``verified``, ``language`` and one column per
    question (the option code; free text in ``comment``)."""
    resp = pd.DataFrame(Response.objects.filter(version__slug=slug)
                        .values("id", "iso_year", "iso_week", "verified", "language"))
    if resp.empty:
        return pd.DataFrame(columns=["id", "year", "quarter", "verified", "language"])
    ans = pd.DataFrame(Answer.objects.filter(response__version__slug=slug)
                       .values("response_id", "question", "value", "text"))
    resp = resp.rename(columns={"iso_year": "year"})
    resp["quarter"] = [quarter_of(y, w) for y, w in zip(resp["year"], resp["iso_week"], strict=True)]
    if not ans.empty:
        ans["v"] = np.where(ans["value"] != "", ans["value"], ans["text"])
        wide = ans.pivot(index="response_id", columns="question", values="v")
        resp = resp.merge(wide, left_on="id", right_index=True, how="left")
    return resp.drop(columns=["iso_week"])


def publish(counts: pd.DataFrame, *, row_totals: bool = True, unsuppressed: bool = False) -> pd.DataFrame:
    """THE disclosure step of every published table: ``counts`` (respondents; interior cells) with its
    margins, suppressed cells ``<NA>`` (``vru.analysis.disclosure.suppress_table``, ``min_n`` = 10).
    ``unsuppressed``: the same layout with every cell shown (inside the unit only)."""
    protected = suppress_table(counts, min_n=MIN_N, row_totals=row_totals)
    if unsuppressed:
        return protected.counts.astype("Int64")
    return protected.published()


def _share_rows(pub: pd.DataFrame, categories: list[str], labels: dict[str, str]) -> list[list]:
    rows = []
    for cat in [*categories, "Total"]:
        n = pub.loc["Total", cat] if "Total" in pub.index else pd.NA
        sat, unsat = pub.loc[SATISFIED_ROW, cat], pub.loc[NOT_SATISFIED_ROW, cat]
        if any(pd.isna(x) for x in (n, sat, unsat)) or n == 0:
            rows.append([labels.get(cat, cat), None if pd.isna(n) else int(n), None, None, None])
            continue
        p = float(sat) / float(n)
        lo, hi = wilson(p, float(n))
        rows.append([labels.get(cat, cat), int(n), round(100 * p, 1), round(100 * float(lo), 1),
                     round(100 * float(hi), 1)])
    return rows


def satisfaction_counts(df: pd.DataFrame, stage: str, by: str, categories: list[str]) -> pd.DataFrame:
    """2 x K table: satisfied / not satisfied respondents (base: a rating, not "don't know") by ``by``,
    every category listed (zeros included)."""
    rated = df[df[stage].notna() & (df[stage] != DONT_KNOW)] if stage in df else df.iloc[0:0]
    sat = rated[stage].isin(SATISFIED)
    table = pd.DataFrame(0, index=[SATISFIED_ROW, NOT_SATISFIED_ROW], columns=categories, dtype=int)
    if len(rated):
        counts = pd.crosstab(np.where(sat, SATISFIED_ROW, NOT_SATISFIED_ROW), rated[by])
        for row in counts.index:
            for col in counts.columns:
                if col in table.columns:
                    table.loc[row, col] = int(counts.loc[row, col])
    return table


def code_themes(text: str) -> list[str]:
    low = (text or "").lower()
    return [theme for theme, words in THEMES.items() if any(re.search(re.escape(w), low) for w in words)]


def release(*, unsuppressed: bool = False, year: int | None = None, slug: str = "victim-voice") -> dict:
    """The fixed set of tables published for one year (the latest with responses unless ``year``)."""
    version = QuestionnaireVersion.objects.filter(slug=slug).exclude(status=QuestionnaireVersion.DRAFT) \
        .order_by("-number").first()
    df = responses_frame(slug)
    out = {"year": year, "tables": [], "n": 0, "unsuppressed": unsuppressed}
    if version is None or df.empty:
        return out
    q: Questionnaire = version.questionnaire
    year = year or int(df["year"].max())
    out["year"] = year
    this, prev = df[df["year"] == year].copy(), df[df["year"] == year - 1].copy()
    out["n"] = len(this)
    stages = [k for k, question in q.questions.items() if question.stage]
    stage_labels = {s: q.text("en", f"q.{s}") for s in stages}
    cols = ["Category", "Respondents (base)", "% satisfied", "95% CI low", "95% CI high"]

    # 1. London, each stage, with the change against the year before
    t = Table("stages", f"Satisfaction by stage, London, {year}", [
        "Stage", "Respondents (base)", "% satisfied", "95% CI low", "95% CI high",
        f"% satisfied {year - 1}", "Change (points)"])
    for s in stages:
        now = _share_rows(publish(satisfaction_counts(this.assign(all="London"), s, "all", ["London"]),
                                  unsuppressed=unsuppressed), ["London"], {})[0]
        before = _share_rows(publish(satisfaction_counts(prev.assign(all="London"), s, "all", ["London"]),
                                     unsuppressed=unsuppressed), ["London"], {})[0]
        change = round(now[2] - before[2], 1) if now[2] is not None and before[2] is not None else None
        t.rows.append([stage_labels[s], *now[1:], before[2], change])
    out["tables"].append(t)

    # 2. each stage by each dimension and by quarter
    for dim in (*DIMENSIONS, "quarter"):
        if dim == "quarter":
            cats = [f"{year} Q{i}" for i in range(1, 5)]
            labels = {}
        else:
            question = q.questions[dim]
            cats = list(question.options)
            labels = {c: q.option_label("en", question, c) for c in cats}
        for s in stages:
            if dim not in this:
                this[dim] = pd.NA
            pub = publish(satisfaction_counts(this, s, dim, cats), unsuppressed=unsuppressed)
            title = f"{stage_labels[s]} by {dim.replace('_', ' ')}, {year}"
            out["tables"].append(Table(f"{s}-by-{dim}", title, cols, _share_rows(pub, cats, labels)))

    # 3. rights met: yes among yes and no
    rights = [k for k, question in q.questions.items() if question.right]
    counts = pd.DataFrame(0, index=["yes", "no"], columns=rights, dtype=int)
    for r in rights:
        if r in this:
            for v in ("yes", "no"):
                counts.loc[v, r] = int((this[r] == v).sum())
    pub = publish(counts, row_totals=False, unsuppressed=unsuppressed)
    t = Table("rights", f"Victims' Code rights met, {year}", ["Right", "Respondents (yes or no)", "% yes",
                                                              "95% CI low", "95% CI high"])
    for r in rights:
        n, yes, no = pub.loc["Total", r], pub.loc["yes", r], pub.loc["no", r]
        label = q.text("en", f"q.{r}")
        if any(pd.isna(x) for x in (n, yes, no)) or n == 0:
            t.rows.append([label, None if pd.isna(n) else int(n), None, None, None])
        else:
            lo, hi = wilson(yes / n, float(n))
            t.rows.append([label, int(n), round(100 * yes / n, 1), round(100 * float(lo), 1),
                           round(100 * float(hi), 1)])
    out["tables"].append(t)

    # 4. coded themes of the free text (the text itself is never published)
    comments = this["comment"].dropna() if "comment" in this else pd.Series(dtype=str)
    comments = comments[comments.str.strip() != ""]
    counts = pd.DataFrame(0, index=["mentioned", "not mentioned"], columns=list(THEMES), dtype=int)
    for text in comments:
        found = code_themes(text)
        for theme in THEMES:
            counts.loc["mentioned" if theme in found else "not mentioned", theme] += 1
    pub = publish(counts, row_totals=False, unsuppressed=unsuppressed)
    out["tables"].append(Table(
        "themes", f"Themes of the comments, {year}", ["Theme", "Comments mentioning it", "Comments"],
        [[theme, _int(pub.loc["mentioned", theme]), _int(pub.loc["Total", theme])] for theme in THEMES],
        note="Coded by keywords (docs/web-survey.md); the comments themselves are never published."))
    return out


def _int(x):
    return None if pd.isna(x) else int(x)


def write_csv(rel: dict, out) -> None:
    """The published tables as one CSV (through ``vru.outputs.csvsafe``): a ``table`` column, then each
    table's own columns; a suppressed figure is empty."""
    w = csvsafe.writer(out)
    w.writerow(["table", "title", "row", "column", "value"])
    for t in rel["tables"]:
        for row in t.rows:
            for col, value in zip(t.columns[1:], row[1:], strict=True):
                w.writerow([t.key, t.title, row[0], col, "" if value is None else value])
