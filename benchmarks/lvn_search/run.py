"""Local Village Network search under load: 25,000 opportunities (10x the summer programme), 50
concurrent clients on loopback.

1. A fresh PostgreSQL database (default ``lvn_bench`` on 127.0.0.1:5432), migrated, seeded with the
   fictional demo catalogue (``seed_opportunities --n 25000``).
2. The production set-up of docs/web.md on 127.0.0.1: nginx (keeps the clients' connections,
   buffers each request) in front of gunicorn (``vru.web.wsgi:application``, sync workers).
3. ``wrk`` (C load generator, one connection per client; a Lua script cycles through a fixed,
   seeded mix of search URLs and computes the percentiles) against, in the same run:
   - the framework floor: ``/api/v1/opportunities/`` (Django + DRF + every middleware, no database);
   - the search page ``/opportunities/?...`` (HTML, the young person's search);
   - the Open Referral UK API ``/api/v1/opportunities/services?...`` (JSON);
   each closed-loop (every client sends its next request as soon as the last one is answered: the
   server is saturated, latency = queueing) and paced (each client waits ``--think-ms`` between
   requests, like a person reading a page).
4. The nearest peer: the same searches as SQL (the exact COUNT and page queries the search page runs,
   taken from Django) sent straight to PostgreSQL with psycopg by 50 threads: the database's share.

Usage: ``.venv/bin/python benchmarks/lvn_search/run.py [--n 25000] [--duration 20] [--json out.json]``.
Needs PostgreSQL, gunicorn, wrk and nginx (``apt-get install wrk nginx-light``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
sys.path.insert(0, str(ROOT / "benchmarks"))

from _webload import add_server_options, line, provenance, serve, wrk  # noqa: E402

KEYWORDS = ["football", "coding", "music", "dance", "boxing", "basketball", "cv", "apprenticeship", "art",
            "cooking", "youth club", "mentoring", "free", "summer", "camp"]
KINDS = ["activity", "event", "job", "apprenticeship", "training", "volunteering", "mentoring",
         "youth_service"]


def search_mix(n: int, seed: int = 1) -> list[dict]:
    """``n`` realistic searches (GET parameters of the search page), seeded."""
    from vru.geography.boroughs import BOROUGHS
    from vru.web.opportunities import geo

    rng = random.Random(seed)
    codes = sorted(BOROUGHS)
    out = []
    for _ in range(n):
        p: dict = {}
        shape = rng.random()
        if shape < 0.35:  # near me: a point, a radius, often sorted by distance
            code = rng.choice(codes)
            lat, lon = geo.borough_centre(code)
            p.update(lat=round(lat + rng.uniform(-0.01, 0.01), 4),
                     lon=round(lon + rng.uniform(-0.01, 0.01), 4), radius=rng.choice([1, 2, 3, 5]))
            if rng.random() < 0.6:
                p["sort"] = "distance"
        elif shape < 0.7:
            p["borough"] = rng.choice(codes)
        if rng.random() < 0.6:
            p["age"] = rng.randint(14, 24)
        if rng.random() < 0.3:
            p["kind"] = rng.choice(KINDS)
        if rng.random() < 0.3:
            p["free"] = "on"
        if rng.random() < 0.45:
            p["q"] = rng.choice(KEYWORDS)
        if rng.random() < 0.1:
            p["page"] = 2
        out.append(p)
    return out


def api_params(p: dict) -> dict:
    """The same search for the Open Referral UK API (the filters it has: text, age, borough, term)."""
    from vru.web.opportunities import oruk

    q: dict = {}
    if p.get("q"):
        q["search"] = p["q"]
    if p.get("age"):
        q["age"] = p["age"]
    if p.get("borough"):
        q["borough"] = p["borough"]
    if p.get("kind"):
        q["taxonomy_term_id"] = oruk.term(oruk.KIND_TAXONOMY, p["kind"])["id"]
    return q  # no page 2: past the last page the API answers 404 (DRF), the page shows the last one


def run(cmd, env, **kw):
    return subprocess.run(cmd, env=env, check=True, cwd=ROOT, **kw)


def recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def sql_peer(searches: list[dict], clients: int, duration: int, db_url: str) -> dict:
    """The search page's own SQL (the COUNT and the page query, exactly as Django sends them for each
    search, captured), straight to PostgreSQL from ``clients`` threads: the database's share."""
    import psycopg
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vru.web.opportunities import search as s

    queries = []
    for p in searches:
        form = s.SearchForm(data={k: str(v) for k, v in p.items() if k != "page"})
        assert form.is_valid(), form.errors
        with CaptureQueriesContext(connection) as ctx:
            page = s.run(form, p.get("page"))
            list(page.object_list)
        queries.append([q["sql"] for q in ctx.captured_queries])
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + duration

    def client(k: int) -> None:
        mine = []
        with psycopg.connect(db_url, autocommit=True) as conn:
            i = k * 7919
            while time.perf_counter() < stop:
                sqls = queries[i % len(queries)]
                i += 1
                t0 = time.perf_counter()
                for sql in sqls:
                    conn.execute(sql).fetchall()
                mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    qs = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_us": qs[49] * 1e6,
            "p90_us": qs[89] * 1e6, "p95_us": qs[94] * 1e6, "p99_us": qs[98] * 1e6,
            "max_us": max(latencies) * 1e6, "errors": 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=25000)
    ap.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/lvn_bench")
    add_server_options(ap)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    ap.add_argument("--think-ms", type=int, default=1000,
                    help="pause between a client's requests, paced runs")
    ap.add_argument("--searches", type=int, default=400)
    ap.add_argument("--port", type=int, default=8731)
    ap.add_argument("--keep-db", action="store_true", help="reuse the database if it is already seeded")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--targets", default="floor,search page,ORUK API,SQL",
                    help="comma-separated subset of: floor, search page, ORUK API, SQL")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="lvn-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vru.web.settings", "DATABASE_URL": args.db_url,
           "DJANGO_SECRET_KEY": secrets.token_urlsafe(40), "XDG_DATA_HOME": str(tmp),
           "VRU_WEB_CACHE": str(tmp / "cache"), "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    os.environ.update(env)
    import django

    django.setup()
    from vru.web.opportunities.models import Opportunity

    figures: dict = {"provenance": provenance(),
                     "n": args.n, "clients": args.clients, "workers": args.workers, "threads": args.threads,
                     "duration_s": args.duration, "think_ms": args.think_ms, "cpus": os.cpu_count(),
                     "load_average_at_start": os.getloadavg()}
    if not args.keep_db:
        recreate_database(args.db_url)
    t0 = time.perf_counter()
    run([PY, "-m", "django", "migrate", "--noinput", "-v", "0"], env)
    figures["migrate_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    run([PY, "-m", "django", "seed_opportunities", "--n", str(args.n)], env)
    figures["seed_s"] = round(time.perf_counter() - t0, 1)
    run([PY, "-m", "django", "shell", "-c", "from django.db import connection; "
         "connection.cursor().execute('ANALYZE')"], env)
    from vru.web.opportunities.lifecycle import live_q

    figures["live"] = Opportunity.objects.filter(live_q()).count()
    print(f"seeded {Opportunity.objects.count()} opportunities ({figures['live']} live) "
          f"in {figures['seed_s']} s")

    searches = search_mix(args.searches)
    files = {
        "floor": ["/api/v1/opportunities/"],
        "search page": ["/opportunities/?" + urlencode(p) for p in searches],
        "ORUK API": ["/api/v1/opportunities/services?" + urlencode(api_params(p)) for p in searches],
    }
    targets = {t.strip() for t in args.targets.split(",")}
    files = {name: urls for name, urls in files.items() if name in targets}
    results: dict = {}
    with serve(env, args.port, args, "/api/v1/opportunities/", tmp) as (base, topology):
        figures["topology"] = topology
        for name, urls in files.items():
            for u in urls:  # every URL answers 200 (and warms each worker)
                with urllib.request.urlopen(base + u, timeout=10) as r:
                    assert r.status == 200, u
            path = tmp / f"{name.replace(' ', '_')}.txt"
            path.write_text("\n".join(urls) + "\n")
            for mode, think in (("closed loop", 0), (f"paced, {args.think_ms} ms think time", args.think_ms)):
                r = wrk(path, base, args.clients, args.duration, think)
                results[f"{name} | {mode}"] = r
                print(line(name, mode, r))
    if "SQL" in targets:
        r = sql_peer(searches, args.clients, args.duration, args.db_url)
        results["SQL only (psycopg, same COUNT + page queries) | closed loop"] = r
        print(f"{'SQL only':12} {'closed loop':32} {r['rps']:7.1f} q/s    p50 {r['p50_us'] / 1000:7.1f} ms  "
              f"p95 {r['p95_us'] / 1000:7.1f} ms  p99 {r['p99_us'] / 1000:7.1f} ms")
    figures["results"] = results
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
