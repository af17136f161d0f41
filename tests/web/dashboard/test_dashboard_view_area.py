"""The ``dashboard:area`` view, ``/dashboard/area/<code>/``, and its API (``dashboard-api-area``): the
LSOA's series, hot spot category, targeting score and deprivation are the analysis's."""

from __future__ import annotations

import pandas as pd
import pytest
from dashboard_helpers import AREA, page_text
from django.urls import reverse
from factories import SOUTHWARK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_area_page_equals_the_analysis(analyst, wh, hotspots_ref):
    from vru.pipelines import targeting as pt
    from vru.warehouse import queries as q

    api = analyst.get(reverse("dashboard-api-area", args=[AREA])).json()
    a = q.crime_annual(wh, source="mps_lsoa_annual_millington", level="lsoa",
                       category="violence_against_the_person")
    mine = a[a["area_code"] == AREA].set_index("year")["count"]
    got = {s["year"]: s["count"] for s in api["series"]}
    assert got == {int(y): (None if pd.isna(v) else int(v)) for y, v in mine.items()}
    assert got[2020] is None  # known wrong in the source
    hs = hotspots_ref.areas.set_index("code")
    assert api["hotspot"]["category"] == hs.loc[AREA, "category"]
    assert api["hotspot"]["n_hot"] == hs.loc[AREA, "n_hot"]
    cand = pt.run(wh, pt.TargetParams(level="lsoa")).candidates
    assert api["targeting"]["score"] == pytest.approx(cand.loc[AREA, "score"])
    imd = q.deprivation(wh, level="lsoa", measure="imd_score").set_index("area_code")["value"]
    assert api["imd_score"] == pytest.approx(imd[AREA])
    page = page_text(analyst.get(reverse("dashboard:area", args=[AREA])))
    assert "Southwark 015C" in page and f"{cand.loc[AREA, 'score']:+.2f}" in page
    assert reverse("dashboard:borough", args=[SOUTHWARK]) in page
