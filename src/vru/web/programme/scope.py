"""What each user may see of the register, and the one roll-up function (pages, API and CSV use it).

Users holding ``programme.view_all_programme`` (administrators, programme managers, analysts) see
everything. Everybody else with ``programme.view_register`` (providers' staff) sees only the
consortia their organisation is a member of, and the areas, grants and interventions of those
consortia; a record outside that is 404 for them (``vru.web.core.access.owned_or_404``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DataError, OperationalError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import ExtractYear
from django.shortcuts import get_object_or_404

from vru.geography.boroughs import BOROUGHS
from vru.web.core.access import owned_or_404, sees_all_organisations

from .models import (
    AGE_BAND_FIELDS,
    AGE_BANDS,
    INTERVENTION_KINDS,
    Consortium,
    Grant,
    Intervention,
    ProgrammeArea,
)

ALL_PERM = "programme.view_all_programme"
MANAGE_PERM = "accounts.manage_programme"
VIEW_PERM = "programme.view_register"
DELIVERY_PERM = "programme.record_delivery"


def sees_all(user) -> bool:
    return sees_all_organisations(user, ALL_PERM)


def consortia_for(user):
    qs = Consortium.objects.select_related("area", "lead")
    if sees_all(user):
        return qs
    org = getattr(user, "organisation_id", None)
    if org is None:
        return qs.none()
    return qs.filter(memberships__organisation_id=org).distinct()


def areas_for(user):
    if sees_all(user):
        return ProgrammeArea.objects.all()
    return ProgrammeArea.objects.filter(consortia__in=consortia_for(user)).distinct()


def grants_for(user):
    qs = Grant.objects.select_related("consortium", "consortium__area")
    if sees_all(user):
        return qs
    return qs.filter(consortium__in=consortia_for(user))


def interventions_for(user):
    qs = Intervention.objects.select_related("grant", "grant__consortium", "grant__consortium__area")
    if sees_all(user):
        return qs
    return qs.filter(grant__consortium__in=consortia_for(user))


# --- one object, or 404 ------------------------------------------------------------------------------

def _orgs_of_consortia(ids) -> list[int]:
    from .models import Membership

    return list(Membership.objects.filter(consortium_id__in=ids).values_list("organisation_id", flat=True))


def area_or_404(user, pk):
    area = get_object_or_404(ProgrammeArea, pk=pk)
    return owned_or_404(user, area, _orgs_of_consortia(area.consortia.values("pk")), all_perm=ALL_PERM)


def consortium_or_404(user, pk):
    c = get_object_or_404(Consortium.objects.select_related("area", "lead"), pk=pk)
    return owned_or_404(user, c, _orgs_of_consortia([c.pk]), all_perm=ALL_PERM)


def grant_or_404(user, pk):
    g = get_object_or_404(Grant.objects.select_related("consortium", "consortium__area"), pk=pk)
    return owned_or_404(user, g, _orgs_of_consortia([g.consortium_id]), all_perm=ALL_PERM)


def intervention_or_404(user, pk):
    i = get_object_or_404(Intervention.objects.select_related("grant", "grant__consortium"), pk=pk)
    return owned_or_404(user, i, _orgs_of_consortia([i.grant.consortium_id]), all_perm=ALL_PERM)


# --- roll-ups -----------------------------------------------------------------------------------------

ROLLUP_BY = {
    "area": "area",
    "borough": "borough",
    "year": "year",
    "kind": "kind of intervention",
}
# (group key for interventions, for grants); grants have no kind, so the kind roll-up has no money.
_KEYS = {
    "area": ("grant__consortium__area_id", "consortium__area_id"),
    "borough": ("grant__consortium__area__borough", "consortium__area__borough"),
    "year": ("year", "start_year"),
    "kind": ("kind", None),
}


@dataclass
class Rollup:
    by: str
    rows: list[dict] = field(default_factory=list)
    total: dict = field(default_factory=dict)

    COLUMNS = ["key", "label", "interventions", "sessions_delivered", *AGE_BAND_FIELDS, "people_reached",
               "grants_awarded", "amount_awarded"]


def _empty(key, label) -> dict:
    row = {"key": key, "label": label, "interventions": 0, "sessions_delivered": 0}
    row.update({f: 0 for f in AGE_BAND_FIELDS})
    row.update({"people_reached": 0, "grants_awarded": 0, "amount_awarded": Decimal("0.00")})
    return row


def rollup(user, by: str, *, borough: str | None = None) -> Rollup:
    """Sessions, people reached by age band and money awarded, per ``by`` (area, borough, year or
    kind), over what ``user`` may see (and only areas in ``borough``, a GSS code, when given). Money:
    grants with an amount awarded (awarded, extended, or closed after an award), counted under the
    year their funding started. Rows are sorted by label; ``total`` sums every row."""
    if by not in ROLLUP_BY:
        raise ValueError(f"roll-up by {by!r}: expected one of {', '.join(ROLLUP_BY)}")
    ikey, gkey = _KEYS[by]
    sums = {f: Sum(f) for f in ["sessions_delivered", *AGE_BAND_FIELDS]}
    interventions, grants = interventions_for(user), grants_for(user)
    if borough is not None:
        interventions = interventions.filter(grant__consortium__area__borough=borough)
        grants = grants.filter(consortium__area__borough=borough)
    acts = _grouped_sums(interventions.order_by(), ikey, sums)
    rows: dict = {}
    for a in acts:
        row = rows.setdefault(a[ikey], _empty(a[ikey], ""))
        row["interventions"] = a["n"]
        for f in ["sessions_delivered", *AGE_BAND_FIELDS]:
            row[f] = a[f] or 0
    if gkey is not None:
        grants = grants.filter(amount_awarded__isnull=False).order_by()
        if by == "year":
            grants = grants.annotate(start_year=ExtractYear("start_date"))
        for g in _grouped_sums(grants, gkey, {"money": Sum("amount_awarded")}):
            row = rows.setdefault(g[gkey], _empty(g[gkey], ""))
            row["grants_awarded"] = g["n"]
            row["amount_awarded"] = g["money"] or Decimal("0.00")
    labels = _labels(by, rows.keys())
    out = []
    for key, row in rows.items():
        row["people_reached"] = sum(row[f] for f in AGE_BAND_FIELDS)
        row["label"] = labels.get(key, str(key))
        out.append(row)
    out.sort(key=lambda r: (r["label"] if by != "year" else r["key"]))
    total = _empty("", "Total")
    for row in out:
        for k in Rollup.COLUMNS[2:]:
            total[k] += row[k]
    return Rollup(by=by, rows=out, total=total)


def _grouped_sums(qs, key: str, sums: dict) -> list[dict]:
    """``qs.values(key).annotate(n=Count, **sums)``, added up by the database. Every count and amount
    is bounded (models.MAX_COUNT, MAX_MONEY; CHECK constraints), so no sum can pass a 64-bit integer;
    should one still do so (a database that kept rows from before the bounds: SQLite's SUM raises
    "integer overflow", PostgreSQL "bigint out of range"), the same figures are added up in Python,
    exactly, so that one bad record never takes the register down for everyone."""
    try:
        with transaction.atomic():  # a savepoint: PostgreSQL can go on after the failed query
            return list(qs.values(key).annotate(n=Count("pk"), **sums))
    except (OperationalError, DataError):
        fields = {name: agg.source_expressions[0].name for name, agg in sums.items()}
        out: dict = {}
        for rec in qs.values(key, *set(fields.values())):
            row = out.setdefault(rec[key], {key: rec[key], "n": 0, **{name: None for name in fields}})
            row["n"] += 1
            for name, f in fields.items():
                if rec[f] is not None:
                    row[name] = rec[f] if row[name] is None else row[name] + rec[f]
        return list(out.values())


def rollup_table(user, by: str, *, borough: str | None = None) -> dict:
    """:func:`rollup` as the context of the ``programme/_rollup.html`` table (the register's index and
    the dashboard use the same table). Its CSV download is offered for the London-wide tables only."""
    r = rollup(user, by, borough=borough)
    return {"by": r.by, "title": ROLLUP_BY[r.by], "rows": r.rows, "total": r.total,
            "money": r.by != "kind", "csv": borough is None}


def _labels(by: str, keys) -> dict:
    if by == "area":
        return {a.pk: f"{a.name}, {a.borough_name}" for a in ProgrammeArea.objects.filter(pk__in=list(keys))}
    if by == "borough":
        return {k: BOROUGHS.get(k, k) for k in keys}
    if by == "kind":
        return dict(INTERVENTION_KINDS)
    return {k: str(k) for k in keys}


AGE_BAND_LABELS = dict(AGE_BANDS)
