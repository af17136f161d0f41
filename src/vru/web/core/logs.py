"""Logs a log collector reads, with no personal data in them.

Every line on standard error is one JSON object: ``time``, ``level``, ``logger``, ``message`` and, for a
line written while serving a request, ``request_id``, ``method``, ``path`` (never the query string),
``status`` and ``user_id`` (the user's primary key, never their e-mail address); an error's traceback is
in ``exc``. Request bodies, query strings, cookies and headers are never logged, and anything that looks
like an e-mail address in a message or a traceback (a database error can quote a row) is replaced by
``[email]``.

The e-mail to ``settings.ADMINS`` (``SafeAdminEmailHandler``) carries the same line and nothing more;
Django's own one would carry the POSTed form, the cookies, the headers and the signed-in user's
address. ``SafeReporterFilter`` (``DEFAULT_EXCEPTION_REPORTER_FILTER``) hides the POSTed data, local
variables, cookies and headers from any other error report; Django's debug page (development only, never
in production) still shows the query string and the signed-in user.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys

from django.utils.functional import SimpleLazyObject, empty
from django.utils.log import AdminEmailHandler
from django.views.debug import SafeExceptionReporterFilter

# The request being served (set by vru.web.middleware.RequestIdMiddleware), for lines logged by any code.
current_request: contextvars.ContextVar = contextvars.ContextVar("vru_web_request", default=None)

EMAIL = re.compile(r"[^\s@\"'<>(),;:/]+@[^\s@\"'<>(),;:/]+\.[A-Za-z]{2,}")
# The one-time links' tokens (password reset, sign-up confirmation): a 4xx on such a link logs its path.
TOKEN = re.compile(r"/(reset|confirm)/[^/\s]+/[^/\s]+")
# runserver's access line: '"GET /path?query HTTP/1.1" 200 123'
QUERY = re.compile(r"(\s/[^\s?]*)\?\S*")


def redact(text: str) -> str:
    """No e-mail address and no one-time link token, in a message or a path."""
    return TOKEN.sub(r"/\1/[token]", EMAIL.sub("[email]", text))


def user_id(request):
    """The signed-in user's primary key, without a database query (None when not yet known)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped if user._wrapped is not empty else request.__dict__.get("_cached_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    return None


def request_fields(request) -> dict:
    fields = {"request_id": getattr(request, "request_id", None),
              "method": getattr(request, "method", None),
              "path": redact(getattr(request, "path", None) or "") or None}
    try:
        fields["user_id"] = user_id(request)
    except Exception:  # a log line never fails
        fields["user_id"] = None
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; see the module's docstring for the fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name == "django.server":
            message = QUERY.sub(r"\1", message)
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(message),
        }
        request = getattr(record, "request", None)
        if not hasattr(request, "META"):  # django.server passes a socket; other loggers none
            request = current_request.get()
        if request is not None:
            line.update(request_fields(request))
        status = getattr(record, "status_code", None)
        if status is not None:
            line["status"] = status
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc"] = redact(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is when it writes."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


class SafeAdminEmailHandler(AdminEmailHandler):
    """Mail ``settings.ADMINS`` (nothing when it is empty) the JSON line of an error: the path, the
    request id and the traceback; never the request's data or the user's address."""

    def emit(self, record: logging.LogRecord) -> None:
        line = JsonFormatter().format(record)
        subject = redact(f"{record.levelname}: {record.getMessage()}")
        self.send_mail(self.format_subject(subject), line, fail_silently=True)


class SafeReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports without personal data: no POST data, no local variables, no cookies,
    only the request's method and path from its headers, and the addresses in settings hidden."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|ADMINS|MANAGERS|EMAIL|DATABASE", flags=re.I)

    def is_active(self, request):
        return True

    def get_post_parameters(self, request):
        if request is not None and getattr(request, "method", "") not in ("GET", "HEAD"):
            return {"[hidden]": "request bodies are never reported"}
        return {}

    def get_traceback_frame_variables(self, request, tb_frame):
        return []

    def get_safe_cookies(self, request):
        return {}

    def get_safe_request_meta(self, request):
        if request is None or not hasattr(request, "META"):
            return {}
        return {k: request.META[k] for k in ("REQUEST_METHOD", "PATH_INFO") if k in request.META}


def json_logging(root_level: str, loggers: dict[str, dict], **handlers: dict) -> dict:
    """The ``logging.config.dictConfig`` of the platform's lines: :class:`JsonFormatter` lines on standard
    error (the handler ``stderr``) from the root logger at ``root_level`` and from ``loggers``, with
    ``handlers`` added by name. Django's settings (``LOGGING``) and gunicorn's (``logconfig_dict``) both
    use it, so that every process writes the same lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "vru.web.core.logs.JsonFormatter"}},
        "handlers": {"stderr": {"()": "vru.web.core.logs.StderrHandler", "formatter": "json"}, **handlers},
        "root": {"handlers": ["stderr"], "level": root_level},
        "loggers": loggers,
    }
