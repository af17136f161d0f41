"""The register's forms (GOV.UK markup via GovukFormMixin; errors shown next to each field)."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from vru.web.accounts.models import Organisation
from vru.web.core.forms import GovukFormMixin

from . import geojson
from .csvio import TABLES
from .models import (
    AGE_BAND_FIELDS,
    BOROUGH_CHOICES,
    MAX_MONEY,
    Consortium,
    Grant,
    Intervention,
    ProgrammeArea,
)


class InterventionForm(GovukFormMixin, forms.ModelForm):
    """Record what a grant delivered in a year (the grant comes from the page's URL)."""

    class Meta:
        model = Intervention
        fields = ["kind", "name", "year", "sessions_delivered", *AGE_BAND_FIELDS]
        help_texts = {"year": "Calendar year in which the sessions were delivered, for example 2022"}

    def __init__(self, *args, grant: Grant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.grant = grant
        self.grant = grant

    def clean(self):
        data = super().clean()
        name, year = data.get("name"), data.get("year")
        if name and year:
            dup = Intervention.objects.filter(grant=self.grant, name=name, year=year)
            dup = dup.exclude(pk=self.instance.pk)
            if dup.exists():
                self.add_error("name", f"{self.grant.reference} already has an intervention called "
                                       f"{name!r} in {year}; edit that one instead")
        return data


class TransitionForm(GovukFormMixin, forms.Form):
    """Change a grant's status (programme managers); the grant checks what is allowed."""

    to_status = forms.ChoiceField(label="New status", widget=forms.RadioSelect)
    amount_awarded = forms.DecimalField(
        label="Amount awarded (£)", required=False, max_digits=12, decimal_places=2, min_value=0,
        max_value=MAX_MONEY,
        help_text="Needed when a bid is awarded",
    )
    start_date = forms.DateField(label="Start date", required=False, help_text="For example 2021-09-01",
                                 widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label="End date", required=False,
                               help_text="When awarding: the end date; when extending: the new end date",
                               widget=forms.DateInput(attrs={"type": "date"}))
    additional_amount = forms.DecimalField(
        label="Additional amount (£)", required=False, max_digits=12, decimal_places=2, min_value=0,
        max_value=MAX_MONEY,
        help_text="Optional, when extending: added to the amount awarded (the cap still applies)",
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000)

    def __init__(self, *args, grant: Grant, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.grant, self.user = grant, user
        labels = dict(Grant.STATUS)
        self.fields["to_status"].choices = [(s, labels[s]) for s in grant.allowed_transitions()]

    def clean(self):
        data = super().clean()
        if self.errors or "to_status" not in data:
            return data
        try:
            self.change = self.grant.transition(
                data["to_status"], self.user, note=data.get("note", ""),
                amount_awarded=data.get("amount_awarded"), start_date=data.get("start_date"),
                end_date=data.get("end_date"), additional_amount=data.get("additional_amount"),
            )
        except ValidationError as e:
            self.grant.refresh_from_db()
            for name, messages in e.message_dict.items():
                for m in messages:
                    self.add_error(name if name in self.fields else None, m)
        return data


class ImportForm(GovukFormMixin, forms.Form):
    table = forms.ChoiceField(
        label="Which table does the file hold?", widget=forms.RadioSelect,
        choices=[(t, t.capitalize()) for t in TABLES],
        help_text="Import areas first, then consortia, grants and interventions",
    )
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV with the columns of the export")


# --- create and edit areas, consortia and grants (programme managers) ----------------------------------

MAX_GEOJSON_BYTES = geojson.MAX_GEOMETRY_CHARS  # 5 MB


class _ModelRulesMixin:
    """Puts the model's own validation errors next to the field the user typed the value into.

    ``Model.clean()`` raises errors keyed by model field: a key named in ``error_fields`` goes next
    to the form field it maps to (a grant's ``amount_awarded`` over a lowered cap goes next to
    ``cap``), a key that is a field of this form next to that field, anything else to the error
    summary at the top (never lost, never a crash).
    """

    error_fields: dict[str, str] = {}

    def _update_errors(self, errors):
        if not hasattr(errors, "error_dict"):
            return super()._update_errors(errors)
        mapped: dict[str, list] = {}
        for key, messages in errors.error_dict.items():
            target = self.error_fields.get(key, key)
            if target not in self.fields:
                target = NON_FIELD_ERRORS
            mapped.setdefault(target, []).extend(messages)
        return super()._update_errors(ValidationError(mapped))


def parse_lsoa_codes(text: str) -> list[str]:
    """LSOA codes typed one per line or separated by commas (or spaces), upper-cased, in order."""
    return [c.upper() for c in text.replace(",", " ").split()]


#: A boundary from pasted, uploaded or imported text (strict JSON: size, depth, NaN, lone surrogates).
parse_geojson = geojson.parse


class AreaForm(_ModelRulesMixin, GovukFormMixin, forms.ModelForm):
    """A programme area. LSOA codes and the boundary are checked by ``ProgrammeArea.clean`` (real
    London LSOAs in the chosen borough; a valid WGS84 polygon inside London)."""

    lsoa_codes = forms.CharField(
        label="LSOA codes", required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The 2011 or 2021 LSOAs the area covers, one per line or separated by commas, "
                  "for example E01003911",
    )
    geometry = forms.CharField(
        label="Boundary (GeoJSON)", required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="Paste a GeoJSON Polygon or MultiPolygon (or a Feature holding one) in WGS84 "
                  "longitude, latitude. Leave empty for no boundary.",
    )
    geometry_file = forms.FileField(
        label="Or upload the boundary as a GeoJSON file", required=False,
        help_text="A .geojson or .json file of at most 5 MB; it replaces anything pasted above",
    )

    class Meta:
        model = ProgrammeArea
        fields = ["name", "kind", "borough", "selected_year", "funding_round", "lsoa_codes", "geometry"]
        widgets = {"kind": forms.RadioSelect}
        labels = {"selected_year": "Year selected for funding", "funding_round": "Funding round"}
        help_texts = {"name": "The estate, ward or cluster, for example Rockingham estate",
                      "selected_year": "For example 2021"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ProgrammeArea.KINDS  # radios: no empty "---------" choice
        self.fields["borough"].choices = [("", "Choose a borough"), *BOROUGH_CHOICES]
        if self.instance.pk and not self.is_bound:
            self.initial["lsoa_codes"] = "\n".join(self.instance.shown_lsoa_codes)
            self.initial["geometry"] = (json.dumps(self.instance.geometry) if self.instance.geometry
                                        else "")

    def clean_lsoa_codes(self):
        return parse_lsoa_codes(self.cleaned_data["lsoa_codes"])

    def clean_geometry_file(self):
        upload = self.cleaned_data.get("geometry_file")
        if not upload:
            return None
        if upload.size > MAX_GEOJSON_BYTES:
            raise ValidationError("The file is larger than 5 MB")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValidationError("The file is not UTF-8 text (GeoJSON is UTF-8)") from e
        return parse_geojson(text)

    def clean_geometry(self):
        text = self.cleaned_data["geometry"].strip()
        return parse_geojson(text) if text else None

    def clean(self):
        data = super().clean()
        if data.get("geometry_file") is not None:
            data["geometry"] = data["geometry_file"]
            self.errors.pop("geometry", None)  # the upload replaces whatever was pasted
            self.error_fields = {"geometry": "geometry_file"}  # its problems go next to the upload
        return data


class ConsortiumForm(_ModelRulesMixin, GovukFormMixin, forms.ModelForm):
    """A consortium and its members. The lead must be among the members (``Consortium.clean``);
    members left unticked leave the consortium, the lead never does."""

    members = forms.ModelMultipleChoiceField(
        Organisation.objects.order_by("name"), label="Member organisations",
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every organisation in the consortium, the lead included",
    )

    class Meta:
        model = Consortium
        fields = ["name", "area", "lead", "members"]
        labels = {"lead": "Lead organisation"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = ProgrammeArea.objects.order_by("borough", "name")
        self.fields["area"].label_from_instance = lambda a: f"{a.name}, {a.borough_name}"
        self.fields["lead"].queryset = Organisation.objects.order_by("name")
        self.fields["area"].empty_label = "Choose an area"
        self.fields["lead"].empty_label = "Choose the lead organisation"
        if self.instance.pk and not self.is_bound:
            self.initial["members"] = self.instance.organisation_ids()

    def clean(self):
        data = super().clean()
        lead, members = data.get("lead"), data.get("members")
        if lead is not None and members is not None:
            # The model's rule (Consortium.clean) checks the lead against the members being set.
            self.instance.incoming_members = {m.pk for m in members}
            if self.instance.pk is None and lead not in members:
                # A new consortium has no members yet for the model to check: same rule, same words.
                self.add_error("lead", "the lead organisation must be a member of the consortium")
        return data

    def _save_m2m(self):
        self.instance.set_members(m.pk for m in self.cleaned_data["members"])

    def save(self, commit=True):
        with transaction.atomic():
            return super().save(commit=commit)


class GrantForm(_ModelRulesMixin, GovukFormMixin, forms.ModelForm):
    """A grant. New grants are bids; award, extension and closing stay on the grant's status form
    (which records the history). Once a grant is no longer a bid its consortium and dates are fixed
    here: they change only through those status changes."""

    error_fields = {"amount_awarded": "cap"}

    class Meta:
        model = Grant
        fields = ["reference", "consortium", "amount_requested", "cap", "start_date", "end_date"]
        labels = {"amount_requested": "Amount requested (£)", "cap": "Cap for this grant (£)",
                  "start_date": "Planned start date", "end_date": "Planned end date"}
        help_texts = {
            "reference": "A unique reference, for example MYE-2021-SWK",
            "amount_requested": "In pounds, without £ or commas, for example 745000",
            "cap": "The most this grant may request or be awarded; the first round's cap was £750,000",
            "start_date": "Optional for a bid, for example 2021-09-01",
            "end_date": "Optional for a bid, for example 2022-08-31",
        }
        widgets = {"start_date": forms.DateInput(attrs={"type": "date"}),
                   "end_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = Consortium.objects.select_related("area").order_by("name")
        self.fields["consortium"].empty_label = "Choose a consortium"
        self.fields["cap"].required = True
        if self.instance.pk and self.instance.status != Grant.BID:
            for name in ("consortium", "start_date", "end_date"):
                del self.fields[name]

    def save(self, commit=True, user=None):
        new = self.instance.pk is None
        with transaction.atomic():
            grant = super().save(commit=commit)
            if new and commit:
                # The grant's history starts with its creation, as the CSV import records it.
                grant.record_status("", user, note="Recorded in the register")
        return grant
