"""Number formatting for the register's pages (thousands separators, pounds)."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def num(value) -> str:
    """12345 -> '12,345'; None -> '–'."""
    if value is None or value == "":
        return "–"
    return f"{int(value):,}"


@register.filter
def money(value) -> str:
    """Decimal pounds -> '£750,000' (pence shown only when there are any)."""
    if value is None or value == "":
        return "–"
    d = Decimal(value)
    return f"£{d:,.0f}" if d == d.to_integral_value() else f"£{d:,.2f}"


@register.filter
def get(mapping, key):
    """``row|get:"reached_14_17"``: a dict's value in a template."""
    return mapping.get(key) if hasattr(mapping, "get") else getattr(mapping, key, None)
