"""The vru web platform: a Django project with accounts, roles, an audit log and the apps
built on them (dashboard, programme register, opportunities).

``prepare()`` makes a fresh install usable: it builds the analysis warehouse from the bundled data when
``settings.VRU_WAREHOUSE`` does not exist, migrates the database and seeds the demo content.
``serve(host, port)`` does that, then runs Django's threaded development server (the demo); production
runs ``vru.web.wsgi:application`` under gunicorn or ``vru.web.asgi:application`` under uvicorn
(docs/web.md).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

SETTINGS_MODULE = "vru.web.settings"


def setup() -> None:
    """Point Django at the vru settings (unless DJANGO_SETTINGS_MODULE says otherwise) and set it up."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django

    django.setup()


def migrate(verbosity: int = 0) -> None:
    """Create or update the database schema (and the role groups, by their data migration)."""
    setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def prepare(*, demo: bool = True, warm: bool = True, stdout=None) -> dict:
    """Everything ``serve`` does before it listens: build the warehouse from the bundled London data
    if ``settings.VRU_WAREHOUSE`` does not exist (``vru.api.init``), migrate the database, and (with
    ``demo``) seed the demo organisations, users and each app's demo content (``vru.web.demo.seed``),
    then (with ``warm``) fill the dashboard's cache. Returns what the seeding created (empty without
    ``demo``). Idempotent."""
    stdout = stdout or sys.stdout
    setup()
    from django.conf import settings

    warehouse = Path(settings.VRU_WAREHOUSE)
    if not warehouse.exists():
        from vru import api

        print(f"Building the analysis warehouse from the bundled London data: {warehouse}", file=stdout)
        api.init(warehouse)
    migrate()
    from vru.web import demo as demo_content

    if not demo:
        if warm:
            demo_content.warm_cache(stdout)
        return {}
    result = demo_content.seed(stdout, warm=warm)
    print(demo_content.describe_users(), file=stdout)
    return result


def _warm_in_background(stdout) -> threading.Thread:
    """Fill the dashboard's cache while the server already answers (the first run computes every
    analysis once, which takes minutes; pages not yet cached are computed when first asked for)."""

    def run():
        from django.db import connections

        from vru.web.demo import warm_cache

        try:
            warm_cache(stdout)
        except Exception as e:  # the server keeps running; pages compute on demand
            print(f"warming the dashboard cache failed: {e!r}", file=sys.stderr)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="vru-cache-warm", daemon=True)
    thread.start()
    return thread


def serve(host: str = "127.0.0.1", port: int = 8000, *, demo: bool = True) -> None:
    """``prepare()``, then run Django's threaded development server on ``host:port`` (blocks); the
    dashboard's cache is filled in a background thread meanwhile.

    For the demo only: static files come from WhiteNoise (and runserver's ``--insecure`` mode, since
    DEBUG is off). Production uses a WSGI/ASGI server (gunicorn ``vru.web.wsgi:application``, uvicorn
    ``vru.web.asgi:application``) behind a proxy that terminates TLS; see docs/web.md.
    """
    # No tagging match worker runs beside the development server, so an uploaded crime batch is matched
    # in its request here (VRU_TAGGING_MATCH_INLINE; docs/web-tagging.md), unless the user set it.
    os.environ.setdefault("VRU_TAGGING_MATCH_INLINE", "1")
    prepare(demo=demo, warm=False)
    _warm_in_background(sys.stdout)
    from django.core.management import call_command

    addr = f"[{host}]" if ":" in host and not host.startswith("[") else host
    call_command(
        "runserver", f"{addr}:{int(port)}", use_reloader=False, insecure_serving=True, use_threading=True
    )
