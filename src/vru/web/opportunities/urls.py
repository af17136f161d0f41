"""URLs of the Local Village Network, mounted at /opportunities/."""

from django.urls import path

from . import signup, views

app_name = "opportunities"

# Deliberately public pages (no sign-in): finding opportunities, signing up as a young person, and the
# signposting shortlist a young person opens from a link (it holds nothing personal).
# The borough maps are public outlines from the bundled ONS boundaries (the map picker shows them).
# Sign-up's "check your email" page and the emailed link (a one-time token) are public too.
PUBLIC_VIEWS = ("search", "detail", "signup", "signup_check_email", "signup_confirm", "shortlist",
                "shortlist_print", "borough_map", "venue_map")

urlpatterns = [
    path("", views.search_page, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/map.svg", views.venue_map, name="venue_map"),
    path("sign-up/", views.signup, name="signup"),
    path("sign-up/check-your-email/", views.signup_check_email, name="signup_check_email"),
    path("sign-up/confirm/<uidb64>/<token>/", signup.ConfirmView.as_view(), name="signup_confirm"),
    path("shortlist/", views.shortlist, name="shortlist"),
    path("shortlist/print/", views.shortlist_print, name="shortlist_print"),
    path("maps/<str:code>.svg", views.borough_map, name="borough_map"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/favourite/", views.favourite, name="favourite"),
    path("<int:pk>/register/", views.register, name="register"),
    path("registrations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("provider/", views.provider_list, name="provider_list"),
    path("provider/new/", views.provider_new, name="provider_new"),
    path("provider/<int:pk>/", views.provider_detail, name="provider_detail"),
    path("provider/<int:pk>/edit/", views.provider_edit, name="provider_edit"),
    path("provider/<int:pk>/archive/", views.provider_archive, name="provider_archive"),
    path("provider/<int:pk>/registrations/", views.provider_registrations, name="provider_registrations"),
    path("moderation/", views.moderation_queue, name="moderation"),
    path("moderation/<int:pk>/", views.moderate, name="moderate"),
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/<int:pk>/verify/", views.verify, name="verify"),
]
