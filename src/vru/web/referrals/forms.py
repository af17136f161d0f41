"""Forms of the referral pages: every problem is a message next to its field (GOV.UK error summary at the
top), and nothing is saved unless the whole form is valid."""

from __future__ import annotations

from datetime import date

from django import forms
from django.urls import reverse
from django.utils import timezone

from vru.web.core import text
from vru.web.core.forms import GovukFormMixin
from vru.web.core.text import ReasonField

from . import services
from .models import (
    DECLINE_REASONS,
    INDICATORS,
    MAX_TEXT,
    Closure,
    Contact,
    MissingEpisode,
    Need,
    NeedOutcome,
    Provider,
    Referral,
    Rescue,
    RiskNote,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
NRM_FIELDS = [
    "nrm_referred",
    "nrm_referred_on",
    "rg_decision",
    "rg_decided_on",
    "cg_decision",
    "cg_decided_on",
]
PERSON_FIELDS = ["name", "date_of_birth", "contact"]
_DJANGO = {
    "required": str(forms.Field.default_error_messages["required"]),
    "date": str(forms.DateField.default_error_messages["invalid"]),
    "datetime": str(forms.DateTimeField.default_error_messages["invalid"]),
    "choice": str(forms.ChoiceField.default_error_messages["invalid_choice"]),
    "model": str(forms.ModelChoiceField.default_error_messages["invalid_choice"]),
}


def plain_messages(form) -> None:
    """GOV.UK messages that say what to do ("Choose the level", "Enter a real date, like 2026-03-27") for
    every field still holding one of Django's ("This field is required.", "Enter a valid date.")."""
    for name, field in form.fields.items():
        msgs, label = field.error_messages, str(field.label or name.replace("_", " ")).rstrip("?").lower()
        choice = isinstance(field, forms.ChoiceField | forms.ModelChoiceField)
        if str(msgs.get("required")) == _DJANGO["required"]:
            msgs["required"] = f"{'Choose' if choice else 'Enter'} the {label}"
        if isinstance(field, forms.DateTimeField) and str(msgs.get("invalid")) == _DJANGO["datetime"]:
            msgs["invalid"] = "Enter a real date and time, like 2026-03-27 14:30"
        elif isinstance(field, forms.DateField) and str(msgs.get("invalid")) == _DJANGO["date"]:
            msgs["invalid"] = "Enter a real date, like 2026-03-27"
        if str(msgs.get("invalid_choice")) in (_DJANGO["choice"], _DJANGO["model"]):
            msgs["invalid_choice"] = "Choose one of the options listed"


def reason_field(
    label: str, *, required: str, too_short: str, min_length: int = 5, max_length: int = MAX_TEXT, **kw
) -> forms.CharField:
    """A required free-text answer (a reason, a finding) of at least ``min_length`` visible characters and
    :data:`text.MIN_REASON_LETTERS` letters (:class:`ReasonField`)."""
    return ReasonField(
        label=label,
        min_length=min_length,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": required, "min_length": too_short},
        **kw,
    )


def conditional_text(label: str, *, help_text: str, rows: int = 3) -> forms.CharField:
    """Free text that only some answers make required (the form's ``clean`` asks for it then;
    ``help_text`` tells the user when)."""
    return forms.CharField(
        label=label,
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


class ReferralsForm(GovukFormMixin):
    """GOV.UK markup and errors (``GovukFormMixin``) with :func:`plain_messages`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plain_messages(self)


def _no_future(form, data: dict, fields) -> None:
    today = timezone.localdate()
    for f in fields:
        v = data.get(f)
        if v is not None and f not in form.errors and (v.date() if hasattr(v, "date") else v) > today:
            form.add_error(f, "The date must not be in the future")


def require(form, data: dict, field: str, message: str) -> None:
    """Say ``message`` at ``field`` when it has no answer, unless it has an error already (an answer
    that did not pass the field's own checks is not asked for again)."""
    if not data.get(field) and field not in form.errors:
        form.add_error(field, message)


def check_nrm(form, data: dict) -> None:
    """NRM dates follow the decisions: a referral date when referred, each decision with its date, in
    order (referral, reasonable grounds, conclusive grounds)."""
    if data.get("nrm_referred"):
        require(form, data, "nrm_referred_on", "Enter the date of the NRM referral")
    if not data.get("nrm_referred") and (data.get("rg_decision") or data.get("cg_decision")):
        form.add_error("nrm_referred", "A decision needs an NRM referral: tick it and give its date")
    for dec, on in (("rg_decision", "rg_decided_on"), ("cg_decision", "cg_decided_on")):
        if data.get(dec):
            require(form, data, on, "Enter the date of the decision")
        if data.get(on) and not data.get(dec):
            form.add_error(dec, "Choose the decision of this date")
    if data.get("cg_decision") and data.get("rg_decision") != "positive" and "cg_decision" not in form.errors:
        form.add_error(
            "cg_decision", "A conclusive-grounds decision follows a positive reasonable-grounds one"
        )
    order = [
        ("nrm_referred_on", "the NRM referral"),
        ("rg_decided_on", "the reasonable-grounds decision"),
        ("cg_decided_on", "the conclusive-grounds decision"),
    ]
    for (a, la), (b, _lb) in zip(order, order[1:], strict=False):
        if data.get(a) and data.get(b) and data[b] < data[a] and b not in form.errors:
            form.add_error(b, f"This date must not be before {la}")
    dob = data.get("date_of_birth")
    for f, label in order:  # the NRM began on 1 April 2009; nothing about them precedes their birth
        on = data.get(f)
        if on and f not in form.errors and on < NRM_START:
            form.add_error(f, f"The date of {label} must be on or after 1 April 2009, when the NRM began")
        elif on and dob and f not in form.errors and on < dob:
            form.add_error(f, f"The date of {label} must not be before their date of birth")
    _no_future(form, data, [f for f, _ in order])


#: the National Referral Mechanism's start
NRM_START = date(2009, 4, 1)


def person_fields() -> tuple[forms.CharField, forms.DateField]:
    """The young person's name and date of birth fields (the referral, the change page)."""
    name = forms.CharField(label="Young person's full name", max_length=200, required=False)
    dob = forms.DateField(
        label="Date of birth",
        required=False,
        widget=DATE,
        error_messages={"invalid": "Enter a real date, like 2008-03-27"},
    )
    return name, dob


class ReferralForm(ReferralsForm, forms.ModelForm):
    """The referral: the young person, the signs, NRM, consent. ``submit=True`` (the Submit button) checks
    eligibility and that every item is there; a draft keeps whatever is valid so far."""

    name, date_of_birth = person_fields()
    contact = forms.CharField(
        label="Contact details",
        max_length=300,
        required=False,
        help_text="Only if the provider needs them to reach the young person.",
    )

    class Meta:
        model = Referral
        fields = [
            "kind",
            "sector",
            "borough",
            "gender",
            *[f for f, _ in INDICATORS],
            "missing_episodes",
            "need_rescue",
            "need_relocation",
            "need_family",
            *NRM_FIELDS,
            "consent",
            "lawful_basis",
            "concerns",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "consent": forms.RadioSelect,
            "lawful_basis": forms.RadioSelect,
            "nrm_referred_on": DATE,
            "rg_decided_on": DATE,
            "cg_decided_on": DATE,
            "concerns": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "concerns": "What has happened, what you are worried about, and what you have done. "
            "Do not name other people unless the provider needs to know."
        }

    def __init__(self, *args, submit: bool = False, **kwargs):
        instance = kwargs.get("instance")
        person = getattr(instance, "person", None) if instance is not None and instance.pk else None
        if person is not None:
            kwargs.setdefault("initial", {}).update({f: getattr(person, f) for f in PERSON_FIELDS})
        super().__init__(*args, **kwargs)
        self.submit = submit
        self.fields["borough"].choices = [("", "Choose a borough"), *self.fields["borough"].choices[1:]]
        self.fields["gender"].choices = [("", "Choose"), *self.fields["gender"].choices[1:]]
        self.fields["sector"].choices = [("", "Choose your sector"), *self.fields["sector"].choices[1:]]
        self.fields["kind"].choices = (
            self.fields["kind"].choices[1:]
            if self.fields["kind"].choices[0][0] == ""
            else self.fields["kind"].choices
        )
        for f in ("consent", "lawful_basis"):
            self.fields[f].choices = [c for c in self.fields[f].choices if c[0]]
            self.fields[f].required = False
        self.fields["sector"].required = False

    def referral_date(self):
        """The day the referral is made: today for a new one or one being submitted (finding 17)."""
        return self.instance.referral_date if self.instance.pk and not self.submit else timezone.localdate()

    def clean(self):
        data = super().clean()
        check_nrm(self, data)
        dob = data.get("date_of_birth")
        day = self.referral_date()
        if dob is not None and "date_of_birth" not in self.errors:
            if dob > day:
                self.add_error("date_of_birth", "The date of birth must be in the past")
            else:
                for problem in services.eligibility(borough="x", dob=dob, on=day, indicators=[True]):
                    self.add_error("date_of_birth", problem.message)
        if self.submit:
            required = {
                "name": "Enter the young person's full name",
                "date_of_birth": "Enter their date of birth",
                "gender": "Choose their gender",
                "sector": "Choose your sector",
                "consent": "Say whether they consented",
                "lawful_basis": "Choose the lawful basis",
            }
            for f, msg in required.items():
                require(self, data, f, msg)
            for problem in services.eligibility(
                borough=data.get("borough") or "",
                dob=None,
                on=day,
                indicators=[data.get(f) for f, _ in INDICATORS],
            ):
                if problem.field not in self.errors:
                    self.add_error(problem.field, problem.message)
            borough = data.get("borough")
            if (
                data.get("kind") == "intelligence"
                and borough
                and "borough" not in self.errors
                and not services.Council.objects.filter(borough=borough).exists()
            ):  # it would reach no one (review 15, finding 10)
                self.add_error(
                    "borough",
                    "The council of this borough does not receive intelligence through this service yet: "
                    "make an intervention referral, or contact the borough's children's services (MASH).",
                )
            if data.get("lawful_basis") == "consent" and data.get("consent") in ("not_sought", "refused"):
                self.add_error("lawful_basis", "Consent cannot be the lawful basis when it was not given")
        return data

    def person_values(self) -> dict:
        return {f: self.cleaned_data.get(f) or ("" if f != "date_of_birth" else None) for f in PERSON_FIELDS}


class DecisionForm(ReferralsForm, forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("decline", "Decline")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose accept or decline"},
    )
    decline_reason = forms.ChoiceField(label="Reason for declining", choices=DECLINE_REASONS, required=False)
    note = conditional_text("Notes", help_text="Required when the reason is Other.")

    def clean(self):
        data = super().clean()
        if data.get("decision") == "decline":
            require(self, data, "decline_reason", "Choose the reason for declining")
            if data.get("decline_reason") == "other" and text.reason_problem(data.get("note") or ""):
                self.add_error("note", "Say why the referral is declined, in words")
        return data


def provider_label(p: Provider) -> str:
    return f"{p} ({p.open_cases()} of {p.capacity} places taken)"


class AllocationForm(ReferralsForm, forms.Form):
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.filter(active=True),
        empty_label="Choose a provider",
        error_messages={
            "required": "Choose a provider",
            "invalid_choice": "Choose one of the providers listed",
        },
    )
    reason = conditional_text(
        "Reason for the reassignment", help_text="Required when the case already has a provider.", rows=2)

    def __init__(self, *args, referral: Referral, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.fields["provider"].label_from_instance = provider_label
        if referral.current_provider_id is None:  # a first allocation: no reassignment, so no reason
            del self.fields["reason"]

    def clean(self):
        data = super().clean()
        p = data.get("provider")
        if p is not None and p.pk != self.referral.current_provider_id and not p.has_room():
            self.add_error(
                "provider",
                f"{p} is at capacity ({p.open_cases()} of {p.capacity} open cases): choose another provider",
            )
        if self.referral.current_provider_id and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give the reason for moving the case to another provider")
        elif self.referral.current_provider_id and text.reason_problem(data.get("reason") or ""):
            self.add_error("reason", text.reason_problem(data.get("reason") or ""))
        if p is not None and p.pk == self.referral.current_provider_id:
            self.add_error("provider", "The case is already with this provider")
        return data


class CaseDatesMixin:
    """A date of casework must not be before the referral, nor in the future."""

    date_fields: tuple[str, ...] = ()

    def __init__(self, *args, referral: Referral, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral

    def clean(self):
        data = super().clean()
        start = self.referral.referral_date
        for f in self.date_fields:
            v = data.get(f)
            if v is None or f in self.errors:
                continue
            day = timezone.localtime(v).date() if hasattr(v, "date") and hasattr(v, "hour") else v
            if day < start:
                self.add_error(f, f"The date must not be before the referral ({start:%d %B %Y})")
            elif day > timezone.localdate():
                self.add_error(f, "The date must not be in the future")
        self.instance.referral = self.referral
        return data


class ContactForm(CaseDatesMixin, ReferralsForm, forms.ModelForm):
    date_fields = ("when",)

    class Meta:
        model = Contact
        fields = ["when", "kind", "attendance", "dna_reason", "note"]
        widgets = {
            "when": DATETIME,
            "attendance": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"when": "Date and time"}
        error_messages = {"attendance": {"required": "Choose whether they attended"}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["when"].input_formats = DT_FORMATS
        self.fields["attendance"].choices = [c for c in self.fields["attendance"].choices if c[0]]

    def clean(self):
        data = super().clean()
        if data.get("attendance") == "dna":
            require(self, data, "dna_reason", "Choose why they did not attend (or Not known)")
        if data.get("attendance") in ("attended", "late") and data.get("dna_reason"):
            self.add_error("dna_reason", "A reason for not attending is only for a session they missed")
        return data


class NeedForm(ReferralsForm, forms.ModelForm):
    class Meta:
        model = Need
        fields = ["category", "desired_outcome"]
        labels = {"category": "Need", "desired_outcome": "Desired outcome"}


class RiskNoteForm(CaseDatesMixin, ReferralsForm, forms.ModelForm):
    date_fields = ()

    class Meta:
        model = RiskNote
        fields = ["level", "text", "review_on"]
        widgets = {"review_on": DATE, "text": forms.Textarea(attrs={"rows": 3})}
        labels = {"text": "Risk"}
        error_messages = {
            "text": {"required": "Describe the risk"},
            "review_on": {"required": "Enter the date to review it by"},
        }

    def clean(self):
        data = super().clean()
        check_review_date(self, "review_on", data.get("review_on"))
        return data


def check_dates_in_order(form, start: str, end: str, message: str) -> None:
    """``message`` on the field ``end`` when both dates are given and ``end`` is before ``start`` (the form
    side of :func:`vru.web.referrals.models.dates_in_order`)."""
    a, b = form.cleaned_data.get(start), form.cleaned_data.get(end)
    if a and b and b < a and end not in form.errors:
        form.add_error(end, message)


def check_review_date(form, field: str, day) -> None:
    """A review date from today to a year ahead (a risk is reviewed at least once a year)."""
    if day is not None and day < timezone.localdate():
        form.add_error(field, "The review date must be today or later")
    elif day is not None and (day - timezone.localdate()).days > 366:
        form.add_error(field, "Review a risk at least once a year")


class RiskReviewForm(ReferralsForm, forms.Form):
    """The review of a risk note: what it found and whether the risk remains (then its level and the next
    review date: a new note carries it on) or no longer applies."""

    outcome = forms.ChoiceField(
        label="Does the risk remain?",
        choices=[("remains", "Yes, the risk remains"), ("ended", "No, it no longer applies")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the risk remains"},
    )
    level = forms.ChoiceField(
        label="Level of the risk now",
        choices=[("", "Choose a level"), *RiskNote.LEVELS],
        required=False,
        help_text="Only if the risk remains.",
    )
    next_review_on = forms.DateField(
        label="Next review by",
        required=False,
        widget=DATE,
        help_text="Only if the risk remains: today or within a year.",
        error_messages={"invalid": "Enter a real date, like 2026-03-27"},
    )
    note = reason_field(
        "What the review found",
        required="Say what the review found",
        too_short="Say what the review found in at least 5 characters",
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "remains":
            require(self, data, "level", "Choose the level of the risk now")
            require(self, data, "next_review_on", "Enter the date of the next review")
            check_review_date(self, "next_review_on", data.get("next_review_on"))
        elif data.get("outcome") == "ended":
            if data.get("level"):
                self.add_error("level", "A level is only for a risk that remains")
            if data.get("next_review_on"):
                self.add_error("next_review_on", "A next review is only for a risk that remains")
        return data


class RescueForm(CaseDatesMixin, ReferralsForm, forms.ModelForm):
    date_fields = ("rescued_on", "returned_on")

    class Meta:
        model = Rescue
        fields = ["county", "police_force", "rescued_on", "returned_on", "note"]
        widgets = {"rescued_on": DATE, "returned_on": DATE, "note": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"rescued_on": {"required": "Enter the date of the rescue"}}

    def clean(self):
        data = super().clean()
        check_dates_in_order(self, "rescued_on", "returned_on", "The return must not be before the rescue")
        return data


def _correction_reason() -> forms.CharField:
    return reason_field(
        "Reason for the correction",
        required="Give the reason for the correction",
        too_short="Give a reason of at least 5 characters",
    )


class ContactChangeForm(ContactForm):
    """The correction of a recorded contact: the same checks, and a reason; each changed field is kept with
    its old and new value and the reason (a change record)."""

    reason = _correction_reason()


class NeedChangeForm(NeedForm):
    """The correction of a recorded need or its desired outcome, as :class:`ContactChangeForm`."""

    reason = _correction_reason()

    def __init__(self, *args, referral=None, **kwargs):  # the need has no dates to check
        super().__init__(*args, **kwargs)


class RiskNoteChangeForm(RiskNoteForm):
    """The correction of a risk note not yet reviewed (its level, text or review date), as
    :class:`ContactChangeForm`; a reviewed note is history and is not corrected."""

    reason = _correction_reason()


class RescueChangeForm(RescueForm):
    """The correction of a recorded rescue, as :class:`ContactChangeForm`."""

    reason = _correction_reason()


class MissingEpisodeForm(CaseDatesMixin, ReferralsForm, forms.ModelForm):
    date_fields = ("started_on", "ended_on")

    class Meta:
        model = MissingEpisode
        fields = ["started_on", "ended_on", "reported_to_police"]
        widgets = {"started_on": DATE, "ended_on": DATE}
        error_messages = {"started_on": {"required": "Enter the date they went missing"}}

    def clean(self):
        data = super().clean()
        check_dates_in_order(self, "started_on", "ended_on", "The end must not be before the start")
        return data


class MissingEpisodeChangeForm(MissingEpisodeForm):
    """The correction of a recorded missing episode (its end once they are found, a wrong date), as
    :class:`ContactChangeForm`."""

    reason = _correction_reason()


class NoNeedsWidget(forms.Widget):
    """The place of the outcomes on the closure form of a case without needs: an ``<output>`` (a labelable
    element, so the field's label and the error summary's link both reach it) saying what to do, with a link
    to the need form. It sends no value."""

    template_name = "referrals/no_needs_widget.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["describedby"] = context["widget"]["attrs"].get("aria-describedby", "")
        return context

    def value_from_datadict(self, data, files, name):
        return ""


class ClosureForm(CaseDatesMixin, ReferralsForm, forms.ModelForm):
    """Closure, with an outcome for each desired outcome of the case (``outcome_<need id>``)."""

    date_fields = ("closed_on",)

    class Meta:
        model = Closure
        fields = [
            "closed_on",
            "reason",
            "engaged",
            "involvement",
            "in_eet",
            "fewer_missing",
            "nrm_outcome",
            "note",
        ]
        widgets = {
            "closed_on": DATE,
            "involvement": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {
            "closed_on": {"required": "Enter the date the case closed"},
            "reason": {"required": "Choose the reason for closing"},
            "in_eet": {"required": "Say whether they are in education, training or work"},
            "fewer_missing": {"required": "Say whether they go missing less often"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engaged"].required = False
        self.needs = list(self.referral.need_records.all())
        for n in self.needs:
            self.fields[f"outcome_{n.pk}"] = forms.ChoiceField(
                label=f"Outcome: {n.get_category_display()}: {n.desired_outcome}",
                choices=[c for c in NeedOutcome.ACHIEVEMENT],
                widget=forms.RadioSelect,
                error_messages={"required": "Choose achieved, partly achieved or not achieved"},
            )
        if not self.needs:  # the outcomes of the case have nowhere to go: say so where they would be
            self.fields["outcomes"] = forms.CharField(
                label="Outcome of each need",
                required=False,
                widget=NoNeedsWidget(attrs={"need_url": reverse("referrals:need", args=[self.referral.pk])}),
            )
        self.fields["involvement"].choices = [c for c in self.fields["involvement"].choices if c[0]]
        from vru.web.core.forms import style_fields

        style_fields(self)

    def clean(self):
        data = super().clean()
        if not self.needs:
            self.add_error(
                "outcomes", "Record at least one need and its desired outcome before closing the case"
            )
        closed = data.get("closed_on")
        last = self.last_recorded()
        if closed is not None and "closed_on" not in self.errors and last is not None and closed < last[0]:
            self.add_error(
                "closed_on",
                f"The case cannot close before its last recorded {last[1]} ({last[0]:%d %B %Y}): "
                "enter that day or later, or correct the record first",
            )
        return data

    def last_recorded(self):
        """(day, what) of the latest contact or session, rescue or return, or missing episode recorded on the
        case (None: none): a closure is not dated before them (review 4, 7)."""
        from django.db.models import Max

        r = self.referral
        found = []
        when = r.contacts.aggregate(m=Max("when"))["m"]
        if when is not None:
            found.append((timezone.localtime(when).date(), "contact or session"))
        got = r.rescues.aggregate(a=Max("rescued_on"), b=Max("returned_on"))
        found += [(d, "rescue") for d in got.values() if d is not None]
        got = r.missing_records.aggregate(a=Max("started_on"), b=Max("ended_on"))
        found += [(d, "missing episode") for d in got.values() if d is not None]
        return max(found, key=lambda x: x[0]) if found else None

    def outcomes(self) -> list[tuple[Need, str]]:
        return [(n, self.cleaned_data[f"outcome_{n.pk}"]) for n in self.needs]


class ClosureChangeForm(ClosureForm):
    """The correction of a closure (its date, reason, measures and the outcome of each need), with a reason;
    each changed value is kept as a change record, as :class:`ContactChangeForm`."""

    reason_for_change = _correction_reason()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            for o in NeedOutcome.objects.filter(need__in=self.needs):
                self.initial[f"outcome_{o.need_id}"] = o.achievement


class UpdateForm(ReferralsForm, forms.ModelForm):
    """A change after submission: each changed field is kept with its old value and the reason. The young
    person's name, date of birth and contact can be corrected too (the right to rectification; review 15,
    finding 5); a form sent without them keeps them as they are (a contact sent empty is removed)."""

    name, date_of_birth = person_fields()
    contact = forms.CharField(label="Contact details", max_length=300, required=False)
    reason = reason_field(
        "Reason for the change",
        required="Give the reason for the change",
        too_short="Give a reason of at least 5 characters",
    )

    class Meta:
        model = Referral
        fields = ["borough", "gender", "missing_episodes", *NRM_FIELDS]
        widgets = {"nrm_referred_on": DATE, "rg_decided_on": DATE, "cg_decided_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = getattr(self.instance, "person", None)
        if self.person is not None and not self.is_bound:
            self.initial.update({f: getattr(self.person, f) for f in PERSON_FIELDS})
        self.fields["borough"].required = True

    def clean(self):
        data = super().clean()
        for f in PERSON_FIELDS:  # not sent (a form of one's own making): kept as it is, contact included
            if f not in self.data and self.person is not None:
                data[f] = getattr(self.person, f)
        if not (data.get("name") or "").strip() and "name" not in self.errors:
            self.add_error("name", "Enter the young person's full name")
        dob = data.get("date_of_birth")
        if dob is None and "date_of_birth" not in self.errors:
            self.add_error("date_of_birth", "Enter their date of birth")
        elif dob is not None and "date_of_birth" not in self.errors:
            day = self.instance.referral_date
            for problem in services.eligibility(borough="x", dob=dob, on=day, indicators=[True]):
                self.add_error("date_of_birth", problem.message)
        check_nrm(self, data)
        return data


class SearchForm(forms.Form):
    """The caseload search: a reference or part of a name. A NUL character (which PostgreSQL refuses in a
    query) or anything over 100 characters is refused with a message next to the box."""

    q = forms.CharField(
        required=False,
        max_length=100,
        error_messages={"max_length": "Enter at most 100 characters"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for v in self.fields["q"].validators:
            if getattr(v, "code", "") == "null_characters_not_allowed":
                v.message = "Enter a reference or a name without control characters"


class BreakGlassForm(ReferralsForm, forms.Form):
    reason = reason_field(
        "Why do you need to open this record?",
        required="Give the reason you need to open this record",
        too_short="Give a reason of at least 10 characters",
        min_length=10,
        max_length=500,
        help_text="It is recorded with your name and the time, and shown to your organisation's managers.",
    )


class StaffChoiceField(forms.ModelMultipleChoiceField):
    """Staff chosen by id: an id that is not a number a database column can hold is "not one of the
    available choices" before any query (SQLite raises OverflowError on an integer past 64 bits)."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else [value]:
            text = str(pk)
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                      params={"value": text[:20]})
        return super()._check_values(value)


class RestrictionForm(ReferralsForm, forms.ModelForm):
    class Meta:
        model = Referral
        fields = ["restricted", "allowed_staff", "barred_staff"]
        field_classes = {"allowed_staff": StaffChoiceField, "barred_staff": StaffChoiceField}
        widgets = {
            "allowed_staff": forms.CheckboxSelectMultiple,
            "barred_staff": forms.CheckboxSelectMultiple,
        }
        labels = {"allowed_staff": "Named staff who may open it", "barred_staff": "Staff barred from it"}

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        #: who is on each list but not offered (another organisation's staff, named before a move; staff no
        #: longer active): kept as they are by the view, and listed under the field (review 4, 1)
        self.kept = {}
        for f in ("allowed_staff", "barred_staff"):
            self.fields[f].queryset = staff
            self.fields[f].label_from_instance = lambda u: u.get_full_name() or u.email
            kept = []
            if self.instance.pk:
                kept = list(getattr(self.instance, f).exclude(pk__in=staff.values("pk")))
            self.kept[f] = kept
            if kept:
                names = ", ".join(sorted(u.get_full_name() or u.email for u in kept))
                self.fields[f].help_text = (
                    "Also on this list, and kept as they are (not of your organisation's active staff): "
                    + names
                )

    def clean(self):
        data = super().clean()
        both = set(data.get("allowed_staff") or []) & set(data.get("barred_staff") or [])
        if both:
            self.add_error("barred_staff", "Someone cannot be both named and barred")
        if data.get("restricted") and not data.get("allowed_staff") and not self.kept["allowed_staff"]:
            self.add_error(
                "allowed_staff", "Name at least one member of staff who may open a restricted record"
            )
        return data
