"""Fixtures shared by several of the opportunities web test modules."""

from __future__ import annotations

import pytest
from factories import org, user


@pytest.fixture
def moderator(db):
    return user("mod@example.org", "programme manager")


@pytest.fixture
def provider(db):
    return user("staff@brixtonyouth.example.org", "provider", org("Brixton Youth Club"))


@pytest.fixture
def other_provider(db):
    return user("staff@peckham.example.org", "provider", org("Peckham Boxing"))


@pytest.fixture(autouse=True)
def _own_rate_limit_counts(settings, tmp_path):
    """The rate limits of each test here count in a file cache of the test's own. Twice in CI a count went
    missing part-way through a test of 11 or 21 requests: under pytest-xdist every worker used the
    controller's cache folder, and another worker's test cleared the counters (fixed in
    tests/web/conftest.py); a cache of the test's own keeps these tests independent of that too."""
    settings.CACHES = {**settings.CACHES, "ratelimit": {**settings.CACHES["ratelimit"],
                                                        "LOCATION": str(tmp_path / "ratelimit")}}
