"""URLs of Rescue and Response, mounted at /referrals/. No page here is public; every case is named by its
UUID (docs/web-referrals.md)."""


from vru.web.core.routes import page

from . import views

app_name = "referrals"
PUBLIC_VIEWS: tuple[str, ...] = ()

urlpatterns = [
    page("", views.cases),
    page("mine/", views.mine),
    page("new/", views.new),
    page("mine/<uuid:pk>/", views.draft),
    page("triage/", views.triage),
    page("triage/<uuid:pk>/", views.decide),
    page("break-glass/", views.break_glass_report),
    page("cases/<uuid:pk>/", views.case),
    page("cases/<uuid:pk>/break-glass/", views.break_glass),
    page("cases/<uuid:pk>/allocate/", views.allocate),
    page("cases/<uuid:pk>/contact/", views.contact, name="contact"),
    page("cases/<uuid:pk>/need/", views.need, name="need"),
    page("cases/<uuid:pk>/risk/", views.risk, name="risk"),
    page("cases/<uuid:pk>/risk/<int:note>/review/", views.review_risk),
    page("cases/<uuid:pk>/risk/<int:item>/change/", views.change_risk, name="change_risk"),
    page("cases/<uuid:pk>/need/<int:item>/change/", views.change_need),
    page("cases/<uuid:pk>/rescue/", views.rescue, name="rescue"),
    page("cases/<uuid:pk>/contact/<int:item>/change/", views.change_contact),
    page("cases/<uuid:pk>/rescue/<int:item>/change/", views.change_rescue),
    page("cases/<uuid:pk>/missing/", views.missing, name="missing"),
    page("cases/<uuid:pk>/missing/<int:item>/change/", views.change_missing, name="change_missing"),
    page("cases/<uuid:pk>/close/", views.close),
    page("cases/<uuid:pk>/close/change/", views.change_closure),
    page("cases/<uuid:pk>/update/", views.update),
    page("cases/<uuid:pk>/access/", views.restrict),
    page("cases/<uuid:pk>/export.<str:fmt>", views.export),
    page("intelligence/", views.intelligence),
    page("intelligence/<uuid:pk>/", views.intelligence_detail),
    page("reports/", views.figures, name="reports"),
]
