"""Results for the insight team (docs/web-survey.md, "Results").

Satisfaction is the USS headline: the share *completely, very or fairly satisfied* among those who gave a
rating on the 7-point scale ("don't know" and unanswered are outside the base), with a Wilson 95% interval
(the platform's ``vru.analysis.survey_weights.wilson``; responses are unweighted, so n is the base).
Rights met: the share answering *yes* among yes and no. Free text is never published: comments are coded
into themes by a keyword frame (:data:`THEMES`) and only theme counts are.

**Periods.** Results are published for a *year to date*: ``"2026-Q3"`` is the quarters 2026 Q1 to Q3 (ISO
year and week of completion; a week belongs to the quarter of its Thursday). ``"2026-Q4"`` is the whole
year. A quarter in which nobody at all answered is *not available*: it is left out of the period (its
figures are all zero) and shown as "not available", never "suppressed" (docs/web-survey.md says what that
distinction reveals).

**One release per period.** The fixed set of tables of a period (:func:`release_tables`): for each of the
five stages, satisfied / not satisfied by borough, crime type, each respondent group ("not answered" is a
category of the optional questions) and quarter, London-wide with the same period of the previous year and
each quarter of the previous year (for the change against the previous year); each right of the Victims'
Code (yes / no); the themes of the comments. They are protected *together*, with every cell that earlier
periods published (the ledger, :class:`~vru.web.survey.models.PublishedRelease`), by
:func:`vru.analysis.disclosure.protect_release` with ``min_n`` = 10: no hidden cell, of this period, of an
earlier one, or of a quarter implied by two year-to-date periods (the differencing attack), can be shown by
linear programming to hold fewer than 10 respondents. :func:`protect` is the one place this happens.
Shares and intervals are shown only where their satisfied count, its complement and its base are all
published; a change only where both shares are.

:func:`publish_period` records a period (once; it must have ended, so its figures never change); the
results page shows the recorded releases only. :func:`preview` with ``unsuppressed=True`` (analysts with
``accounts.view_unsuppressed``, inside the unit, audited by the view) shows every figure and records
nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction

from vru.analysis import disclosure
from vru.analysis.survey_weights import wilson
from vru.outputs import csvsafe

from . import codes
from .models import Answer, PublishedRelease, QuestionnaireVersion, Response
from .questionnaire import DONT_KNOW, SATISFIED, Questionnaire

MIN_N = 10
TOTAL = disclosure.TOTAL
SATISFIED_ROW, NOT_SATISFIED_ROW = "satisfied", "not satisfied"
OUTCOMES = [SATISFIED_ROW, NOT_SATISFIED_ROW]
NOT_ANSWERED = "not_answered"  # a category of every optional question: everyone rated is in one category
SUPPRESSED, NOT_AVAILABLE = "suppressed", "not available"  # shown instead of a figure
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
PERIOD_RE = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


class PublishError(ValueError):
    """A period that cannot be published (the message says why)."""


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Period:
    """A year to date: ISO ``year``, quarters 1 to ``through``."""

    year: int
    through: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = PERIOD_RE.match(str(text or ""))
        if not m:
            raise PublishError(f"period {text!r}: write the year and the last quarter, e.g. 2026-Q3")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year}-Q{self.through}"

    def quarters(self) -> list[str]:
        return [quarter_label(self.year, q) for q in range(1, self.through + 1)]

    def previous_year(self) -> Period:
        return Period(self.year - 1, self.through)

    def title(self) -> str:
        return f"{self.year}" if self.through == 4 else f"{self.year} Q1 to Q{self.through}"

    def has_ended(self, today: dt.date | None = None) -> bool:
        """Whether every week of the period is over (its figures can no longer change)."""
        year, week = codes.iso_week(today)
        now = quarter_of(year, week)
        return (int(now[:4]), int(now[-1])) > (self.year, self.through)


def quarter_label(year: int, q: int) -> str:
    return f"{year} Q{q}"


def quarter_of(year: int, week: int) -> str:
    """The calendar quarter of an ISO week (of its Thursday, which fixes the ISO year)."""
    thursday = dt.date.fromisocalendar(int(year), int(week), 4)
    return quarter_label(thursday.year, (thursday.month - 1) // 3 + 1)


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


def code_themes(text: str) -> list[str]:
    low = (text or "").lower()
    return [theme for theme, words in THEMES.items() if any(re.search(re.escape(w), low) for w in words)]


# -- the release: count tables ---------------------------------------------------------------------------


def _categories(q: Questionnaire, dim: str) -> list[str]:
    question = q.questions[dim]
    return [*question.options, *([] if question.required else [NOT_ANSWERED])]


def _outcome(df: pd.DataFrame, stage: str) -> pd.Series:
    """satisfied / not satisfied for those who gave a rating (NaN outside the base)."""
    col = df[stage] if stage in df else pd.Series(np.nan, index=df.index, dtype=object)
    rated = col.notna() & (col != DONT_KNOW)
    return pd.Series(np.where(col.isin(SATISFIED), SATISFIED_ROW, NOT_SATISFIED_ROW), index=df.index
                     ).where(rated)


def _crosstab(rows: pd.Series, cols: pd.Series, index: list[str], columns: list[str], names) -> pd.DataFrame:
    ok = rows.notna()
    t = pd.crosstab(rows[ok], cols[ok]) if ok.any() else pd.DataFrame()
    t = t.reindex(index=index, columns=columns, fill_value=0).astype(float)
    t.index.name, t.columns.name = names
    return t


def _series(values: pd.Series, index: list[str], name: str) -> pd.Series:
    s = values.dropna().value_counts().reindex(index, fill_value=0).astype(float)
    s.index.name = name
    return s


def release_tables(df: pd.DataFrame, q: Questionnaire, period: Period, *,
                   dimensions: tuple[str, ...] = DIMENSIONS) -> list[disclosure.Table]:
    """The fixed set of count tables of ``period`` (see the module docstring), every documented category
    listed (zeros included). Table names: ``<population>|<what>``. Quarters without any response are left
    out of the periods (:func:`available_quarters`). ``dimensions``: the respondent groups (all of them
    unless a test narrows the release)."""
    quarters = available_quarters(df, period)
    if not quarters:
        return []
    prev_quarters = available_quarters(df, period.previous_year())
    this = df[df["quarter"].isin(quarters)]
    prev = df[df["quarter"].isin(prev_quarters)]
    out: list[disclosure.Table] = []
    for stage in stage_keys(q):
        pop = f"satisfaction {stage}"
        outcome = _outcome(this, stage)
        for dim in dimensions:
            cats = _categories(q, dim)
            values = this[dim].fillna(NOT_ANSWERED) if dim in this else pd.Series(NOT_ANSWERED, this.index)
            out.append(disclosure.Table(_crosstab(outcome, values, OUTCOMES, cats, ("outcome", dim)),
                                        tuple(quarters), pop, f"{pop}|{dim}"))
        for qt in quarters:
            out.append(disclosure.Table(_series(outcome[this["quarter"] == qt], OUTCOMES, "outcome"),
                                        (qt,), pop, f"{pop}|quarter {qt}"))
        if prev_quarters:
            before = _outcome(prev, stage)
            out.append(disclosure.Table(_series(before, OUTCOMES, "outcome"), tuple(prev_quarters), pop,
                                        f"{pop}|previous year"))
            for qt in prev_quarters:
                out.append(disclosure.Table(_series(before[prev["quarter"] == qt], OUTCOMES, "outcome"),
                                            (qt,), pop, f"{pop}|quarter {qt}"))
    for r in right_keys(q):
        pop = f"right {r}"
        answers = this[r].where(this[r].isin(["yes", "no"])) if r in this else pd.Series(np.nan, this.index)
        out.append(disclosure.Table(_series(answers, ["yes", "no"], "answer"), tuple(quarters), pop,
                                    f"{pop}|answer"))
    comments = this["comment"].dropna() if "comment" in this else pd.Series(dtype=str)
    comments = comments[comments.str.strip() != ""]
    found = [code_themes(text) for text in comments]
    for theme in THEMES:
        mentioned = pd.Series(["mentioned" if theme in f else "not mentioned" for f in found], dtype=object)
        out.append(disclosure.Table(_series(mentioned, ["mentioned", "not mentioned"], theme),
                                    tuple(quarters), "comments", f"comments|{theme}"))
    return out


def available_quarters(df: pd.DataFrame, period: Period) -> list[str]:
    """The quarters of ``period`` with at least one response (the others are "not available")."""
    present = set(df["quarter"]) if len(df) else set()
    return [qt for qt in period.quarters() if qt in present]


def stage_keys(q: Questionnaire) -> list[str]:
    return [k for k, question in q.questions.items() if question.stage]


def right_keys(q: Questionnaire) -> list[str]:
    return [k for k, question in q.questions.items() if question.right]


# -- THE disclosure step -----------------------------------------------------------------------------------


Cells = dict[str, dict[tuple[str, ...], float | None]]  # table name -> labels (dims in order) -> n


def protect(tables: list[disclosure.Table], *, ledger: disclosure.Ledger | None = None,
            unsuppressed: bool = False) -> tuple[Cells, disclosure.Release | None]:
    """THE disclosure step of the survey's results: every table of one release protected together with the
    cells earlier releases published (``ledger``), ``min_n`` = 10. Returns each table's cells, margins
    included (``"Total"`` in a summed dimension), hidden cells as ``None``, and the
    :class:`~vru.analysis.disclosure.Release` (``None`` when ``unsuppressed``: every cell shown, inside the
    unit only). The result does not depend on the order of ``tables``."""
    if unsuppressed:
        out: Cells = {}
        for t in tables:
            dims, cats, interior = t.interior()
            out[t.name] = {k: float(v) for k, v in disclosure._margins(dims, cats, interior).items()}
        return out, None
    rel = disclosure.protect_release(tables, published=relevant(ledger, tables), min_n=MIN_N)
    cells: Cells = {}
    for p in rel.tables:
        pub = p.published()
        dims = [c for c in pub.columns if c != "n"]
        cells[p.table.name] = {tuple(str(x) for x in row[:-1]): (None if pd.isna(row[-1]) else float(row[-1]))
                               for row in pub[[*dims, "n"]].itertuples(index=False, name=None)}
    return cells, rel


def relevant(ledger: disclosure.Ledger | None, tables: list[disclosure.Table]) -> disclosure.Ledger:
    """The tables of ``ledger`` linked to ``tables``: same population and base periods that overlap,
    directly or through other such tables. The others share no cell, not even through a chain of
    equations (a cell is a sum over its own base periods), so they cannot narrow any cell of this release;
    leaving them out keeps the audit to the periods it concerns."""
    if ledger is None:
        return disclosure.Ledger.empty()
    reach = {(t.population, p) for t in tables for p in t.periods()}
    todo = list(ledger.tables)
    keep: list[dict] = []
    grew = True
    while grew:
        grew = False
        for t in list(todo):
            mine = {(str(t["population"]), str(p)) for p in t["period"]}
            if mine & reach:
                reach |= mine
                keep.append(t)
                todo.remove(t)
                grew = True
    return disclosure.Ledger(keep)


def ledger_from_db(slug: str = "victim-voice") -> disclosure.Ledger:
    """Every cell published so far (the ledger kept in the database, one entry per published period)."""
    tables: list[dict] = []
    for entry in PublishedRelease.objects.filter(slug=slug).order_by("sequence"):
        tables.extend(entry.ledger["tables"])
    return disclosure.Ledger(tables)


# -- rendering ---------------------------------------------------------------------------------------------


def _figure(x):
    return SUPPRESSED if x is None else int(round(x))


def _share(cells: dict, sat_key, unsat_key, n_key, *, positive=SATISFIED_ROW) -> list:
    """[base, %, CI low, CI high] from published cells; a share only where its numerator, complement and
    base are all published."""
    n, sat, unsat = cells.get(n_key), cells.get(sat_key), cells.get(unsat_key)
    if n is None:
        return [SUPPRESSED] * 4
    if sat is None or unsat is None:
        return [int(round(n)), SUPPRESSED, SUPPRESSED, SUPPRESSED]
    if n == 0:  # only in the unsuppressed view: a share of nobody does not exist
        return [0, NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE]
    p = sat / n
    lo, hi = wilson(p, float(n))
    return [int(round(n)), round(100 * p, 1), round(100 * float(lo), 1), round(100 * float(hi), 1)]


def _change(now, before):
    if before == NOT_AVAILABLE or now == NOT_AVAILABLE:
        return NOT_AVAILABLE
    if not isinstance(now, float | int) or not isinstance(before, float | int):
        return SUPPRESSED
    return round(now - before, 1)


def render(cells: Cells, q: Questionnaire, period: Period, df: pd.DataFrame, *,
           dimensions: tuple[str, ...] = DIMENSIONS,
           year_before: dict[str, Table] | None = None) -> list[Table]:
    """The tables as people see them (HTML page and CSV), from the protected cells of one release.

    ``year_before``: the published tables of the same period a year before (:func:`previous_published`), by
    key. Where given, each table by borough, crime type or group gets that year's share of each category
    and the change in points: both shares are published figures, so the change publishes nothing new (a
    share hidden in either year hides the change)."""
    quarters = available_quarters(df, period)
    prev_quarters = available_quarters(df, period.previous_year())
    title = period.title()
    prev_title = period.previous_year().title()
    stages = stage_keys(q)
    stage_labels = {s: q.text("en", f"q.{s}") for s in stages}
    cols = ["Category", "Respondents (base)", "% satisfied", "95% CI low", "95% CI high"]
    out: list[Table] = []

    def stage_share(stage, name, labels):
        c = cells[f"satisfaction {stage}|{name}"]
        return _share(c, (SATISFIED_ROW, *labels), (NOT_SATISFIED_ROW, *labels), (TOTAL, *labels))

    def previous(stage, name):
        if f"satisfaction {stage}|{name}" not in cells:
            return [NOT_AVAILABLE] * 4
        return stage_share(stage, name, ())

    t = Table("stages", f"Satisfaction by stage, London, {title}",
              ["Stage", "Respondents (base)", "% satisfied", "95% CI low", "95% CI high",
               f"% satisfied {prev_title}", "Change (points)"])
    for s in stages:
        now = stage_share(s, dimensions[0], (TOTAL,))
        before = previous(s, "previous year")
        t.rows.append([stage_labels[s], *now, before[1], _change(now[1], before[1])])
    out.append(t)
    for dim in dimensions:
        question = q.questions[dim]
        for s in stages:
            key = f"{s}-by-{dim}"
            before_t = (year_before or {}).get(key)
            before = {} if before_t is None else {row[0]: row[2] for row in before_t.rows}
            rows = []
            for cat in [*_categories(q, dim), TOTAL]:
                label = ("Not answered" if cat == NOT_ANSWERED else "London" if cat == TOTAL
                         else q.option_label("en", question, cat))
                now = stage_share(s, dim, (cat,))
                if before_t is None:
                    rows.append([label, *now])
                else:
                    then = before.get(label, NOT_AVAILABLE)
                    rows.append([label, *now, then, _change(now[1], then)])
            columns = cols if before_t is None else [*cols, f"% satisfied {prev_title}", "Change (points)"]
            out.append(Table(key, f"{stage_labels[s]} by {dim.replace('_', ' ')}, {title}", columns, rows))
    for s in stages:
        t = Table(f"{s}-by-quarter", f"{stage_labels[s]} by quarter, {title}",
                  [*cols, "% satisfied a year before", "Change (points)"])
        for i in range(1, period.through + 1):
            qt, pq = quarter_label(period.year, i), quarter_label(period.year - 1, i)
            now = stage_share(s, f"quarter {qt}", ()) if qt in quarters else [NOT_AVAILABLE] * 4
            before = previous(s, f"quarter {pq}") if pq in prev_quarters else [NOT_AVAILABLE] * 4
            t.rows.append([qt, *now, before[1], _change(now[1], before[1])])
        now = stage_share(s, dimensions[0], (TOTAL,))
        before = previous(s, "previous year")
        t.rows.append([title, *now, before[1], _change(now[1], before[1])])
        out.append(t)
    t = Table("rights", f"Victims' Code rights met, {title}", ["Right", "Respondents (yes or no)", "% yes",
                                                               "95% CI low", "95% CI high"])
    for r in right_keys(q):
        c = cells[f"right {r}|answer"]
        t.rows.append([q.text("en", f"q.{r}"), *_share(c, ("yes",), ("no",), (TOTAL,))])
    out.append(t)
    rows = []
    for theme in THEMES:
        c = cells[f"comments|{theme}"]
        rows.append([theme, _figure(c[("mentioned",)]), _figure(c[(TOTAL,)])])
    out.append(Table("themes", f"Themes of the comments, {title}",
                     ["Theme", "Comments mentioning it", "Comments"], rows,
                     note="Coded by keywords (docs/web-survey.md); the comments themselves are never "
                          "published."))
    return out


def previous_published(slug: str, period: Period) -> dict[str, Table] | None:
    """The published tables of the same period a year before, by key (None if it was not published)."""
    entry = PublishedRelease.objects.filter(slug=slug, period=str(period.previous_year())).first()
    return None if entry is None else {t["key"]: Table(**t) for t in entry.tables}


def _questionnaire(slug: str) -> Questionnaire | None:
    version = QuestionnaireVersion.objects.filter(slug=slug).exclude(status=QuestionnaireVersion.DRAFT) \
        .order_by("-number").first()
    return None if version is None else version.questionnaire


def latest_period(df: pd.DataFrame) -> Period | None:
    """The year to date of the latest quarter with responses."""
    if df.empty:
        return None
    last = max(df["quarter"])
    return Period(int(last[:4]), int(last[-1]))


def preview(period: Period | str | None = None, *, unsuppressed: bool = False, slug: str = "victim-voice",
            dimensions: tuple[str, ...] = DIMENSIONS) -> dict:
    """The release of ``period`` (default: the latest quarter with responses) computed now, not recorded:
    unsuppressed (inside the unit), or protected together with the ledger (what publishing would show)."""
    df = responses_frame(slug)
    period = latest_period(df) if period is None else (
        period if isinstance(period, Period) else Period.parse(period))
    q = _questionnaire(slug)
    out = {"period": None if period is None else str(period),
           "title": "" if period is None else period.title(), "tables": [], "unsuppressed": unsuppressed,
           "available": False}
    if q is None or period is None:
        return out
    tables = release_tables(df, q, period, dimensions=dimensions)
    if not tables:
        return out
    ledger = None if unsuppressed else ledger_from_db(slug)
    cells, _ = protect(tables, ledger=ledger, unsuppressed=unsuppressed)
    year_before = None if unsuppressed else previous_published(slug, period)
    out.update(tables=render(cells, q, period, df, dimensions=dimensions, year_before=year_before),
               available=True,
               n=int(df["quarter"].isin(available_quarters(df, period)).sum()) if unsuppressed else None)
    return out


def publish_period(period: Period | str, user, *, slug: str = "victim-voice", today: dt.date | None = None,
                   dimensions: tuple[str, ...] = DIMENSIONS) -> PublishedRelease:
    """Publish ``period``: protect its release together with every cell published before and record it (the
    cells the public sees, hidden ones as null, in the ledger; the rendered tables for the results page).

    Refused (:class:`PublishError`, with the reason) for a period already published, one that has not
    ended (its figures could still change, and a ledger cannot hold revised figures), one with no
    responses, or one that earlier releases make impossible to protect. Concurrent publishing: the
    ``sequence`` number is unique, so of two publishers who read the same ledger only one records."""
    period = period if isinstance(period, Period) else Period.parse(period)
    if not period.has_ended(today):
        raise PublishError(f"period {period} has not ended yet: its figures could still change")
    if PublishedRelease.objects.filter(slug=slug, period=str(period)).exists():
        raise PublishError(f"period {period} is already published")
    q = _questionnaire(slug)
    df = responses_frame(slug)
    tables = release_tables(df, q, period, dimensions=dimensions) if q is not None else []
    if not tables:
        raise PublishError(f"period {period}: no responses, nothing to publish")
    last = PublishedRelease.objects.filter(slug=slug).order_by("-sequence").values_list("sequence", flat=True)
    sequence = (last.first() or 0) + 1
    try:
        cells, rel = protect(tables, ledger=ledger_from_db(slug))
    except ValueError as e:
        raise PublishError(f"period {period} cannot be protected: {e}") from None
    book = disclosure.Ledger.empty()
    book.record(rel)
    shown = render(cells, q, period, df, dimensions=dimensions, year_before=previous_published(slug, period))
    try:
        with transaction.atomic():
            return PublishedRelease.objects.create(
                slug=slug, period=str(period), sequence=sequence, published_by=user,
                ledger={"format": disclosure.LEDGER_FORMAT, "tables": book.tables},
                tables=[asdict(t) for t in shown])
    except IntegrityError:
        raise PublishError(f"another release was published while period {period} was being protected; "
                           "publish it again") from None


def published(slug: str = "victim-voice") -> list[PublishedRelease]:
    return list(PublishedRelease.objects.filter(slug=slug).order_by("-sequence"))


def as_release(entry: PublishedRelease) -> dict:
    """A recorded release in the shape of :func:`preview`'s result."""
    period = Period.parse(entry.period)
    return {"period": entry.period, "title": period.title(), "unsuppressed": False, "available": True,
            "n": None, "tables": [Table(**t) for t in entry.tables]}


def write_csv(rel: dict, out) -> None:
    """The published tables as one CSV (through ``vru.outputs.csvsafe``): ``table``, ``title``, ``row``,
    ``column``, ``value`` (empty where there is no figure) and ``status`` (``suppressed`` or
    ``not available`` where there is none; empty otherwise)."""
    w = csvsafe.writer(out)
    w.writerow(["table", "title", "row", "column", "value", "status"])
    for t in rel["tables"]:
        for row in t.rows:
            for col, value in zip(t.columns[1:], row[1:], strict=True):
                marker = value in (SUPPRESSED, NOT_AVAILABLE)
                w.writerow([t.key, t.title, row[0], col, "" if marker else value, value if marker else ""])

