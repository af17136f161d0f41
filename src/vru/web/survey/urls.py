"""URLs of the survey, mounted at /survey/. The respondent's pages are public (no account); no URL holds
a code (an invitation code travels in the query string, which the platform never logs; the resume code in
a cookie or a POST). Staff pages need their permission (docs/web-survey.md)."""


from vru.web.core.routes import page

from . import views

app_name = "survey"
PUBLIC_VIEWS = ("choose_language", "start", "code", "resume", "step", "check", "done")

urlpatterns = [
    page("", views.choose_language),
    page("staff/invitations/", views.issue_invitations, name="invitations"),
    page("results/", views.results_page, name="results"),
    page("results.csv", views.results_csv),
    page("<str:lang>/", views.start),
    page("<str:lang>/code/", views.show_code, name="code"),
    page("<str:lang>/resume/", views.resume),
    page("<str:lang>/q/<int:step>/", views.step),
    page("<str:lang>/check/", views.check),
    page("<str:lang>/done/", views.done),
]
