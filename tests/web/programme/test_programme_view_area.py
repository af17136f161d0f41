"""The ``programme:area`` view, ``/programme/areas/<int:pk>/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import SQUARE, signed_in
from programme_helpers import SQLITE

from vru.web.programme.models import (
    ProgrammeArea,
)

pytestmark = pytest.mark.django_db


def test_a_stored_bad_boundary_cannot_take_down_the_api_or_the_pages(bounds_world):
    """Rows written before these rules: shown without a boundary (or with the canonical one), never a 500."""
    area = bounds_world["area"]
    pm = signed_in(bounds_world["users"]["pm"])
    far = {"type": "Polygon", "coordinates": [[[100, 80], [101, 80], [101, 81], [100, 80]]]}
    bowtie = {"type": "Polygon", "coordinates": [[[-0.09, 51.47], [-0.08, 51.48], [-0.08, 51.47],
                                                  [-0.09, 51.48], [-0.09, 51.47]]]}
    bad = [({"type": "Polygon", "coordinates": "x", "crs": "EPSG:27700"}, None),
           ({"type": "Polygon", "coordinates": [[[-0.088, "51.471"]]]}, None),
           ({"type": "Polygon", "coordinates": [[[-0.088, 51.471]]]}, None),
           ({"type": "MultiPolygon", "coordinates": [[[[-0.088, 51.471], [-0.08, 51.4]]]]}, None),
           (["not", "an", "object"], None), (far, far), (bowtie, bowtie)]
    if SQLITE:  # PostgreSQL's jsonb refuses a lone surrogate, so only SQLite could hold one
        bad.append(({**SQUARE, "name": "\ud800"}, SQUARE))
    for value, shown in bad:
        ProgrammeArea.objects.filter(pk=area.pk).update(geometry=value, lsoa_codes=["E01003911", "\ud800"]
                                                        if SQLITE else ["E01003911", 5])
        for url in [reverse("programme-api-areas"), reverse("programme-api-area", kwargs={"pk": area.pk}),
                    reverse("programme:area", kwargs={"pk": area.pk}),
                    reverse("programme:area_edit", kwargs={"pk": area.pk}),
                    reverse("programme:export", kwargs={"table": "areas"})]:
            r = pm.get(url)
            assert r.status_code == 200, (value, url)
        one = pm.get(reverse("programme-api-area", kwargs={"pk": area.pk})).json()
        assert one["geometry"] == shown
        assert one["lsoa_codes"] == ["E01003911"]
