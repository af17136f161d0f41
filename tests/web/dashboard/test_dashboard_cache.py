"""The dashboard's cache (vru.web.dashboard.cache): a cached page needs no warehouse, a changed warehouse
file is a new version, and a missing warehouse says how to build it."""

from __future__ import annotations

import re

import pytest
from dashboard_helpers import page_text
from django.urls import reverse

from vru.web.dashboard import cache as dcache

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_cached_page_is_served_without_the_warehouse(analyst, monkeypatch):
    first = analyst.get(reverse("dashboard:hotspots"))

    def refuse():
        raise AssertionError("the warehouse was opened for a cached page")

    monkeypatch.setattr(dcache, "open_warehouse", refuse)
    second = analyst.get(reverse("dashboard:hotspots"))

    def main(r):  # the page without the per-request CSRF token of the sign-out form
        return re.search(r"<main.*</main>", r.content.decode(), re.S).group(0)

    assert second.status_code == 200 and main(second) == main(first)


def test_warehouse_version_changes_when_the_file_changes(settings, tmp_path):
    import os

    p = tmp_path / "w.duckdb"
    p.write_bytes(b"x")
    settings.VRU_WAREHOUSE = str(p)
    v1 = dcache.warehouse_version()
    os.utime(p, ns=(1, 1))
    assert dcache.warehouse_version() != v1
    assert dcache.key("league", {"category": "a"}, v1) != dcache.key("league", {"category": "a"},
                                                                       dcache.warehouse_version())


def test_missing_warehouse_says_how_to_build_it(analyst, settings, tmp_path):
    settings.VRU_WAREHOUSE = str(tmp_path / "none.duckdb")
    r = analyst.get(reverse("dashboard:overview"))
    assert r.status_code == 503
    assert "vru init" in page_text(r)
    r = analyst.get(reverse("dashboard-api-boroughs"))
    assert r.status_code == 503 and "vru init" in r.json()["detail"]
    out = []

    class W:
        def write(self, s):
            out.append(s)

    assert dcache.warm(W()) == {"computed": 0, "failed": 0}
    assert "vru init" in "".join(out)
