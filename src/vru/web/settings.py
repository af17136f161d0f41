"""Django settings for the vru web platform.

Environment variables (all optional in development; see docs/web.md):

- ``DJANGO_SECRET_KEY``: the secret key. Without it a random per-install key is created once in the data
  directory (``web-secret-key``, mode 0600); in production (``VRU_WEB_PRODUCTION=1``) it is required.
- ``DATABASE_URL``: a PostgreSQL database URL (with its password: set it in the environment only),
  Without it, SQLite at ``$VRU_WEB_DB`` or ``$XDG_DATA_HOME/vru/web.sqlite3`` (next to the default warehouse).
- ``VRU_PG_RANDOM_PAGE_COST``: the PostgreSQL planner's ``random_page_cost`` for the platform's
  connections (default ``1.1``, the value for SSD storage; empty: the server's own setting, 4 by default).
  At 4 the planner prefers a sequential scan to the keyword search's trigram index (19 ms against 5 ms
  over 25,000 opportunities, docs/benchmarks.md).
- ``DJANGO_DEBUG=1``: debug mode (off by default).
- ``DJANGO_ALLOWED_HOSTS``: comma-separated host names (default: localhost, 127.0.0.1, [::1]).
- ``VRU_WEB_PRODUCTION=1``: HTTPS-only cookies, HSTS, SSL redirect; the secret key must come from the env.
- ``VRU_WEB_STATIC_ROOT``: where ``collectstatic`` writes (default ``<data dir>/web-static``).
- ``VRU_WEB_TRUSTED_PROXIES``: addresses or CIDR ranges of the reverse proxies whose X-Forwarded-For is
  believed (default none; ``vru.web.core.clientip``).
- ``VRU_WEB_LOG_LEVEL`` (default INFO) and ``VRU_WEB_ADMINS`` ("Name <address>, ..."): JSON logs on
  standard error and error e-mails, without personal data (``vru.web.core.logs``).

The data directory is the owner's only (0700), and so are the SQLite database and its journals (0600).
"""

from __future__ import annotations

import os
import secrets
import sys
from email.utils import getaddresses
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from vru.web.core.clientip import parse_trusted_proxies
from vru.web.core.logs import json_logging
from vru.web.referrals import conf as _referrals_conf


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def data_dir() -> Path:
    """``$XDG_DATA_HOME/vru`` (~/.local/share/vru), the directory of the default warehouse."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "vru"


def _tighten(path: Path, mode: int) -> None:
    """Take away every permission of the group and others from ``path`` (an existing file or folder
    that holds personal data or secrets), saying so on standard error."""
    current = path.stat().st_mode & 0o777
    if current & 0o077:
        os.chmod(path, mode)
        print(f"vru.web: {path} was readable by other local users (mode {current:04o}); "
              f"its mode is now {mode:04o}", file=sys.stderr)


def _private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the owner only (0700); an existing data
    directory of ours is tightened to 0700. Folders made for another purpose are left as they are,
    except the data directory itself."""
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir(mode=0o700)
    if not path.exists():
        path.mkdir(mode=0o700)
    elif path == data_dir():
        _tighten(path, 0o700)
    return path


def _private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 when it does not exist (SQLite then gives its journal and
    WAL files the same mode); tighten it to 0600 when it exists and others may read it."""
    _private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _tighten(path, 0o600)
    return path


def _secret_key(production: bool) -> str:
    key = os.environ.get("DJANGO_SECRET_KEY", "")
    if key:
        return key
    if production:
        raise ImproperlyConfigured("VRU_WEB_PRODUCTION=1 needs DJANGO_SECRET_KEY in the environment")
    path = data_dir() / "web-secret-key"
    if path.exists():
        _tighten(path, 0o600)
        return path.read_text().strip()
    _private_dir(path.parent)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        db = dj_database_url.parse(url, conn_max_age=60)
        cost = os.environ.get("VRU_PG_RANDOM_PAGE_COST", "1.1").strip()
        if cost and db["ENGINE"].endswith("postgresql"):
            float(cost)  # a number, or refuse to start
            db.setdefault("OPTIONS", {})["options"] = f"-c random_page_cost={cost}"
        return db
    db = os.environ.get("VRU_WEB_DB")
    path = Path(db).expanduser() if db else data_dir() / "web.sqlite3"
    # Password hashes, e-mail addresses and live session keys: readable by the owner only.
    _private_file(path)
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}


PRODUCTION = _flag("VRU_WEB_PRODUCTION")
DEBUG = _flag("DJANGO_DEBUG") and not PRODUCTION
SECRET_KEY = _secret_key(PRODUCTION)
_hosts = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
ALLOWED_HOSTS = [h.strip() for h in _hosts.split(",") if h.strip()]

INSTALLED_APPS = [
    "vru.web.accounts",
    "vru.web.core",
    "vru.web.dashboard",
    "vru.web.programme",
    "vru.web.opportunities",
    "vru.web.tagging",
    "vru.web.survey",
    "vru.web.referrals",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # built-in widget templates for the GOV.UK form renderer
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    # A request id on every log line and error answer (vru.web.core.logs).
    "vru.web.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "vru.web.middleware.ContentSecurityPolicyMiddleware",
    # Before anything reads the body (the CSRF check reads every POST): 413 over the view's limit.
    "vru.web.middleware.RequestSizeLimitMiddleware",
    # WhiteNoise serves the platform's own static files (GOV.UK Frontend, styles) in every mode.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-axes must come last (its documentation)
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # the lockout's ceiling per account, from every address (vru.web.accounts.lockout)
    "vru.web.accounts.lockout.UsernameCeilingBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Request size. Every page takes at most VRU_WEB_MAX_BODY_BYTES of body (a form is a few KB), the pages
# that take an upload a little more than their form's own limit (multipart overhead): the programme CSV
# import (programme.csvio.MAX_BYTES, 10 MB) and the area form (forms.MAX_GEOJSON_BYTES, 5 MB).
# vru.web.middleware.RequestSizeLimitMiddleware refuses a larger body with 413 before reading it; the
# reverse proxy's client_max_body_size must be at least the largest of these.
_MB = 1024 * 1024
VRU_WEB_MAX_BODY_BYTES = 1 * _MB
VRU_WEB_UPLOAD_LIMITS = {
    "programme:import": 11 * _MB,
    "programme:area_create": 6 * _MB,
    "programme:area_edit": 6 * _MB,
    # the same boundary through the admin's area form
    "admin:programme_programmearea_add": 6 * _MB,
    "admin:programme_programmearea_change": 6 * _MB,
}
# Form fields held in memory (a pasted boundary on the area form: up to 5 MB of text); the middleware
# keeps every other page at VRU_WEB_MAX_BODY_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * _MB
# Uploads stay in memory (at most 11 MB, above) and are never written to a temporary file on disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 11 * _MB
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # Django's default: the longest form has a few dozen fields
DATA_UPLOAD_MAX_NUMBER_FILES = 5  # one file per form

ROOT_URLCONF = "vru.web.urls"
WSGI_APPLICATION = "vru.web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vru.web.core.nav.nav",
            ],
        },
    },
]

DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Lockout (django-axes): 5 failures for one user name from one address lock that pair out for an hour.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "vru.web.accounts.lockout.lockout_username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# ... and 50 failures for one user name from every address together lock that account for everyone for the
# cool-off: an attacker with many addresses gets no more guesses (vru.web.accounts.lockout).
VRU_WEB_LOCKOUT_USERNAME_LIMIT = 50

# The client's address behind a reverse proxy (vru.web.core.clientip): X-Forwarded-For is believed only
# from these proxies (comma-separated addresses or CIDR ranges; `unix` for a Unix socket). Empty: none
# trusted, every client is its REMOTE_ADDR. The lockout, the rate limits and the audit log all use it.
VRU_WEB_TRUSTED_PROXIES = parse_trusted_proxies(os.environ.get("VRU_WEB_TRUSTED_PROXIES", ""))
# The lockout and the rate limits count an IPv6 client as its /64; the audit log records the full address.
AXES_CLIENT_IP_CALLABLE = "vru.web.core.clientip.client_ip_for_limits"
RATELIMIT_IP_META_KEY = "vru.web.core.clientip.client_ip_for_limits"

# Email: console in development; SMTP settings from the environment in production.
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "vru@localhost")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _flag("DJANGO_EMAIL_USE_TLS")

# Logs: one JSON object per line on standard error, no personal data (vru.web.core.logs); errors also
# mailed to VRU_WEB_ADMINS ("Name <address>, ..."; nobody when unset), with no personal data either.
LOG_LEVEL = os.environ.get("VRU_WEB_LOG_LEVEL", "INFO").strip().upper() or "INFO"
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"VRU_WEB_LOG_LEVEL: {LOG_LEVEL!r} is not DEBUG, INFO, WARNING or ERROR")
LOGGING = json_logging(LOG_LEVEL, {
    # Django's defaults (the console only with DEBUG, Django's own e-mail to the admins) are replaced.
    "django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
    "django.request": {"handlers": ["stderr", "mail_admins"], "level": LOG_LEVEL, "propagate": False},
    "django.server": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
}, mail_admins={"()": "vru.web.core.logs.SafeAdminEmailHandler", "level": "ERROR"})
ADMINS = [(name, addr) for name, addr in getaddresses([os.environ.get("VRU_WEB_ADMINS", "")]) if addr]
SERVER_EMAIL = os.environ.get("DJANGO_SERVER_EMAIL", DEFAULT_FROM_EMAIL)
DEFAULT_EXCEPTION_REPORTER_FILTER = "vru.web.core.logs.SafeReporterFilter"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("VRU_WEB_STATIC_ROOT") or str(data_dir() / "web-static")
if not os.environ.get("VRU_WEB_STATIC_ROOT") or not os.environ.get("VRU_WEB_CACHE"):
    # The data directory (database, secret key, demo passwords, caches) is the owner's only (0700).
    _private_dir(data_dir())
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even before collectstatic
# WhiteNoise finds files in the apps' static folders directly when collectstatic has not been run
# (the demo); production runs collectstatic and serves compressed, cache-busted copies.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if PRODUCTION:
    STORAGES["staticfiles"] = {"BACKEND": "vru.web.core.storage.StaticStorage"}

# Forms render as GOV.UK Frontend markup, errors next to each field (vru.web.core.forms).
FORM_RENDERER = "vru.web.core.forms.GovukRenderer"

# The analysis warehouse the dashboard reads (read-only): $VRU_WAREHOUSE or the CLI's default.
VRU_WAREHOUSE = os.environ.get("VRU_WAREHOUSE") or str(data_dir() / "warehouse.duckdb")
# GPS tagging (docs/web-tagging.md): the positions store (Parquet by day; created 0700 when first used) and
# how long raw positions are kept unless a qualified match or a breach needs them.
VRU_TAGGING_STORE = os.environ.get("VRU_TAGGING_STORE") or str(data_dir() / "tagging-positions")
VRU_TAGGING_RETENTION_DAYS = int(os.environ.get("VRU_TAGGING_RETENTION_DAYS") or 90)
# Rescue and Response (docs/web-referrals.md, "Settings"): how long closed or declined referrals are kept
# (days; default six years) and the smallest count its reports publish; out-of-range values stop start-up.
VRU_REFERRALS_RETENTION_DAYS = _referrals_conf.from_env("VRU_REFERRALS_RETENTION_DAYS")
VRU_REFERRALS_MIN_N = _referrals_conf.from_env("VRU_REFERRALS_MIN_N")
VRU_REFERRALS_DRAFT_DAYS = _referrals_conf.from_env("VRU_REFERRALS_DRAFT_DAYS")

# Where `vru serve` keeps the demo users' generated passwords (mode 0600; never in the repository).
VRU_DEMO_USERS_FILE = os.environ.get("VRU_WEB_DEMO_USERS") or str(data_dir() / "demo-users.txt")

# Cache of computed dashboard results, shared by every worker process (keyed by warehouse version).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ.get("VRU_WEB_CACHE") or str(data_dir() / "web-cache"),
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}

# The read-only JSON API (Django REST framework) and its OpenAPI description (drf-spectacular).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "vru.web.core.pagination.BoundedPagination",
    "PAGE_SIZE": 100,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VRU platform API",
    "DESCRIPTION": "Read-only JSON API of the violence reduction platform: the dashboard's analysis "
                   "results and the MyEnds programme register. Session authentication; each endpoint "
                   "needs the same permission as the page that shows its data.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar: served by the platform itself, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Security headers that are safe everywhere.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A browser-session cookie, not a year-long one: the survey leaves nothing behind once the browser closes
# (docs/web-survey.md, "Anonymity"); staff forms get a fresh token on their next page.
CSRF_COOKIE_AGE = None
# Every asset is served by the platform itself (fully offline), so 'self' is all a page needs.
VRU_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = not _flag("VRU_WEB_NO_SSL_REDIRECT")
    SECURE_HSTS_SECONDS = int(os.environ.get("VRU_WEB_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = False
    if _flag("VRU_WEB_BEHIND_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = [
        o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
    ]

# --- Rate limits (django-ratelimit): young people's sign-up and password-reset emails -------------------
# The counters live in their own cache alias. With VRU_WEB_RATELIMIT_REDIS_URL (redis://host:6379/1; needs
# the `redis` package) Django's built-in RedisCache holds them: one count for every worker and host, each
# increment atomic (Redis INCR). Without it, a file cache (VRU_WEB_RATELIMIT_CACHE, default next to
# VRU_WEB_CACHE) shared by the workers of one host. docs/web-opportunities.md ("Rate limits").
INSTALLED_APPS = [*INSTALLED_APPS, "django_ratelimit"]  # for its system checks of this cache
RATELIMIT_USE_CACHE = "ratelimit"
_ratelimit_redis = os.environ.get("VRU_WEB_RATELIMIT_REDIS_URL", "").strip()
if _ratelimit_redis:
    from importlib.util import find_spec

    if find_spec("redis") is None:
        raise ImproperlyConfigured("VRU_WEB_RATELIMIT_REDIS_URL needs the redis package: pip install redis")
    CACHES["ratelimit"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                           "LOCATION": _ratelimit_redis}
    _ratelimit_silenced = []
else:
    CACHES["ratelimit"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": (os.environ.get("VRU_WEB_RATELIMIT_CACHE")
                     or CACHES["default"]["LOCATION"].rstrip("/\\") + "-ratelimit"),
        "OPTIONS": {"MAX_ENTRIES": 100_000},
        # Django's file cache adds one by reading and writing the value again with the alias's default
        # timeout: that must outlast the longest limit (a day), or a client pacing its requests more than
        # 5 minutes apart (Django's default) would restart every count. Each counter's key names its
        # window, so a count never outlives its window in effect; the file is removed a day later.
        "TIMEOUT": 24 * 3600 + 60,
    }
    # E003 "does not support atomic increment": the file cache reads, adds one and writes, so requests
    # that arrive in the same instant may count once between them (a burst of N parallel requests can
    # pass the limit by up to N-1). Accepted for one host; Redis (above) counts exactly.
    _ratelimit_silenced = ["django_ratelimit.E003"]
# W001 "not officially supported": django-ratelimit lists only memcached and django-redis as tested
# backends; Django's own RedisCache and FileBasedCache work with it (test_opportunities_rate_limits.py).
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), *_ratelimit_silenced,
                          "django_ratelimit.W001"]
