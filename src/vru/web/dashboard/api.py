"""The dashboard's read-only JSON API (mounted at /api/v1/dashboard/ by vru.web.urls).

The same filters as the pages (the pages' forms validate the query), the same cached results
(:mod:`vru.web.dashboard.data`): a page and its endpoint never disagree. Every endpoint needs
``accounts.view_dashboard``: anonymous requests and signed-in users without it get 403. A bad filter
value is 400 with the message per field; no warehouse is 503 with how to build one.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from vru.web.core.pagination import BoundedPagination
from vru.web.core.records import serializer_for
from vru.web.core.routes import endpoints
from vru.web.dashboard import data
from vru.web.dashboard.cache import AnalysisError, WarehouseMissing, WarehouseUnavailable
from vru.web.dashboard.forms import (
    DriversForm,
    EvaluationForm,
    HotspotForm,
    OverviewForm,
    TargetingForm,
)


class HasDjangoPerms(BasePermission):
    """Allow signed-in users holding every Django permission in the view's ``required_perms``."""

    message = "You do not have permission to view the dashboard."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated
                    and user.has_perms(getattr(view, "required_perms", ())))


# --- the answers' records (their serializers describe the responses in the OpenAPI schema) ------

class Error(TypedDict):
    detail: str


class LeagueRow(TypedDict):
    code: Annotated[str, "borough GSS code"]
    name: str
    rank: Annotated[int, "1 = highest rate"]
    count: Annotated[int, "offences in the 12-month window"]
    previous: Annotated[int, "offences in the 12 months before"]
    change_pct: float | None
    population: int
    rate_per_1000: float


class League(TypedDict):
    category: str
    label: str
    source: str
    window_start: Annotated[str, "YYYY-MM"]
    window_end: Annotated[str, "YYYY-MM"]
    population_year: int
    rows: list[LeagueRow]


class Measure(LeagueRow):
    category: str
    label: str
    window_start: str
    window_end: str
    of: Annotated[int, "boroughs ranked"]


class BoroughLsoa(TypedDict):
    code: str
    name: str
    ward_name: str | None
    hotspot_category: str | None
    n_hot: int
    n_periods: int
    mean_offences: float
    targeting_score: float | None
    targeting_rank: int | None


class Borough(TypedDict):
    code: str
    name: str
    measures: list[Measure]
    hotspot_periods: list[str]
    hotspot_patterns: dict[str, int]
    lsoas: list[BoroughLsoa]
    targeting_candidates: int


class Year(TypedDict):
    year: int
    count: int | None
    rate_per_1000: float | None


class AreaHotspot(TypedDict):
    category: str | None
    n_hot: int
    n_periods: int
    trend_tau: float | None
    trend_p: float | None
    last_z: float | None
    periods: list[str]


class AreaTargeting(TypedDict):
    score: float
    rank: int
    of: int
    borough: str
    sustained: float
    harm_rate_per_1000: float
    imd_score: float
    youth_share: float
    z_sustained: float
    z_harm: float
    z_deprivation: float
    z_youth: float
    shortlisted: bool


class Area(TypedDict):
    code: str
    name: str
    borough: str
    borough_name: str
    ward_name: str | None
    population: int | None
    population_year: int
    source: str
    category: str
    series: list[Year]
    imd_score: float | None
    imd_rank: float | None
    imd_decile: float | None
    hotspot: AreaHotspot | None
    targeting: AreaTargeting | None


class HotspotRow(TypedDict):
    code: str
    name: str
    borough: str
    borough_name: str
    ward_code: str | None
    ward_name: str | None
    category: Annotated[str | None, "emerging hot spot pattern"]
    n_periods: int
    n_hot: int
    n_cold: int
    share_hot: float
    share_cold: float
    trend_tau: float | None
    trend_z: float | None
    trend_p: float | None
    last_z: float | None
    mean_value: float
    last_value: float
    island: bool


class HotspotPage(TypedDict):
    count: int
    next: Annotated[str | None, serializers.URLField]
    previous: Annotated[str | None, serializers.URLField]
    parameters: dict
    source: str
    periods: list[str]
    notes: list[str]
    weights: dict[str, float] | None
    method: str
    results: list[HotspotRow]


class Shortlist(TypedDict):
    rank: int
    id: str
    label: str
    borough: str
    borough_name: str
    population: int
    score: float
    sustained: float
    harm_rate_per_1000: float
    imd_score: float
    youth: float
    need_offences_per_year: float
    members: list[str]
    shortlisted_share_of_draws: float
    allocation_pence: dict[str, int]


class Targeting(TypedDict):
    parameters: dict
    sustained_violence: str
    candidates: int
    greedy_is_exact: bool
    shortlist: list[Shortlist]
    allocation_total_pence: int
    allocation_by_year_pence: dict[str, int]
    sensitivity: dict
    myends: dict


class Evaluation(TypedDict):
    parameters: dict
    data: dict
    before_after: list[dict]
    rate: Annotated[dict, "DiD (Callaway-Sant'Anna) and synthetic control on "
                                           "the rate"]
    poisson_counts: dict
    spillover: dict | None
    spillover_error: str | None
    limits: list[str]


class Drivers(TypedDict):
    parameters: dict
    caveat: str
    unemployment_statement: dict
    deprivation_statement: list[dict]
    lsoa: dict
    borough_regressions: dict


ErrorSerializer = serializer_for(Error)


# --- views ----------------------------------------------------------------------------------------

def form_parameters(form_cls) -> list[OpenApiParameter]:
    """The query parameters of a filter form, for the OpenAPI description."""
    out = []
    for name, f in form_cls.base_fields.items():
        many = isinstance(f, forms.MultipleChoiceField)
        if isinstance(f, forms.IntegerField):
            t = OpenApiTypes.INT
        elif isinstance(f, forms.FloatField):
            t = OpenApiTypes.NUMBER
        else:
            t = OpenApiTypes.STR
        choices = [c for c, _ in getattr(f, "choices", ()) if c]
        desc = str(f.label) + (f". {f.help_text}" if f.help_text else "")
        if f.initial not in (None, "", []):
            desc += f" Default: {f.initial if not many else ','.join(f.initial)}."
        out.append(OpenApiParameter(name, t, OpenApiParameter.QUERY, required=False,
                                    description=desc, enum=choices or None, many=many,
                                    explode=True if many else None))
    return out


ERRORS = {400: OpenApiResponse(ErrorSerializer, description="a filter value is invalid (messages "
                                                            "per field) or the analysis refused it"),
          403: OpenApiResponse(ErrorSerializer, description="not signed in, or no permission"),
          503: OpenApiResponse(ErrorSerializer, description="no analysis warehouse: run vru init")}


class DashboardView(APIView):
    required_perms = ("accounts.view_dashboard",)
    permission_classes = [HasDjangoPerms]
    form_class = None

    def form(self, request):
        return self.form_class(request.query_params)

    def answer(self, request, build):
        try:
            form = self.form(request) if self.form_class else None
            if form is not None and form.is_bound and not form.is_valid():
                return Response({k: [e["message"] for e in v]
                                 for k, v in form.errors.get_json_data().items()}, status=400)
            return build(form)
        except (WarehouseMissing, WarehouseUnavailable) as e:
            return Response({"detail": str(e)}, status=503)
        except AnalysisError as e:
            return Response({"detail": str(e)}, status=400)
        except data.NotFound:
            return Response({"detail": "Not found."}, status=404)


class BoroughsView(DashboardView):
    form_class = OverviewForm

    @extend_schema(summary="Borough league table", parameters=form_parameters(OverviewForm),
                   responses={200: serializer_for(League), **ERRORS},
                   description="One crime measure per 1,000 residents in the latest 12 months for "
                               "the 32 MPS boroughs, ranked (vru.analysis.needs.league_table).")
    def get(self, request):
        return self.answer(request, lambda f: Response(
            {k: v for k, v in data.league(f.params()).items()
             if k not in ("chart_html", "_charts")}))


class BoroughView(DashboardView):
    @extend_schema(summary="One borough", responses={200: serializer_for(Borough), 404: ErrorSerializer,
                                                     **ERRORS},
                   description="Rank and rate on each league measure, the hot spot pattern and "
                               "targeting score of each of its LSOAs.")
    def get(self, request, code: str):
        return self.answer(request, lambda f: Response(data.borough_detail(code)))


class AreaView(DashboardView):
    @extend_schema(summary="One LSOA (2011)", responses={200: serializer_for(Area), 404: ErrorSerializer,
                                                         **ERRORS},
                   description="Annual violence, IMD 2019, hot spot pattern, targeting score.")
    def get(self, request, code: str):
        return self.answer(request, lambda f: Response(data.area_detail(code)))


class HotspotsView(DashboardView):
    form_class = HotspotForm
    pagination_class = BoundedPagination

    @extend_schema(
        summary="Emerging hot spots by LSOA",
        parameters=form_parameters(HotspotForm) + [
            OpenApiParameter("limit", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                             description="rows per page (default 100)"),
            OpenApiParameter("offset", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                             description="first row")],
        responses={200: serializer_for(HotspotPage), **ERRORS},
        description="vru.pipelines.hotspots.run, one row per LSOA (paginated); "
                    "`borough` keeps that borough's LSOAs only.")
    def get(self, request):
        def build(form):
            res = data.hotspot_results(form.params())
            rows = res["rows"]
            if form.borough_code():
                rows = [r for r in rows if r["borough"] == form.borough_code()]
            paginator = self.pagination_class()
            page = paginator.paginate_queryset(rows, request, view=self)
            resp = paginator.get_paginated_response(page)
            resp.data.update({k: res[k] for k in ("parameters", "source", "periods", "notes",
                                                  "weights", "method")})
            return resp

        return self.answer(request, build)


def _section_view(name: str, form_class, serializer, results: str, *, summary: str, description: str):
    """The view of one analysis section: ``data.<results>`` of the filter form's parameters, its private
    (``_``) keys left out. The three sections below differ only in these arguments."""

    @extend_schema(summary=summary, parameters=form_parameters(form_class),
                   responses={200: serializer, **ERRORS}, description=description)
    def get(self, request):
        return self.answer(request, lambda f: Response(_strip(getattr(data, results)(f.params()))))

    return type(name, (DashboardView,), {"__module__": __name__, "__qualname__": name,
                                         "form_class": form_class, "get": get})


TargetingView = _section_view(
    "TargetingView", TargetingForm, serializer_for(Targeting), "targeting_results",
    summary="Targeting: shortlist and budget",
    description="vru.pipelines.targeting.run (as_dict): scored candidates, the shortlist, the budget "
                "allocation, sensitivity, MyEnds comparison.")
EvaluationView = _section_view(
    "EvaluationView", EvaluationForm, serializer_for(Evaluation), "evaluation_results",
    summary="Evaluation: did violence fall in the treated boroughs?",
    description="vru.pipelines.evaluation.run: staggered DiD, synthetic control, Poisson "
                "counts, spillover, power.")
DriversView = _section_view(
    "DriversView", DriversForm, serializer_for(Drivers), "drivers_results",
    summary="Drivers: the City Hall statements",
    description="vru.pipelines.drivers.run: top-n overlaps with permutation p-values, "
                "correlations, count regressions.")


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


urlpatterns = endpoints("dashboard-api-", [
    ("boroughs/", "boroughs", BoroughsView),
    ("boroughs/<str:code>/", "borough", BoroughView),
    ("areas/<str:code>/", "area", AreaView),
    ("hotspots/", "hotspots", HotspotsView),
    ("targeting/", "targeting", TargetingView),
    ("evaluation/", "evaluation", EvaluationView),
    ("drivers/", "drivers", DriversView),
])
