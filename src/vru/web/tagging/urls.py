"""URLs of the tagging app, mounted at /tagging/. No page here is public (docs/web-tagging.md)."""

from django.urls import path

from . import views

app_name = "tagging"
PUBLIC_VIEWS: tuple[str, ...] = ()

urlpatterns = [
    path("", views.wearers, name="wearers"),
    path("wearers/<int:pk>/", views.wearer_detail, name="wearer"),
    path("wearers/<int:pk>/trail/", views.trail, name="trail"),
    path("wearers/<int:pk>/zones/new/", views.zone_create, name="zone_create"),
    path("breaches/", views.breaches, name="breaches"),
    path("breaches/<int:pk>/", views.breach_detail, name="breach"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("matches/", views.matches, name="matches"),
    path("matches/<int:pk>/", views.match_detail, name="match"),
    path("matches/<int:pk>/review/", views.match_review, name="match_review"),
    path("matches/<int:pk>/report/", views.match_report, name="report"),
    path("matches/<int:pk>/report.pdf", views.match_report_pdf, name="report_pdf"),
    path("figures/", views.figures, name="figures"),
]
