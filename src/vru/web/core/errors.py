"""Error answers: JSON under ``/api/``, the GOV.UK error page everywhere else.

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

import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 5


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


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

