"""``{{ form|govuk }}``: GOV.UK Frontend markup for a form that does not use ``GovukFormMixin``
(Django's own sign-in and password forms): widget classes, the error summary, and each error
next to its field, exactly as ``{{ form }}`` renders a ``GovukFormMixin`` form. ``{% load govuk %}``."""

from django import template

from vru.web.core import tables
from vru.web.core.forms import govuk_style

register = template.Library()


@register.filter
def error_anchor(field) -> str:
    """The id an error summary links to for ``field``: the field's own input, or the first input of
    a group of radios or checkboxes (GOV.UK: "link to the first radio or checkbox"), whose own id is
    the field's id with ``_0`` after it."""
    from django.forms import CheckboxSelectMultiple, RadioSelect

    if isinstance(field.field.widget, (RadioSelect, CheckboxSelectMultiple)):
        return f"{field.auto_id}_0"
    return field.auto_id


@register.filter
def govuk(form):
    """Style ``form`` in place and return it (render it with ``{{ }}``, or use its fields)."""
    return govuk_style(form)


@register.filter
def columns(spec: str) -> list[tables.Column]:
    """``"Reference|Date|#Places"|columns``: the headings of ``core/table_head.html`` (``#``: numbers)."""
    return tables.columns(spec)
