"""``{{ form|govuk }}``: GOV.UK Frontend markup for a form that does not use ``GovukFormMixin``
(Django's own sign-in and password forms): widget classes, the error summary, and each error
next to its field, exactly as ``{{ form }}`` renders a ``GovukFormMixin`` form. ``{% load govuk %}``."""

from django import template

from vru.web.core.forms import govuk_style

register = template.Library()


@register.filter
def govuk(form):
    """Style ``form`` in place and return it (render it with ``{{ }}``, or use its fields)."""
    return govuk_style(form)
