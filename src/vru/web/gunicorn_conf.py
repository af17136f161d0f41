"""gunicorn's configuration: ``gunicorn -c python:vru.web.gunicorn_conf vru.web.wsgi:application``.

gunicorn's own log lines (workers starting and stopping, a worker killed on timeout, errors outside a
request) become the platform's JSON lines on standard error (``vru.web.core.logs.JsonFormatter``), like
every line the application writes, so that one log collector reads them all. gunicorn's access log is
off: its line holds the query string and the client's address. The application does not log every
request either (only those answered 4xx or 5xx, on ``django.request``, without query string or address);
the reverse proxy's access log is the record of every request. Options given on the command line (the
bind address, the workers) are added to these; ``--access-logfile`` would turn the access log back on.
"""

from __future__ import annotations

import os

from vru.web.core.logs import json_logging

# No access log (see above): gunicorn.access is silenced even if an access log file is given.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("VRU_WEB_LOG_LEVEL", "INFO").strip().lower() or "info"

logconfig_dict = json_logging("INFO", {
    "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
    "gunicorn.access": {"handlers": ["null"], "level": "CRITICAL", "propagate": False},
}, null={"class": "logging.NullHandler"})
