"""Fixtures of the dashboard's web tests: the London warehouse behind the pages, two signed-in clients,
and the analysis's own results the pages are compared with (each computed once per module; the pages'
results are cached in the session's temporary cache folder, tests/web/conftest.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from factories import signed_in, user


@pytest.fixture
def dashboard_warehouse(settings, london_warehouse):
    """The dashboard reads the London warehouse built from the bundled data (tests/conftest.py)."""
    settings.VRU_WAREHOUSE = str(london_warehouse)


@pytest.fixture
def analyst() -> Client:
    return signed_in(user("analyst@example.org", "analyst"))


@pytest.fixture
def norole() -> Client:
    return signed_in(user("nobody@example.org"))


@pytest.fixture(scope="module")
def league_vap(wh):
    """The needs analysis's borough league table of robbery (the overview's default measure)."""
    from vru.analysis import needs
    from vru.geography import MPS_BOROUGHS
    from vru.pipelines.london import LondonParams
    from vru.warehouse import queries as q

    p = LondonParams()
    s = q.crime_series(wh, source=p.source, level="borough", category="robbery")
    pop = q.population(wh, level="borough", year=p.pop_year).set_index("area_code")["population"]
    last = q.crime_months(wh, p.source)[1]
    return needs.league_table(s, pop, last, areas=list(MPS_BOROUGHS))


@pytest.fixture(scope="module")
def hotspots_ref(wh):
    """The hot spot pipeline's result with the default parameters."""
    from vru.pipelines import hotspots as ph

    return ph.run(wh, compare=False)
