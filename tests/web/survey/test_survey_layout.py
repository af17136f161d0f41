"""One test module per view: every URL name of the survey has its module here,
test_survey_view_<urlname>.py, so that a view with no test shows (add the module, or name the view in
``NO_MODULE_YET`` below with the reason)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

# Views with no test module of their own yet; each is still reached by tests elsewhere, not as their subject.
NO_MODULE_YET = {
    "code": "shown in test_survey_view_resume.py and test_survey_languages.py",
    "done": "reached at the end of the flow in test_survey_view_start.py and test_survey_view_check.py",
    "results_csv": "read in test_survey_view_results.py and test_survey_results_release.py",
}


def _url_names() -> list[str]:
    from vru.web.survey.urls import urlpatterns

    return [p.name for p in urlpatterns]


def test_every_survey_view_has_a_test_module():
    missing = [name for name in _url_names()
               if name not in NO_MODULE_YET and not (HERE / f"test_survey_view_{name}.py").is_file()]
    assert not missing, f"views with no test_survey_view_<name>.py module: {missing}"


def test_the_allow_list_and_the_view_modules_name_only_existing_views():
    names = set(_url_names())
    assert set(NO_MODULE_YET) <= names
    modules = {p.stem.removeprefix("test_survey_view_") for p in HERE.glob("test_survey_view_*.py")}
    assert modules <= names, f"modules named after no survey URL: {sorted(modules - names)}"
    assert not modules & set(NO_MODULE_YET), "a view with a module is still on the allow-list"
