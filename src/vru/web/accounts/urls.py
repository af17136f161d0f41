
from vru.web.core.routes import page

from . import views

urlpatterns = [
    page("", views.home),
]

# Pages anyone may open without signing in (the platform-wide authorisation test reads these):
# the home page (a public landing page for visitors) and Django's sign-in and password-reset pages.
PUBLIC_VIEWS = (
    "home",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
)

# Pages every signed-in user may use, whatever their role (their own account only).
LOGIN_ONLY_VIEWS = ("password_change", "password_change_done")
