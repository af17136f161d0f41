"""Every URL of the accounts pages (the home page and Django's sign-in, sign-out and password pages) has a
test module of its own, named after its URL name, so a view with no test is visible here rather than
lost in a module named after whoever wrote it."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import urls as auth_urls
from layout import problems

from vru.web.accounts import urls

HERE = Path(__file__).resolve().parent

# Views with no module of their own; each is the next step of a flow that its first view's module
# follows to its end.
WITHOUT_A_MODULE = {
    "password_change_done",  # test_accounts_view_password_change
    "password_reset_done",  # test_accounts_view_password_reset (where the form sends you)
    "password_reset_confirm",  # test_accounts_view_password_reset (the emailed link)
    "password_reset_complete",  # test_accounts_view_password_reset (after the new password)
}


def _url_names() -> set[str]:
    return {p.name for p in [*urls.urlpatterns, *auth_urls.urlpatterns]}


def test_every_view_has_its_test_module_and_the_allow_list_is_current():
    assert not (found := problems(HERE, "accounts", _url_names(), WITHOUT_A_MODULE)), "\n".join(found)
