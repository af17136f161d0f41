"""Read-only JSON API of Rescue and Response, mounted at /api/v1/referrals/. The same rules as the pages:
each endpoint needs the page's permission, lists hold only what the user's role and organisation may see,
another organisation's case is 404, every case read is one audit row and every intelligence read a
disclosure; a restricted case outside one's named staff is 403 here (break the glass on its page)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from vru.web.core.routes import endpoints

from . import reports, services
from .forms import NRM_FIELDS, PERSON_FIELDS
from .models import Referral, YoungPerson

TAGS = ["referrals"]


def _perm(perm: str):
    class Has(BasePermission):
        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(perm))

    Has.__name__ = f"Has_{perm.split('.')[1]}"
    return [Has]


class _Referrals:
    # A view over referrals. Each one picks the user's referrals itself (get_queryset or get_object); this
    # empty queryset only names the model for the schema. No docstring: the schema would show it.
    queryset = Referral.objects.none()


class CaseListSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="current_provider.organisation.name", default=None)

    class Meta:
        model = Referral
        fields = ["id", "reference", "kind", "status", "referral_date", "borough", "provider", "restricted"]


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = YoungPerson
        fields = PERSON_FIELDS


class CaseSerializer(serializers.ModelSerializer):
    person = PersonSerializer(read_only=True)
    provider = serializers.CharField(source="current_provider.organisation.name", default=None)

    class Meta:
        model = Referral
        fields = [
            "id",
            "reference",
            "kind",
            "status",
            "referral_date",
            "borough",
            "gender",
            "age_at_referral",
            "ind_county_lines",
            "ind_association",
            "ind_cse",
            "ind_missing",
            "missing_episodes",
            *NRM_FIELDS,
            "provider",
            "person",
        ]


class StatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = ["id", "reference", "kind", "status", "referral_date", "submitted_at"]


class IntelligenceListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = ["id", "reference", "referral_date", "borough"]


@extend_schema(summary="Cases of the user's organisation", tags=TAGS)
class CaseList(_Referrals, generics.ListAPIView):
    serializer_class = CaseListSerializer
    permission_classes = _perm("referrals.view_case")

    def get_queryset(self):
        return services.caseload(self.request.user).select_related("current_provider__organisation")


@extend_schema(summary="One case (audited)", tags=TAGS)
class CaseDetail(_Referrals, generics.RetrieveAPIView):
    serializer_class = CaseSerializer
    permission_classes = _perm("referrals.view_case")

    def get_object(self):
        r = services.case_or_404(self.request.user, self.kwargs["pk"])
        purpose = services.read_purpose(self.request._request, r)
        if purpose is None:
            raise PermissionDenied("This record is restricted: open it on its page and give your reason.")
        services.audit_case(self.request._request, "view case (API)", r, purpose)
        return r


@extend_schema(summary="The status of the referrals the user made", tags=TAGS)
class MineList(_Referrals, generics.ListAPIView):
    serializer_class = StatusSerializer
    permission_classes = _perm("referrals.add_referral")

    def get_queryset(self):
        return Referral.objects.filter(referrer=self.request.user, anonymised_at__isnull=True)


@extend_schema(summary="Intelligence shared with the user's council", tags=TAGS)
class IntelligenceList(_Referrals, generics.ListAPIView):
    serializer_class = IntelligenceListSerializer
    permission_classes = _perm("referrals.view_intelligence")

    def get_queryset(self):
        return services.council_intelligence(self.request.user)[1]


class RedactedSerializer(serializers.Serializer):
    fields_ = serializers.DictField(child=serializers.CharField())


@extend_schema(
    summary="One intelligence referral, redacted (a disclosure, logged)",
    tags=TAGS,
    responses=RedactedSerializer,
)
class IntelligenceDetail(APIView):
    permission_classes = _perm("referrals.view_intelligence")

    def get(self, request, pk):
        council, qs = services.council_intelligence(request.user)
        r = qs.filter(pk=pk).first()
        if r is None:
            raise Http404("no such intelligence")
        services.disclose(request._request, r, council, "disclose intelligence (API)")
        return Response({"fields": dict(reports.redacted(r))})


class ReportSerializer(serializers.Serializer):
    years = serializers.ListField(child=serializers.CharField(), help_text="The completed years published")
    report = serializers.DictField(allow_null=True, help_text="The figures of the year asked for")
    pending = serializers.DictField(
        allow_null=True,
        help_text="When the year asked for is not published yet: its period, the day it is published at the "
        "latest (publish_by) and why",
    )


@extend_schema(
    summary="The service's figures for a completed financial year (?year=2020 for 2020-21; the latest by "
    "default), published once and frozen, small numbers suppressed",
    tags=TAGS,
    responses=ReportSerializer,
)
class Report(APIView):
    permission_classes = _perm("referrals.view_reports")

    def get(self, request):
        years, figures, pending = reports.chosen_release(request.GET.get("year"))
        years = [reports.year_label(y) for y in years]
        return Response({"years": years, "report": figures, "pending": pending})


PUBLIC_VIEWS: tuple[str, ...] = ()

urlpatterns = endpoints("referrals-api-", [
    ("cases/", "cases", CaseList),
    ("cases/<uuid:pk>/", "case", CaseDetail),
    ("mine/", "mine", MineList),
    ("intelligence/", "intelligence", IntelligenceList),
    ("intelligence/<uuid:pk>/", "intelligence-detail", IntelligenceDetail),
    ("reports/", "reports", Report),
])
