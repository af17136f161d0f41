"""Every URL of the opportunities app has a test module of its own, named after its URL name, so a view
with no test is visible here rather than lost in a module named after whoever wrote it."""

from __future__ import annotations

from pathlib import Path

from layout import problems

from vru.web.opportunities.urls import urlpatterns

HERE = Path(__file__).resolve().parent

# Views with no module of their own yet; each is only reached by tests whose subject is another view or
# a concern. Remove a name when its test_opportunities_view_<name>.py is written.
WITHOUT_A_MODULE = {
    "detail",  # test_opportunities_services (live items only; "Full"), test_opportunities_access_matrix
    "venue_map",  # test_opportunities_access_matrix (public) only
    "borough_map",  # test_opportunities_access_matrix (public) only
    "signup_check_email",  # reached after a sign-up in test_opportunities_view_signup
    "shortlist_print",  # test_opportunities_view_shortlist, test_opportunities_access_matrix
    "mine",  # test_opportunities_view_favourite, test_opportunities_view_register
    "provider_detail",  # test_opportunities_access_matrix (roles; another organisation's: 404)
    "provider_archive",  # test_opportunities_access_matrix (roles; another organisation's: 404)
    "provider_registrations",  # test_opportunities_view_register (the provider sees what was shared)
    "organisations",  # test_opportunities_view_verify (the list an administrator verifies from)
}


def _url_names() -> set[str]:
    return {p.name for p in urlpatterns}


def test_every_view_has_its_test_module_and_the_allow_list_is_current():
    assert not (found := problems(HERE, "opportunities", _url_names(), WITHOUT_A_MODULE)), "\n".join(found)
