"""The ``tagging:figures`` page, /tagging/figures/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in, user

from vru.web.tagging import services

pytestmark = pytest.mark.django_db


@pytest.mark.world("pages")
def test_programme_figures_suppress_small_numbers_with_secondary_suppression(world):
    tables = services.figures_counts()
    assert tables["wearers"].loc["knife_licence"].sum() >= 1
    assert tables["positions"].to_numpy().sum() == len(services.positions_frame(None, None))
    figs = {f["key"]: f for f in services.figures()}
    pub = figs["wearers"]["table"]
    # four wearers: every month's count is below 10, so every interior cell is suppressed
    assert pub.drop(index="Total", columns="Total").isna().all().all()
    # positions are in the thousands per type and month: shown
    assert figs["positions"]["table"].loc["Total", "Total"] == len(services.positions_frame(None, None))
    r = signed_in(user("unit@x.test", "analyst")).get(reverse("tagging:figures"))
    assert r.status_code == 200 and "[c]" in r.content.decode()


@pytest.mark.world("pages")
def test_figures_page_is_linked_from_nowhere_it_should_not_be(world):
    # an offender manager does not see the unit's figures page
    assert signed_in(world.om).get(reverse("tagging:figures")).status_code == 403
