"""URLs of the Local Village Network, mounted at /opportunities/."""

from django.urls import path

from vru.web.core.routes import page

from . import signup, views

app_name = "opportunities"

# Deliberately public pages (no sign-in): finding opportunities, signing up as a young person, and the
# signposting shortlist a young person opens from a link (it holds nothing personal).
# The borough maps are public outlines from the bundled ONS boundaries (the map picker shows them).
# Sign-up's "check your email" page and the emailed link (a one-time token) are public too.
PUBLIC_VIEWS = ("search", "detail", "signup", "signup_check_email", "signup_confirm", "shortlist",
                "shortlist_print", "borough_map", "venue_map")

urlpatterns = [
    page("", views.search_page, name="search"),
    page("<int:pk>/", views.detail),
    page("<int:pk>/map.svg", views.venue_map),
    page("sign-up/", views.signup),
    page("sign-up/check-your-email/", views.signup_check_email),
    path("sign-up/confirm/<uidb64>/<token>/", signup.ConfirmView.as_view(), name="signup_confirm"),
    page("shortlist/", views.shortlist),
    page("shortlist/print/", views.shortlist_print),
    page("maps/<str:code>.svg", views.borough_map),
    page("mine/", views.mine),
    page("<int:pk>/favourite/", views.favourite),
    page("<int:pk>/register/", views.register),
    page("registrations/<int:pk>/cancel/", views.cancel),
    page("provider/", views.provider_list),
    page("provider/new/", views.provider_new),
    page("provider/<int:pk>/", views.provider_detail),
    page("provider/<int:pk>/edit/", views.provider_edit),
    page("provider/<int:pk>/archive/", views.provider_archive),
    page("provider/<int:pk>/registrations/", views.provider_registrations),
    page("moderation/", views.moderation_queue, name="moderation"),
    page("moderation/<int:pk>/", views.moderate),
    page("organisations/", views.organisations),
    page("organisations/<int:pk>/verify/", views.verify),
]
