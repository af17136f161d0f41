"""Dashboard pages (mounted at /dashboard/); every page needs ``accounts.view_dashboard``."""

from django.urls import path, re_path

from vru.web.dashboard import views

app_name = "dashboard"
PUBLIC_VIEWS: tuple[str, ...] = ()  # none: every dashboard page needs a signed-in user
urlpatterns = [
    path("", views.overview, name="overview"),
    path("borough/<str:code>/", views.borough, name="borough"),
    path("area/<str:code>/", views.area, name="area"),
    path("hotspots/", views.hotspots, name="hotspots"),
    path("drivers/", views.drivers, name="drivers"),
    path("targeting/", views.targeting, name="targeting"),
    path("evaluation/", views.evaluation, name="evaluation"),
    re_path(r"^chart/(?P<sha>[0-9a-f]{64})\.svg$", views.chart, name="chart"),
]
