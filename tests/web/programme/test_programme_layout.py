"""Every URL of the programme app has a test module of its own, named after its URL name, so a view
with no test is visible here rather than lost in a module named after whoever wrote it."""

from __future__ import annotations

from pathlib import Path

from layout import problems

from vru.web.programme.urls import urlpatterns

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


def test_every_view_has_its_test_module_and_the_allow_list_is_current():
    assert not (found := problems(HERE, "programme", _url_names(), WITHOUT_A_MODULE)), "\n".join(found)
