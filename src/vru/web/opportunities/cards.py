"""The result card: one opportunity in a list (search results, a signposting shortlist).

Written with ``format_html`` rather than a template include: the search page shows 20 cards on every
search, and through Django's template engine they were the largest part of the page's time (7.4 ms of
21 ms a request over 25,000 opportunities; about 0.6 ms this way, benchmarks/lvn_search). Every value
is escaped by ``format_html``; the markup is GOV.UK Frontend's, as the rest of the app.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from vru.geography.boroughs import BOROUGHS

from .models import Opportunity

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_KINDS = dict(Opportunity.KINDS)


def day(d: dt.date) -> str:
    """``Mon 3 Aug 2026`` (GOV.UK style, the same as Django's ``date:"D j M Y"`` in English)."""
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def when(opp: Opportunity) -> str:
    text = day(opp.start_date)
    if opp.end_date != opp.start_date:
        text += f" to {day(opp.end_date)}"
    if opp.start_time:
        end = f"{opp.end_time:%H:%M}" if opp.end_time else ""
        text += f", {opp.start_time:%H:%M}–{end}"
    return text


def card(opp: Opportunity, *, sl: str = "", add_to_shortlist: str | None = None,
         in_shortlist: bool = False) -> SafeString:
    """The card's ``<li>``; ``sl`` (a shortlist being built) is carried to the detail page."""
    href = reverse("opportunities:detail", args=[opp.pk]) + (f"?sl={quote(sl, safe=',')}" if sl else "")
    price = (mark_safe('<strong class="govuk-tag govuk-tag--green">Free</strong>') if opp.is_free
             else format_html('<strong class="govuk-tag govuk-tag--yellow">£{}</strong>', opp.price))
    where = BOROUGHS.get(opp.borough, opp.borough) + (f": {opp.address}" if opp.address else "")
    distance = getattr(opp, "distance_km", None)
    facts = [("When", when(opp)), ("Where", where)]
    facts_html = format_html_join("", "<dt>{}</dt><dd>{}</dd>", facts)
    if distance is not None:  # inside the "Where" <dd>
        facts_html = mark_safe(facts_html.removesuffix("</dd>") + format_html(
            ' <span class="lvn-distance">({} km away)</span></dd>', f"{distance:.1f}"))
    more = [("Ages", f"{opp.min_age} to {opp.max_age}")]
    if opp.capacity is not None:
        more.append(("Places", f"{opp.remaining} left" if opp.remaining > 0 else "Full"))
    more.append(("By", opp.provider.name))
    facts_html += format_html_join("", "<dt>{}</dt><dd>{}</dd>", more)
    if add_to_shortlist:
        action = format_html('<p class="govuk-body-s"><a class="govuk-link" href="{}">Add to shortlist'
                             '<span class="govuk-visually-hidden">: {}</span></a></p>',
                             add_to_shortlist, opp.title)
    elif in_shortlist:
        action = mark_safe('<p class="govuk-body-s"><strong class="govuk-tag">On the shortlist</strong></p>')
    else:
        action = ""
    return format_html(
        '<li class="lvn-card">\n'
        '  <h3 class="govuk-heading-s lvn-card__title"><a class="govuk-link" href="{}">{}</a></h3>\n'
        '  <p class="govuk-body-s lvn-card__meta">\n'
        '    <strong class="govuk-tag govuk-tag--grey">{}</strong>\n    {}\n  </p>\n'
        '  <dl class="lvn-facts govuk-body-s">{}</dl>\n  {}\n</li>',
        href, opp.title, _KINDS.get(opp.kind, opp.kind), price, facts_html, action,
    )
