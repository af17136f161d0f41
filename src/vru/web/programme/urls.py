"""URLs of the programme register, mounted at /programme/. No page here is public."""


from vru.web.core.routes import page

from . import views

app_name = "programme"
PUBLIC_VIEWS: tuple[str, ...] = ()

urlpatterns = [
    page("", views.index),
    page("areas/new/", views.area_create),
    page("areas/<int:pk>/", views.area_detail, name="area"),
    page("areas/<int:pk>/edit/", views.area_edit),
    page("consortia/new/", views.consortium_create),
    page("consortia/<int:pk>/", views.consortium_detail, name="consortium"),
    page("consortia/<int:pk>/edit/", views.consortium_edit),
    page("grants/new/", views.grant_create),
    page("grants/<int:pk>/", views.grant_detail, name="grant"),
    page("grants/<int:pk>/edit/", views.grant_edit),
    page("grants/<int:grant_pk>/interventions/new/", views.intervention_create),
    page("interventions/<int:pk>/edit/", views.intervention_edit),
    page("export/<slug:table>.csv", views.export_csv, name="export"),
    page("import/", views.import_csv, name="import"),
]
