"""The ``tagging:batch`` page, /tagging/batches/<pk>/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import signed_in

from vru.web.tagging import services
from vru.web.tagging.models import MatchRun

pytestmark = pytest.mark.django_db


def _runs(body: str) -> str:
    return re.search(r'<ul class="govuk-list" id="runs">(.*?)</ul>', body, re.S).group(1)


@pytest.mark.world("pending")
def test_a_police_analyst_sees_only_the_count_of_qualified_matches_of_a_run(world):
    url = reverse("tagging:batch", args=[world.batch.pk])
    runs = _runs(signed_in(world.pa).get(url).content.decode())
    assert "0 qualified matches" in runs and f"{len(world.matches)} match" not in runs
    services.review_match(world.matches[0], world.reviewer, "qualified", "corroborated by CCTV")
    services.review_match(world.matches[1], world.reviewer, "dismissed", "a bus passing by")
    runs = _runs(signed_in(world.pa).get(url).content.decode())
    assert "1 qualified match," not in runs and re.search(r"\b1 qualified match\b", runs)


@pytest.mark.world("pending")
def test_a_failed_runs_error_text_is_not_shown_to_the_police(world):
    MatchRun.objects.create(algorithm_version="x", trigger="MANUAL", started=timezone.now(), status="FAILURE",
                            error="OSError: /srv/vru/tagging-positions/day=2024-03-04 unreadable",
                            batch=world.batch)
    body = signed_in(world.pa).get(reverse("tagging:batch", args=[world.batch.pk])).content.decode()
    assert "FAILURE" in _runs(body) and "/srv/vru" not in body and "unreadable" not in body
