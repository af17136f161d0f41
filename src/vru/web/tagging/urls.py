"""URLs of the tagging app, mounted at /tagging/. No page here is public (docs/web-tagging.md). Every page
answers ``Cache-Control: no-store`` (``never_cache``): trails, identities, matches and reports are
personal data that no browser or proxy may keep."""


from django.views.decorators.cache import never_cache

from vru.web.core.routes import page

from . import views

app_name = "tagging"
PUBLIC_VIEWS: tuple[str, ...] = ()

urlpatterns = [
    page("", never_cache(views.wearers)),
    page("wearers/<int:pk>/", never_cache(views.wearer_detail), name="wearer"),
    page("wearers/<int:pk>/trail/", never_cache(views.trail)),
    page("wearers/<int:pk>/zones/new/", never_cache(views.zone_create)),
    page("breaches/", never_cache(views.breaches)),
    page("breaches/<int:pk>/", never_cache(views.breach_detail), name="breach"),
    page("batches/", never_cache(views.batches)),
    page("batches/<int:pk>/", never_cache(views.batch_detail), name="batch"),
    page("matches/", never_cache(views.matches)),
    page("matches/<int:pk>/", never_cache(views.match_detail), name="match"),
    page("matches/<int:pk>/review/", never_cache(views.match_review)),
    page("matches/<int:pk>/report/", never_cache(views.match_report), name="report"),
    page("matches/<int:pk>/report.pdf", never_cache(views.match_report_pdf), name="report_pdf"),
    page("figures/", never_cache(views.figures)),
]
