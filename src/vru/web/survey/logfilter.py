"""No log line says that someone was on one of the survey's respondent pages (docs/web-survey.md,
"Anonymity").

The platform logs each 4xx and 5xx answer (``django.request``), each refused CSRF check and each other
suspicious request (``django.security.*``, e.g. a bad Host header) and, in the demo's development server,
every request (``django.server``), each with its path and the time to the millisecond. On the survey's
respondent pages (everything under ``/survey/`` but the staff pages) such a line would record when someone
answered in which language on which page ("Bad Request: /survey/ar/q/1/"), and a path is whatever the
browser sent (an invitation code pasted into the address: ``/survey/ACDE-FGHJ-KMNP/``). So this filter,
attached to those loggers when the app starts:

- drops every line about a respondent page with a status under 500 (and every ``django.server`` line
  about one, whatever its status): nothing is logged of a refused answer, a stale form or a 404;
- keeps a 5xx line (a server error must be seen and fixed) with the path withheld
  (``/survey/[path withheld]``) and a message that names only the status.

Lines about the staff pages (``staff/invitations/``, ``results/``, ``results.csv``) and other apps are
left as they are. Filters on a logger apply only to records logged to that logger by name, not to those
of its children, so the filter is attached to ``django.security.<name>`` for every kind of suspicious
operation Django defines (:func:`security_loggers`).
"""

from __future__ import annotations

import logging
import re
import types

PREFIX = "/survey/"
WITHHELD = "/survey/[path withheld]"
STAFF_PAGE = re.compile(r"^/survey/(?:staff/invitations/|results/|results\.csv)$")
# runserver's line: '"GET /path?query HTTP/1.1" 200 123' (the request line is the first argument)
REQUEST_LINE = re.compile(r"^\S+\s+(\S+)")


def security_loggers() -> list[str]:
    """``django.security.csrf`` and ``django.security.<class>`` for every ``SuspiciousOperation`` subclass
    (Django logs each under its class name)."""
    from django.contrib.sessions.exceptions import SessionInterrupted, SuspiciousSession  # noqa: F401
    from django.core.exceptions import SuspiciousOperation
    from django.http.multipartparser import MultiPartParserError  # noqa: F401

    names, todo = {"csrf"}, [SuspiciousOperation]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return [f"django.security.{name}" for name in sorted(names)]


def _respondent_path(path) -> bool:
    return isinstance(path, str) and path.startswith(PREFIX) and not STAFF_PAGE.match(path.split("?")[0])


class SurveyPathFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.server":
            line = record.args[0] if isinstance(record.args, tuple) and record.args else ""
            match = REQUEST_LINE.match(line) if isinstance(line, str) else None
            return not (match and _respondent_path(match.group(1)))
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if not _respondent_path(path):
            return True
        status = getattr(record, "status_code", None)
        if status is None or status < 500:
            return False  # nothing of a refused request on a respondent page, not even that it happened
        record.msg, record.args = "survey: a server error on a respondent page (%s)", (status,)
        record.request = types.SimpleNamespace(META={}, path=WITHHELD,
                                               method=getattr(request, "method", None),
                                               request_id=getattr(request, "request_id", None))
        return True


def install() -> None:
    for name in ("django.request", "django.server", *security_loggers()):
        logger = logging.getLogger(name)
        if not any(isinstance(f, SurveyPathFilter) for f in logger.filters):
            logger.addFilter(SurveyPathFilter())
