"""The dashboard's read-only JSON API (mounted at /api/v1/dashboard/ by vru.web.urls).

The same filters as the pages (the pages' forms validate the query), the same cached results
(:mod:`vru.web.dashboard.data`): a page and its endpoint never disagree. Every endpoint needs
``accounts.view_dashboard``: anonymous requests and signed-in users without it get 403. A bad filter
value is 400 with the message per field; no warehouse is 503 with how to build one.
"""

from __future__ import annotations

from django import forms
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from vru.web.core.pagination import BoundedPagination
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


# --- response serializers (they describe the responses in the OpenAPI schema) -------------------

class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class LeagueRowSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="borough GSS code")
    name = serializers.CharField()
    rank = serializers.IntegerField(help_text="1 = highest rate")
    count = serializers.IntegerField(help_text="offences in the 12-month window")
    previous = serializers.IntegerField(help_text="offences in the 12 months before")
    change_pct = serializers.FloatField(allow_null=True)
    population = serializers.IntegerField()
    rate_per_1000 = serializers.FloatField()


class LeagueSerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    source = serializers.CharField()
    window_start = serializers.CharField(help_text="YYYY-MM")
    window_end = serializers.CharField(help_text="YYYY-MM")
    population_year = serializers.IntegerField()
    rows = LeagueRowSerializer(many=True)


class MeasureSerializer(LeagueRowSerializer):
    category = serializers.CharField()
    label = serializers.CharField()
    window_start = serializers.CharField()
    window_end = serializers.CharField()
    of = serializers.IntegerField(help_text="boroughs ranked")


class BoroughLsoaSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    ward_name = serializers.CharField(allow_null=True)
    hotspot_category = serializers.CharField(allow_null=True)
    n_hot = serializers.IntegerField()
    n_periods = serializers.IntegerField()
    mean_offences = serializers.FloatField()
    targeting_score = serializers.FloatField(allow_null=True)
    targeting_rank = serializers.IntegerField(allow_null=True)


class BoroughSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    measures = MeasureSerializer(many=True)
    hotspot_periods = serializers.ListField(child=serializers.CharField())
    hotspot_patterns = serializers.DictField(child=serializers.IntegerField())
    lsoas = BoroughLsoaSerializer(many=True)
    targeting_candidates = serializers.IntegerField()


class YearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    count = serializers.IntegerField(allow_null=True)
    rate_per_1000 = serializers.FloatField(allow_null=True)


class AreaHotspotSerializer(serializers.Serializer):
    category = serializers.CharField(allow_null=True)
    n_hot = serializers.IntegerField()
    n_periods = serializers.IntegerField()
    trend_tau = serializers.FloatField(allow_null=True)
    trend_p = serializers.FloatField(allow_null=True)
    last_z = serializers.FloatField(allow_null=True)
    periods = serializers.ListField(child=serializers.CharField())


class AreaTargetingSerializer(serializers.Serializer):
    score = serializers.FloatField()
    rank = serializers.IntegerField()
    of = serializers.IntegerField()
    borough = serializers.CharField()
    sustained = serializers.FloatField()
    harm_rate_per_1000 = serializers.FloatField()
    imd_score = serializers.FloatField()
    youth_share = serializers.FloatField()
    z_sustained = serializers.FloatField()
    z_harm = serializers.FloatField()
    z_deprivation = serializers.FloatField()
    z_youth = serializers.FloatField()
    shortlisted = serializers.BooleanField()


class AreaSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    borough = serializers.CharField()
    borough_name = serializers.CharField()
    ward_name = serializers.CharField(allow_null=True)
    population = serializers.IntegerField(allow_null=True)
    population_year = serializers.IntegerField()
    source = serializers.CharField()
    category = serializers.CharField()
    series = YearSerializer(many=True)
    imd_score = serializers.FloatField(allow_null=True)
    imd_rank = serializers.FloatField(allow_null=True)
    imd_decile = serializers.FloatField(allow_null=True)
    hotspot = AreaHotspotSerializer(allow_null=True)
    targeting = AreaTargetingSerializer(allow_null=True)


class HotspotRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    borough = serializers.CharField()
    borough_name = serializers.CharField()
    ward_code = serializers.CharField(allow_null=True)
    ward_name = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True, help_text="emerging hot spot pattern")
    n_periods = serializers.IntegerField()
    n_hot = serializers.IntegerField()
    n_cold = serializers.IntegerField()
    share_hot = serializers.FloatField()
    share_cold = serializers.FloatField()
    trend_tau = serializers.FloatField(allow_null=True)
    trend_z = serializers.FloatField(allow_null=True)
    trend_p = serializers.FloatField(allow_null=True)
    last_z = serializers.FloatField(allow_null=True)
    mean_value = serializers.FloatField()
    last_value = serializers.FloatField()
    island = serializers.BooleanField()


class HotspotPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    parameters = serializers.DictField()
    source = serializers.CharField()
    periods = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    weights = serializers.DictField(child=serializers.FloatField(), allow_null=True)
    method = serializers.CharField()
    results = HotspotRowSerializer(many=True)


class ShortlistSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    id = serializers.CharField()
    label = serializers.CharField()
    borough = serializers.CharField()
    borough_name = serializers.CharField()
    population = serializers.IntegerField()
    score = serializers.FloatField()
    sustained = serializers.FloatField()
    harm_rate_per_1000 = serializers.FloatField()
    imd_score = serializers.FloatField()
    youth = serializers.FloatField()
    need_offences_per_year = serializers.FloatField()
    members = serializers.ListField(child=serializers.CharField())
    shortlisted_share_of_draws = serializers.FloatField()
    allocation_pence = serializers.DictField(child=serializers.IntegerField())


class TargetingSerializer(serializers.Serializer):
    parameters = serializers.DictField()
    sustained_violence = serializers.CharField()
    candidates = serializers.IntegerField()
    greedy_is_exact = serializers.BooleanField()
    shortlist = ShortlistSerializer(many=True)
    allocation_total_pence = serializers.IntegerField()
    allocation_by_year_pence = serializers.DictField(child=serializers.IntegerField())
    sensitivity = serializers.DictField()
    myends = serializers.DictField()


class EvaluationSerializer(serializers.Serializer):
    parameters = serializers.DictField()
    data = serializers.DictField()
    before_after = serializers.ListField(child=serializers.DictField())
    rate = serializers.DictField(help_text="DiD (Callaway-Sant'Anna) and synthetic control on "
                                           "the rate")
    poisson_counts = serializers.DictField()
    spillover = serializers.DictField(allow_null=True)
    spillover_error = serializers.CharField(allow_null=True)
    limits = serializers.ListField(child=serializers.CharField())


class DriversSerializer(serializers.Serializer):
    parameters = serializers.DictField()
    caveat = serializers.CharField()
    unemployment_statement = serializers.DictField()
    deprivation_statement = serializers.ListField(child=serializers.DictField())
    lsoa = serializers.DictField()
    borough_regressions = serializers.DictField()


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
                   responses={200: LeagueSerializer, **ERRORS},
                   description="One crime measure per 1,000 residents in the latest 12 months for "
                               "the 32 MPS boroughs, ranked (vru.analysis.needs.league_table).")
    def get(self, request):
        return self.answer(request, lambda f: Response(
            {k: v for k, v in data.league(f.params()).items()
             if k not in ("chart_html", "_charts")}))


class BoroughView(DashboardView):
    @extend_schema(summary="One borough", responses={200: BoroughSerializer, 404: ErrorSerializer,
                                                     **ERRORS},
                   description="Rank and rate on each league measure, the hot spot pattern and "
                               "targeting score of each of its LSOAs.")
    def get(self, request, code: str):
        return self.answer(request, lambda f: Response(data.borough_detail(code)))


class AreaView(DashboardView):
    @extend_schema(summary="One LSOA (2011)", responses={200: AreaSerializer, 404: ErrorSerializer,
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
        responses={200: HotspotPageSerializer, **ERRORS},
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
    "TargetingView", TargetingForm, TargetingSerializer, "targeting_results",
    summary="Targeting: shortlist and budget",
    description="vru.pipelines.targeting.run (as_dict): scored candidates, the shortlist, the budget "
                "allocation, sensitivity, MyEnds comparison.")
EvaluationView = _section_view(
    "EvaluationView", EvaluationForm, EvaluationSerializer, "evaluation_results",
    summary="Evaluation: did violence fall in the treated boroughs?",
    description="vru.pipelines.evaluation.run: staggered DiD, synthetic control, Poisson "
                "counts, spillover, power.")
DriversView = _section_view(
    "DriversView", DriversForm, DriversSerializer, "drivers_results",
    summary="Drivers: the City Hall statements",
    description="vru.pipelines.drivers.run: top-n overlaps with permutation p-values, "
                "correlations, count regressions.")


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


urlpatterns = [
    path("boroughs/", BoroughsView.as_view(), name="dashboard-api-boroughs"),
    path("boroughs/<str:code>/", BoroughView.as_view(), name="dashboard-api-borough"),
    path("areas/<str:code>/", AreaView.as_view(), name="dashboard-api-area"),
    path("hotspots/", HotspotsView.as_view(), name="dashboard-api-hotspots"),
    path("targeting/", TargetingView.as_view(), name="dashboard-api-targeting"),
    path("evaluation/", EvaluationView.as_view(), name="dashboard-api-evaluation"),
    path("drivers/", DriversView.as_view(), name="dashboard-api-drivers"),
]
