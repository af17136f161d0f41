"""Every URL of the dashboard has a test module of its own, named after its URL name, so a view with no
test is visible here rather than lost in a module named after whoever wrote it. (The API endpoints are
tested with the page they answer for, and together in test_dashboard_api.py.)"""

from __future__ import annotations

from pathlib import Path

from layout import problems

from vru.web.dashboard.urls import urlpatterns

HERE = Path(__file__).resolve().parent


def test_every_view_has_its_test_module():
    assert not (found := problems(HERE, "dashboard", {p.name for p in urlpatterns}, ())), "\n".join(found)
