"""URLs of the programme register, mounted at /programme/. No page here is public."""

from django.urls import path

from . import views

app_name = "programme"
PUBLIC_VIEWS: tuple[str, ...] = ()

urlpatterns = [
    path("", views.index, name="index"),
    path("areas/new/", views.area_create, name="area_create"),
    path("areas/<int:pk>/", views.area_detail, name="area"),
    path("areas/<int:pk>/edit/", views.area_edit, name="area_edit"),
    path("consortia/new/", views.consortium_create, name="consortium_create"),
    path("consortia/<int:pk>/", views.consortium_detail, name="consortium"),
    path("consortia/<int:pk>/edit/", views.consortium_edit, name="consortium_edit"),
    path("grants/new/", views.grant_create, name="grant_create"),
    path("grants/<int:pk>/", views.grant_detail, name="grant"),
    path("grants/<int:pk>/edit/", views.grant_edit, name="grant_edit"),
    path("grants/<int:grant_pk>/interventions/new/", views.intervention_create, name="intervention_create"),
    path("interventions/<int:pk>/edit/", views.intervention_edit, name="intervention_edit"),
    path("export/<slug:table>.csv", views.export_csv, name="export"),
    path("import/", views.import_csv, name="import"),
]
