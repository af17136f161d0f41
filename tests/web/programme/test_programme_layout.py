"""Every URL of the programme app has a test module of its own, named after its URL name, so a view
with no test is visible here rather than lost in a module named after whoever wrote it."""

from __future__ import annotations

from pathlib import Path

from vru.web.programme.urls import app_name, urlpatterns

HERE = Path(__file__).resolve().parent

# Views with no module of their own yet; each is only reached by tests whose subject is another view or
# a concern. Remove a name when its test_programme_view_<name>.py is written.
WITHOUT_A_MODULE = {
    "index",  # test_programme_access_matrix, test_programme_rollups (the register's roll-ups)
    "consortium",  # test_programme_access_matrix, test_programme_view_consortium_create (where it lands)
    "intervention_edit",  # test_programme_access_matrix, test_programme_view_intervention_create
}


def _url_names() -> set[str]:
    return {p.name for p in urlpatterns}


def _view_modules() -> set[str]:
    prefix = f"test_{app_name}_view_"
    return {p.stem.removeprefix(prefix) for p in HERE.glob(f"{prefix}*.py")}


def test_every_view_has_a_test_module_named_after_its_url_name():
    missing = _url_names() - _view_modules() - WITHOUT_A_MODULE
    assert not missing, f"no test_{app_name}_view_<name>.py for: {sorted(missing)}"


def test_every_view_module_names_a_url_and_the_allow_list_is_not_stale():
    names = _url_names()
    assert not _view_modules() - names, f"modules for no URL name: {sorted(_view_modules() - names)}"
    stale = WITHOUT_A_MODULE - names
    assert not stale, f"allow-listed but not a URL name: {sorted(stale)}"
    written = WITHOUT_A_MODULE & _view_modules()
    assert not written, f"has a module now, take it off WITHOUT_A_MODULE: {sorted(written)}"
