"""The service's figures (docs/web-referrals.md, "Reports"): referrals by source, borough, type and month;
acceptance, engagement and outcome rates; time from referral to first contact; referrals against need per
borough (drug and weapons offences from the analysis warehouse as the public proxy of need).

Every count that leaves the service passes through ONE function, :func:`publish`, which applies
``vru.analysis.disclosure.suppress_series`` (primary suppression below the setting ``VRU_REFERRALS_MIN_N``,
:func:`.conf.min_n`, and complementary suppression so that no hidden cell can be worked out from the total).
The rates' counts are nested (submitted, intervention, accepted, closed, engaged, reduced or ceased), and any
two published counts of that chain give their difference away: so a count of the chain is published only when
its difference with every one already published is at least the minimum too (:func:`chain`), a rate and its
denominator only when both of its ends are, the count of cases with a first contact only when it is far
enough from each of them, and the count still open at publication only when none of its parts is small.

**Only completed periods, frozen** (review 15, finding 7). Figures recomputed on every request let anyone
who looks twice learn one case (a referral made, an outcome recorded, between two looks). So the pages and
the API publish :func:`release`: the figures of one *completed financial year* (April to March, as the
service publishes its own), computed the first time they are asked for once the year is final (every
referral of it decided and every case closed, or else six months after its end, the count still open then
stated) and stored (:class:`~.models.PublishedFigures`, insert-only); later changes, back-dated ones
included, never change a published year. The years are disjoint (each counts the referrals made in it,
and their outcomes as known when it was published), so no two releases can be subtracted either.
:func:`service_report` is the computation itself (for a period, or everything), for tests and the release.
"""

from __future__ import annotations

import logging
import statistics
from datetime import date

import pandas as pd
from django.db.models import Count
from django.db.models.functions import TruncMonth

from vru import taxonomy
from vru.analysis.disclosure import suppress_series
from vru.geography.boroughs import BOROUGHS
from vru.sources import catalogue

from .conf import min_n
from .models import GENDERS, KINDS, SECTORS, Closure, PublishedFigures, Referral

log = logging.getLogger(__name__)

NEED_CATEGORIES = (taxonomy.DRUG_OFFENCES, taxonomy.POSSESSION_OF_WEAPONS)
SUBMITTED = ["submitted", "accepted", "declined", "closed"]


def publish(counts: pd.Series) -> list[dict]:
    """The one exit of figures: ``[{"label", "count" (None when suppressed)}, ..., {"label": "Total"}]``."""
    counts = counts.astype(int)
    if counts.empty:
        return [{"label": "Total", "count": None}]
    s = suppress_series(counts.rename("n"), min_n=min_n()).published().iloc[0]
    return [{"label": str(k), "count": None if pd.isna(v) else int(v)} for k, v in s.items()]


def _safe(n: int) -> bool:
    """A count that may be published: at least ``min_n()`` (zero included in the small ones, as
    ``primary_mask`` counts it)."""
    return n >= min_n()


def _rate(yes: int, no: int) -> dict:
    """A rate and its denominator, both published only when both parts are (a denominator shown with a
    hidden part would give that part away by subtraction: 95 of 100 hidden, "n 100" beside "n 95")."""
    cells = publish(pd.Series({"yes": yes, "no": no}))
    ok = all(c["count"] is not None for c in cells) and yes + no > 0
    return {"rate": round(100 * yes / (yes + no), 1) if ok else None, "n": yes + no if ok else None}


def chain(qs) -> dict:
    """The nested counts behind the rates, and which of them are published.

    Submitted ⊇ intervention ⊇ accepted ⊇ closed ⊇ engaged ⊇ reduced or ceased: each rate is one count of
    the chain over an earlier one, and any two published counts of it give their difference away. So a
    count is published only when it is at least ``min_n()`` and so is its difference with every count of
    the chain already published (accepted minus closed may also be 0: that is the count still open, stated
    with the release); the intervention count is published exactly when the table by type shows it.
    Returns ``{"counts": {...}, "shown": set of names}``."""
    accepted_qs = qs.filter(status__in=["accepted", "closed"], decided_at__isnull=False)
    closures = Closure.objects.filter(referral__in=qs)
    counts = {
        "submitted": qs.count(),
        "intervention": qs.filter(kind="intervention").count(),
        "accepted": accepted_qs.count(),
        "closed": closures.filter(referral__in=accepted_qs).count(),
        "engaged": closures.filter(referral__in=accepted_qs, engaged=True).count(),
        "reduced": closures.filter(
            referral__in=accepted_qs, engaged=True, involvement__in=["reduced", "ceased"]
        ).count(),
    }
    by_kind = {c["label"]: c["count"] for c in _series(qs, "kind", _KIND_LABELS)}
    shown: list[str] = []
    for name, n in counts.items():
        if name == "intervention":
            ok = by_kind.get(_KIND_LABELS["intervention"]) is not None
        else:
            ok = _safe(n) and all(
                _safe(counts[p] - n) or (p, name) == ("accepted", "closed") and counts[p] == n for p in shown
            )
        if ok:
            shown.append(name)
    return {"counts": counts, "shown": set(shown)}


def _chain_rate(ch: dict, yes: str, of: str) -> dict:
    c, shown = ch["counts"], ch["shown"]
    if yes in shown and of in shown and c[of]:
        return {"rate": round(100 * c[yes] / c[of], 1), "n": c[of]}
    return {"rate": None, "n": None}


def rates(qs=None, ch: dict | None = None) -> dict:
    """Acceptance (accepted of submitted), engagement (engaged of the accepted cases closed: an open case's
    engagement is not known yet) and outcome (involvement reduced or ceased of those engaged) rates, with
    their denominators, each published only as :func:`chain` allows."""
    qs = qs if qs is not None else Referral.objects.filter(status__in=SUBMITTED)
    ch = ch or chain(qs)
    return {
        "acceptance": _chain_rate(ch, "accepted", "submitted"),
        "engagement": _chain_rate(ch, "engaged", "closed"),
        "reduced_or_ceased": _chain_rate(ch, "reduced", "engaged"),
    }


def first_contact_days(qs=None, ch: dict | None = None) -> dict:
    """Days from the referral to the first attended contact: median and count. The count is published when
    it and the accepted cases without a first contact are at least ``min_n()``, and, given the chain's
    published counts (:func:`chain`, which hold it: accepted, intervention, submitted), when its difference
    with each of them is too."""
    qs = qs if qs is not None else Referral.objects.filter(status__in=["accepted", "closed"])
    days = [d for r in qs.prefetch_related("contacts") if (d := r.first_contact_days()) is not None]
    n = len(days)
    shown = _safe(n) and _safe(qs.count() - n)
    if ch is not None:
        shown = shown and all(
            _safe(ch["counts"][p] - n) for p in ch["shown"] & {"submitted", "intervention", "accepted"}
        )
    return {"n": n if shown else None, "median": statistics.median(days) if shown and days else None}


_KIND_LABELS = {k: v.split(" (")[0] for k, v in KINDS}


def _series(qs, field: str, labels: dict) -> list[dict]:
    got = dict(qs.values_list(field).annotate(n=Count("pk")).values_list(field, "n"))
    s = pd.Series({labels.get(k, k or "Not recorded"): int(got.get(k, 0)) for k in labels}, dtype=int)
    extra = {k: v for k, v in got.items() if k not in labels}
    if extra:
        s = pd.concat([s, pd.Series({labels.get(k, k or "Not recorded"): v for k, v in extra.items()})])
    return publish(s)


def need_by_borough() -> dict[str, int] | None:
    """Drug and weapons offences per borough over the warehouse's latest 12 months (None without one)."""
    from vru.warehouse import queries as q
    from vru.web.dashboard.cache import WarehouseMissing, WarehouseUnavailable, open_warehouse

    try:
        wh = open_warehouse()
    except (WarehouseMissing, WarehouseUnavailable) as exc:
        log.info("referrals: no warehouse for the need per borough (%s)", type(exc).__name__)
        return None
    try:
        frames = [
            q.crime_series(wh, source=catalogue.MPS_BOROUGH_DETAILED, level="borough", category=c)
            for c in NEED_CATEGORIES
        ]
    finally:
        wh.close()
    df = pd.concat(frames)
    if df.empty:
        return None
    last = df["month"].max()
    df = df[df["month"] > last - pd.DateOffset(months=12)]
    return {str(k): int(v) for k, v in df.groupby("area_code")["count"].sum().items()}


def referrals_against_need(qs=None) -> list[dict]:
    """Per borough: referrals (published), their rank among published boroughs, need and its rank."""
    qs = qs if qs is not None else Referral.objects.filter(status__in=SUBMITTED)
    got = dict(qs.values_list("borough").annotate(n=Count("pk")).values_list("borough", "n"))
    cells = {
        c["label"]: c["count"] for c in publish(pd.Series({code: got.get(code, 0) for code in BOROUGHS}))
    }
    need = need_by_borough() or {}
    need_rank = {c: i for i, c in enumerate(sorted(need, key=lambda c: -need[c]), 1)}
    shown = sorted((c for c in BOROUGHS if cells.get(c) is not None), key=lambda c: -cells[c])
    ref_rank = {c: i for i, c in enumerate(shown, 1)}
    rows = [
        {
            "code": c,
            "name": name,
            "referrals": cells.get(c),
            "referral_rank": ref_rank.get(c),
            "need": need.get(c),
            "need_rank": need_rank.get(c),
        }
        for c, name in BOROUGHS.items()
    ]
    return sorted(rows, key=lambda r: (r["need_rank"] or 99, r["name"]))


def financial_year(day: date) -> int:
    """The first calendar year of the financial year (April to March) holding ``day``."""
    return day.year if day.month >= 4 else day.year - 1


def year_label(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


def _today() -> date:
    """Today, where the pages count from (one place, so that a test can move the calendar)."""
    from django.utils import timezone

    return timezone.localdate()


def completed_years(today: date | None = None) -> list[int]:
    """The completed financial years that hold referrals, newest first."""
    last = financial_year(today or _today()) - 1
    days = Referral.objects.filter(status__in=SUBMITTED).values_list("referral_date", flat=True)
    return sorted({y for y in map(financial_year, days.distinct()) if y <= last}, reverse=True)


#: a year's figures are published at the latest this many months after its end (31 March)
PUBLISH_WITHIN_MONTHS = 6


def publish_by(year: int) -> date:
    """The day a financial year's figures are published at the latest, its cases closed or not: 1 October
    after its end."""
    return date(year + 1, 4 + PUBLISH_WITHIN_MONTHS, 1)


def still_open(year: int) -> int:
    """The referrals of a financial year not yet in a final state: waiting for a decision (an intervention
    referral submitted; an intelligence referral is final once submitted) or accepted and not closed."""
    from django.db.models import Q

    made = Referral.objects.filter(
        referral_date__gte=date(year, 4, 1), referral_date__lt=date(year + 1, 4, 1)
    )
    return made.filter(Q(status="accepted") | Q(status="submitted", kind="intervention")).count()


def _still_open_published(year: int, open_now: int) -> int | None:
    """The count of referrals still open at publication, or None when small. It is the undecided referrals
    plus the accepted cases not closed, and beside the chain's counts (accepted, closed, intervention) it
    would give each of them, and the declined ones, away: so it is shown only when every one of those parts
    is 0 or at least ``min_n()``."""
    if not open_now:
        return 0
    made = Referral.objects.filter(
        referral_date__gte=date(year, 4, 1), referral_date__lt=date(year + 1, 4, 1), kind="intervention"
    )
    parts = [
        made.filter(status="submitted").count(),
        made.filter(status="accepted").count(),
        made.filter(status="declined").count(),
    ]
    ok = _safe(open_now) and all(n == 0 or _safe(n) for n in parts)
    return open_now if ok else None


class NotYetPublished(Exception):
    """A completed year whose figures are not published yet: some of its cases are open, and its latest
    publication day (:func:`publish_by`) has not come."""

    def __init__(self, year: int):
        self.year, self.period, self.publish_by = year, year_label(year), publish_by(year)
        super().__init__(
            f"The figures of {self.period} are published once every referral of that year is decided and "
            f"every case closed, and on {self.publish_by.day} {self.publish_by:%B %Y} at the latest."
        )

    def as_dict(self) -> dict:
        return {"period": self.period, "publish_by": self.publish_by.isoformat(), "why": str(self)}


def release(year: int, today: date | None = None) -> dict:
    """The published figures of a completed financial year: read from the store, or computed and stored the
    first time they are asked for once the year is final: every referral of it decided and every case closed
    (outcome and engagement rates then count every case), or else on :func:`publish_by` (six months after
    the year's end), with the number of referrals still open then stated. One release per year, never
    changed: no two releases of a year can be compared. ``ValueError`` for a year not yet ended,
    :class:`NotYetPublished` for one not yet final."""
    from django.db import IntegrityError, transaction

    label = year_label(year)
    today = today or _today()
    if year >= financial_year(today):
        raise ValueError(f"{label} has not ended: only completed years are published")
    row = PublishedFigures.objects.filter(period=label).first()
    if row is None:
        open_now = still_open(year)
        if open_now and today < publish_by(year):
            raise NotYetPublished(year)
        figures = {"period": label, **service_report(date(year, 4, 1), date(year + 1, 4, 1))}
        figures["still_open"] = _still_open_published(year, open_now)
        try:
            with transaction.atomic():
                row = PublishedFigures.objects.create(period=label, figures=figures)
        except IntegrityError:  # published meanwhile by another request: that one stands
            row = PublishedFigures.objects.get(period=label)
    return {**row.figures, "published_at": row.made_at.isoformat()}


def chosen_release(asked: str | None) -> tuple[list[int], dict | None, dict | None]:
    """(the completed years, the release asked for by its first year, or the latest; None when there is none
    or it is not published yet, and then what and when: :meth:`NotYetPublished.as_dict`). ``Http404`` for a
    year that is not a completed year with referrals."""
    from django.http import Http404

    years = completed_years()
    if asked in (None, ""):
        if not years:
            return years, None, None
        year = years[0]
    elif not (len(str(asked)) == 4 and str(asked).isascii() and str(asked).isdigit()) \
            or int(asked) not in years:
        raise Http404("no published figures for that year")
    else:
        year = int(asked)
    try:
        return years, release(year), None
    except NotYetPublished as exc:
        return years, None, exc.as_dict()


def service_report(start: date | None = None, end: date | None = None) -> dict:
    """The figures of the referrals made from ``start`` (inclusive) to ``end`` (exclusive), or of all."""
    qs = Referral.objects.filter(status__in=SUBMITTED)
    if start is not None:
        qs = qs.filter(referral_date__gte=start)
    if end is not None:
        qs = qs.filter(referral_date__lt=end)
    months = qs.annotate(m=TruncMonth("referral_date")).values_list("m").annotate(n=Count("pk")).order_by("m")
    by_month = publish(pd.Series({f"{m:%Y-%m}": n for m, n in months}, dtype=int))
    ch = chain(qs)
    return {
        "total": publish(pd.Series({"referrals": qs.count()}))[-1]["count"],
        "by_sector": _series(qs, "sector", dict(SECTORS)),
        "by_borough": _series(qs, "borough", dict(BOROUGHS)),
        "by_kind": _series(qs, "kind", _KIND_LABELS),
        "by_gender": _series(qs, "gender", dict(GENDERS)),
        "by_month": by_month,
        "rates": rates(qs, ch),
        "first_contact": first_contact_days(qs.filter(status__in=["accepted", "closed"]), ch),
        "need": referrals_against_need(qs),
    }


def redacted(r: Referral) -> list[tuple[str, str]]:
    """What a council needs of an intelligence referral: who the young person is, the signs, missing
    episodes and NRM status. Not their contact details, the referrer's identity or the free text."""
    p = getattr(r, "person", None)
    yes = lambda b: "Yes" if b else "No"  # noqa: E731
    return [
        ("Reference", r.reference),
        ("Date of referral", f"{r.referral_date:%d %B %Y}"),
        ("Name", p.name if p else ""),
        ("Date of birth", f"{p.date_of_birth:%d %B %Y}" if p and p.date_of_birth else ""),
        ("Gender", r.get_gender_display()),
        ("Borough", r.get_borough_display()),
        ("Referred by (sector)", r.get_sector_display()),
        ("Signs", "; ".join(r.indicators()) or "None recorded"),
        ("Missing episodes in the last 12 months", str(r.missing_episodes)),
        ("Referred to the NRM", yes(r.nrm_referred)),
        ("Reasonable-grounds decision", r.get_rg_decision_display() if r.rg_decision else "None"),
        ("Conclusive-grounds decision", r.get_cg_decision_display() if r.cg_decision else "None"),
    ]
