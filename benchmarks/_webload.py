"""Shared load-test plumbing for the web benchmarks (benchmarks/lvn_search, benchmarks/web_dashboard).

- ``gunicorn(env, port, workers)``: the platform under gunicorn (sync workers) on loopback, as in
  production (docs/web.md), started and stopped around a block;
- ``wrk(url_file, base, clients, duration, think_ms, cookie)``: ``wrk`` (a C load generator, one
  connection per client) cycling through a fixed list of URLs, closed loop (``think_ms=0``) or paced
  (each client waits a random 0.5-1.5 x ``think_ms`` before each request, uniform, as load tools'
  "random timers" do; a fixed pause keeps all clients in step, arriving in bursts), with the
  p50/p90/p95/p99 latencies computed by wrk's own histogram (a Lua ``done`` hook).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

LUA = r"""
local urls = {}
for line in io.lines(os.getenv("WRK_URLS")) do urls[#urls + 1] = line end
local think = tonumber(os.getenv("WRK_THINK_MS") or "0")
local cookie = os.getenv("WRK_COOKIE") or ""
local headers = {}
if cookie ~= "" then headers["Cookie"] = cookie end
local i = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  i = id * 7919
  math.randomseed(1000 + id)
end
function request()
  i = i + 1
  return wrk.format("GET", urls[(i % #urls) + 1], headers)
end
if think > 0 then
  -- a person reading a page: uniform between half and one and a half times the mean think time, so
  -- that the clients drift apart as people do instead of arriving together in bursts of 50
  function delay() return math.random(math.floor(think / 2), math.floor(think * 3 / 2)) end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
    '"errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk(url_file: Path, base: str, clients: int, duration: int, think_ms: int = 0,
        cookie: str = "") -> dict:
    """Run wrk against ``base`` with the URLs (paths) listed one per line in ``url_file``."""
    lua = url_file.with_suffix(".lua")
    lua.write_text(LUA)
    env = {**os.environ, "WRK_URLS": str(url_file), "WRK_THINK_MS": str(think_ms), "WRK_COOKIE": cookie}
    out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{duration}s", "--timeout", "10s",
                          "-s", str(lua), base], env=env, check=True, capture_output=True, text=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = sum(v for k, v in r.items() if k.startswith("errors_"))
    return r


def line(name: str, mode: str, r: dict) -> str:
    return (f"{name:24} {mode:30} {r['rps']:7.1f} req/s  p50 {r['p50_us'] / 1000:7.1f} ms  "
            f"p95 {r['p95_us'] / 1000:7.1f} ms  p99 {r['p99_us'] / 1000:7.1f} ms  errors {r['errors']}")


@contextlib.contextmanager
def gunicorn(env: dict, port: int, workers: int, ready_path: str, threads: int = 0):
    """gunicorn serving ``vru.web.wsgi:application`` on 127.0.0.1:``port`` until the block ends.

    Sync workers (``threads=0``), as in production behind nginx (:func:`nginx`), or ``gthread``
    workers with ``threads`` threads each. Sync workers facing the clients directly are the wrong
    set-up for paced clients: a connection that is open but idle (wrk's clients "reading" a page, a
    browser's pre-connect) holds a worker until its request arrives, and the other requests queue."""
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "vru.web.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--backlog", "2048", "--log-level", "warning",
         *(["--worker-class", "gthread", "--threads", str(threads)] if threads else [])],
        env=env, cwd=ROOT)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + ready_path, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # answering (e.g. a redirect to sign in): the server is up
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


NGINX_CONF = """worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  upstream app {{ server 127.0.0.1:{upstream}; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://app; proxy_set_header Host $host; }}
  }}
}}
"""


@contextlib.contextmanager
def nginx(port: int, upstream_port: int, tmp: Path):
    """nginx on 127.0.0.1:``port`` proxying to gunicorn on ``upstream_port`` (the production set-up of
    docs/web.md: nginx keeps the clients' connections and buffers each request, then hands it whole
    to a free sync worker). One nginx worker process, no access log."""
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, upstream=upstream_port))
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp)])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(base + "/", timeout=2)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def add_server_options(ap) -> None:
    """The server set-up options every web benchmark takes."""
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0,
                    help="threads per gunicorn worker (gthread); 0: sync workers (default)")
    ap.add_argument("--no-nginx", action="store_true",
                    help="clients straight to gunicorn, without nginx in front")


@contextlib.contextmanager
def serve(env: dict, port: int, args, ready_path: str, tmp: Path):
    """The platform as deployed (docs/web.md): nginx on ``port`` in front of gunicorn, or gunicorn
    alone with ``--no-nginx``. Yields ``(base URL, topology in words)``."""
    use_nginx = not args.no_nginx
    if use_nginx and not shutil.which("nginx"):
        sys.exit("nginx is not installed (apt-get install nginx-light), or pass --no-nginx")
    topology = ("wrk -> nginx -> " if use_nginx else "wrk -> ") + (
        f"gunicorn {args.workers} gthread workers x {args.threads} threads" if args.threads
        else f"gunicorn {args.workers} sync workers")
    app_port = port + 1 if use_nginx else port
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(gunicorn(env, app_port, args.workers, ready_path, args.threads))
        if use_nginx:
            base = stack.enter_context(nginx(port, app_port, tmp / "nginx"))
        yield base, topology


def get(base: str, path: str, cookie: str = "") -> int:
    """GET a page once (fails loudly unless 200): checks every URL works and warms the workers."""
    req = urllib.request.Request(base + path, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=120) as r:
        if r.status != 200:
            raise RuntimeError(f"{path}: HTTP {r.status}")
        return r.status


def provenance() -> dict:
    """What a result file needs so that someone else can reproduce it: the exact command, the git
    commit (and whether the tree had uncommitted changes), the machine and the load on it."""
    import platform

    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), "")
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(), "cpu_model": cpu,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }
