"""Forms of the opportunities app. Every rule is checked on the server and reported next to its field
(GOV.UK error messages through ``GovukFormMixin``); the database constraints on ``Opportunity`` check
the same rules again."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from vru.geography.boroughs import BOROUGHS
from vru.web.core.forms import GovukFormMixin

from . import dates, geo, safeguarding
from .models import Opportunity

DAYS = [("MO", "Monday"), ("TU", "Tuesday"), ("WE", "Wednesday"), ("TH", "Thursday"), ("FR", "Friday"),
        ("SA", "Saturday"), ("SU", "Sunday")]
# UK postcode (outward and inward code), as the ONS Postcode Directory writes them
POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2})$")
YOUNG_MIN_AGE, YOUNG_MAX_AGE = 14, 24


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _datetime_widget():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _in_window(form, name: str, what: str):
    """The field's date or date and time, refused outside the platform's window (``dates.py``)."""
    value = form.cleaned_data[name]
    if value is not None and (msg := dates.problem(value, timezone.localdate(), what)):
        raise ValidationError(msg)
    return value


def capacity_message(taken: int) -> str:
    return (f"The number of places cannot be less than the {taken} place{'' if taken == 1 else 's'} already "
            "booked")


class OpportunityForm(GovukFormMixin, forms.ModelForm):
    days_of_week = forms.MultipleChoiceField(
        label="Days (for weekly sessions)", choices=DAYS, required=False, widget=forms.CheckboxSelectMultiple)
    latitude = forms.FloatField(label="Latitude", help_text="Of the venue, e.g. 51.4613 (WGS84, as on "
                                "any map app)", widget=forms.NumberInput(attrs={"step": "any"}))
    longitude = forms.FloatField(label="Longitude", help_text="e.g. -0.1156",
                                 widget=forms.NumberInput(attrs={"step": "any"}))
    price = forms.DecimalField(label="Price (£)", required=False, min_value=0.01, max_digits=7,
                               decimal_places=2, help_text="Only if it is not free")
    apply_url = forms.URLField(label="Web address to apply", required=False, assume_scheme="https",
                               max_length=200)
    visible_from = forms.DateTimeField(label="Show from", required=False, widget=_datetime_widget(),
                                       help_text="Empty: as soon as it is approved")
    visible_to = forms.DateTimeField(label="Show until", required=False, widget=_datetime_widget(),
                                     help_text="Empty: until the end date")

    class Meta:
        model = Opportunity
        fields = ["kind", "title", "description", "topic", "borough", "address", "postcode", "latitude",
                  "longitude", "min_age", "max_age", "start_date", "end_date", "recurrence", "days_of_week",
                  "start_time", "end_time", "is_free", "price", "capacity", "accessibility", "eligibility",
                  "how_to_apply", "apply_url", "visible_from", "visible_to"]
        labels = {
            "kind": "Type", "topic": "Topic", "min_age": "Minimum age", "max_age": "Maximum age",
            "start_date": "Start date", "end_date": "End date", "recurrence": "How often",
            "start_time": "Start time", "end_time": "End time", "is_free": "Free",
            "capacity": "Number of places", "how_to_apply": "How to apply",
            "apply_url": "Web address to apply",
        }
        help_texts = {
            "topic": "One or two words young people may search for, e.g. football",
            "address": "Where it happens (a venue, not anyone's home)",
            "postcode": "e.g. SE11 5QY",
            "capacity": "Leave empty if there is no limit",
            "min_age": "10 to 25", "max_age": "10 to 25",
        }
        widgets = {
            "start_date": _date_widget(), "end_date": _date_widget(),
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "description": forms.Textarea(attrs={"rows": 5}),
            "accessibility": forms.Textarea(attrs={"rows": 3}),
            "eligibility": forms.Textarea(attrs={"rows": 3}),
            "how_to_apply": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.days_of_week:
            self.initial["days_of_week"] = self.instance.days_of_week.split(",")

    def clean_postcode(self):
        pc = " ".join(self.cleaned_data["postcode"].upper().split())
        if pc and not POSTCODE.match(pc):
            raise ValidationError("Enter a real postcode, like SE11 5QY")
        if pc and " " not in pc:
            pc = pc[:-3] + " " + pc[-3:]
        return pc

    def clean_start_date(self):
        return _in_window(self, "start_date", "The start date")

    def clean_end_date(self):
        return _in_window(self, "end_date", "The end date")

    def clean_visible_from(self):
        return _in_window(self, "visible_from", "'Show from'")

    def clean_visible_to(self):
        return _in_window(self, "visible_to", "'Show until'")

    def clean_days_of_week(self):
        return ",".join(d for d, _ in DAYS if d in self.cleaned_data["days_of_week"])

    def clean(self):
        data = super().clean()
        err = self.errors
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date must be the same as or after the start date")
        lo, hi = data.get("min_age"), data.get("max_age")
        if lo is not None and hi is not None and lo > hi and "max_age" not in err:
            self.add_error("max_age", "The maximum age must be the same as or more than the minimum age")
        if data.get("is_free") and data.get("price") is not None:
            self.add_error("price", "Leave the price empty for a free opportunity, or untick Free")
        elif not data.get("is_free") and data.get("price") is None and "price" not in err:
            self.add_error("price", "Enter the price, or tick Free")
        lat, lon = data.get("latitude"), data.get("longitude")
        if lat is not None and lon is not None:
            inside = geo.borough_at(lat, lon)
            if not inside:
                self.add_error("latitude", "This point is not in London: check the latitude and longitude")
            elif data.get("borough") and data["borough"] not in inside:
                self.add_error("borough", f"The point is in {BOROUGHS[inside[0]]}, not in "
                                          f"{BOROUGHS[data['borough']]}: check the borough or the point")
        if data.get("recurrence") == "weekly" and not data.get("days_of_week") and "days_of_week" not in err:
            self.add_error("days_of_week", "Choose the days of a weekly session")
        elif data.get("recurrence") != "weekly":
            data["days_of_week"] = ""
        t1, t2 = data.get("start_time"), data.get("end_time")
        if (t1 is None) != (t2 is None) and "start_time" not in err and "end_time" not in err:
            self.add_error("end_time" if t2 is None else "start_time", "Enter both times, or neither")
        elif t1 and t2 and t2 <= t1:
            self.add_error("end_time", "The end time must be after the start time")
        taken = self.instance.places_taken if self.instance.pk else 0
        cap = data.get("capacity")
        if cap is not None and cap < max(taken, 1) and "capacity" not in err:
            msg = capacity_message(taken) if taken else "Enter at least 1 place, or leave empty"
            self.add_error("capacity", msg)
        vf, vt = data.get("visible_from"), data.get("visible_to")
        if vf is None:
            data["visible_from"] = vf = (self.instance.visible_from if self.instance.pk else timezone.now())
        if vt is None and end is not None:
            data["visible_to"] = vt = timezone.make_aware(dt.datetime.combine(end, dt.time(23, 59)))
        if vf and vt and vt <= vf and "visible_to" not in err:
            self.add_error("visible_to", "'Show until' must be after 'Show from'")
        return data


class ApproveForm(GovukFormMixin, forms.Form):
    visible_from = forms.DateTimeField(label="Show from", required=False, widget=_datetime_widget(),
                                       help_text="Empty: keep what the provider asked for")
    visible_to = forms.DateTimeField(label="Show until", required=False, widget=_datetime_widget(),
                                     help_text="Empty: keep what the provider asked for")
    reason = forms.CharField(label="Note", required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        self.opportunity = opportunity
        super().__init__(*args, **kwargs)

    def clean_visible_from(self):
        return _in_window(self, "visible_from", "'Show from'")

    def clean_visible_to(self):
        return _in_window(self, "visible_to", "'Show until'")

    def clean(self):
        data = super().clean()
        vf = data.get("visible_from") or self.opportunity.visible_from
        vt = data.get("visible_to") or self.opportunity.visible_to
        if "visible_from" not in self.errors and "visible_to" not in self.errors and vt <= vf:
            self.add_error("visible_to", "'Show until' must be after 'Show from'")
        return data


class ReasonForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(label="Reason", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="The provider sees this reason",
                             error_messages={"required": "Enter the reason"})

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Enter the reason")
        return reason


class SignUpForm(GovukFormMixin, forms.Form):
    """A young person's sign-up: email, a first name or nickname, and the year of birth. The password is
    chosen from the link emailed to the address (``signup.py``). Nothing here depends on whether the
    address has an account: the page must not tell."""

    email = forms.EmailField(label="Email address", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             help_text="We will email you a link to choose your password")
    nickname = forms.CharField(label="First name or nickname", max_length=60,
                               help_text="Providers see only this, and your email if you choose to share it")
    birth_year = forms.IntegerField(label="Year of birth", help_text="For example 2009",
                                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}))

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_nickname(self):
        name = " ".join(self.cleaned_data["nickname"].split())
        if not name:
            raise ValidationError("Enter your first name or a nickname")
        found = safeguarding.contact_details(name)
        if found or "@" in name or re.search(r"\d{5,}", safeguarding.normalise(name)):
            raise ValidationError("Your nickname must not be an email address, a phone number, a social "
                                  "media name or a web address")
        return name

    def clean_birth_year(self):
        year = self.cleaned_data["birth_year"]
        this_year = timezone.localdate().year
        if not YOUNG_MIN_AGE <= this_year - year <= YOUNG_MAX_AGE + 1:
            raise ValidationError(f"This site is for young people aged {YOUNG_MIN_AGE} to {YOUNG_MAX_AGE}: "
                                  f"enter a year of birth between {this_year - YOUNG_MAX_AGE - 1}"
                                  f" and {this_year - YOUNG_MIN_AGE}")
        return year


class RegisterForm(GovukFormMixin, forms.Form):
    share_email = forms.BooleanField(label="Share my email address with the provider", required=False,
                                     help_text="Only if you want them to contact you by email")
    note = forms.CharField(label="Anything the provider should know", required=False,
                           max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="For example access needs. Do not write a phone number or address.")

    def __init__(self, *args, nickname: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.nickname = nickname  # the provider sees it with the note: a number may be split across both

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        found = safeguarding.contact_details(note) or (
            note and self.nickname and safeguarding.contact_details(f"{self.nickname}\n{note}"))
        if found:
            raise ValidationError(f"Do not write a phone number, email address, social media name or web "
                                  f"address here (this looks like a {found}): tick the box to share your "
                                  "email instead")
        return note
