"""URLs of Rescue and Response, mounted at /referrals/. No page here is public; every case is named by its
UUID (docs/web-referrals.md)."""

from django.urls import path

from . import views

app_name = "referrals"
PUBLIC_VIEWS: tuple[str, ...] = ()

urlpatterns = [
    path("", views.cases, name="cases"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("mine/<uuid:pk>/", views.draft, name="draft"),
    path("triage/", views.triage, name="triage"),
    path("triage/<uuid:pk>/", views.decide, name="decide"),
    path("break-glass/", views.break_glass_report, name="break_glass_report"),
    path("cases/<uuid:pk>/", views.case, name="case"),
    path("cases/<uuid:pk>/break-glass/", views.break_glass, name="break_glass"),
    path("cases/<uuid:pk>/allocate/", views.allocate, name="allocate"),
    path("cases/<uuid:pk>/contact/", views.contact, name="contact"),
    path("cases/<uuid:pk>/need/", views.need, name="need"),
    path("cases/<uuid:pk>/risk/", views.risk, name="risk"),
    path("cases/<uuid:pk>/risk/<int:note>/review/", views.review_risk, name="review_risk"),
    path("cases/<uuid:pk>/risk/<int:item>/change/", views.change_risk, name="change_risk"),
    path("cases/<uuid:pk>/need/<int:item>/change/", views.change_need, name="change_need"),
    path("cases/<uuid:pk>/rescue/", views.rescue, name="rescue"),
    path("cases/<uuid:pk>/contact/<int:item>/change/", views.change_contact, name="change_contact"),
    path("cases/<uuid:pk>/rescue/<int:item>/change/", views.change_rescue, name="change_rescue"),
    path("cases/<uuid:pk>/missing/", views.missing, name="missing"),
    path("cases/<uuid:pk>/missing/<int:item>/change/", views.change_missing, name="change_missing"),
    path("cases/<uuid:pk>/close/", views.close, name="close"),
    path("cases/<uuid:pk>/close/change/", views.change_closure, name="change_closure"),
    path("cases/<uuid:pk>/update/", views.update, name="update"),
    path("cases/<uuid:pk>/access/", views.restrict, name="restrict"),
    path("cases/<uuid:pk>/export.<str:fmt>", views.export, name="export"),
    path("intelligence/", views.intelligence, name="intelligence"),
    path("intelligence/<uuid:pk>/", views.intelligence_detail, name="intelligence_detail"),
    path("reports/", views.figures, name="reports"),
]
