"""The layout of tests/web/tagging: one module per page of ``tagging/urls.py``, named after its URL name
(``test_tagging_view_<urlname>.py``), so that a page without tests shows here rather than going unnoticed."""

from __future__ import annotations

from pathlib import Path

from vru.web.tagging.urls import app_name, urlpatterns

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


def test_every_page_of_the_app_has_its_test_module():
    missing = {name for name in _url_names() - WITHOUT_A_MODULE
               if not (HERE / f"test_{app_name}_view_{name}.py").is_file()}
    assert not missing, f"no test_{app_name}_view_<urlname>.py for: {sorted(missing)}"


def test_the_allow_list_names_only_pages_that_exist_and_still_have_no_module():
    assert WITHOUT_A_MODULE <= _url_names(), sorted(WITHOUT_A_MODULE - _url_names())
    written = {name for name in WITHOUT_A_MODULE if (HERE / f"test_{app_name}_view_{name}.py").is_file()}
    assert not written, f"remove from WITHOUT_A_MODULE, they have their module now: {sorted(written)}"


def test_every_view_module_is_named_after_a_page_of_the_app():
    strays = {p.name for p in HERE.glob(f"test_{app_name}_view_*.py")
              if p.stem.removeprefix(f"test_{app_name}_view_") not in _url_names()}
    assert not strays, f"named after no URL name of {app_name}/urls.py: {sorted(strays)}"
