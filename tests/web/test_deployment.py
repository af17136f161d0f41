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


@contextlib.contextmanager
def _postgres_database():
    """A new, uniquely named PostgreSQL database on the test server, dropped afterwards: its URL."""
    import psycopg

    base = urlsplit(os.environ.get("VRU_TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test")
    admin = base._replace(path="/postgres").geturl()
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        missing(f"PostgreSQL is not reachable at {base.hostname}:{base.port or 5432} ({e}); "
                "scripts/test-web-postgres.sh installs and starts it")
    name = "vru_deploy_" + secrets.token_hex(6)
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield base._replace(path="/" + name).geturl()
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the published files ----------------------------------------------------------------------------


def _documented_env() -> dict[str, str]:
    """docs/deploy/vru-web.env as systemd's EnvironmentFile reads it."""
    env = {}
    for line in (DEPLOY / "vru-web.env").read_text().splitlines():
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


def _gunicorn_argv(app_port: int) -> list[str]:
    """The ExecStart of docs/deploy/vru-web.service, with this Python and a free port."""
    unit = (DEPLOY / "vru-web.service").read_text()
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(_substitute(line[len("ExecStart="):], {"127.0.0.1:8000": f"127.0.0.1:{app_port}"},
                                   "vru-web.service"))
    assert argv[0].endswith("/gunicorn") and "vru.web.wsgi:application" in argv
    return [sys.executable, "-m", "gunicorn", *argv[1:]]


def _nginx_conf(work: Path, ports: dict[str, int], cert: Path, key: Path) -> Path:
    """docs/deploy/nginx.conf with free ports and the test certificate, inside the smallest main
    configuration that runs nginx as an ordinary program (Debian's /etc/nginx/nginx.conf has the
    same ``http`` block that includes the site)."""
    site = _substitute((DEPLOY / "nginx.conf").read_text(), {
        "listen 80": f"listen 127.0.0.1:{ports['http']}",
        "listen 443": f"listen 127.0.0.1:{ports['https']}",
        "127.0.0.1:8000": f"127.0.0.1:{ports['app']}",
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
    }, "docs/deploy/nginx.conf")
    (work / "site.conf").write_text(site)
    main = work / "nginx.conf"
    main.write_text(f"""worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
    access_log off;
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


@dataclass
class Deployment:
    env: dict[str, str]
    ports: dict[str, int]
    context: ssl.SSLContext
    work: Path

    def django(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "django", *args], env=self.env, cwd=self.work,
                           capture_output=True, text=True, timeout=300)
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
        db_url = stack.enter_context(_postgres_database())
        ports = {"http": _free_port(), "https": _free_port(), "app": _free_port()}

        # The settings: the published environment file, with this test's key, database, paths, port.
        documented = _documented_env()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VRU_", "DATABASE_URL"))}
        env.update(documented)
        overrides = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": db_url,
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}:{ports['https']}",
            "VRU_WEB_STATIC_ROOT": str(work / "web-static"),
            "VRU_WEB_CACHE": str(work / "web-cache"),
            "VRU_WAREHOUSE": str(london_warehouse),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        assert set(overrides) <= set(documented), set(overrides) - set(documented)
        env.update(overrides)
        # Nothing of the test's in the home directory (gunicorn 27 puts its control socket there).
        env["XDG_DATA_HOME"] = str(work / "xdg")
        env["HOME"] = str(work)
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
        d = Deployment(env, ports, context, work)

        # The guide's steps.
        d.django("migrate", "--noinput")
        d.django("collectstatic", "--noinput")
        manifest = json.loads((work / "web-static" / "staticfiles.json").read_text())
        assert manifest["paths"], "collectstatic wrote an empty manifest"
        superuser = {"DJANGO_SUPERUSER_EMAIL": f"admin@{HOST}", "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
        r = subprocess.run([sys.executable, "-m", "django", "createsuperuser", "--noinput"],
                           env={**env, **superuser}, cwd=work, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        # What the administrator then does in /admin/: an organisation, and a user for each role.
        d.django("shell", "-c", _CREATE_USERS)

        gunicorn = subprocess.Popen(_gunicorn_argv(ports["app"]), env=env, cwd=work,
                                    stdout=subprocess.DEVNULL,
                                    stderr=stack.enter_context(open(work / "gunicorn.log", "w")))
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
    # Under the limit, nginx passes the request on: the application answers it (here: no CSRF token).
    r = b.request("POST", "/programme/import/", b"x" * (limit - 1024),
                  {"Content-Type": "application/octet-stream", "Origin": b.origin})
    assert r.status == 403 and b"nginx" not in r.body, (r.status, r.text[:500])


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
