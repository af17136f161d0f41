"""The dashboard's filters: GET forms (GOV.UK markup) mapped onto the analysis parameter classes.

Each form validates what the user chose and returns the analysis's own parameter object
(``HotspotParams``, ``TargetParams``, ``EvalParams``, ``DriverParams``) from :meth:`params`;
the parameter classes' own checks run in ``clean()``, so a value the analysis would refuse is
reported next to the field it came from. A filter left out of the query keeps its default, so a
link such as ``/dashboard/hotspots/?borough=E09000028`` works.
"""

from __future__ import annotations

import re

from django import forms

from vru import taxonomy
from vru.geography import MYENDS_BOROUGHS, borough_name
from vru.web.core.forms import GovukFormMixin
from vru.web.dashboard.data import DEFAULT_CATEGORY, LEAGUE_CATEGORIES, MPS_BOROUGHS

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")  # ASCII digits only
BOROUGH_CHOICES = sorted(((c, borough_name(c)) for c in MPS_BOROUGHS), key=lambda x: x[1])


def _cats(codes) -> list[tuple[str, str]]:
    return [(c, taxonomy.label(c)) for c in codes]


class FilterForm(GovukFormMixin, forms.Form):
    """A GET filter form: unbound (defaults) unless the query names one of its fields."""

    def __init__(self, query=None, **kwargs):
        bound = query is not None and any(k in query for k in self.base_fields)
        super().__init__(query if bound else None, **kwargs)

    def value(self, name):
        """The cleaned value, or the field's initial value when the field was not given."""
        if self.is_bound and name in self.data:
            return self.cleaned_data.get(name)
        return self.fields[name].initial

    #: The form field of each parameter whose name differs from the field's (a ``ParamsError`` names the
    #: parameter; the message is shown next to this field).
    PARAM_FIELDS: dict[str, str] = {}

    def check_fields(self) -> None:
        """Checks across fields, once every field is valid (report with ``add_error``); none here."""

    def build_params(self):
        """What the data functions take, from the valid fields (the pipeline's own parameters, whose
        checks may raise ``ParamsError``)."""
        raise NotImplementedError(f"{type(self).__name__} does not say how to build its parameters")

    def clean(self):
        """The fields' own checks, an option given twice in a multiple choice, then
        :meth:`check_fields`, then the parameters' own checks: a ``ParamsError`` is shown next to
        the field it names (or above the form if it names none)."""
        data = super().clean()
        for name, field in self.fields.items():  # a crafted query may repeat a box's value
            chosen = data.get(name)
            if isinstance(field, forms.MultipleChoiceField) and chosen and len(set(chosen)) < len(chosen):
                twice = next(c for c in chosen if chosen.count(c) > 1)
                self.add_error(name, f"Choose each option once ({dict(field.choices).get(twice, twice)} "
                                     f"is given twice)")
        if not self.errors:
            self.check_fields()
        if not self.errors:
            from vru.pipelines.base import ParamsError

            try:
                self._params = self.build_params()
            except ParamsError as e:
                name = str(e).split(" ", 1)[0].rstrip(":")
                self.add_error(self.PARAM_FIELDS.get(name, name if name in self.fields else None), str(e))
        return data

    def params(self):
        """The validated parameters (every default for a form that was not given a filter); call it
        on a valid form only."""
        return self._params if hasattr(self, "_params") else self.build_params()

    def query_string(self) -> str:
        """The validated filters as a query string (for links and the API)."""
        from urllib.parse import urlencode

        if not self.is_bound:
            return ""
        return urlencode([(k, v) for k in self.fields for v in self.data.getlist(k)])


class OverviewForm(FilterForm):
    category = forms.ChoiceField(label="Crime measure for the league table",
                                 choices=_cats(LEAGUE_CATEGORIES), initial=DEFAULT_CATEGORY,
                                 required=False)

    def clean_category(self):
        return self.cleaned_data.get("category") or DEFAULT_CATEGORY

    def build_params(self) -> str:
        return self.value("category") or DEFAULT_CATEGORY


class HotspotForm(FilterForm):
    categories = forms.MultipleChoiceField(
        label="Crime categories", required=False,
        choices=_cats(taxonomy.SERIOUS_VIOLENCE_MAJOR + (taxonomy.PUBLIC_ORDER_OFFENCES,
                                                         taxonomy.DRUG_OFFENCES)),
        initial=list(taxonomy.SERIOUS_VIOLENCE_MAJOR),
        widget=forms.CheckboxSelectMultiple,
        help_text="Offences of these categories are added together (LSOA annual data).")
    weighting = forms.ChoiceField(
        label="Weighting", widget=forms.RadioSelect, initial="count", required=False,
        choices=[("count", "Count every offence once"),
                 ("css", "Weight by harm (ONS Crime Severity Score)")])
    scheme = forms.ChoiceField(
        label="Classification", widget=forms.RadioSelect, initial="arcgis", required=False,
        choices=[("arcgis", "17 emerging hot spot patterns (ArcGIS)"),
                 ("sfhotspot", "10 patterns (R sfhotspot)")])
    borough = forms.ChoiceField(label="Borough shown in the table", required=False, initial="",
                                choices=[("", "All of London")] + BOROUGH_CHOICES)

    def clean_categories(self):
        v = self.cleaned_data.get("categories")
        if "categories" in self.data and not v:
            raise forms.ValidationError("Select at least one crime category")
        return v

    def build_params(self):
        from vru.pipelines.hotspots import HotspotParams

        return HotspotParams(categories=tuple(self.value("categories")),
                             weighting=self.value("weighting") or "count",
                             scheme=self.value("scheme") or "arcgis")

    def borough_code(self) -> str:
        return self.value("borough") or ""


class TargetingForm(FilterForm):
    level = forms.ChoiceField(
        label="Candidate areas", widget=forms.RadioSelect, initial="cluster", required=False,
        choices=[("cluster", "Clusters of neighbouring LSOAs"), ("lsoa", "Single LSOAs"),
                 ("ward", "Wards (2018)")])
    n = forms.IntegerField(label="Number of areas to fund", min_value=1, max_value=20, initial=8,
                           required=False)
    max_per_borough = forms.IntegerField(label="Most areas in one borough", min_value=1,
                                         max_value=5, initial=1, required=False)
    w_sustained = forms.FloatField(label="Weight: sustained violence", min_value=0, max_value=1,
                                   initial=0.35, required=False)
    w_harm = forms.FloatField(label="Weight: harm", min_value=0, max_value=1, initial=0.25,
                              required=False)
    w_deprivation = forms.FloatField(label="Weight: deprivation", min_value=0, max_value=1,
                                     initial=0.25, required=False)
    w_youth = forms.FloatField(label="Weight: young residents", min_value=0, max_value=1,
                               initial=0.15, required=False,
                               help_text="Weights are scaled to add up to 1.")
    budget = forms.IntegerField(label="Budget (GBP)", min_value=1_000, max_value=1_000_000_000,
                                initial=9_000_000, required=False)
    years = forms.IntegerField(label="Years", min_value=1, max_value=10, initial=3,
                               required=False)
    cap = forms.IntegerField(label="Most money for one area in one year (GBP)", min_value=1_000,
                             max_value=1_000_000_000, initial=500_000, required=False)

    WEIGHTS = ("sustained", "harm", "deprivation", "youth")
    #: The form field of each TargetParams field whose name differs.
    PARAM_FIELDS = {"weights": "w_sustained", "budget_pence": "budget", "cap_pence": "cap"}

    def check_fields(self) -> None:
        if sum(self._v(f"w_{k}") for k in self.WEIGHTS) <= 0:
            self.add_error("w_sustained", "Give at least one weight above 0")

    def _v(self, name):
        v = self.value(name)
        return self.fields[name].initial if v is None else v

    def build_params(self):
        from vru.pipelines.targeting import TargetParams

        return TargetParams.of(level=self._v("level") or "cluster", n=self._v("n"),
                               max_per_borough=self._v("max_per_borough"),
                               weights={k: float(self._v(f"w_{k}")) for k in self.WEIGHTS},
                               budget_pence=100 * self._v("budget"), years=self._v("years"),
                               cap_pence=100 * self._v("cap"))


class EvaluationForm(FilterForm):
    treated = forms.MultipleChoiceField(
        label="Treated boroughs", required=False, choices=BOROUGH_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Default: the 8 boroughs with a MyEnds consortium funded in 2021.")
    start = forms.CharField(label="Programme start (year and month, YYYY-MM)", initial="2021-07",
                            required=False, max_length=7)
    category = forms.ChoiceField(label="Outcome", choices=_cats(LEAGUE_CATEGORIES),
                                 initial=taxonomy.VIOLENCE_WITH_INJURY, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["treated"].initial = list(MYENDS_BOROUGHS)

    def clean_treated(self):
        v = self.cleaned_data.get("treated")
        if "treated" in self.data and not v:
            raise forms.ValidationError("Select at least one treated borough")
        if v and len(v) > len(MPS_BOROUGHS) - 4:
            raise forms.ValidationError("Leave at least 4 boroughs untreated as controls")
        return v

    def clean_start(self):
        v = (self.cleaned_data.get("start") or "").strip()
        if "start" in self.data and not _MONTH.match(v):
            raise forms.ValidationError("Enter the start as a year and month, like 2021-07")
        if v and not ("2013-07" <= v <= "2023-06"):
            raise forms.ValidationError("Enter a start between 2013-07 and 2023-06 (three years "
                                        "of data before it and some after)")
        return v

    #: The form field of each EvalParams field whose name differs (the window follows the start).
    PARAM_FIELDS = {"window_start": "start", "starts": "start"}

    def build_params(self):
        import pandas as pd

        from vru.pipelines.evaluation import EvalParams

        start = self.value("start") or "2021-07"
        treated = tuple(sorted(self.value("treated") or self.fields["treated"].initial))
        window = f"{pd.Timestamp(start) - pd.DateOffset(months=36):%Y-%m}"
        return EvalParams.of(treated=treated, start=start, window_start=window,
                             category=self.value("category") or taxonomy.VIOLENCE_WITH_INJURY)


class DriversForm(FilterForm):
    categories = forms.MultipleChoiceField(
        label="Serious violence: categories", required=False, widget=forms.CheckboxSelectMultiple,
        choices=_cats(taxonomy.SERIOUS_VIOLENCE + (taxonomy.VIOLENCE_WITHOUT_INJURY, taxonomy.SEXUAL_OFFENCES,
                                                   taxonomy.HOMICIDE)),
        initial=list(taxonomy.SERIOUS_VIOLENCE))
    start = forms.CharField(label="First month (YYYY-MM)", initial="2020-04", required=False,
                            max_length=7)
    end = forms.CharField(label="Last month (YYYY-MM)", initial="2021-03", required=False,
                          max_length=7)
    n = forms.IntegerField(label="Top n boroughs compared", min_value=3, max_value=16,
                           initial=10, required=False)

    def clean_categories(self):
        v = self.cleaned_data.get("categories")
        if "categories" in self.data and not v:
            raise forms.ValidationError("Select at least one crime category")
        return v

    def _month(self, name):
        v = (self.cleaned_data.get(name) or "").strip()
        if name in self.data and not _MONTH.match(v):
            raise forms.ValidationError("Enter a year and month, like 2020-04")
        return v

    def clean_start(self):
        return self._month("start")

    def clean_end(self):
        return self._month("end")

    def check_fields(self) -> None:
        start, end = self.value("start") or "", self.value("end") or ""
        if start and end and start > end:
            self.add_error("end", "The last month must not be before the first month")

    def build_params(self):
        from vru.pipelines.drivers import DriverParams

        return DriverParams.of(categories=tuple(self.value("categories") or ()) or None,
                               start=self.value("start") or None, end=self.value("end") or None,
                               n=self.value("n"))


__all__ = ["OverviewForm", "HotspotForm", "TargetingForm", "EvaluationForm", "DriversForm"]
