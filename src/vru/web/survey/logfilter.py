"""No survey path that is not one of the survey's own pages reaches a log line (docs/web-survey.md,
"Anonymity").

The platform logs each 4xx and 5xx answer (``django.request``) and each refused CSRF check
(``django.security.csrf``) with the request's path. The survey's own paths hold no code or answer
(``/survey/<language>/q/<n>/``); but a path is whatever the browser sent: someone who pastes an invitation
or resume code into the address (``/survey/ACDE-FGHJ-KMNP/``) gets a 404, logged with that path. This
filter, attached to those loggers when the app starts, rewrites such a line: the path becomes
``/survey/[path withheld]`` and the message says only what was refused. Lines about the survey's own
pages and about other apps are left as they are.
"""

from __future__ import annotations

import logging
import re
import types

LOGGERS = ("django.request", "django.security.csrf")
PREFIX = "/survey/"
WITHHELD = "/survey/[path withheld]"


# The survey's own pages; a language is two or three lower-case letters (a code is 12 characters).
OWN_PAGE = re.compile(r"^/survey/(?:|staff/invitations/|results/|results\.csv|[a-z]{2,3}/(?:|code/|resume/|"
                      r"q/\d{1,2}/|check/|done/))$")


class SurveyPathFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if not isinstance(path, str) or not path.startswith(PREFIX):
            return True
        if OWN_PAGE.match(path):
            return True
        status = getattr(record, "status_code", None)
        record.msg, record.args = "survey: a request to a path that is not a survey page was refused (%s)", (
            status if status is not None else record.levelname.lower(),)
        record.request = types.SimpleNamespace(META={}, path=WITHHELD,
                                               method=getattr(request, "method", None),
                                               request_id=getattr(request, "request_id", None))
        return True


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SurveyPathFilter) for f in logger.filters):
            logger.addFilter(SurveyPathFilter())
