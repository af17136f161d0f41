"""GOV.UK-styled Django forms: ``GovukFormMixin`` gives every widget its GOV.UK Frontend class and,
after validation, ``aria-invalid`` and ``aria-describedby`` pointing at the error message shown next
to the field (``core/field.html``); ``core/form.html`` adds the error summary at the top, linked to
each field. Use it on any form: ``class MyForm(GovukFormMixin, forms.ModelForm)``.

The settings make these templates the project's form renderer, so ``{{ form }}`` renders GOV.UK markup.
"""

from __future__ import annotations

from django import forms
from django.forms.renderers import TemplatesSetting

_CLASSES = {
    "textarea": "govuk-textarea",
    "select": "govuk-select",
    "selectmultiple": "govuk-select",
    "checkbox": "govuk-checkboxes__input",
    "radioselect": "govuk-radios__input",
    "checkboxselectmultiple": "govuk-checkboxes__input",
    "clearablefile": "govuk-file-upload",
    "file": "govuk-file-upload",
}


class GovukRenderer(TemplatesSetting):
    form_template_name = "core/form.html"
    field_template_name = "core/field.html"


def _describe(field, ident: str) -> None:
    ids = field.widget.attrs.get("aria-describedby", "").split()
    if ident not in ids:
        ids.append(ident)
    field.widget.attrs["aria-describedby"] = " ".join(ids)


def style_fields(form) -> None:
    """Give every widget of ``form`` its GOV.UK Frontend class and link its hint (idempotent)."""
    for name, field in form.fields.items():
        kind = field.widget.__class__.__name__.lower().removesuffix("input").removesuffix("widget")
        css = _CLASSES.get(kind, "govuk-input")
        existing = field.widget.attrs.get("class", "")
        if css not in existing.split():
            field.widget.attrs["class"] = f"{css} {existing}".strip()
        if field.help_text:
            _describe(field, f"id_{form.add_prefix(name)}-hint")


def mark_errors(form) -> None:
    """After validation: ``aria-invalid``, the GOV.UK error class and a link to the error message."""
    for name in form.errors:
        if name in form.fields:
            field = form.fields[name]
            field.widget.attrs["aria-invalid"] = "true"
            css = field.widget.attrs.get("class", "")
            if "govuk-input" in css and "govuk-input--error" not in css:
                field.widget.attrs["class"] = css + " govuk-input--error"
            elif "govuk-select" in css and "govuk-select--error" not in css:
                field.widget.attrs["class"] = css + " govuk-select--error"
            elif "govuk-textarea" in css and "govuk-textarea--error" not in css:
                field.widget.attrs["class"] = css + " govuk-textarea--error"
            _describe(field, f"id_{form.add_prefix(name)}-error")


def govuk_style(form):
    """Style a form instance that does not use the mixin (Django's own authentication forms, say):
    the filter ``{{ form|govuk }}`` (``core/templatetags/govuk``) calls this. Drops Django's
    ``autofocus`` (GOV.UK: it moves screen-reader users past the page's heading and explanation)."""
    style_fields(form)
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    if form.is_bound:
        # GOV.UK error messages say what to do: "Enter your email address", not "This field is required."
        for name, errors in form.errors.items():
            if name in form.fields:
                required = str(form.fields[name].error_messages.get("required", ""))
                label = str(form.fields[name].label or name).lower()
                form.errors[name] = form.error_class(
                    [f"Enter your {label}" if str(e) == required else e for e in errors],
                    renderer=form.renderer,
                )
    if form.is_bound:
        mark_errors(form)
    return form


class GovukFormMixin:
    """Adds GOV.UK Frontend classes and accessible error wiring to a Django form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)

    @staticmethod
    def _describe(field, ident: str) -> None:
        _describe(field, ident)

    def full_clean(self):
        super().full_clean()
        mark_errors(self)


class GovukForm(GovukFormMixin, forms.Form):
    pass


class GovukModelForm(GovukFormMixin, forms.ModelForm):
    pass
