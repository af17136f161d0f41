"""URL map of the platform.

- ``/`` home, ``/accounts/`` sign in/out and password reset, ``/admin/`` Django admin;
- ``/dashboard/`` analysis pages, ``/programme/`` MyEnds register, ``/opportunities/`` Local Village
  Network; ``/survey/`` the Victim Voice survey (public respondent pages, staff results);
- ``/api/v1/`` the read-only JSON API of each app, ``/api/schema/`` its OpenAPI description,
  ``/api/docs/`` Swagger UI (served offline by drf-spectacular-sidecar).
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from vru.web.accounts.views import RateLimitedPasswordResetView
from vru.web.dashboard import api as dashboard_api
from vru.web.opportunities import api as opportunities_api
from vru.web.programme import api as programme_api
from vru.web.referrals import api as referrals_api
from vru.web.tagging import api as tagging_api


def _swagger_csp(view):
    """Swagger UI (drf-spectacular-sidecar, served by the platform) sets inline styles from its
    scripts; this one page allows inline *styles* (never inline scripts): the site-wide policy with
    ``style-src 'self' 'unsafe-inline'``."""

    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = settings.VRU_CSP.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'")
        return response

    return wrapped


api_v1 = [
    path("dashboard/", include(dashboard_api.urlpatterns)),
    path("programme/", include(programme_api.urlpatterns)),
    path("opportunities/", include(opportunities_api.urlpatterns)),
    path("tagging/", include(tagging_api.urlpatterns)),
    path("referrals/", include(referrals_api.urlpatterns)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's password reset, with a rate limit on the emails it sends (before Django's own URL of it)
    path("accounts/password_reset/", RateLimitedPasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dashboard/", include("vru.web.dashboard.urls")),
    path("programme/", include("vru.web.programme.urls")),
    path("opportunities/", include("vru.web.opportunities.urls")),
    path("tagging/", include("vru.web.tagging.urls")),
    path("survey/", include("vru.web.survey.urls")),
    path("referrals/", include("vru.web.referrals.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", _swagger_csp(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
         name="api-docs"),
    path("", include("vru.web.accounts.urls")),
]

# Under /api/ an unhandled exception answers JSON (503 when the database is busy); elsewhere the 500 page.
handler500 = "vru.web.core.errors.server_error"
# ... and 404, 403 and 400 answer JSON under /api/ too ({"detail", "request_id"}); elsewhere Django's pages.
handler404 = "vru.web.core.errors.page_not_found"
handler403 = "vru.web.core.errors.permission_denied"
handler400 = "vru.web.core.errors.bad_request"
