"""The programme figures (``services.figures_counts``, ``services.figures``): counts and suppression."""

from __future__ import annotations

import pandas as pd
import pytest
from tagging_util import ingest, planted

from vru.web.tagging import services
from vru.web.tagging.models import Match

pytestmark = pytest.mark.django_db


def test_a_rerun_does_not_inflate_the_match_figures(world):
    batch = ingest(planted(2, decoys=0), world.pa)
    first = services.figures_counts()
    n = Match.objects.count()
    services.run_matching(batch.versions.all(), trigger="MANUAL")  # a rerun: the same matches again
    assert Match.objects.count() == 2 * n
    m = Match.objects.order_by("pk").last()
    services.review_match(m, world.reviewer, "qualified", "checked against the crime report")
    again = services.figures_counts()
    assert again["matches"].to_numpy().sum() == first["matches"].to_numpy().sum() == n
    assert again["qualified"].to_numpy().sum() == 1


@pytest.mark.world("pages")
def test_secondary_suppression_hides_a_cell_a_total_would_reveal(world, monkeypatch):
    counts = {k: v.copy() for k, v in services.figures_counts().items()}
    t = pd.DataFrame({"2024-03": [3, 40, 50, 60]}, index=[x for x, _ in services.ORDER_TYPES]
                     if hasattr(services, "ORDER_TYPES") else ["knife_licence", "da_licence", "stalking",
                                                               "acquisitive"])
    t["2024-04"] = [30, 45, 55, 65]
    counts["matches"] = t
    monkeypatch.setattr(services, "figures_counts", lambda: counts)
    pub = {f["key"]: f for f in services.figures()}["matches"]["table"]
    assert pd.isna(pub.loc["knife_licence", "2024-03"])  # primary: 3 < 10
    # secondary: the knife-crime row total minus 2024-04 would give it away, so another cell goes too
    assert pub.loc["knife_licence"].isna().sum() >= 2
    assert pub.loc[:, "2024-03"].isna().sum() >= 2
