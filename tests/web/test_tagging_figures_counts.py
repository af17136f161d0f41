"""Small fixes: the purge refuses a retention under one day (finding 13); the
programme figures count a match once per crime version and wearer, however many runs found it (15)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from test_tagging_util import ingest, make_world, planted

from vru.web.tagging import services
from vru.web.tagging.models import Match

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path)


@pytest.mark.parametrize("days", ["0", "-5"])
def test_the_purge_refuses_a_retention_under_a_day(world, days):
    before = services.positions_frame(None, None)
    with pytest.raises(CommandError, match="at least 1"):
        call_command("tagging_purge", "--days", days)
    with pytest.raises(ValueError, match="at least 1 day"):
        services.purge(days=int(days))
    assert len(services.positions_frame(None, None)) == len(before) > 0


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
