"""URLs of the survey, mounted at /survey/. The respondent's pages are public (no account); no URL holds
a code (an invitation code travels in the query string, which the platform never logs; the resume code in
a cookie or a POST). Staff pages need their permission (docs/web-survey.md)."""

from django.urls import path

from . import views

app_name = "survey"
PUBLIC_VIEWS = ("choose_language", "start", "code", "resume", "step", "check", "done")

urlpatterns = [
    path("", views.choose_language, name="choose_language"),
    path("staff/invitations/", views.issue_invitations, name="invitations"),
    path("results/", views.results_page, name="results"),
    path("results.csv", views.results_csv, name="results_csv"),
    path("<str:lang>/", views.start, name="start"),
    path("<str:lang>/code/", views.show_code, name="code"),
    path("<str:lang>/resume/", views.resume, name="resume"),
    path("<str:lang>/q/<int:step>/", views.step, name="step"),
    path("<str:lang>/check/", views.check, name="check"),
    path("<str:lang>/done/", views.done, name="done"),
]
