"""Dashboard pages (mounted at /dashboard/); every page needs ``accounts.view_dashboard``."""

from django.urls import re_path

from vru.web.core.routes import page
from vru.web.dashboard import views

app_name = "dashboard"
PUBLIC_VIEWS: tuple[str, ...] = ()  # none: every dashboard page needs a signed-in user
urlpatterns = [
    page("", views.overview),
    page("borough/<str:code>/", views.borough),
    page("area/<str:code>/", views.area),
    page("hotspots/", views.hotspots),
    page("drivers/", views.drivers),
    page("targeting/", views.targeting),
    page("evaluation/", views.evaluation),
    re_path(r"^chart/(?P<sha>[0-9a-f]{64})\.svg$", views.chart, name="chart"),
]
