"""Names and checks shared by the dashboard's web test modules."""

from __future__ import annotations

import re
from html import unescape

from django.urls import reverse
from factories import SOUTHWARK

AREA = "E01003968"  # Southwark 015C
PAGES = [("dashboard:overview", ()), ("dashboard:borough", (SOUTHWARK,)),
         ("dashboard:area", (AREA,)), ("dashboard:hotspots", ()), ("dashboard:drivers", ()),
         ("dashboard:targeting", ()), ("dashboard:evaluation", ())]
API = [("dashboard-api-boroughs", ()), ("dashboard-api-borough", (SOUTHWARK,)),
       ("dashboard-api-area", (AREA,)), ("dashboard-api-hotspots", ()),
       ("dashboard-api-targeting", ()), ("dashboard-api-evaluation", ()),
       ("dashboard-api-drivers", ())]
#: The API endpoint that answers each page's filters.
API_OF = {"overview": "dashboard-api-boroughs", "hotspots": "dashboard-api-hotspots",
          "targeting": "dashboard-api-targeting", "evaluation": "dashboard-api-evaluation",
          "drivers": "dashboard-api-drivers"}


def page_text(resp) -> str:
    return unescape(re.sub(r"\s+", " ", resp.content.decode()))


def field_error(resp, field: str) -> str:
    """The GOV.UK error message shown next to ``field`` (empty if none)."""
    m = re.search(rf'<p id="id_{field}-error" class="govuk-error-message">(.*?)</p>',
                  resp.content.decode(), re.S)
    return unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip() if m else ""


def assert_refused_by_the_analysis(client, page: str, query: dict, message: str) -> None:
    """Parameters the form accepts but the analysis refuses: ``message`` on the page (200) and as the
    API's 400 ``detail``."""
    r = client.get(reverse(f"dashboard:{page}"), query)
    assert r.status_code == 200 and message in page_text(r)
    r = client.get(reverse(API_OF[page]), query)
    assert r.status_code == 400 and message in r.json()["detail"]
