"""The ``dashboard:chart`` view, ``/dashboard/chart/<sha>.svg``: a page's chart as SVG, to permitted
users only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_chart_is_served_as_svg_to_permitted_users_only(analyst, norole):
    html = analyst.get(reverse("dashboard:overview")).content.decode()
    src = re.search(r'<img class="vru-chart" src="([^"]+)"', html).group(1)
    r = analyst.get(src)
    assert r.status_code == 200 and r["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in r.content
    assert norole.get(src).status_code == 403
    assert Client().get(src).status_code == 302
    assert analyst.get(reverse("dashboard:chart", args=["0" * 64])).status_code == 404
