"""The documented production deployment, end to end (docs/web.md, "Production deployment").

The steps of the guide, run as written, on a new PostgreSQL database:

1. the settings of ``docs/deploy/vru-web.env`` (production, behind the proxy, trusting it), with this
   test's own secret key, database, paths and port;
2. ``python -m django migrate``, ``collectstatic --noinput``, ``check --deploy``, ``createsuperuser``;
3. gunicorn as ``docs/deploy/vru-web.service`` starts it, behind nginx with ``docs/deploy/nginx.conf``
   (the published file: only its ports and file paths are changed, to free ports and a throwaway
   certificate) terminating TLS for ``vru.example.org``;
4. over HTTPS through nginx, as a browser: every public page, and for a user of each role the home
   page and every page it links to, answer 200 with the production headers; every asset those pages
   load (stylesheets, scripts, images, and every ``url(...)`` in each stylesheet) answers 200 under its
   hashed name (the staticfiles manifest), from the platform itself.

Also through nginx: HTTP redirects to HTTPS, other host names are refused, a body over the largest the
application accepts (nginx's ``client_max_body_size``) gets 413 from nginx, and the client's address
reaches the application's lockout while a forged ``X-Forwarded-For`` does not.

Needs nginx, openssl and PostgreSQL (``$VRU_TEST_DATABASE_URL``'s server, default
postgres://postgres@127.0.0.1:5432; a database ``vru_deploy_<random>`` is created and dropped). Without
them the tests skip on a developer's machine and fail under CI (tests/needs.py); ``make test`` installs
nginx (scripts/ensure-system-deps.sh) and PostgreSQL (scripts/test-web-postgres.sh).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from needs import missing

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
HOST = "vru.example.org"
PASSWORD = "deployment test " + secrets.token_hex(8)
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")  # ManifestStaticFilesStorage's names

# One user per role, with what the guide's administrator gives them in /admin/ (docs/web.md).
USERS = {
    "administrator": {"is_staff": True},
    "analyst": {},
    "programme manager": {},
    "provider": {"organisation": True},
    "caseworker": {},
    "offender manager": {},
    "young person": {},
}
PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/password_reset/", "/opportunities/",
                "/opportunities/sign-up/", "/opportunities/shortlist/", "/api/docs/", "/admin/login/"]


# --- the machine: nginx, openssl, PostgreSQL ------------------------------------------------------


def _program(name: str) -> str:
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}")
                                       if os.path.exists(p)), None)
    if path is None:
        missing(f"{name} is not installed (make test installs it: scripts/ensure-system-deps.sh)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The guide's commands for the database (docs/web.md, step 2), as the postgres superuser: two roles,
# neither a superuser, and the database owned by the first. The test runs them as written, over TCP to the
# test server instead of "sudo -u postgres" through the socket, with unique names, and types each new
# role's password at --pwprompt.
DB_COMMANDS = ["createuser --pwprompt vru_owner", "createuser --pwprompt vru_web",
               "createdb --owner vru_owner vru"]
OWNER, RUNTIME, DATABASE = "vru_owner", "vru_web", "vru"
# Step 4 of the guide, as root: the settings of both files (the owner's last) in the environment, and
# the commands run as the service's Unix user.
OWNER_STEPS = """(set -a; . /etc/vru/web.env; . /etc/vru/owner.env; set +a; cd /var/lib/vru
  runuser -u vru -- /opt/vru/venv/bin/python -m django migrate --noinput
  runuser -u vru -- /opt/vru/venv/bin/python -m django grant_runtime_role vru_web)"""
# Step 7: the survey's scheduled jobs, whose units the fixture runs as systemd would.
SURVEY_STEPS = ("install -m 0644 docs/deploy/vru-survey-*.service docs/deploy/vru-survey-*.timer "
                "/etc/systemd/system/\n"
                "systemctl daemon-reload && systemctl enable --now vru-survey-purge.timer "
                "vru-survey-flush.timer vru-survey-shuffle.timer")
# Step 8: tagging's and the referrals' jobs; the fixture runs each unit's ExecStart as systemd would (the
# match worker's loop once: `--loop` is left off, so it runs what is queued and stops).
JOBS_STEPS = ("install -m 0644 docs/deploy/vru-tagging-*.service docs/deploy/vru-tagging-*.timer "
              "docs/deploy/vru-referrals-*.service docs/deploy/vru-referrals-*.timer /etc/systemd/system/\n"
              "systemctl daemon-reload && systemctl enable --now vru-tagging-match "
              "vru-tagging-breaches.timer vru-tagging-purge.timer vru-referrals-retention.timer")
JOB_UNITS = ("vru-tagging-match.service", "vru-tagging-breaches.service", "vru-tagging-purge.service",
             "vru-referrals-retention.service")


@dataclass
class Database:
    """The test's PostgreSQL: the superuser's URL, and the names and passwords of the guide's roles."""

    admin_url: str
    names: dict[str, str]  # the guide's names (vru_owner, vru_web, vru) -> this test's
    passwords: dict[str, str]  # this test's role names -> their passwords
    host: str
    port: int

    def superuser(self):
        import psycopg

        return psycopg.connect(self.admin_url, dbname=self.names[DATABASE], autocommit=True)

    def connect(self, role: str):
        """A connection as one of the guide's roles, with its password, over TCP."""
        import psycopg

        name = self.names[role]
        return psycopg.connect(host=self.host, port=self.port, user=name, password=self.passwords[name],
                               dbname=self.names[DATABASE], autocommit=True)


def _scram_verifies(verifier: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier (pg_authid.rolpassword) was made from ``password`` (RFC 5802)."""
    import base64
    import hashlib
    import hmac

    m = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier or "")
    if not m:
        return False
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(m.group(2)), int(m.group(1)))
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    return hmac.compare_digest(stored, base64.b64decode(m.group(3)))


@contextlib.contextmanager
def _postgres_roles_and_database():
    """The guide's two roles and database, created with its commands on the test server, with unique
    names (roles are the whole server's), dropped afterwards."""
    import psycopg

    base = urlsplit(os.environ.get("VRU_TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test")
    admin = base._replace(path="/postgres").geturl()
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        missing(f"PostgreSQL is not reachable at {base.hostname}:{base.port or 5432} ({e}); "
                "scripts/test-web-postgres.sh installs and starts it")
    suffix = secrets.token_hex(6)
    names = {OWNER: f"vru_owner_{suffix}", RUNTIME: f"vru_web_{suffix}", DATABASE: f"vru_deploy_{suffix}"}
    passwords = {names[OWNER]: secrets.token_urlsafe(24), names[RUNTIME]: secrets.token_urlsafe(24)}
    host, port = base.hostname or "127.0.0.1", base.port or 5432
    connection = ["-h", host, "-p", str(port), "-U", base.username or "postgres"]
    env = {**os.environ, "PGPASSWORD": base.password or ""}
    guide = (ROOT / "docs" / "web.md").read_text()
    with conn:
        try:
            for command in DB_COMMANDS:
                assert f"sudo -u postgres {command}" in guide, f"docs/web.md no longer says {command!r}"
                program, *args = shlex.split(command)
                argv = [_program(program), *connection, *(names.get(a, a) for a in args)]
                role = names.get(args[-1])
                # --pwprompt reads the password twice from the terminal, here from stdin (no terminal).
                typed = f"{passwords[role]}\n{passwords[role]}\n" if role in passwords else ""
                r = subprocess.run(argv, input=typed, env=env, capture_output=True, text=True, timeout=60,
                                   start_new_session=True)
                assert r.returncode == 0, f"{command}: {r.stderr}"
            yield Database(admin, names, passwords, host, port)
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{names[DATABASE]}" WITH (FORCE)')
            for role in (RUNTIME, OWNER):
                conn.execute(f'DROP ROLE IF EXISTS "{names[role]}"')


# --- the published files ----------------------------------------------------------------------------


def _documented_env(name: str = "vru-web.env") -> dict[str, str]:
    """A file of docs/deploy/ (vru-web.env, vru-owner.env) as systemd's EnvironmentFile and the guide's
    ``set -a; . file`` read it."""
    env = {}
    for line in (DEPLOY / name).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def _substitute(text: str, replacements: dict[str, str], what: str) -> str:
    for old, new in replacements.items():
        assert old in text, f"{what} no longer has {old!r}: update this test with it"
        text = text.replace(old, new)
    return text


def _unit(name: str = "vru-web.service") -> dict[str, str]:
    """The [Service] settings of a unit of docs/deploy/ (its EnvironmentFile lines joined by spaces, in
    order: systemd reads them all, the later overriding)."""
    settings: dict[str, str] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            key, value = key.strip(), value.strip()
            if key == "EnvironmentFile" and key in settings:
                value = f"{settings[key]} {value}"
            settings[key] = value
    return settings


def _gunicorn_argv(app_port: int) -> list[str]:
    """The ExecStart of docs/deploy/vru-web.service, with this Python and a free port."""
    argv = shlex.split(_substitute(_unit()["ExecStart"], {"127.0.0.1:8000": f"127.0.0.1:{app_port}"},
                                   "vru-web.service"))
    assert argv[0].endswith("/gunicorn") and "vru.web.wsgi:application" in argv
    assert argv[1:3] == ["-c", "python:vru.web.gunicorn_conf"], argv
    return [sys.executable, "-m", "gunicorn", *argv[1:]]


def _nginx_conf(work: Path, ports: dict[str, int], cert: Path, key: Path) -> Path:
    """docs/deploy/nginx.conf with free ports, the test certificate and its access log in the test's
    folder, inside the smallest main configuration that runs nginx as an ordinary program. Like Debian's
    /etc/nginx/nginx.conf, its ``http`` block sets a default access log (the combined format: address,
    request line with the query string, referrer) and includes the site, so the site's own
    ``access_log`` is what keeps requests out of it."""
    site = _substitute((DEPLOY / "nginx.conf").read_text(), {
        "listen 80": f"listen 127.0.0.1:{ports['http']}",
        "listen 443": f"listen 127.0.0.1:{ports['https']}",
        "127.0.0.1:8000": f"127.0.0.1:{ports['app']}",
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
        "/var/log/nginx/vru-access.log": str(work / "access.log"),
    }, "docs/deploy/nginx.conf")
    (work / "site.conf").write_text(site)
    main = work / "nginx.conf"
    main.write_text(f"""worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
    access_log {work}/default-access.log;
    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    include {work}/site.conf;
}}
""")
    return main


# --- a browser's HTTPS client -----------------------------------------------------------------------


class _Connection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1, presenting ``sni`` as the server name (as a browser going to HOST would),
    optionally from another loopback address."""

    def __init__(self, port: int, context: ssl.SSLContext, sni: str, source: str):
        super().__init__("127.0.0.1", port, context=context, timeout=120, source_address=(source, 0))
        self._sni = sni

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout, self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._sni)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    port: int
    context: ssl.SSLContext
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self.port}"

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> Response:
        conn = _Connection(self.port, self.context, HOST, self.source)
        h = {"Host": f"{HOST}:{self.port}", "User-Agent": "vru-deployment-test"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(headers or {})
        try:
            conn.request(method, path, body=body or None, headers=h)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        for value in r.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(r.status, r.headers, data)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, data: dict, headers: dict | None = None) -> Response:
        return self.request("POST", path, urlencode(data).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin,
            "Referer": self.origin + path, **(headers or {})})

    def sign_in(self, email: str, password: str, headers: dict | None = None) -> Response:
        page = self.get("/accounts/login/")
        assert page.status == 200, page.status
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.post_form("/accounts/login/", {"csrfmiddlewaretoken": token, "username": email,
                                                  "password": password}, headers)


class _Page(HTMLParser):
    """The links and the assets (stylesheets, icons, scripts, images) of an HTML page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & {
                "stylesheet", "icon", "modulepreload", "preload", "apple-touch-icon"}:
            self.assets.append(a["href"])
        elif tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
JS_IMPORT = re.compile(r"""^\s*import\s+(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]""", re.M)


# --- the deployment ---------------------------------------------------------------------------------


def _database_url(documented: str, role: str, db: Database) -> str:
    """The guide's DATABASE_URL for ``role`` (no password in it: that is PGPASSWORD, beside it), with
    this test's role, server and database."""
    u = urlsplit(documented)
    assert (u.scheme, u.username, u.password, u.hostname, u.port, u.path) == (
        "postgres", role, None, "127.0.0.1", 5432, f"/{DATABASE}"), f"the guide's DATABASE_URL: {documented}"
    return f"postgres://{db.names[role]}@{db.host}:{db.port}/{db.names[DATABASE]}"


@dataclass
class Deployment:
    env: dict[str, str]  # the service's settings: /etc/vru/web.env (the runtime role)
    owner_env: dict[str, str]  # and /etc/vru/owner.env over them: the owner role, for migrate
    ports: dict[str, int]
    context: ssl.SSLContext
    work: Path
    db: Database
    gunicorn: subprocess.Popen | None = None

    def django(self, *args: str, check: bool = True, owner: bool = False) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "django", *args], env=self.owner_env if owner else self.env,
                           cwd=self.work, capture_output=True, text=True, timeout=300)
        if check and r.returncode:
            pytest.fail(f"python -m django {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n"
                        f"{r.stderr[-4000:]}", pytrace=False)
        return r

    def browser(self, source: str = "127.0.0.1") -> Browser:
        return Browser(self.ports["https"], self.context, source)


def _wait(what: str, ready, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode} while starting", pytrace=False)
        try:
            ready()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{what} did not answer within {seconds} s", pytrace=False)


@pytest.fixture(scope="module")
def deployed(london_warehouse):
    nginx = _program("nginx")
    openssl = _program("openssl")
    # A folder of its own that nginx's workers (user nobody when started as root) can enter.
    work = Path(tempfile.mkdtemp(prefix="vru-deploy-"))
    work.chmod(0o755)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        db = stack.enter_context(_postgres_roles_and_database())
        ports = {"http": _free_port(), "https": _free_port(), "app": _free_port()}

        # The settings: the published environment file, with this test's key, database, paths, port.
        documented = _documented_env()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DJANGO_", "VRU_", "DATABASE_URL", "PG"))}
        env.update(documented)
        overrides = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": _database_url(documented["DATABASE_URL"], RUNTIME, db),
            "PGPASSWORD": db.passwords[db.names[RUNTIME]],
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}:{ports['https']}",
            "VRU_WEB_STATIC_ROOT": str(work / "web-static"),
            "VRU_WEB_CACHE": str(work / "web-cache"),
            "VRU_SURVEY_DRAFTS": str(work / "survey-drafts"),
            "VRU_WAREHOUSE": str(london_warehouse),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        assert set(overrides) <= set(documented), set(overrides) - set(documented)
        env.update(overrides)
        # /etc/vru/owner.env, read after web.env for migrate: only the owner role's database settings.
        owner = _documented_env("vru-owner.env")
        assert set(owner) == {"DATABASE_URL", "PGPASSWORD"}, owner
        # Nothing of the test's in the home directory (gunicorn 27 puts its control socket there).
        env["XDG_DATA_HOME"] = str(work / "xdg")
        env["HOME"] = str(work)
        owner_env = {**env, "DATABASE_URL": _database_url(owner["DATABASE_URL"], OWNER, db),
                     "PGPASSWORD": db.passwords[db.names[OWNER]]}
        for key, value in {"VRU_WEB_PRODUCTION": "1", "VRU_WEB_BEHIND_PROXY": "1",
                           "VRU_WEB_TRUSTED_PROXIES": "127.0.0.1", "DJANGO_ALLOWED_HOSTS": HOST,
                           "DJANGO_SETTINGS_MODULE": "vru.web.settings"}.items():
            assert documented.get(key) == value, f"docs/deploy/vru-web.env: {key}={documented.get(key)}"

        # A certificate for HOST, trusted by this test's client only.
        cert, key = work / "cert.pem", work / "key.pem"
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
                        "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"],
                       check=True, capture_output=True)
        context = ssl.create_default_context(cafile=str(cert))
        d = Deployment(env, owner_env, ports, context, work, db)

        # The guide's steps. As the owner role: the schema, then the service role's rights.
        d.django("migrate", "--noinput", owner=True)
        assert OWNER_STEPS in (ROOT / "docs" / "web.md").read_text(), "docs/web.md: step 4 changed"
        d.django("grant_runtime_role", db.names[RUNTIME], owner=True)
        # As the service's role, from here on.
        d.django("collectstatic", "--noinput")
        manifest = json.loads((work / "web-static" / "staticfiles.json").read_text())
        assert manifest["paths"], "collectstatic wrote an empty manifest"
        superuser = {"DJANGO_SUPERUSER_EMAIL": f"admin@{HOST}", "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
        r = subprocess.run([sys.executable, "-m", "django", "createsuperuser", "--noinput"],
                           env={**env, **superuser}, cwd=work, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        # What the administrator then does in /admin/: an organisation, and a user for each role.
        d.django("shell", "-c", _CREATE_USERS)
        # Step 7: the survey's jobs as their units run them: the purge and the weekly flush with the
        # service's settings, the shuffle (which VACUUMs) with the owner's read after them.
        assert SURVEY_STEPS in (ROOT / "docs" / "web.md").read_text(), "docs/web.md: step 7 changed"
        for unit, owner in (("vru-survey-purge.service", False), ("vru-survey-flush.service", False),
                            ("vru-survey-shuffle.service", True)):
            settings = _unit(unit)
            argv = shlex.split(settings["ExecStart"])
            assert argv[:3] == ["/opt/vru/venv/bin/python", "-m", "django"], (unit, argv)
            files = "/etc/vru/web.env /etc/vru/owner.env" if owner else "/etc/vru/web.env"
            assert settings["EnvironmentFile"] == files, unit
            d.django(*argv[3:], owner=owner)
        # Step 8: every unit the step installs exists, and each job runs with the service's settings.
        assert JOBS_STEPS in (ROOT / "docs" / "web.md").read_text(), "docs/web.md: step 8 changed"
        for unit in JOB_UNITS:
            settings = _unit(unit)
            argv = shlex.split(settings["ExecStart"])
            assert argv[:3] == ["/opt/vru/venv/bin/python", "-m", "django"], (unit, argv)
            assert settings["EnvironmentFile"] == "/etc/vru/web.env", unit
            if "--loop" in argv:
                i = argv.index("--loop")
                argv = argv[:i] + argv[i + 2:]
            d.django(*argv[3:])

        # gunicorn as the unit starts it: its ExecStart, in its WorkingDirectory (the data folder, here
        # the test's), with its UMask. (User, NoNewPrivileges, PrivateTmp, ProtectSystem, ProtectHome and
        # ReadWritePaths need systemd: docs/web.md says so.)
        unit = _unit()
        assert unit["WorkingDirectory"] == "/var/lib/vru" and unit["UMask"] == "0077", unit
        d.gunicorn = gunicorn = subprocess.Popen(
            _gunicorn_argv(ports["app"]), env=env, cwd=_substitute(unit["WorkingDirectory"], {
                "/var/lib/vru": str(work)}, "vru-web.service"), umask=int(unit["UMask"], 8),
            stdout=subprocess.DEVNULL, stderr=stack.enter_context(open(work / "gunicorn.log", "w")))
        stack.callback(_stop, gunicorn)
        _wait("gunicorn", lambda: socket.create_connection(("127.0.0.1", ports["app"]), 1).close(), gunicorn)
        server = subprocess.Popen([nginx, "-p", str(work), "-c", str(_nginx_conf(work, ports, cert, key))],
                                  stdout=subprocess.DEVNULL,
                                  stderr=stack.enter_context(open(work / "nginx.log", "w")))
        stack.callback(_stop, server)
        _wait("nginx", lambda: d.browser().get("/accounts/login/"), server)
        try:
            yield d
        finally:
            for name in ("gunicorn.log", "nginx.log", "error.log"):
                p = work / name
                if p.exists() and p.read_text().strip():
                    print(f"--- {name}\n{p.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


_CREATE_USERS = f"""
from django.contrib.auth.models import Group
from vru.web.accounts.models import Organisation, User
org = Organisation.objects.create(name="Deployment test youth club", kind="provider", verified=True)
for role, extra in {USERS!r}.items():
    u = User.objects.create_user(role.replace(" ", "-") + "@{HOST}", {PASSWORD!r},
                                 is_staff=extra.get("is_staff", False),
                                 organisation=org if extra.get("organisation") else None)
    u.groups.add(Group.objects.get(name=role))
"""


# --- checks -----------------------------------------------------------------------------------------


def _page(browser: Browser, path: str, seen_assets: dict[str, str]) -> _Page:
    """GET an HTML page through nginx: 200 with the production headers; its assets are noted."""
    r = browser.get(path)
    assert r.status == 200, f"{path}: HTTP {r.status}\n{r.text[:2000]}"
    assert r.headers.get("Strict-Transport-Security", "").startswith("max-age="), path
    assert "default-src 'self'" in r.headers.get("Content-Security-Policy", ""), path
    page = _parse(r.text)
    for a in page.assets:
        seen_assets.setdefault(urljoin(path, a), path)
    return page


def _internal(href: str) -> str | None:
    """A link to a page of the site (path and query), or None (another site, an anchor, mailto:...)."""
    u = urlsplit(href)
    if u.scheme or u.netloc or not u.path.startswith("/"):
        return None
    return u.path + (f"?{u.query}" if u.query else "")


def _check_assets(browser: Browser, assets: dict[str, str]) -> list[str]:
    """Fetch every asset, and every file each stylesheet or script module refers to; the problems."""
    problems, done = [], set()
    todo = list(assets.items())
    while todo:
        url, referrer = todo.pop()
        if url in done:
            continue
        done.add(url)
        u = urlsplit(url)
        if u.scheme == "data":
            continue
        if u.scheme or u.netloc:
            problems.append(f"{url} (from {referrer}): not served by the platform itself")
            continue
        r = browser.get(u.path + (f"?{u.query}" if u.query else ""))
        if r.status != 200:
            problems.append(f"{url} (from {referrer}): HTTP {r.status}")
            continue
        if u.path.startswith("/static/"):
            if not HASHED.search(u.path):
                problems.append(f"{url} (from {referrer}): not a hashed (manifest) name")
            elif HASHED.search(u.path) and "immutable" not in r.headers.get("Cache-Control", ""):
                problems.append(f"{url}: hashed, but not cached for ever ({r.headers.get('Cache-Control')})")
        if u.path.endswith(".css"):
            for m in CSS_URL.finditer(r.text):
                ref = m.group(1) or m.group(2)
                if not ref.startswith(("data:", "#")):
                    todo.append((urljoin(url, ref.split("#")[0]), url))
        elif u.path.endswith(".mjs"):
            # ES module imports: relative to the module's (hashed) URL, as the browser resolves them.
            for ref in JS_IMPORT.findall(r.text):
                todo.append((urljoin(url, ref), url))
    return problems


def test_collectstatic_post_processes_every_stylesheet_reference(deployed):
    """Every stylesheet's url(...) points at a file that the manifest names (else collectstatic's
    post-processing would have stopped, as it did for GOV.UK Frontend's missing crest)."""
    manifest = json.loads((deployed.work / "web-static" / "staticfiles.json").read_text())["paths"]
    css = [k for k in manifest if k.endswith(".css")]
    assert "govuk/govuk-frontend.min.css" in css and "vru/vru.css" in css
    static = deployed.work / "web-static"
    for name in css:
        hashed = (static / manifest[name]).read_text(encoding="utf-8", errors="replace")
        for m in CSS_URL.finditer(hashed):
            ref = (m.group(1) or m.group(2)).split("#")[0].split("?")[0]
            if ref and not ref.startswith("data:"):
                target = urljoin("/static/" + manifest[name], ref)
                assert HASHED.search(target), f"{name}: {ref} is not rewritten to a hashed name"
                assert (static / target[len("/static/"):]).is_file(), f"{name}: {ref} missing"


def test_check_deploy_reports_only_the_hsts_preload_warning(deployed):
    """Of Django's deployment checks, only the HSTS preload warning (on purpose: preloading is hard to
    undo); no error of any kind. (drf-spectacular's warnings about the API schema's names are not
    about the deployment.)"""
    r = deployed.django("check", "--deploy")
    issues = set(re.findall(r"\(([a-z_]+\.[EWCI]\d+)\)", r.stdout + r.stderr))
    assert {i for i in issues if i.startswith("security.")} == {"security.W021"}, r.stdout + r.stderr
    assert not [i for i in issues if re.search(r"\.[EC]\d+$", i)], r.stdout + r.stderr


def test_every_page_and_asset_answers_through_nginx(deployed):
    assets: dict[str, str] = {}
    anonymous = deployed.browser()
    pages = list(PUBLIC_PAGES)
    for path in PUBLIC_PAGES[:1]:
        pages += [p for p in map(_internal, _page(anonymous, path, assets).links) if p]
    for path in dict.fromkeys(pages):
        _page(anonymous, path, assets)

    # Signed in, each role: the home page and every page of the site it links to (the parts of the
    # platform that role may use, and the navigation), then the administrator's /admin/.
    visited = {}
    for role in USERS:
        b = deployed.browser()
        r = b.sign_in(role.replace(" ", "-") + f"@{HOST}", PASSWORD)
        assert r.status == 302 and "sessionid" in b.cookies, f"{role}: sign-in answered {r.status}"
        home = _page(b, "/", assets)
        links = [p for p in map(_internal, home.links) if p and not p.startswith("/static/")]
        assert len(links) >= 2, f"{role}: the home page links to nothing"
        for path in dict.fromkeys(links):
            _page(b, path, assets)
        visited[role] = links
    for app in ("/dashboard/", "/programme/", "/opportunities/provider/", "/opportunities/moderation/",
                "/opportunities/mine/", "/api/docs/", "/admin/"):
        assert any(p.startswith(app) for links in visited.values() for p in links), \
            f"no role's home page links to {app}: {visited}"
    admin = deployed.browser()
    admin.sign_in(f"admin@{HOST}", PASSWORD)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/organisation/"):
        _page(admin, path, assets)

    assert any(HASHED.search(a) and a.endswith(".css") for a in assets), assets
    problems = _check_assets(admin, assets)
    assert not problems, "\n".join(problems)


def test_http_redirects_to_https_and_other_hosts_are_refused(deployed):
    conn = http.client.HTTPConnection("127.0.0.1", deployed.ports["http"], timeout=10)
    conn.request("GET", "/opportunities/?q=x", headers={"Host": HOST})
    r = conn.getresponse()
    assert r.status == 301 and r.headers["Location"] == f"https://{HOST}/opportunities/?q=x"
    conn.close()
    # Another host name over HTTP: the connection is closed without an answer (444).
    conn = http.client.HTTPConnection("127.0.0.1", deployed.ports["http"], timeout=10)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.request("GET", "/", headers={"Host": "evil.example"})
        conn.getresponse()
    # ... and over HTTPS, the TLS handshake is refused for any other server name.
    with pytest.raises(ssl.SSLError):
        conn = _Connection(deployed.ports["https"], ssl._create_unverified_context(), "evil.example",
                           "127.0.0.1")
        conn.request("GET", "/", headers={"Host": "evil.example"})
        conn.getresponse()


def _nginx_body_limit() -> int:
    m = re.search(r"^\s*client_max_body_size\s+(\d+)m;", (DEPLOY / "nginx.conf").read_text(), re.M)
    assert m, "docs/deploy/nginx.conf sets no client_max_body_size in megabytes"
    return int(m.group(1)) * 1024 * 1024


def test_nginx_body_limit_is_the_largest_the_application_accepts():
    """Neither refuses what the other accepts: nginx's limit is the largest of the application's
    per-page limits (an upload refused by nginx gets its bare error page instead of the form's)."""
    from django.conf import settings

    largest = max([settings.VRU_WEB_MAX_BODY_BYTES, *settings.VRU_WEB_UPLOAD_LIMITS.values()])
    assert _nginx_body_limit() == largest


def test_a_body_over_the_limit_gets_413_from_nginx(deployed):
    limit = _nginx_body_limit()
    b = deployed.browser()
    r = b.request("POST", "/programme/import/", b"x" * (limit + 1),
                  {"Content-Type": "application/octet-stream", "Origin": b.origin})
    assert r.status == 413 and b"nginx" in r.body, (r.status, r.text[:500])
    # Under the limit, nginx passes the request on: the application answers it (here: no CSRF token;
    # and over the login page's own limit, its own 413). Each answer is the application's, never a 502:
    # the application reads what it refused to its end (it once closed with the body unread, and the
    # kernel's reset made nginx answer 502 Bad Gateway now and then).
    for _ in range(5):
        r = b.request("POST", "/programme/import/", b"x" * (limit - 1024),
                      {"Content-Type": "application/octet-stream", "Origin": b.origin})
        assert r.status == 403 and b"nginx" not in r.body, (r.status, r.text[:500])
        r = b.request("POST", "/accounts/login/", b"x" * (limit - 1024),
                      {"Content-Type": "application/octet-stream", "Origin": b.origin})
        assert r.status == 413 and b"nginx" not in r.body and b"at most" in r.body, (r.status, r.text[:500])


def test_the_client_address_reaches_the_lockout_and_cannot_be_forged(deployed):
    """The address nginx saw (X-Forwarded-For, trusted from 127.0.0.1 only) is the one the lockout
    records, not the proxy's, and not one the client wrote in an X-Forwarded-For of its own."""
    b = deployed.browser(source="127.0.0.2")  # another client than the proxy's 127.0.0.1
    r = b.sign_in(f"caseworker@{HOST}", "not the password", {"X-Forwarded-For": "203.0.113.9"})
    assert r.status == 200  # the form again, with its error
    out = deployed.django("shell", "-c", "import json; from axes.models import AccessAttempt; "
                          "print(json.dumps(sorted(set("
                          "AccessAttempt.objects.values_list('ip_address', flat=True)))))").stdout
    assert json.loads(out.strip().splitlines()[-1]) == ["127.0.0.2"]


# --- the logs ---------------------------------------------------------------------------------------


def test_the_access_log_records_no_link_token_search_or_address(deployed):
    """A password-reset link and a sign-up confirmation carry a token that works for 3 days; a search
    and ?next= say what a person looked for. nginx's access log (the site's own, and the main
    configuration's default that Debian's nginx.conf sets) records none of them, nor the client's
    address, but still each request's status; nor does any other log of the deployment."""
    out = deployed.django("shell", "-c", f"""
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from vru.web.accounts.models import User
u = User.objects.get(email="analyst@{HOST}")
print(urlsafe_base64_encode(force_bytes(u.pk)), default_token_generator.make_token(u))
""").stdout
    uid, token = out.split()[-2:]
    search, place = "knife-crime-help-" + secrets.token_hex(4), "where-" + secrets.token_hex(4)
    signup_token = "cnf-" + secrets.token_hex(10)
    access = deployed.work / "access.log"
    before = access.read_text().count("\n") if access.exists() else 0

    b = deployed.browser(source="127.0.0.3")
    r = b.get(f"/accounts/reset/{uid}/{token}/")
    assert r.status == 302 and r.headers["Location"].endswith("/set-password/"), r.status  # a valid link
    assert b.get(f"/opportunities/sign-up/confirm/{uid}/{signup_token}/").status in (200, 302, 404)
    assert b.get(f"/opportunities/?{urlencode({'q': search, 'where': place})}").status == 200
    assert b.get(f"/accounts/login/?next=/opportunities/{place}/").status == 200
    time.sleep(0.5)
    # The access logs: nothing that identifies a request or a client.
    for name in ("access.log", "default-access.log"):
        text = (deployed.work / name).read_text() if (deployed.work / name).exists() else ""
        leaked = [s for s in (token, f"/{uid}/", signup_token, search, place, "127.0.0.3", "/accounts/", "?")
                  if s in text]
        assert not leaked, f"{name} records {leaked}:\n{text[-2000:]}"
    # ... but the site's own still has a line for each request, with its status, for monitoring.
    lines = access.read_text().splitlines()[before:] if access.exists() else []
    assert len(lines) >= 4, lines
    assert {line.split()[2] for line in lines} >= {"200", "302"}, lines
    # Nor does any other log hold the token or the searched words.
    for name in ("error.log", "nginx.log", "gunicorn.log"):
        text = (deployed.work / name).read_text() if (deployed.work / name).exists() else ""
        leaked = [s for s in (token, signup_token, search, place) if s in text]
        assert not leaked, f"{name} records {leaked}:\n{text[-2000:]}"


def test_the_survey_leaves_no_line_in_any_access_log(deployed):
    """The victim survey's pages, an invitation link's code included, leave no line in nginx's access logs
    (the shipped site's `location /survey/` has ``access_log off``), and the code reaches no log at all."""
    code = "ZZ" + secrets.token_hex(5).upper()
    logs = ("access.log", "default-access.log", "error.log", "nginx.log", "gunicorn.log")
    before = {n: (deployed.work / n).read_text() if (deployed.work / n).exists() else "" for n in logs}
    b = deployed.browser(source="127.0.0.4")
    for path in (f"/survey/?c={code}", "/survey/", f"/survey/en/?c={code}"):
        assert b.get(path).status < 500
    time.sleep(0.5)
    for name in logs:
        text = (deployed.work / name).read_text() if (deployed.work / name).exists() else ""
        assert code not in text, f"{name} records the invitation code"
        if name.endswith("access.log"):
            assert text == before[name], f"{name} logged a survey request:\n{text[len(before[name]):]}"


# --- the database's roles -----------------------------------------------------------------------------


def _table_rights(conn, role: str) -> dict[str, str]:
    """Each table of the schema: the rights ``role`` has on it, as letters (r a w d D x t)."""
    rights = {"SELECT": "r", "INSERT": "a", "UPDATE": "w", "DELETE": "d", "TRUNCATE": "D",
              "REFERENCES": "x", "TRIGGER": "t"}
    tables = [t for (t,) in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")]
    return {t: "".join(letter for right, letter in rights.items() if conn.execute(
        "SELECT has_table_privilege(%s, quote_ident(%s), %s)", [role, t, right]).fetchone()[0])
        for t in tables}


def test_the_owner_role_runs_migrate_and_is_no_superuser(deployed):
    """migrate ran as the owner role (not a superuser; it created pg_trgm, a trusted extension, as the
    database's owner); the owner owns every table, the service's role none."""
    db = deployed.db
    with db.superuser() as conn:
        supers = dict(conn.execute("SELECT rolname, rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls "
                                   "FROM pg_roles WHERE rolname = ANY(%s)",
                                   [[db.names[OWNER], db.names[RUNTIME]]]).fetchall())
        assert supers == {db.names[OWNER]: False, db.names[RUNTIME]: False}
        owners = dict(conn.execute("SELECT tablename, tableowner FROM pg_tables "
                                   "WHERE schemaname = 'public'").fetchall())
        assert "accounts_auditlog" in owners and "opportunities_opportunity" in owners
        assert set(owners.values()) == {db.names[OWNER]}, owners
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'").fetchone() == (1,)


def test_the_service_role_may_only_add_to_the_audit_log(deployed):
    """The site works as the service's role, and writes the audit log; PostgreSQL refuses that role's
    UPDATE, DELETE and TRUNCATE of an audit entry, and it cannot give itself those rights."""
    from psycopg import errors

    db = deployed.db
    with db.superuser() as conn:
        count = conn.execute("SELECT count(*) FROM accounts_auditlog").fetchone()[0]
        rights = _table_rights(conn, db.names[RUNTIME])
    assert rights.pop("accounts_auditlog") == "ra"
    assert rights and set(rights.values()) == {"rawd"}, rights
    # gunicorn, as the service's role: an administrator browses people's accounts (audited).
    admin = deployed.browser()
    assert admin.sign_in(f"admin@{HOST}", PASSWORD).status == 302
    assert admin.get("/admin/accounts/user/").status == 200
    with db.superuser() as conn:
        assert conn.execute("SELECT count(*) FROM accounts_auditlog").fetchone()[0] > count
        # The platform's connections are the service role's (gunicorn keeps them open for 60 s).
        users = {u for (u,) in conn.execute("SELECT usename FROM pg_stat_activity WHERE datname = %s "
                                            "AND pid <> pg_backend_pid()", [db.names[DATABASE]])}
        assert users == {db.names[RUNTIME]}, users

    with db.connect(RUNTIME) as conn:
        assert conn.execute("SELECT count(*) FROM accounts_auditlog").fetchone()[0] > 0
        for sql in ("UPDATE accounts_auditlog SET purpose = 'nothing happened'",
                    "DELETE FROM accounts_auditlog",
                    "TRUNCATE accounts_auditlog",
                    "ALTER TABLE accounts_auditlog DISABLE TRIGGER ALL",
                    "CREATE TABLE public.mine (id int)"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql)
        # Giving itself the rights back: PostgreSQL grants nothing (a warning: no grant option).
        conn.execute("GRANT UPDATE, DELETE ON accounts_auditlog TO CURRENT_USER")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM accounts_auditlog")
        assert _table_rights(conn, db.names[RUNTIME])["accounts_auditlog"] == "ra"
        # It may add entries (in a transaction rolled back here) and change other tables' rows.
        with pytest.raises(_Rollback), conn.transaction():
            conn.execute("INSERT INTO accounts_auditlog (user_email, timestamp, action, object_type, "
                         "object_id, purpose) VALUES ('', now(), 'test', '', '', 'deployment test')")
            conn.execute("UPDATE django_session SET expire_date = expire_date")
            conn.execute("DELETE FROM django_session WHERE false")
            raise _Rollback


class _Rollback(Exception):
    pass


def test_tables_of_later_migrations_get_the_same_rights(deployed):
    """A table the owner creates later (a new migration) is the service role's to use at once (default
    privileges), before grant_runtime_role runs again."""
    db = deployed.db
    name = "later_" + secrets.token_hex(4)
    with db.connect(OWNER) as owner:
        owner.execute(f"CREATE TABLE {name} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, x int)")
        try:
            with db.connect(RUNTIME) as conn:
                conn.execute(f"INSERT INTO {name} (x) VALUES (1)")
                conn.execute(f"UPDATE {name} SET x = 2")
                assert conn.execute(f"SELECT x FROM {name}").fetchall() == [(2,)]
                conn.execute(f"DELETE FROM {name}")
                assert _table_rights(conn, db.names[RUNTIME])[name] == "rawd"
        finally:
            owner.execute(f"DROP TABLE {name}")


def _acl_snapshot(db: Database):
    with db.superuser() as conn:
        return (conn.execute("SELECT relname, relacl::text FROM pg_class c JOIN pg_namespace n "
                             "ON n.oid = c.relnamespace WHERE nspname = 'public' ORDER BY 1").fetchall(),
                conn.execute("SELECT defaclobjtype, defaclacl::text FROM pg_default_acl "
                             "ORDER BY 1").fetchall(),
                conn.execute("SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'").fetchall())


def test_grant_runtime_role_is_idempotent_and_refuses_a_wrong_role(deployed):
    db = deployed.db
    before = _acl_snapshot(deployed.db)
    r = deployed.django("grant_runtime_role", db.names[RUNTIME], owner=True)
    assert "SELECT, INSERT only on accounts_auditlog" in r.stdout
    assert _acl_snapshot(deployed.db) == before
    for role, message in ((db.names[OWNER], "is the role running this command"),
                          ("postgres", "is a superuser"),
                          ("no_such_role_" + secrets.token_hex(3), "there is no role"),
                          ('vru"; DROP TABLE accounts_auditlog; --', "not a role name")):
        r = deployed.django("grant_runtime_role", role, owner=True, check=False)
        assert r.returncode == 1 and message in r.stderr, (role, r.stderr[-2000:])
    assert _acl_snapshot(deployed.db) == before
    # Run as the service's role (which owns nothing), it refuses to pretend.
    r = deployed.django("grant_runtime_role", db.names[OWNER], check=False)
    assert r.returncode == 1 and "does not own the tables" in r.stderr, r.stderr[-2000:]
    assert _acl_snapshot(deployed.db) == before


def test_grant_runtime_role_is_for_postgresql_only(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VRU_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "vru.web.settings", "XDG_DATA_HOME": str(tmp_path),
                "VRU_WEB_DB": str(tmp_path / "web.sqlite3"), "HOME": str(tmp_path)})
    r = subprocess.run([sys.executable, "-m", "django", "grant_runtime_role", "vru_web"], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 1 and "the database is sqlite" in r.stderr, r.stderr[-2000:]


def test_the_passwords_in_the_settings_are_the_roles_passwords(deployed):
    """Each role logs in over TCP with the password in its settings file (PGPASSWORD beside the URL).
    The test server trusts 127.0.0.1 (scripts/test-web-postgres.sh), so a login alone would not show
    it: the password is checked against the role's SCRAM verifier."""
    db = deployed.db
    with db.superuser() as conn:
        for env, role in ((deployed.env, RUNTIME), (deployed.owner_env, OWNER)):
            assert urlsplit(env["DATABASE_URL"]).username == db.names[role]
            verifier = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                                    [db.names[role]]).fetchone()[0]
            assert _scram_verifies(verifier, env["PGPASSWORD"]), role
            assert not _scram_verifies(verifier, env["PGPASSWORD"] + "x")


# --- the service ------------------------------------------------------------------------------------


def test_gunicorn_runs_with_the_units_umask_and_working_directory(deployed):
    """The unit's UMask (0077: what the service writes is its own) holds in gunicorn's master and in
    every worker, and they run in the unit's WorkingDirectory."""
    pids = [deployed.gunicorn.pid]
    pids += [int(p) for p in Path(f"/proc/{pids[0]}/task/{pids[0]}/children").read_text().split()]
    assert len(pids) == 1 + 4, pids  # --workers 4
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        assert re.search(r"^Umask:\s+0077$", status, re.M), (pid, status)
        assert os.readlink(f"/proc/{pid}/cwd") == str(deployed.work)


# drf_spectacular.drainage.GeneratorStats: "[file:line: ]Warning [view]: ..." and its summary.
SPECTACULAR_WARNING = re.compile(r"^(\S+: )?(Warning|Error)( \[[^\]]*\])?: "
                                 r"|^(Schema generation summary:|Warnings: \d|Errors: +\d)")


def test_gunicorn_writes_json_lines_and_no_access_log(deployed):
    """With the unit's ``-c python:vru.web.gunicorn_conf``, every line gunicorn's processes write on
    standard error (gunicorn's own, the platform's) is one JSON object, and no line is an access-log
    line (gunicorn's would hold the query string and the client's address)."""
    assert deployed.browser().get("/opportunities/?q=json-lines-check").status == 200
    time.sleep(0.5)
    lines = [x for x in (deployed.work / "gunicorn.log").read_text().splitlines() if x.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            # Known, and not gunicorn's: drf-spectacular prints its schema warnings (about names in the
            # API description, no request data) straight to stderr when /api/docs/ is first built.
            if not SPECTACULAR_WARNING.match(line):
                pytest.fail(f"not a JSON line on gunicorn's standard error: {line!r}")
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records), records[:5]
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records)
    assert not any("json-lines-check" in line for line in lines)
