"""Read-only JSON API of GPS tagging, mounted at /api/v1/tagging/ (docs/web-tagging.md, "JSON API").

What the pages show, with the same least privilege and the same audit:

- ``wearers/``, ``wearers/{id}/`` (offender managers): the organisation's wearers and their activations;
  the detail adds zones and breach ids, and the identifying details only when asked (``identity=true``)
  by a user holding ``tagging.view_identity``, with ``purpose`` and ``reason`` (400 without), audited;
- ``wearers/{id}/trail/`` (offender managers): positions in a window of at most 48 hours inside one
  activation; ``purpose`` and ``reason`` required (400 naming them without); every call audited;
- ``breaches/``, ``breaches/{id}/`` (offender managers): the organisation's wearers' breaches;
- ``batches/``, ``batches/{id}/`` (police analysts): the force's crime batches and their row errors;
- ``matches/`` (police analysts): the force's matches, pending first (no points);
- ``matches/{id}/`` (police analysts): a match with its points and run; ``purpose`` and ``reason``
  required; every call audited;
- ``figures/`` (the unit, administrators): the programme figures, small numbers suppressed (null).

Every endpoint needs the permission of its page (403 without; anonymous: 403). Records are per object
(``scope``): another organisation's wearer, trail or breach and another force's batch or match are 404,
never 403, so that ids cannot be probed. Qualifying or dismissing a match is done on its page (it needs
the page's justification first); the API writes nothing but the audit log.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, TypedDict

import pandas as pd
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from vru.web.accounts.audit import audit
from vru.web.core.records import serializer_for
from vru.web.core.routes import endpoints

from . import scope, services
from .forms import PURPOSES, IdentityForm, JustificationForm, TrailForm
from .models import Breach, CrimeBatch, Match, Wearer
from .views import MAX_TRAIL_ROWS

TAG = "tagging"
# audit() takes Django's request (the user and the client's address): a DRF view passes request._request
#: marks the audit rows the API writes (the pages' rows have the same actions, without it)
VIA_API = " [API]"
#: the purpose of a match list's audit row. The list names no wearer (no reference, no device): which
#: wearer is near a crime is shown only on the match itself, after the user's justification
LIST_PURPOSE = "match review: list of matches (crimes and scores, no wearer)"


class HasTaggingPerms(BasePermission):
    """Signed-in users holding every permission in the view's ``required_perms`` (those of its page)."""

    message = "You do not have permission to use this part of the tagging API."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(view.required_perms))


class TaggingEndpoint:
    # What every endpoint here shares: the permissions of its page (its ``required_perms``). A comment, not
    # a docstring: drf-spectacular would show a docstring as each endpoint's description.
    permission_classes = [HasTaggingPerms]


class TaggingError(TypedDict):
    detail: str


DENIED = {403: OpenApiResponse(serializer_for(TaggingError), description="not signed in, or no permission")}
NOT_FOUND = {404: OpenApiResponse(serializer_for(TaggingError), description="no such record, or another "
                                  "organisation's (or force's): the same answer")}
JUSTIFY = [
    OpenApiParameter("purpose", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True,
                     enum=[p for p, _ in PURPOSES if p], description="Why: one of the purposes of the page."),
    OpenApiParameter("reason", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True,
                     description="The justification, 10 to 500 characters (for example the crime or case "
                                 "reference). Recorded in the audit log with the user and the time."),
]
BAD_JUSTIFICATION = {400: OpenApiResponse(OpenApiTypes.OBJECT, description="a parameter is missing or "
                                          "invalid: messages per parameter (nothing shown, nothing audited)")}


def _justified(form_cls, request, **form_kw) -> JustificationForm:
    """The page's form over the query string (``reason`` is its ``justification``); 400 naming each bad
    parameter when it is not valid."""
    q = request.query_params
    data = {"purpose": q.get("purpose", ""), "justification": q.get("reason", ""),
            "start": q.get("start", ""), "end": q.get("end", "")}
    form = form_cls(data, **form_kw)
    if not form.is_valid():
        names = {"justification": "reason", "__all__": "non_field_errors"}
        raise ValidationError({names.get(k, k): [e["message"] for e in v]
                               for k, v in form.errors.get_json_data().items()})
    return form


# ----------------------------------------------------------------------------------------- wearers
class TaggingActivation(TypedDict):
    device_id: str
    active_from: dt.datetime
    active_to: Annotated[dt.datetime | None, "null: still active"]


class TaggingWearerSerializer(serializers.ModelSerializer):
    order_type_display = serializers.CharField(source="get_order_type_display")
    organisation = serializers.CharField(source="organisation.name")
    activations = serializer_for(TaggingActivation)(many=True)

    class Meta:
        model = Wearer
        fields = ["id", "ref", "order_type", "order_type_display", "order_start", "order_end", "organisation",
                  "activations"]


class TaggingZone(TypedDict):
    id: int
    kind: str
    name: str
    geometry: Annotated[object | None, serializers.JSONField, "GeoJSON in British National Grid "
                                                                "(EPSG:27700); null for a curfew"]
    rrule: Annotated[str, "iCalendar RRULE; empty: always active"]
    local_start: dt.datetime | None
    duration_minutes: int | None
    curfew_easting: float | None
    curfew_northing: float | None
    curfew_radius_m: float | None


class TaggingIdentity(TypedDict):
    name: str
    date_of_birth: dt.date | None
    pnc_id: str
    address: str


class TaggingWearerDetailSerializer(TaggingWearerSerializer):
    zones = serializer_for(TaggingZone)(many=True)
    breaches = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text="breach ids")
    identity = serializer_for(TaggingIdentity)(allow_null=True,
                                               help_text="only with identity=true (audited); else null")

    class Meta(TaggingWearerSerializer.Meta):
        fields = [*TaggingWearerSerializer.Meta.fields, "zones", "breaches", "identity"]


class WearerList(TaggingEndpoint, generics.ListAPIView):
    required_perms = ("tagging.view_wearer",)
    serializer_class = TaggingWearerSerializer
    queryset = Wearer.objects.none()

    def get_queryset(self):
        return scope.own_wearers(self.request.user).select_related("organisation") \
            .prefetch_related("activations")

    @extend_schema(summary="Wearers of your organisation", tags=[TAG],
                   responses={200: TaggingWearerSerializer(many=True), **DENIED},
                   description="Pseudonymous references, order, activations. No identifying details.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class WearerDetail(TaggingEndpoint, APIView):
    required_perms = ("tagging.view_wearer",)

    @extend_schema(
        summary="One wearer of your organisation", tags=[TAG],
        parameters=[OpenApiParameter("identity", OpenApiTypes.BOOL, OpenApiParameter.QUERY,
                                     description="Include the identifying details (needs "
                                                 "tagging.view_identity, and purpose and reason; "
                                                 "audited). Default: false."),
                    *[OpenApiParameter(p.name, p.type, p.location, required=False, enum=p.enum,
                                       description=p.description + " Required with identity=true.")
                      for p in JUSTIFY]],
        responses={200: TaggingWearerDetailSerializer, **BAD_JUSTIFICATION, **DENIED, **NOT_FOUND},
        description="Order, activations, zones and breach ids; another organisation's wearer is 404.")
    def get(self, request, pk: int):
        w = scope.wearer_or_404(request.user, pk)
        flag = request.query_params.get("identity", "false").lower()
        if flag not in ("true", "false", "1", "0"):
            raise ValidationError({"identity": ["Give true or false."]})
        identity = None
        if flag in ("true", "1"):
            if not request.user.has_perm("tagging.view_identity"):
                raise PermissionDenied("You may not see the identifying details of wearers.")
            form = _justified(IdentityForm, request)
            identity = getattr(w, "identity", None)
            if identity is not None:
                audit(request._request, "view identity", identity, form.purpose_text() + VIA_API)
        data = TaggingWearerDetailSerializer(w).data
        data["identity"] = serializer_for(TaggingIdentity)(identity).data if identity is not None else None
        return Response(data)


class TaggingFix(TypedDict):
    """A position fix of a device, as a trail and a match's points show it."""

    fix_time: dt.datetime
    lat: float
    lon: float
    easting: float
    northing: float
    precision_m: Annotated[float, "radius of the confidence circle, metres"]
    speed_kmh: float | None
    heading_deg: float | None
    mechanism: Annotated[str, "GPS, WIFI, LBS or RF"]


class TaggingPosition(TaggingFix):
    device_id: str
    received_time: dt.datetime


class TaggingTrail(TypedDict):
    wearer: Annotated[str, "the wearer's reference"]
    start: dt.datetime
    end: dt.datetime
    count: Annotated[int, "positions returned"]
    truncated: Annotated[bool, f"true if the window holds more than {MAX_TRAIL_ROWS:,}"]
    positions: list[TaggingPosition]


def _json_value(v):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


class TrailView(TaggingEndpoint, APIView):
    required_perms = ("tagging.view_wearer", "tagging.view_trail")

    @extend_schema(
        summary="A wearer's trail in a window (justified, audited)", tags=[TAG],
        parameters=[OpenApiParameter("start", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, required=True,
                                     description="ISO 8601; without a zone, London time."),
                    OpenApiParameter("end", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, required=True,
                                     description="At most 48 hours after start, inside the same activation."),
                    *JUSTIFY],
        responses={200: serializer_for(TaggingTrail), **BAD_JUSTIFICATION, **DENIED, **NOT_FOUND},
        description="The positions of a wearer of your organisation, start <= fix time < end. Every call "
                    "writes one audit row (who, when, the wearer, purpose: reason and the window).")
    def get(self, request, pk: int):
        w = scope.wearer_or_404(request.user, pk)
        form = _justified(TrailForm, request, wearer=w)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        audit(request._request, "view trail", w,
              f"{form.purpose_text()} [window {start.isoformat()} to {end.isoformat()}]{VIA_API}")
        df = services.trail_frame(w, start, end)
        names = list(serializer_for(TaggingPosition)().fields)
        rows = [{k: _json_value(r[k]) for k in names} for r in df.head(MAX_TRAIL_ROWS).to_dict("records")]
        return Response({"wearer": w.ref, "start": start.isoformat(), "end": end.isoformat(),
                         "count": len(rows), "truncated": len(df) > MAX_TRAIL_ROWS, "positions": rows})


# ---------------------------------------------------------------------------------------- breaches
class TaggingBreachZone(TypedDict):
    id: int
    kind: str
    name: str


class TaggingBreachSerializer(serializers.ModelSerializer):
    wearer = serializers.CharField(source="wearer.ref", help_text="the wearer's reference")
    wearer_id = serializers.IntegerField()
    zone = serializer_for(TaggingBreachZone)()
    next_step = serializers.CharField(allow_null=True, help_text="the lifecycle step to record next; null: "
                                                                 "every step recorded")

    class Meta:
        model = Breach
        fields = ["id", "wearer", "wearer_id", "zone", "started_at", "opened_at", "closed_at", "close_reason",
                  "n_fixes", "proof_fixes", "alert_at", "identified_at", "police_notified_at", "response_at",
                  "outcome", "outcome_at", "next_step"]


def _ro(name: str, serializer_class, queryset_fn, perms: tuple[str, ...], doc: str):
    """A list view and a detail view over ``queryset_fn(user)`` (another's record: 404)."""

    def get_queryset(self):
        return queryset_fn(self.request.user)

    attrs = {"serializer_class": serializer_class, "required_perms": perms, "get_queryset": get_queryset,
             "queryset": serializer_class.Meta.model.objects.none()}
    lst = extend_schema(summary=f"List {name}", description=doc, tags=[TAG],
                        responses={200: serializer_class(many=True), **DENIED})(
        type(f"Tagging{name.title()}List", (TaggingEndpoint, generics.ListAPIView), dict(attrs)))
    one = extend_schema(summary=f"One of the {name}", description=doc, tags=[TAG],
                        responses={200: serializer_class, **DENIED, **NOT_FOUND})(
        type(f"Tagging{name.title()}Detail", (TaggingEndpoint, generics.RetrieveAPIView), dict(attrs)))
    return lst, one


BreachList, BreachDetail = _ro(
    "breaches", TaggingBreachSerializer, scope.own_breaches, ("tagging.view_breach",),
    "Breaches of the zones of your organisation's wearers, newest first, with their lifecycle. Another "
    "organisation's breach is 404. Steps are recorded on the breach's page.")


# ----------------------------------------------------------------------------------------- batches
class TaggingBatchError(TypedDict):
    row: int
    line: int
    crime_ref: str
    field: str
    value: str
    code: Annotated[str, "the MoJ error code"]
    message: str
    action: Annotated[str, "the required action"]


class TaggingVersionSerializer(serializers.Serializer):
    version_id = serializers.CharField()
    crime_ref = serializers.CharField(source="crime.crime_ref")
    version = serializers.IntegerField()
    kind = serializers.CharField(help_text="new, amended or unchanged")
    changed_fields = serializers.ListField(child=serializers.CharField())


class TaggingBatchSerializer(serializers.ModelSerializer):
    errors = serializer_for(TaggingBatchError)(many=True)
    versions = TaggingVersionSerializer(many=True)

    class Meta:
        model = CrimeBatch
        fields = ["id", "file_name", "force", "batch_id", "outcome", "record_count", "file_errors",
                  "uploaded_at", "errors", "versions"]


BatchList, BatchDetail = _ro(
    "batches", TaggingBatchSerializer,
    lambda u: scope.force_batches(u).prefetch_related("errors", "versions__crime"),
    ("tagging.view_crimebatch",),
    "Crime batches of your force: outcome, every row error with the MoJ code and required action, the "
    "versions made. Another force's batch is 404. Batches are uploaded on the batches page.")


# ----------------------------------------------------------------------------------------- matches
class TaggingMatchSerializer(serializers.ModelSerializer):
    """A match in a list: the crime, the score and the status, never the wearer (reference or device),
    which only the justified, audited match answer (matches/{id}/) gives."""

    crime_version = serializers.CharField(source="crime_version.version_id")
    crime_ref = serializers.CharField(source="crime_version.crime.crime_ref")
    force = serializers.CharField(source="crime_version.crime.force")
    crime_type = serializers.CharField(source="crime_version.crime_type")
    time_from = serializers.DateTimeField(source="crime_version.time_from")
    time_to = serializers.DateTimeField(source="crime_version.time_to")
    algorithm_version = serializers.CharField(source="run.algorithm_version")
    status = serializers.CharField(help_text="pending, qualified or dismissed")

    class Meta:
        model = Match
        fields = ["id", "crime_version", "crime_ref", "force", "crime_type", "time_from", "time_to",
                  "probability", "dwell_s", "min_distance_m", "n_fixes", "first_time", "last_time", "status",
                  "reviewed_at", "algorithm_version"]


class TaggingMatchPoint(TaggingFix):
    label: Annotated[str, "visit and sequence: A1, A2, B1..."]
    distance_m: float
    interpolated: bool


class TaggingRun(TypedDict):
    id: int
    algorithm_version: str
    parameters: Annotated[object, serializers.JSONField]
    trigger: str
    started: dt.datetime
    ended: dt.datetime | None
    status: str


class TaggingMatchDetailSerializer(TaggingMatchSerializer):
    wearer = serializers.CharField(source="wearer.ref", help_text="the wearer's reference (pseudonymous)")
    explanation = serializers.CharField(help_text="the score, explained")
    reason = serializers.CharField(help_text="the reviewer's reason (empty while pending)")
    points = serializer_for(TaggingMatchPoint)(many=True)
    run = serializer_for(TaggingRun)()

    class Meta(TaggingMatchSerializer.Meta):
        fields = [*TaggingMatchSerializer.Meta.fields, "wearer", "device_id", "explanation", "reason", "run",
                  "points"]


class MatchList(TaggingEndpoint, generics.ListAPIView):
    required_perms = ("tagging.view_match",)
    serializer_class = TaggingMatchSerializer
    queryset = Match.objects.none()

    def get_queryset(self):
        from django.db.models import Case, IntegerField, Value, When

        status = self.request.query_params.get("status")
        qs = scope.force_matches(self.request.user).select_related("crime_version__crime", "wearer", "run")
        if status is not None:
            if status not in dict(Match.STATUSES):
                raise ValidationError({"status": [f"Give one of {', '.join(dict(Match.STATUSES))}."]})
            qs = qs.filter(status=status)
        return qs.annotate(pending_first=Case(When(status="pending", then=Value(0)), default=Value(1),
                                              output_field=IntegerField())
                           ).order_by("pending_first", "-crime_version__time_from", "-pk")

    @extend_schema(
        summary="Matches of your force's crimes", tags=[TAG],
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, OpenApiParameter.QUERY,
                                     enum=list(dict(Match.STATUSES)),
                                     description="Only matches of this status.")],
        responses={200: TaggingMatchSerializer(many=True), **DENIED},
        description="Pending first, then by the crime's time. The crime, the score and the status only: "
                    "no wearer reference or device, and no points; those need a justification "
                    "(matches/{id}/). Each answer is one `list matches` audit row.")
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if response.status_code == 200:
            audit(request._request, "list matches", None, f"{LIST_PURPOSE}{VIA_API}")
        return response


class MatchDetail(TaggingEndpoint, APIView):
    required_perms = ("tagging.view_match",)

    @extend_schema(
        summary="A match with its points (justified, audited)", tags=[TAG], parameters=JUSTIFY,
        responses={200: TaggingMatchDetailSerializer, **BAD_JUSTIFICATION, **DENIED, **NOT_FOUND},
        description="A match of your force's crimes, with the explanation of its score, its run and its "
                    "points. Every call writes one audit row (who, when, the match, purpose: reason). "
                    "Another force's match is 404.")
    def get(self, request, pk: int):
        m = scope.match_or_404(request.user, pk)
        form = _justified(JustificationForm, request)
        audit(request._request, "view match", m, form.purpose_text() + VIA_API)
        return Response(TaggingMatchDetailSerializer(m).data)


# ----------------------------------------------------------------------------------------- figures
class TaggingFigureRow(TypedDict):
    order_type: str
    values: Annotated[list[int | None], "one per column; null: suppressed"]


class TaggingFigure(TypedDict):
    key: str
    label: str
    columns: Annotated[list[str], "months (YYYY-MM), then Total"]
    rows: Annotated[list[TaggingFigureRow], "order types, then Total"]


class TaggingFigures(TypedDict):
    min_n: Annotated[int, "cells below this are suppressed"]
    measures: list[TaggingFigure]


class FiguresView(TaggingEndpoint, APIView):
    required_perms = ("tagging.view_figures",)

    @extend_schema(summary="Programme figures (published: small numbers suppressed)", tags=[TAG],
                   responses={200: serializer_for(TaggingFigures), **DENIED},
                   description="Wearers active, positions received, matches, qualified matches, breaches and "
                               "recalls by order type and month, with primary and secondary suppression (a "
                               "suppressed cell is null), as on the figures page.")
    def get(self, request):
        measures = []
        for f in services.figures():
            rows = [{"order_type": name, "values": values} for name, values in f.get("rows", [])]
            measures.append({"key": f["key"], "label": f["label"],
                             "columns": [str(c) for c in f.get("columns", [])], "rows": rows})
        return Response({"min_n": services.FIGURES_MIN_N, "measures": measures})


urlpatterns = endpoints("tagging-api-", [
    ("wearers/", "wearers", WearerList),
    ("wearers/<int:pk>/", "wearer", WearerDetail),
    ("wearers/<int:pk>/trail/", "trail", TrailView),
    ("breaches/", "breaches", BreachList),
    ("breaches/<int:pk>/", "breach", BreachDetail),
    ("batches/", "batches", BatchList),
    ("batches/<int:pk>/", "batch", BatchDetail),
    ("matches/", "matches", MatchList),
    ("matches/<int:pk>/", "match", MatchDetail),
    ("figures/", "figures", FiguresView),
], decorator=never_cache)
