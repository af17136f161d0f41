"""The layout of tests/web/tagging: one module per page of ``tagging/urls.py``, named after its URL name
(``test_tagging_view_<urlname>.py``), so that a page without tests shows here rather than going unnoticed."""

from __future__ import annotations

from pathlib import Path

from layout import problems

from vru.web.tagging.urls import urlpatterns

HERE = Path(__file__).resolve().parent

#: URL names with no module of their own yet, each with where it is exercised today. Remove a name when its
#: module is written; a new page may not be added here instead of being tested.
WITHOUT_A_MODULE = {
    # the breach list: opened by the access matrix and the no-store check, and read by
    # test_tagging_view_breach.py::test_breach_times_are_utc_in_summer (which checks the list too)
    "breaches",
    # the PDF of a report: opened by the access matrix and the no-store check; its bytes and audit row are
    # checked in test_tagging_view_match_review.py, its 404s in test_tagging_view_report.py
    "report_pdf",
}


def _url_names() -> set[str]:
    return {p.name for p in urlpatterns if p.name}


def test_every_view_has_its_test_module_and_the_allow_list_is_current():
    assert not (found := problems(HERE, "tagging", _url_names(), WITHOUT_A_MODULE)), "\n".join(found)
