"""Forms of the tagging pages: every input bounded, every problem a message next to its field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError

from vru.tagging import zones
from vru.web.core.forms import GovukFormMixin
from vru.web.core.text import ReasonField

from .models import MAX_EASTING, MAX_NORTHING, MAX_RADIUS_M, Breach, Zone

MAX_TRAIL = timedelta(hours=48)
MAX_BATCH_BYTES = 900 * 1024  # under the platform-wide 1 MB request body limit; 1,000 crimes are ~150 KB
MAX_GEOJSON_CHARS = 500_000
PURPOSES = [
    ("", "Choose a purpose"),
    ("crime investigation", "Investigation of a crime"),
    ("breach review", "Review of a breach or an alert"),
    ("licence compliance", "Licence or order compliance"),
    ("victim safeguarding", "Safeguarding a victim"),
    ("court or evidence", "Preparing evidence for court"),
]
DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
#: dates a form accepts: from 2000 to five years ahead, as elsewhere on the platform (9999-12-31 23:30 London
#: time is year 10000 in UTC, which pandas cannot hold: review 3, 2)
FIRST_DAY = date(2000, 1, 1)
YEARS_AHEAD = 5
MAX_DURATION_MINUTES = 10_080  # the model's bound (a week), checked before the schedule is built


def last_day(today: date | None = None) -> date:
    """``YEARS_AHEAD`` years after today (28 February for 29 February)."""
    today = today or date.today()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def check_bounded(value: datetime | None) -> datetime | None:
    """``value`` if its (London) date lies in FIRST_DAY..last_day(), else a ValidationError saying so."""
    if value is not None and not FIRST_DAY <= value.date() <= last_day():
        raise ValidationError(f"Enter a date from {FIRST_DAY:%Y-%m-%d} to {last_day():%Y-%m-%d}")
    return value


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kw):
        super().__init__(format="%Y-%m-%dT%H:%M", **kw)


class JustificationForm(GovukFormMixin, forms.Form):
    """Why the user needs to see a trail or a match: recorded in the audit log (DPA 2018 s.62)."""

    purpose = forms.ChoiceField(choices=PURPOSES, error_messages={"required": "Choose a purpose"})
    justification = ReasonField(
        label="Justification", min_length=10, max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need to see this (for example the crime or case reference). It is recorded with "
                  "your name and the time.",
        error_messages={"required": "Enter a justification",
                        "min_length": "Enter a justification of at least 10 characters"})

    def purpose_text(self) -> str:
        return f"{self.cleaned_data['purpose']}: {self.cleaned_data['justification'].strip()}"


class IdentityForm(JustificationForm):
    """Why the user needs a wearer's identifying details (name, date of birth, PNC id, address)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["justification"].help_text = (
            "Why you need the wearer's identifying details (for example the case or crime reference). "
            "It is recorded with your name and the time.")


class TrailForm(JustificationForm):
    """A trail search: a justification and a window of at most 48 hours inside an activation period."""

    start = forms.DateTimeField(label="From (London time)", input_formats=DT_FORMATS, widget=DateTimeLocal(),
                                error_messages={"required": "Enter the start of the window",
                                                "invalid": "Enter a date and time, like 2024-03-04 09:00"})
    end = forms.DateTimeField(label="To (London time)", input_formats=DT_FORMATS, widget=DateTimeLocal(),
                              error_messages={"required": "Enter the end of the window",
                                              "invalid": "Enter a date and time, like 2024-03-04 21:00"})

    def __init__(self, *args, wearer, **kwargs):
        super().__init__(*args, **kwargs)
        self.wearer = wearer

    def clean_start(self):
        return check_bounded(self.cleaned_data.get("start"))

    def clean_end(self):
        return check_bounded(self.cleaned_data.get("end"))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        # real elapsed time: aware datetimes sharing one ZoneInfo subtract as wall-clock times, so the
        # October night's 49 real hours would read as 48 (review 3, 4)
        if end <= start:
            self.add_error("end", "The end must be after the start")
        elif end.astimezone(UTC) - start.astimezone(UTC) > MAX_TRAIL:
            self.add_error("end", "The search window must not exceed 48 hours")
        elif not any(a.active_from <= start and (a.active_to is None or end <= a.active_to)
                     for a in self.wearer.activations.all()):
            self.add_error("start", "The window must lie inside one of the tag's activation periods")
        return data


def _rule_parts(rule: str) -> dict[str, str] | None:
    """The NAME=VALUE parts of a one-line rule (``RRULE:`` optional), upper-cased; None if it is not one
    line of such parts (``zones.Schedule`` says why)."""
    try:
        return zones.rule_parts(rule)
    except zones.ZoneError:
        return None


#: the first day a well-formed rule occurs (``zones.first_day``)
_first_day = zones.first_day


def schedule_rule_problem(rule: str, first: datetime) -> str | None:
    """What is wrong with a zone's schedule rule (``first``: its first occurrence, naive London time), found
    cheaply, before the rule is expanded (``zones.check_schedule_rule``, which ``zones.Schedule`` runs too):
    a part it may not use or a value out of bounds, a BYDAY that is not a plain weekday (a numbered ``1MO``,
    which RFC 5545 (3.3.10) allows only with FREQ=MONTHLY or YEARLY, or dateutil's ``TU(1)``), an UNTIL
    before ``first``, a rule with no occurrence from ``first`` to its UNTIL or to the end of
    ``zones.LAST_YEAR`` (``FREQ=DAILY;INTERVAL=7;BYDAY=TU`` from a Monday, ``BYMONTH=2;BYMONTHDAY=31``).
    None: nothing wrong found here."""
    try:
        zones.check_schedule_rule(rule or "", first)
    except zones.ZoneError as exc:
        return str(exc)
    return None


class ZoneForm(GovukFormMixin, forms.ModelForm):
    """A zone: GeoJSON (WGS84 or BNG) for exclusion and inclusion zones, an address point and radius for a
    curfew; an optional schedule (RRULE, first occurrence in London time, duration)."""

    CRS = [("WGS84", "WGS 84 longitude and latitude (GeoJSON's default)"),
           ("BNG", "British National Grid metres")]
    geojson = forms.CharField(label="Zone boundary (GeoJSON)", required=False, max_length=MAX_GEOJSON_CHARS,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text="A Polygon, MultiPolygon or one Feature. Not needed for a curfew.")
    geojson_file = forms.FileField(
        label="Or upload the boundary as a GeoJSON file", required=False,
        help_text=f"A .geojson or .json file (UTF-8) of at most {MAX_GEOJSON_CHARS // 1000} KB, for example "
                  "exported from a GIS tool; checked like the pasted text.")
    crs = forms.ChoiceField(label="Coordinates of the boundary", choices=CRS, initial="WGS84")

    class Meta:
        model = Zone
        fields = ["kind", "name", "rrule", "local_start", "duration_minutes", "curfew_easting",
                  "curfew_northing", "curfew_radius_m"]
        widgets = {"local_start": DateTimeLocal()}
        help_texts = {"rrule": "For example FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR. Leave empty: always active.",
                      "curfew_radius_m": f"Metres, 1 to {MAX_RADIUS_M:,.0f}."}

    def __init__(self, *args, wearer, **kwargs):
        super().__init__(*args, **kwargs)
        self.wearer = wearer
        self.fields["local_start"].input_formats = DT_FORMATS
        self.fields["curfew_easting"].help_text = f"Metres, 0 to {MAX_EASTING:,.0f}."
        self.fields["curfew_northing"].help_text = f"Metres, 0 to {MAX_NORTHING:,.0f}."
        # the range is clean_duration_minutes's one message (not Django's "greater than or equal to 0")
        self.fields["duration_minutes"].validators = []

    def clean_local_start(self):
        return check_bounded(self.cleaned_data.get("local_start"))

    def clean_duration_minutes(self):
        dur = self.cleaned_data.get("duration_minutes")
        if dur is not None and not 1 <= dur <= MAX_DURATION_MINUTES:
            raise ValidationError(f"Enter a duration from 1 to {MAX_DURATION_MINUTES:,} minutes (a week)")
        return dur

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        rrule, start, dur = data.get("rrule"), data.get("local_start"), data.get("duration_minutes")
        scheds = ()
        refused = {"rrule", "local_start", "duration_minutes"} & set(self.errors)
        if (rrule or start or dur) and not refused:
            if not (rrule and start and dur):
                self.add_error("rrule", "A schedule needs a rule, a first occurrence and a duration")
            else:
                local = start.astimezone(zones.LONDON).replace(tzinfo=None)
                problem = schedule_rule_problem(rrule, local)
                if problem:
                    self.add_error("rrule", problem)
                else:
                    try:
                        scheds = (zones.Schedule(rrule, local, timedelta(minutes=dur)),)
                    except zones.ZoneError as exc:
                        self.add_error("rrule", str(exc))
        if kind == "curfew":
            for f in ("curfew_easting", "curfew_northing", "curfew_radius_m"):
                if data.get(f) is None and f not in self.errors:
                    self.add_error(f, "Enter the curfew address's point and radius")
            if not rrule and "rrule" not in self.errors:
                self.add_error("rrule", "A curfew needs its timetable (a rule, a start and a duration)")
            self.instance.geometry = None
        elif kind:
            text = data.get("geojson") or ""
            upload = data.get("geojson_file")
            if upload is not None:
                if text.strip():
                    self.add_error("geojson_file", "Paste the boundary or upload a file, not both")
                    return data
                if upload.size > MAX_GEOJSON_CHARS:
                    self.add_error("geojson_file",
                                   f"The file must be at most {MAX_GEOJSON_CHARS // 1000} KB")
                    return data
                try:
                    text = upload.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    self.add_error("geojson_file", "The file is not UTF-8 text: upload a GeoJSON file")
                    return data
            field = "geojson_file" if upload is not None else "geojson"
            if not text.strip():
                self.add_error(field, "Enter the zone's boundary as GeoJSON, or upload a GeoJSON file")
            else:
                try:
                    try:
                        obj = json.loads(text, parse_constant=_refuse_constant)
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"The boundary is not JSON ({exc})") from exc
                    zone = zones.zone_from_geojson(obj, "new", kind, crs=data.get("crs") or "WGS84",
                                                   schedules=scheds)
                except (ValueError, RecursionError) as exc:  # ZoneError is a ValueError; so is bad JSON
                    self.add_error(field, str(exc)[:300])
                else:
                    from shapely.geometry import mapping

                    self.instance.geometry = json.loads(json.dumps(mapping(zone.geometry)))
        self.instance.wearer = self.wearer
        return data


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number GeoJSON allows")


class BatchForm(GovukFormMixin, forms.Form):
    file = forms.FileField(label="Crime batch file (CSV, the MoJ contract)",
                           error_messages={"required": "Choose a batch file"})

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_BATCH_BYTES:
            raise ValidationError(f"The file must be at most {MAX_BATCH_BYTES // 1024} KB")
        return f


class ReviewForm(GovukFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("qualified", "Qualify: share with the force"),
                                          ("dismissed", "Dismiss")], widget=forms.RadioSelect,
                                 error_messages={"required": "Choose qualify or dismiss"})
    reason = ReasonField(min_length=5, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "Enter the reason for your decision",
                                             "min_length": "Enter a reason of at least 5 characters"})


class BreachStepForm(GovukFormMixin, forms.Form):
    outcome = forms.ChoiceField(choices=[("", "Choose an outcome"), *Breach.OUTCOMES], required=False)

    def __init__(self, *args, breach, **kwargs):
        super().__init__(*args, **kwargs)
        self.breach = breach

    def clean(self):
        data = super().clean()
        if self.breach.next_step() is None:
            raise ValidationError("Every step of this breach has been recorded")
        if self.breach.next_step() == "outcome_at" and not data.get("outcome"):
            self.add_error("outcome", "Choose an outcome: warning, recall or no action")
        return data
