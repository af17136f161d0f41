"""The dashboard's main pages under 50 concurrent clients on loopback (issue 6).

1. A fresh database (PostgreSQL ``dash_bench`` on 127.0.0.1:5432 by default, or ``--sqlite``),
   migrated and seeded with the demo content of ``vru serve`` (users per role, the MyEnds register,
   the Local Village Network catalogue); the warehouse built from the bundled London data
   (``vru init``); the dashboard cache warmed (``vru.web.dashboard.cache.warm``), as ``vru serve`` does.
2. The production set-up of docs/web.md on 127.0.0.1: nginx in front of gunicorn
   (``vru.web.wsgi:application``, sync workers); ``--no-nginx`` for gunicorn alone.
3. ``wrk`` with an analyst's session cookie, cycling through the main pages, closed loop (each client
   sends its next request as soon as the last is answered: the server saturated) and paced (each
   client pauses a random 0.5-1.5 x ``--think-ms`` between requests, like a person reading a page).
   In the same run:
   - the framework floor: ``/api/v1/opportunities/`` (Django, DRF and every middleware, no database,
     no template): what any page on this stack costs at least;
   - the static stylesheet served by WhiteNoise (the cheapest response the server can give).
   The ratio page/floor is the cost of our own code.

Usage: ``.venv/bin/python benchmarks/web_dashboard/run.py [--duration 20] [--json out.json]``.
Needs gunicorn (a dependency), wrk and nginx (``apt-get install wrk nginx-light``) and PostgreSQL
(or ``--sqlite``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
sys.path.insert(0, str(ROOT / "benchmarks"))

from _webload import add_server_options, get, line, provenance, serve, wrk  # noqa: E402

PAGES = {
    "London overview": ["/dashboard/", "/dashboard/?category=robbery"],
    "borough pages": [f"/dashboard/borough/{c}/" for c in ("E09000022", "E09000028", "E09000012",
                                                           "E09000005", "E09000030")],
    "area pages": [f"/dashboard/area/{c}/" for c in ("E01003968", "E01000104", "E01001523", "E01003067",
                                                      "E01004614")],
    "hot spot map": ["/dashboard/hotspots/"],
    "drivers": ["/dashboard/drivers/"],
    "targeting": ["/dashboard/targeting/"],
    "evaluation": ["/dashboard/evaluation/"],
    "programme register": ["/programme/"],
    "JSON API": ["/api/v1/dashboard/boroughs/", "/api/v1/dashboard/boroughs/E09000022/",
                 "/api/v1/programme/rollups/borough/"],
}


def recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/dash_bench")
    ap.add_argument("--sqlite", action="store_true", help="use a SQLite file instead of PostgreSQL")
    add_server_options(ap)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    ap.add_argument("--think-ms", type=int, default=1000)
    ap.add_argument("--port", type=int, default=8732)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="dash-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vru.web.settings",
           "DJANGO_SECRET_KEY": secrets.token_urlsafe(40), "XDG_DATA_HOME": str(tmp),
           "VRU_WAREHOUSE": str(tmp / "warehouse.duckdb"), "VRU_WEB_CACHE": str(tmp / "cache"),
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    if args.sqlite:
        env.pop("DATABASE_URL", None)
        env["VRU_WEB_DB"] = str(tmp / "web.sqlite3")
    else:
        env["DATABASE_URL"] = args.db_url
        recreate_database(args.db_url)
    os.environ.clear()
    os.environ.update(env)

    figures: dict = {"provenance": provenance(),
                     "database": "sqlite" if args.sqlite else "postgresql", "clients": args.clients,
                     "workers": args.workers, "duration_s": args.duration, "think_ms": args.think_ms,
                     "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}
    t0 = time.perf_counter()
    subprocess.run([str(Path(PY).parent / "vru"), "init", "--warehouse", env["VRU_WAREHOUSE"]], check=True,
                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    figures["warehouse_s"] = round(time.perf_counter() - t0, 1)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from vru.web import demo
    from vru.web.accounts.models import User

    call_command("migrate", interactive=False, verbosity=0)
    t0 = time.perf_counter()
    demo.seed(stdout=open(os.devnull, "w"), warm=False)
    figures["seed_s"] = round(time.perf_counter() - t0, 1)
    from vru.web.dashboard import cache

    t0 = time.perf_counter()
    warmed = cache.warm()
    figures["warm_s"] = round(time.perf_counter() - t0, 1)
    print(f"warehouse {figures['warehouse_s']} s, demo seed {figures['seed_s']} s, "
          f"cache warm {figures['warm_s']} s ({warmed})")

    analyst = User.objects.filter(groups__name="analyst").first()
    c = Client()
    c.force_login(analyst)
    cookie = f"sessionid={c.cookies['sessionid'].value}"

    pages = {"floor (API root, no database)": ["/api/v1/opportunities/"],
             "static file (WhiteNoise)": ["/static/govuk/govuk-frontend.min.css"], **PAGES}
    results: dict = {}
    with serve(env, args.port, args, "/accounts/login/", tmp) as (base, topology):
        figures["topology"] = topology
        for urls in pages.values():
            for u in urls:
                get(base, u, cookie)  # each URL answers 200 for the analyst (and warms each worker)
                for _ in range(args.workers):
                    get(base, u, cookie)
        every = [u for urls in PAGES.values() for u in urls]
        runs = {**pages, "all main pages (mix)": every}
        for name, urls in runs.items():
            path = tmp / f"{len(results)}.txt"
            path.write_text("\n".join(urls) + "\n")
            modes = [("closed loop", 0)]
            if name in ("all main pages (mix)", "floor (API root, no database)"):
                modes.append((f"paced, {args.think_ms} ms think", args.think_ms))
            for mode, think in modes:
                r = wrk(path, base, args.clients, args.duration, think, cookie)
                results[f"{name} | {mode}"] = r
                print(line(name, mode, r))
    figures["results"] = results
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
