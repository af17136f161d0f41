"""Error answers: JSON under ``/api/``, the GOV.UK error page everywhere else.

``page_not_found``, ``permission_denied`` and ``bad_request`` are the platform's ``handler404``,
``handler403`` and ``handler400``: under ``/api/`` (``/api/v1/nope/``, ``/api/`` itself) they answer
``{"detail": ..., "request_id": ...}`` with their status; elsewhere Django's own pages. :func:`error_body`
is the same answer as bytes, for the request size limits that answer before Django's URL handling
(``vru.web.middleware.RequestSizeLimitMiddleware`` and, under ASGI, ``vru.web.asgi.BodyLimit``): JSON under
``/api/``, plain text elsewhere.

``server_error`` is the platform's ``handler500``: Django calls it for any exception that escapes a view
or a middleware (and logs the exception, with its traceback, on ``django.request``). Under ``/api/`` it
answers ``{"detail": ..., "request_id": ...}`` as JSON: 503 with ``Retry-After`` when the database is
busy or unreachable (a locked SQLite database, a lost PostgreSQL connection), 500 otherwise. Elsewhere
it is Django's own ``server_error`` (the ``500.html`` page, rendered without touching the database).

DRF answers the errors it knows (400, 403, 404...) as JSON itself, in the shape each API documents (the
Open Referral UK API's errors are fixed by its standard), and re-raises any other exception, which so
comes here: one place for every unexpected error, in DRF views and elsewhere. Every answer carries the
request id in its ``X-Request-ID`` header (``vru.web.middleware.RequestIdMiddleware``).
"""

from __future__ import annotations

import json
import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 5


def is_api(request) -> bool:
    return is_api_path(request.path_info)


def is_api_path(path_info: str) -> bool:
    return path_info.startswith(API_PREFIX) or path_info == API_PREFIX.rstrip("/")


def error_body(path_info: str, detail: str, request_id: str | None) -> tuple[bytes, str]:
    """The body and content type of an error answer: ``{"detail", "request_id"}`` as JSON under ``/api/``,
    the detail as a line of text elsewhere."""
    if is_api_path(path_info):
        return (json.dumps({"detail": detail, "request_id": request_id}).encode(), "application/json")
    return f"{detail}\n".encode(), "text/plain; charset=utf-8"


def _json(request, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "request_id": getattr(request, "request_id", None)}, status=status)


def page_not_found(request, exception, template_name: str = defaults.ERROR_404_TEMPLATE_NAME):
    if is_api(request):
        return _json(request, "Not found.", 404)
    return defaults.page_not_found(request, exception, template_name)


def permission_denied(request, exception, template_name: str = defaults.ERROR_403_TEMPLATE_NAME):
    if is_api(request):
        return _json(request, "You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception, template_name)


def bad_request(request, exception, template_name: str = defaults.ERROR_400_TEMPLATE_NAME):
    if is_api(request):
        return _json(request, "Bad request.", 400)
    return defaults.bad_request(request, exception, template_name)


def _database_unavailable(exc) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME):
    exc = sys.exc_info()[1]
    if not is_api(request):
        return defaults.server_error(request, template_name)
    request_id = getattr(request, "request_id", None)
    if _database_unavailable(exc):
        response = JsonResponse({"detail": "The service is busy. Try again in a few seconds.",
                                 "request_id": request_id}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"detail": "Sorry, there is a problem with the service.", "request_id": request_id},
                        status=500)

