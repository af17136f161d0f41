"""The Open Referral UK API of the Local Village Network (HSDS UK profile 3.0), mounted at
``/api/v1/opportunities/``. Public and read-only: young people's apps and other service directories
read it without signing in, so every view here is listed in :data:`PUBLIC_VIEWS`.

==============================  ===========================================================================
``/``                           what this API is (HSDS version, profile, where its OpenAPI document is)
``/openapi.json``               the profile's OpenAPI document, as shipped
``/services``                   paginated services, one-to-one fields (``schema/compiled/service_list.json``)
``/services/{id}``              one full service (``schema/compiled/service.json``)
``/taxonomies``, ``/{id}``      the platform's taxonomies (``schema/taxonomy.json``)
``/taxonomy_terms``, ``/{id}``  their terms (``schema/taxonomy_term.json``)
==============================  ===========================================================================

The profile sets ``/organizations`` to null (not part of the UK profile): organisations appear inside
each service. ``/service_at_locations`` is not offered: its ``postcode``/``proximity`` filters need a
postcode directory the platform does not hold (the search page takes a point instead).

Filters of ``/services`` are the profile's (``search``, ``taxonomy_term_id``, ``taxonomy_id``,
``minimum_age``, ``maximum_age``, ``start_time``, ``end_time``, ``day``) read as the profile defines them,
plus two of the platform's (``age``: services a person of that age may attend; ``borough``). A bad
parameter is a 400 naming it. Only live opportunities are listed (``oruk.public_opportunities``).
"""

from __future__ import annotations

import datetime as dt
import json

from django.db.models import DurationField, ExpressionWrapper, F, Q
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from vru.geography.boroughs import BOROUGHS, borough_code
from vru.web.core.routes import endpoints

from . import oruk
from .search import with_keywords

PUBLIC_VIEWS = (
    "oruk-root", "oruk-openapi", "oruk-services", "oruk-service", "oruk-taxonomies", "oruk-taxonomy",
    "oruk-taxonomy-terms", "oruk-taxonomy-term",
)
TAG = "Open Referral UK (opportunities)"
PROFILE = oruk.SCHEMA_BASE


class OrukPage(PageNumberPagination):
    """The profile's ``Page`` envelope (total_items, total_pages, page_number, size, first_page,
    last_page, empty, contents) over Django's paginator; ``page`` and ``per_page`` (1-100)."""

    page_size = 20
    page_size_query_param = "per_page"
    max_page_size = 100

    def get_paginated_response(self, data):
        page = self.page
        return Response({
            "total_items": page.paginator.count,
            "total_pages": page.paginator.num_pages,
            "page_number": page.number,
            "size": len(data),
            "first_page": not page.has_previous(),
            "last_page": not page.has_next(),
            "empty": page.paginator.count == 0,
            "contents": data,
        })


def _page_schema(item_ref: str, description: str) -> dict:
    return {
        "type": "object",
        "description": description,
        "properties": {
            "total_items": {"type": "integer"}, "total_pages": {"type": "integer"},
            "page_number": {"type": "integer"}, "size": {"type": "integer"},
            "first_page": {"type": "boolean"}, "last_page": {"type": "boolean"}, "empty": {"type": "boolean"},
            "contents": {"type": "array", "items": {"type": "object",
                                                    "description": f"Valid against {PROFILE}{item_ref}"}},
        },
        "required": ["total_items", "total_pages", "page_number", "size", "first_page", "last_page",
                     "empty", "contents"],
    }


def _object(ref: str) -> OpenApiResponse:
    return OpenApiResponse(response=OpenApiTypes.OBJECT, description=f"Valid against {PROFILE}{ref}")


PAGING = [
    OpenApiParameter("page", int, description="Page number (from 1)."),
    OpenApiParameter("per_page", int, description="Results per page, 1 to 100 (default 20)."),
]


class PublicView(APIView):
    """No authentication (no session, so no CSRF either), anyone may read."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


def _check_paging(request) -> None:
    class Paging(serializers.Serializer):
        page = serializers.IntegerField(required=False, min_value=1)
        per_page = serializers.IntegerField(required=False, min_value=1, max_value=OrukPage.max_page_size)

    s = Paging(data=request.query_params)
    if not s.is_valid():
        raise ValidationError(s.errors)


def _paginate(view, request, items):
    _check_paging(request)
    pager = OrukPage()
    return pager, pager.paginate_queryset(items, request, view=view)


class ServiceQuery(serializers.Serializer):
    search = serializers.CharField(required=False, max_length=100, allow_blank=True)
    taxonomy_term_id = serializers.UUIDField(required=False)
    taxonomy_id = serializers.UUIDField(required=False)
    minimum_age = serializers.FloatField(required=False, min_value=0, max_value=150)
    maximum_age = serializers.FloatField(required=False, min_value=0, max_value=150)
    start_time = serializers.TimeField(required=False)
    end_time = serializers.TimeField(required=False)
    day = serializers.CharField(required=False)
    age = serializers.IntegerField(required=False, min_value=0, max_value=150)
    borough = serializers.CharField(required=False)

    def validate_day(self, value):
        v = value.strip().upper()
        for i, code in enumerate(oruk.DAY_CODES):
            if v == code or v == dt.date(2024, 1, 1 + i).strftime("%A").upper():
                return i
        raise serializers.ValidationError("Give a day as MO, TU, WE, TH, FR, SA, SU or its name (Monday...).")

    def validate_borough(self, value):
        code = value if value in BOROUGHS else borough_code(value)
        if code not in BOROUGHS:
            raise serializers.ValidationError("Not a London borough: give its name or GSS code (E09000022).")
        return code


def _django_week_day(iso_weekday: int) -> int:
    """Monday = 0 ... Sunday = 6 -> Django's ``week_day`` (Sunday = 1 ... Saturday = 7)."""
    return (iso_weekday + 1) % 7 + 1


def filter_services(qs, params: dict):
    """Apply the validated :class:`ServiceQuery` ``params`` to a queryset of opportunities."""
    qs = with_keywords(qs, params.get("search"))
    if "taxonomy_term_id" in params:
        found = next((t for t in oruk.terms() if t["id"] == str(params["taxonomy_term_id"])), None)
        if found is None:
            return qs.none()
        field = "kind" if found["taxonomy"] == oruk.KIND_TAXONOMY else "topic"
        qs = qs.filter(**{field: found["code"]})
    if "taxonomy_id" in params:
        tax = next((t for t in oruk.taxonomies() if t["id"] == str(params["taxonomy_id"])), None)
        if tax is None:
            return qs.none()
        if tax["code"] == oruk.TOPIC_TAXONOMY:  # every service has a kind term; only some a topic term
            qs = qs.filter(topic__in=oruk.topic_codes())
    # The profile: minimum_age "of at least", maximum_age "equal to or below" the value given.
    if "minimum_age" in params:
        qs = qs.filter(min_age__gte=params["minimum_age"])
    if "maximum_age" in params:
        qs = qs.filter(max_age__lte=params["maximum_age"])
    if "age" in params:
        qs = qs.filter(min_age__lte=params["age"], max_age__gte=params["age"])
    if "start_time" in params:
        qs = qs.filter(start_time__gte=params["start_time"])
    if "end_time" in params:
        qs = qs.filter(end_time__lte=params["end_time"])
    if "borough" in params:
        qs = qs.filter(borough=params["borough"])
    if "day" in params:
        day = params["day"]
        on_day = Q(recurrence="daily") | Q(recurrence="weekly", days_of_week__contains=oruk.DAY_CODES[day])
        # a one-off that runs from start_date to end_date includes the day if one of its dates falls on it
        span = ExpressionWrapper(F("end_date") - F("start_date"), output_field=DurationField())
        qs = qs.annotate(span=span)
        for k in range(7):
            on_day |= Q(recurrence="one_off", start_date__week_day=_django_week_day((day - k) % 7),
                        span__gte=dt.timedelta(days=k))
        qs = qs.filter(on_day)
    return qs


class RootView(PublicView):
    @extend_schema(tags=[TAG], summary="What this Open Referral UK API is",
                   responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT,
                                                   description="version, profile, openapi_url")})
    def get(self, request):
        return Response({
            "version": oruk.HSDS_VERSION,
            "profile": oruk.PROFILE_URL,
            "openapi_url": request.build_absolute_uri(reverse("oruk-openapi")),
        })


class OpenApiView(PublicView):
    @extend_schema(tags=[TAG], summary="The Open Referral UK profile's OpenAPI document (as published)",
                   responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT)})
    def get(self, request):
        text = (oruk.SCHEMA_ROOT / "schema" / "openapi.json").read_text(encoding="utf-8")
        return Response(json.loads(text))


class ServiceListView(PublicView):
    @extend_schema(
        tags=[TAG], summary="Services (live opportunities), paginated, one-to-one fields",
        parameters=PAGING + [
            OpenApiParameter("search", str, description="Words that must all appear in the name, description "
                                                        "or topic."),
            OpenApiParameter("taxonomy_term_id", OpenApiTypes.UUID, description="Services with this term "
                             "(a kind or a topic: see /taxonomy_terms)."),
            OpenApiParameter("taxonomy_id", OpenApiTypes.UUID, description="Services with a term of this "
                             "taxonomy."),
            OpenApiParameter("minimum_age", float, description="Minimum age at least this."),
            OpenApiParameter("maximum_age", float, description="Maximum age at most this."),
            OpenApiParameter("start_time", OpenApiTypes.TIME,
                             description="Sessions starting at or after this (HH:MM, London time)."),
            OpenApiParameter("end_time", OpenApiTypes.TIME, description="Sessions ending at or before this."),
            OpenApiParameter("day", str, description="Services on this day: MO..SU or Monday..Sunday."),
            OpenApiParameter("age", int, description="Platform extension: services a person of this age "
                             "may attend (minimum_age <= age <= maximum_age)."),
            OpenApiParameter("borough", str,
                             description="Platform extension: London borough name or GSS code."),
        ],
        responses={200: OpenApiResponse(response=_page_schema("compiled/service_list.json",
                                                              "The profile's Page of services")),
                   400: OpenApiResponse(description="A parameter is invalid (named in the body).")},
    )
    def get(self, request):
        q = ServiceQuery(data=request.query_params)
        if not q.is_valid():
            raise ValidationError(q.errors)
        qs = filter_services(oruk.public_opportunities(), q.validated_data).order_by("start_date", "id")
        pager, page = _paginate(self, request, qs)
        return pager.get_paginated_response([oruk.service_list_item(o) for o in page])


class ServiceView(PublicView):
    @extend_schema(tags=[TAG], summary="One service with all its related data",
                   responses={200: _object("compiled/service.json"),
                              404: OpenApiResponse(description="No live service with this id.")})
    def get(self, request, id):
        pk = oruk.parse_entity_id("service", id)
        opp = oruk.public_opportunities().filter(pk=pk).first() if pk is not None else None
        if opp is None:
            raise Http404("No live service with this id.")
        return Response(oruk.service(opp))


class TaxonomyListView(PublicView):
    @extend_schema(tags=[TAG], summary="The platform's taxonomies, paginated", parameters=PAGING,
                   responses={200: OpenApiResponse(
                       response=_page_schema("taxonomy.json", "Page of taxonomies"))})
    def get(self, request):
        pager, page = _paginate(self, request, oruk.taxonomies())
        return pager.get_paginated_response([oruk.taxonomy_document(t) for t in page])


class TaxonomyView(PublicView):
    @extend_schema(tags=[TAG], summary="One taxonomy with its terms",
                   responses={200: _object("taxonomy.json")})
    def get(self, request, id):
        tax = next((t for t in oruk.taxonomies() if t["id"] == id.lower()), None)
        if tax is None:
            raise Http404("No taxonomy with this id.")
        return Response(oruk.taxonomy_document(tax, with_terms=True))


class TermListView(PublicView):
    @extend_schema(tags=[TAG], summary="Taxonomy terms (kinds and topics), paginated", parameters=PAGING,
                   responses={200: OpenApiResponse(response=_page_schema("taxonomy_term.json",
                                                                         "Page of taxonomy terms"))})
    def get(self, request):
        pager, page = _paginate(self, request, oruk.terms())
        return pager.get_paginated_response([oruk.term_document(t) for t in page])


class TermView(PublicView):
    @extend_schema(tags=[TAG], summary="One taxonomy term", responses={200: _object("taxonomy_term.json")})
    def get(self, request, id):
        found = next((t for t in oruk.terms() if t["id"] == id.lower()), None)
        if found is None:
            raise Http404("No taxonomy term with this id.")
        return Response(oruk.term_document(found))


urlpatterns = endpoints("oruk-", [
    ("", "root", RootView),
    ("openapi.json", "openapi", OpenApiView),
    ("services", "services", ServiceListView),
    ("services/<str:id>", "service", ServiceView),
    ("taxonomies", "taxonomies", TaxonomyListView),
    ("taxonomies/<str:id>", "taxonomy", TaxonomyView),
    ("taxonomy_terms", "taxonomy-terms", TermListView),
    ("taxonomy_terms/<str:id>", "taxonomy-term", TermView),
])
