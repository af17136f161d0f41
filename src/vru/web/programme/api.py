"""Read-only JSON API of the programme register, mounted at /api/v1/programme/.

Same access as the pages: ``programme.view_register`` for every endpoint, and the same per-user
filtering (``scope``): providers' staff get only their own consortia's records, and another
organisation's record is 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from vru.geography.boroughs import BOROUGHS
from vru.web.core.pagination import BoundedPagination
from vru.web.core.routes import endpoints

from . import geojson, scope
from .models import (
    AGE_BAND_FIELDS,
    Consortium,
    Grant,
    GrantStatusChange,
    Intervention,
    ProgrammeArea,
)


class CanViewRegister(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(scope.VIEW_PERM))


PERMS = [IsAuthenticated, CanViewRegister]


class GeometryField(serializers.JSONField):
    """The stored boundary in its canonical form (``geojson.for_output``): a row stored before the rules
    that is not a well-formed Polygon or MultiPolygon is shown as null, never a 500."""

    def to_representation(self, value):
        return geojson.for_output(value)


class ProgrammeAreaSerializer(serializers.ModelSerializer):
    borough_name = serializers.SerializerMethodField()
    geometry = GeometryField(help_text="GeoJSON Polygon or MultiPolygon, WGS84; null if none")
    lsoa_codes = serializers.ListField(child=serializers.CharField(), source="shown_lsoa_codes",
                                       read_only=True)

    class Meta:
        model = ProgrammeArea
        fields = ["id", "name", "kind", "borough", "borough_name", "lsoa_codes", "geometry",
                  "selected_year", "funding_round"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_borough_name(self, obj) -> str:
        return BOROUGHS.get(obj.borough, obj.borough)


class ProgrammeConsortiumSerializer(serializers.ModelSerializer):
    lead = serializers.CharField(source="lead.name")
    members = serializers.SerializerMethodField()

    class Meta:
        model = Consortium
        fields = ["id", "name", "area", "lead", "members"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_members(self, obj) -> list[str]:
        return sorted(m.organisation.name for m in obj.memberships.all())


class ProgrammeStatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.CharField(help_text="the status before the change; empty when the grant was "
                                                  "first recorded (bid or imported)")

    class Meta:
        model = GrantStatusChange
        fields = ["from_status", "to_status", "changed_at", "end_date", "amount_awarded", "note"]


class ProgrammeGrantSerializer(serializers.ModelSerializer):
    history = ProgrammeStatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = Grant
        fields = ["id", "reference", "consortium", "status", "amount_requested", "amount_awarded", "cap",
                  "start_date", "end_date", "history"]


class ProgrammeInterventionSerializer(serializers.ModelSerializer):
    grant = serializers.CharField(source="grant.reference")
    people_reached = serializers.IntegerField(read_only=True)

    class Meta:
        model = Intervention
        fields = ["id", "grant", "kind", "name", "year", "sessions_delivered", *AGE_BAND_FIELDS,
                  "people_reached"]


def _ro(name, serializer_class, queryset_fn, doc, prefetch=()):
    """A list view and a detail view over ``queryset_fn(user)``."""

    def get_queryset(self):
        qs = queryset_fn(self.request.user)
        return qs.prefetch_related(*prefetch) if prefetch else qs

    attrs = {"serializer_class": serializer_class, "permission_classes": PERMS, "get_queryset": get_queryset,
             "queryset": serializer_class.Meta.model.objects.none(), "pagination_class": BoundedPagination}
    lst = extend_schema(summary=f"List {name}", description=doc, tags=["programme"])(
        type(f"{name.title()}List", (generics.ListAPIView,), dict(attrs)))
    one = extend_schema(summary=f"One of the {name}",
                        description=doc + " Another organisation's record is 404.", tags=["programme"])(
        type(f"{name.title()}Detail", (generics.RetrieveAPIView,), dict(attrs)))
    return lst, one


_FILTER = ("Programme managers, administrators and analysts see all; providers' staff see only the "
           "consortia their organisation is a member of.")
AreaList, AreaDetail = _ro("areas", ProgrammeAreaSerializer, scope.areas_for, "Funded areas. " + _FILTER)
ConsortiumList, ConsortiumDetail = _ro("consortia", ProgrammeConsortiumSerializer, scope.consortia_for,
                                       "Consortia and their members. " + _FILTER,
                                       prefetch=("memberships__organisation",))
GrantList, GrantDetail = _ro("grants", ProgrammeGrantSerializer, scope.grants_for,
                             "Grants with their status history. " + _FILTER, prefetch=("history",))
InterventionList, InterventionDetail = _ro("interventions", ProgrammeInterventionSerializer,
                                           scope.interventions_for, "Interventions delivered. " + _FILTER)

class ProgrammeRollupRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="area id, borough code, year or kind")
    label = serializers.CharField()
    interventions = serializers.IntegerField()
    sessions_delivered = serializers.IntegerField()
    reached_under_10 = serializers.IntegerField()
    reached_10_13 = serializers.IntegerField()
    reached_14_17 = serializers.IntegerField()
    reached_18_24 = serializers.IntegerField()
    reached_25_plus = serializers.IntegerField()
    people_reached = serializers.IntegerField()
    grants_awarded = serializers.IntegerField()
    amount_awarded = serializers.DecimalField(max_digits=14, decimal_places=2)


class ProgrammeRollupSerializer(serializers.Serializer):
    by = serializers.CharField()
    rows = ProgrammeRollupRowSerializer(many=True)
    total = ProgrammeRollupRowSerializer()


class RollupView(APIView):
    permission_classes = PERMS

    @extend_schema(
        summary="Roll-up by area, borough, year or kind",
        description="Sessions, people reached by age band and money awarded per group, over the records "
                    "the user may see (the same figures as the register page and its CSV). " + _FILTER,
        parameters=[OpenApiParameter("by", OpenApiTypes.STR, OpenApiParameter.PATH,
                                     enum=list(scope.ROLLUP_BY))],
        responses=ProgrammeRollupSerializer,
        tags=["programme"],
    )
    def get(self, request, by: str):
        if by not in scope.ROLLUP_BY:
            raise NotFound(f"roll-up by {by!r}: expected one of {', '.join(scope.ROLLUP_BY)}")
        r = scope.rollup(request.user, by)

        def enc(row):
            out = dict(row)
            out["key"] = "" if row["key"] is None else str(row["key"])
            out["amount_awarded"] = f"{row['amount_awarded']:.2f}"
            return out

        return Response({"by": by, "rows": [enc(x) for x in r.rows], "total": enc(r.total)})


urlpatterns = endpoints("programme-api-", [
    ("areas/", "areas", AreaList),
    ("areas/<int:pk>/", "area", AreaDetail),
    ("consortia/", "consortia", ConsortiumList),
    ("consortia/<int:pk>/", "consortium", ConsortiumDetail),
    ("grants/", "grants", GrantList),
    ("grants/<int:pk>/", "grant", GrantDetail),
    ("interventions/", "interventions", InterventionList),
    ("interventions/<int:pk>/", "intervention", InterventionDetail),
    ("rollups/<str:by>/", "rollup", RollupView),
])
