"""Every dashboard page renders its charts as images with a text alternative (no inline SVG or style
attribute, which the Content-Security-Policy would block)."""

from __future__ import annotations

import re

import pytest
from dashboard_helpers import PAGES
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


@pytest.mark.parametrize("name,args", PAGES)
def test_every_page_renders_with_charts_as_images_with_alt_text(analyst, name, args):
    r = analyst.get(reverse(name, args=args))
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" not in html  # inline SVG would break the CSP (style attributes)
    assert ' style="' not in html
    for img in re.findall(r"<img [^>]*>", html):
        alt = re.search(r'alt="([^"]*)"', img)
        assert alt and len(alt.group(1)) > 15, img
    if name != "dashboard:area":
        assert 'class="vru-chart"' in html
