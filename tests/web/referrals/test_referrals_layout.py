"""Rescue and Response: every view of the app (each URL name of its pages and of its API) has a test module
of its own, tests/web/referrals/test_referrals_view_<url name>.py, so that a view with no tests shows here.
An API name drops its ``referrals-`` prefix and writes ``-`` as ``_`` (``referrals-api-cases``:
``api_cases``)."""

from __future__ import annotations

from pathlib import Path

from layout import problems

from vru.web.referrals import api, urls

HERE = Path(__file__).resolve().parent

# Views with no module of their own yet: each is reached only by a test whose subject is another view (named
# here) and by the every-role-every-page tests (test_referrals_access_matrix.py). Give one a module, and take
# it off this list, when a test of its own is written.
NO_MODULE_YET = {
    "need": "recorded by the casework test in test_referrals_view_contact.py",
    "risk": "recorded by the casework test in test_referrals_view_contact.py",
    "rescue": "recorded by the casework test in test_referrals_view_contact.py",
    "missing": "recorded by the casework test in test_referrals_view_contact.py",
    "change_risk": "corrected in test_referrals_view_change_need.py (a need and a risk note)",
    "change_rescue": "corrected in test_referrals_view_change_contact.py (a contact and a rescue)",
    "intelligence": "listed in test_referrals_view_intelligence_detail.py (a council user's view)",
    "api_cases": "writes refused in test_referrals_append_only.py",
    "api_case": "writes refused in test_referrals_append_only.py",
    "api_mine": "writes refused in test_referrals_append_only.py",
    "api_intelligence": "writes refused in test_referrals_append_only.py",
    "api_intelligence_detail": "writes refused in test_referrals_append_only.py",
    "api_reports": "writes refused in test_referrals_append_only.py",
}


def _url_names() -> set[str]:
    pages = {p.name for p in urls.urlpatterns}
    endpoints = {p.name.removeprefix("referrals-").replace("-", "_") for p in api.urlpatterns}
    return pages | endpoints


def test_every_view_has_its_test_module_and_the_allow_list_is_current():
    assert not (found := problems(HERE, "referrals", _url_names(), NO_MODULE_YET)), "\n".join(found)
