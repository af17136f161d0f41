"""The service's figures (docs/web-referrals.md, "Reports"): referrals by source, borough, type and month;
acceptance, engagement and outcome rates; time from referral to first contact; referrals against need per
borough (drug and weapons offences from the analysis warehouse as the public proxy of need).

Every count that leaves the service passes through ONE function, :func:`publish`, which applies
``vru.analysis.disclosure.suppress_series`` (primary suppression below the setting ``VRU_REFERRALS_MIN_N``,
:func:`.conf.min_n`, and complementary suppression so that no hidden cell can be worked out from the total).
A rate is published only when both of its parts (yes and no) are; so is the count of cases with a first
contact (with and without, finding 15).

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

from vru.analysis.disclosure import suppress_series
from vru.geography.boroughs import BOROUGHS

from .conf import min_n
from .models import GENDERS, KINDS, SECTORS, Closure, PublishedFigures, Referral

log = logging.getLogger(__name__)

NEED_CATEGORIES = ("drug_offences", "possession_of_weapons")
SUBMITTED = ["submitted", "accepted", "declined", "closed"]


def publish(counts: pd.Series) -> list[dict]:
    """The one exit of figures: ``[{"label", "count" (None when suppressed)}, ..., {"label": "Total"}]``."""
    counts = counts.astype(int)
    if counts.empty:
        return [{"label": "Total", "count": None}]
    s = suppress_series(counts.rename("n"), min_n=min_n()).published().iloc[0]
    return [{"label": str(k), "count": None if pd.isna(v) else int(v)} for k, v in s.items()]


def _rate(yes: int, no: int) -> dict:
    cells = publish(pd.Series({"yes": yes, "no": no}))
    ok = all(c["count"] is not None for c in cells)
    return {"rate": round(100 * yes / (yes + no), 1) if ok and yes + no else None, "n": cells[-1]["count"]}


def _series(qs, field: str, labels: dict) -> list[dict]:
    got = dict(qs.values_list(field).annotate(n=Count("pk")).values_list(field, "n"))
    s = pd.Series({labels.get(k, k or "Not recorded"): int(got.get(k, 0)) for k in labels}, dtype=int)
    extra = {k: v for k, v in got.items() if k not in labels}
    if extra:
        s = pd.concat([s, pd.Series({labels.get(k, k or "Not recorded"): v for k, v in extra.items()})])
    return publish(s)


def rates(qs=None) -> dict:
    """Acceptance (accepted of submitted), engagement (engaged of accepted) and outcome (involvement reduced
    or ceased of those engaged) rates, with their published denominators."""
    qs = qs if qs is not None else Referral.objects.filter(status__in=SUBMITTED)
    submitted = qs.count()
    accepted = qs.filter(status__in=["accepted", "closed"], decided_at__isnull=False).count()
    closures = Closure.objects.filter(referral__in=qs)
    engaged = closures.filter(engaged=True).count()
    reduced = closures.filter(engaged=True, involvement__in=["reduced", "ceased"]).count()
    return {
        "acceptance": _rate(accepted, submitted - accepted),
        "engagement": _rate(engaged, accepted - engaged),
        "reduced_or_ceased": _rate(reduced, engaged - reduced),
    }


def first_contact_days(qs=None) -> dict:
    """Days from the referral to the first attended contact: median and count (published from ``min_n()``)."""
    qs = qs if qs is not None else Referral.objects.filter(status__in=["accepted", "closed"])
    days = [d for r in qs.prefetch_related("contacts") if (d := r.first_contact_days()) is not None]
    cells = publish(pd.Series({"with a first contact": len(days), "without": qs.count() - len(days)}))
    shown = all(c["count"] is not None for c in cells)  # both parts, as a rate (finding 15)
    return {"n": len(days) if shown else None, "median": statistics.median(days) if shown and days else None}


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
            q.crime_series(wh, source="mps_borough_detailed", level="borough", category=c)
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
        # the count of referrals still open at publication, through the one exit (suppressed when small)
        figures["still_open"] = publish(pd.Series({"still open": open_now}))[-1]["count"] if open_now else 0
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
    elif not str(asked).isdigit() or int(asked) not in years:
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
    return {
        "total": publish(pd.Series({"referrals": qs.count()}))[-1]["count"],
        "by_sector": _series(qs, "sector", dict(SECTORS)),
        "by_borough": _series(qs, "borough", dict(BOROUGHS)),
        "by_kind": _series(qs, "kind", {k: v.split(" (")[0] for k, v in KINDS}),
        "by_gender": _series(qs, "gender", dict(GENDERS)),
        "by_month": by_month,
        "rates": rates(qs),
        "first_contact": first_contact_days(qs.filter(status__in=["accepted", "closed"])),
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
