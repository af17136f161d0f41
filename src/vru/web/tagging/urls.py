"""URLs of the tagging app, mounted at /tagging/. No page here is public (docs/web-tagging.md). Every page
answers ``Cache-Control: no-store`` (``never_cache``): trails, identities, matches and reports are
personal data that no browser or proxy may keep."""

from django.urls import path
from django.views.decorators.cache import never_cache

from . import views

app_name = "tagging"
PUBLIC_VIEWS: tuple[str, ...] = ()

urlpatterns = [
    path("", never_cache(views.wearers), name="wearers"),
    path("wearers/<int:pk>/", never_cache(views.wearer_detail), name="wearer"),
    path("wearers/<int:pk>/trail/", never_cache(views.trail), name="trail"),
    path("wearers/<int:pk>/zones/new/", never_cache(views.zone_create), name="zone_create"),
    path("breaches/", never_cache(views.breaches), name="breaches"),
    path("breaches/<int:pk>/", never_cache(views.breach_detail), name="breach"),
    path("batches/", never_cache(views.batches), name="batches"),
    path("batches/<int:pk>/", never_cache(views.batch_detail), name="batch"),
    path("matches/", never_cache(views.matches), name="matches"),
    path("matches/<int:pk>/", never_cache(views.match_detail), name="match"),
    path("matches/<int:pk>/review/", never_cache(views.match_review), name="match_review"),
    path("matches/<int:pk>/report/", never_cache(views.match_report), name="report"),
    path("matches/<int:pk>/report.pdf", never_cache(views.match_report_pdf), name="report_pdf"),
    path("figures/", never_cache(views.figures), name="figures"),
]
