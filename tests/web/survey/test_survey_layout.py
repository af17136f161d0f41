"""One test module per view: every URL name of the survey has its module here,
test_survey_view_<urlname>.py, so that a view with no test shows (add the module, or name the view in
``NO_MODULE_YET`` below with the reason)."""

from __future__ import annotations

from pathlib import Path

from layout import problems

HERE = Path(__file__).resolve().parent

# Views with no test module of their own yet; each is still reached by tests elsewhere, not as their subject.
NO_MODULE_YET = {
    "code": "shown in test_survey_view_resume.py and test_survey_languages.py",
    "done": "reached at the end of the flow in test_survey_view_start.py and test_survey_view_check.py",
    "results_csv": "read in test_survey_view_results.py and test_survey_results_release.py",
}


def _url_names() -> set[str]:
    from vru.web.survey.urls import urlpatterns

    return {p.name for p in urlpatterns}


def test_every_view_has_its_test_module_and_the_allow_list_is_current():
    assert not (found := problems(HERE, "survey", _url_names(), NO_MODULE_YET)), "\n".join(found)
