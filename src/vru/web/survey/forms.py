"""The respondent's forms, built from the questionnaire (one group of questions per page), and the staff's
invitation form. Error messages come from the questionnaire's strings, in the respondent's language."""

from __future__ import annotations

from django import forms

from vru.web.core.forms import GovukForm

from .invitations import MAX_BATCH, MIN_BATCH
from .questionnaire import Questionnaire

# Fields every respondent form may carry besides its questions; anything else is refused whole.
CONTROL_FIELDS = frozenset({"csrfmiddlewaretoken", "version"})


def group_form(q: Questionnaire, group: str, lang: str, data=None, initial=None) -> forms.Form:
    """A form for one group of questions: radios (or a select for long lists) whose only valid values
    are the question's option codes, or a text area for the free-text question."""
    fields: dict[str, forms.Field] = {}
    for question in q.group_questions(group):
        label = q.text(lang, f"q.{question.key}")
        hint_id = f"q.{question.key}.hint"
        hint = q.text(lang, hint_id) if q.has_text(hint_id) else ""
        messages = {"required": q.text(lang, "err.required"),
                    "invalid_choice": q.text(lang, "err.invalid_choice"),
                    "max_length": q.text(lang, "err.too_long"),
                    # a NUL character (Django's own message is English): version 1 lacks the string
                    "null_characters_not_allowed": q.text(lang, "err.invalid_character"
                                                          if q.has_text("err.invalid_character")
                                                          else "err.invalid_choice")}
        if question.text:
            fields[question.key] = forms.CharField(
                label=label, help_text=hint, required=question.required, max_length=question.max_length,
                widget=forms.Textarea(attrs={"rows": 5, "class": "govuk-textarea", "dir": "auto"}),
                error_messages=messages)
        else:
            choices = [(c, q.option_label(lang, question, c)) for c in question.options]
            if question.widget == "select":
                choices = [("", "")] + choices
                widget = forms.Select(attrs={"class": "govuk-select"})
            else:
                widget = forms.RadioSelect(attrs={"class": "govuk-radios__input"})
            fields[question.key] = forms.ChoiceField(
                label=label, help_text=hint, required=question.required, choices=choices, widget=widget,
                error_messages=messages)
    form_class = type("GroupForm", (forms.Form,), fields)
    return form_class(data=data, initial=initial, prefix=None)


def unknown_fields(q: Questionnaire, group: str | None, data) -> list[str]:
    """The names a POST carries that are neither a control field nor a question of ``group`` (every
    group's questions when ``group`` is None)."""
    allowed = set(CONTROL_FIELDS)
    if group is None:
        allowed |= set(q.questions)
    else:
        allowed |= {question.key for question in q.group_questions(group)}
    return sorted(set(data) - allowed)


def validate_all(q: Questionnaire, answers: dict) -> dict[str, str]:
    """Every answer of a draft checked again before it is stored: returns question -> problem."""
    problems = {}
    for key in set(answers) - set(q.questions):
        problems[key] = "unknown question"
    for key, question in q.questions.items():
        value = answers.get(key, "")
        if question.text:
            if len(value) > question.max_length:
                problems[key] = "too long"
        elif value and value not in question.options:
            problems[key] = "not an option"
        if question.required and not value:
            problems[key] = "not answered"
    return problems


class InvitationForm(GovukForm):
    count = forms.IntegerField(
        label="Number of codes", min_value=MIN_BATCH, max_value=MAX_BATCH, initial=50,
        help_text=f"One code per victim's letter or text message ({MIN_BATCH} to {MAX_BATCH}).",
        error_messages={"min_value": f"Issue at least {MIN_BATCH} codes: the platform keeps how many codes "
                                     "of each batch are used, so a small batch would say whether a "
                                     "particular person answered",
                        "max_value": f"Issue at most {MAX_BATCH} codes in one batch"})
    note = forms.CharField(label="Note for the unit's records", max_length=200, required=False,
                           help_text="For example the team or the week the letters go out. Never a name "
                                     "or a crime reference.")


class UnsuppressedForm(GovukForm):
    period = forms.RegexField(label="Period (year to date)", regex=r"^\s*\d{4}\s*-?\s*[Qq][1-4]\s*$",
                              required=False, max_length=12,
                              help_text="The year and the last quarter, for example 2026-Q3 (2026 Q1 to Q3). "
                                        "Leave empty for the latest quarter with responses.",
                              error_messages={"invalid": "Enter the year and the last quarter, like 2026-Q3"})
    purpose = forms.CharField(label="Why do you need the figures below the threshold?", max_length=300,
                              min_length=10, help_text="Recorded in the audit log with your name.")
