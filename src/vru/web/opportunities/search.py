"""Public search of opportunities: the filter form and the one query behind the search page.

Only live opportunities are ever returned (``lifecycle.live_q``: approved or published, inside the
visible window, not past the end date, from a verified provider), whatever their stored status, so an
expired item is not shown even before the scheduled ``expire_opportunities`` command has run.

Distance: the great-circle (haversine) distance from a point, computed in SQL with Django's math
functions (PostgreSQL has them; Django registers them on SQLite), after a latitude/longitude bounding
box on the indexed columns has removed the rows that cannot be within the radius. The point is a
latitude/longitude pair, or the centre of the chosen borough (``geo.borough_centre``).

Keywords: every word must appear in ``search_text`` (title, topic and description, lower-cased, stored
by the database); on PostgreSQL a trigram index answers ``LIKE '%word%'`` (migration 0005).

Everything is one query for the page (``select_related`` for the provider's name) and one COUNT for the
pagination; the page size is fixed (:data:`PAGE_SIZE`). The count stops at :data:`MAX_RESULTS`: nobody
pages through more than 50 pages of results, and counting every live opportunity in London for each
broad search is the costliest query the page would otherwise send.
"""

from __future__ import annotations

import datetime as dt
import math

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from django.utils import timezone
from django.utils.functional import cached_property

from vru.web.core.forms import GovukFormMixin

from . import geo
from .lifecycle import live_q
from .models import BOROUGH_CHOICES, Opportunity

PAGE_SIZE = 20
MAX_RESULTS = 1000  # the count (and the pages) stop here; "more than 1,000 results"
MAX_RADIUS_KM = 50
MAX_KEYWORDS = 8
# A search point may be a little outside the boroughs (someone living just over the border).
SEARCH_POINT_TOLERANCE_M = 2000.0


def distance_expression(lat: float, lon: float):
    """SQL expression: haversine distance in km from (lat, lon) to each row's latitude/longitude."""
    f = FloatField()
    half_dlat = Radians(F("latitude") - Value(lat, output_field=f)) / Value(2.0, output_field=f)
    half_dlon = Radians(F("longitude") - Value(lon, output_field=f)) / Value(2.0, output_field=f)
    a = (Power(Sin(half_dlat), 2)
         + Cos(Radians(F("latitude"))) * Value(math.cos(math.radians(lat)), output_field=f)
         * Power(Sin(half_dlon), 2))
    return Value(2 * geo.EARTH_RADIUS_KM, output_field=f) * ASin(Sqrt(a))


class SearchForm(GovukFormMixin, forms.Form):
    q = forms.CharField(label="Keywords", required=False, max_length=100,
                        help_text="For example football, coding, music")
    borough = forms.ChoiceField(label="Borough", required=False,
                                choices=[("", "Any borough")] + list(BOROUGH_CHOICES))
    age = forms.IntegerField(label="Your age", required=False, min_value=10, max_value=25,
                             widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    kind = forms.ChoiceField(label="Type", required=False,
                             choices=[("", "Any type")] + Opportunity.KINDS)
    free = forms.BooleanField(label="Free only", required=False)
    date_from = forms.DateField(label="From date", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To date", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    lat = forms.FloatField(label="Latitude", required=False, min_value=-90, max_value=90,
                           help_text="Of the place to measure distance from, e.g. 51.4613")
    lon = forms.FloatField(label="Longitude", required=False, min_value=-180, max_value=180,
                           help_text="e.g. -0.1156")
    radius = forms.FloatField(label="Within (km)", required=False, min_value=0.1, max_value=MAX_RADIUS_KM,
                              help_text="From the point, or from the centre of the borough")
    sort = forms.ChoiceField(label="Sort by", required=False, initial="date",
                             choices=[("date", "Date"), ("distance", "Distance")])
    # the signposting shortlist being built (opportunity ids), carried along while searching
    sl = forms.CharField(required=False, widget=forms.HiddenInput, max_length=400)

    def clean_q(self):
        words = self.cleaned_data["q"].split()
        if len(words) > MAX_KEYWORDS:
            raise ValidationError(f"Enter at most {MAX_KEYWORDS} keywords")
        return " ".join(words)

    def clean(self):
        data = super().clean()
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None) and "lat" not in self.errors and "lon" not in self.errors:
            missing = "lon" if lon is None else "lat"
            self.add_error(missing, "Enter both latitude and longitude, or neither")
        elif lat is not None and lon is not None:
            if not geo.borough_at(lat, lon, SEARCH_POINT_TOLERANCE_M):
                self.add_error("lat", "This point is not in London: check the latitude and longitude")
        has_point = lat is not None and lon is not None
        if data.get("radius") is not None and not has_point and not data.get("borough"):
            self.add_error("radius", "Enter a latitude and longitude, or choose a borough, to search within "
                                     "a distance")
        if data.get("sort") == "distance" and not has_point and not data.get("borough"):
            self.add_error("sort", "To sort by distance, enter a latitude and longitude or choose a borough")
        d1, d2 = data.get("date_from"), data.get("date_to")
        if d1 and d2 and d2 < d1:
            self.add_error("date_to", "The 'to' date must be the same as or after the 'from' date")
        return data

    def point(self) -> tuple[float, float] | None:
        d = self.cleaned_data
        if d.get("lat") is not None and d.get("lon") is not None:
            return d["lat"], d["lon"]
        if d.get("borough") and (d.get("radius") is not None or d.get("sort") == "distance"):
            return geo.borough_centre(d["borough"])
        return None


def with_keywords(qs: QuerySet, text: str | None) -> QuerySet:
    """Opportunities whose title, topic or description contain every word of ``text`` (any case; at
    most :data:`MAX_KEYWORDS` words are used). Shared by the search page and the Open Referral UK API."""
    for word in (text or "").split()[:MAX_KEYWORDS]:
        # search_text is lower(title || ' ' || topic || ' ' || description), stored by the database
        qs = qs.filter(search_text__contains=word.lower())
    return qs


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``cap``: ``SELECT COUNT(*) FROM (... LIMIT cap + 1)`` instead
    of counting every match. ``capped`` says whether there were more; pages end at the cap."""

    def __init__(self, object_list, per_page, cap: int = MAX_RESULTS, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _counted(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap


def search(params: dict, now: dt.datetime | None = None) -> QuerySet:
    """Live opportunities matching the cleaned ``params`` of :class:`SearchForm` (a dict), ordered.

    With a point (``lat``/``lon``, or the centre of ``borough`` when a radius or distance sort is
    asked for), each row is annotated with ``distance_km``.
    """
    now = now or timezone.now()
    qs = Opportunity.objects.filter(live_q(now)).select_related("provider")
    if params.get("borough"):
        qs = qs.filter(borough=params["borough"])
    if params.get("age") is not None:
        qs = qs.filter(min_age__lte=params["age"], max_age__gte=params["age"])
    if params.get("kind"):
        qs = qs.filter(kind=params["kind"])
    if params.get("free"):
        qs = qs.filter(is_free=True)
    if params.get("date_from"):
        qs = qs.filter(end_date__gte=params["date_from"])
    if params.get("date_to"):
        qs = qs.filter(start_date__lte=params["date_to"])
    qs = with_keywords(qs, params.get("q"))
    point = params.get("point")
    radius = params.get("radius")
    if point is not None:
        lat, lon = point
        if radius is not None:
            lat0, lat1, lon0, lon1 = geo.bounding_box(lat, lon, radius)
            qs = qs.filter(latitude__range=(lat0, lat1), longitude__range=(lon0, lon1))
        qs = qs.annotate(distance_km=distance_expression(lat, lon))
        if radius is not None:
            qs = qs.filter(distance_km__lte=radius)
        if params.get("sort") == "distance":
            return qs.order_by("distance_km", "start_date", "id")
    return qs.order_by("start_date", "id")


def run(form: SearchForm, page: str | int | None, now: dt.datetime | None = None):
    """The page of results for a valid form: a Django ``Page``."""
    params = dict(form.cleaned_data)
    params["point"] = form.point()
    paginator = CappedPaginator(search(params, now), PAGE_SIZE, cap=MAX_RESULTS)
    return paginator.get_page(page)
