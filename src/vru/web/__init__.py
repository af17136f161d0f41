"""The vru web platform (issue 6): a Django project with accounts, roles and an audit log.

``serve(host, port)`` migrates the database and runs the development server; production runs
``vru.web.wsgi:application`` under gunicorn or ``vru.web.asgi:application`` under uvicorn (docs/web.md).
"""

from __future__ import annotations

import os

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


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Migrate the database, then run Django's development server on ``host:port`` (blocks).

    For the demo only: static files are served by runserver's ``--insecure`` mode because DEBUG is off.
    Production uses a WSGI/ASGI server (gunicorn ``vru.web.wsgi:application``, uvicorn
    ``vru.web.asgi:application``) behind a proxy that serves ``collectstatic`` output; see docs/web.md.
    """
    migrate()
    from django.core.management import call_command

    addr = f"[{host}]" if ":" in host and not host.startswith("[") else host
    call_command("runserver", f"{addr}:{int(port)}", use_reloader=False, insecure_serving=True)
