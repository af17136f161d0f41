#!/usr/bin/env bash
# Runs the web platform's tests (tests/web) against PostgreSQL; scripts/test-all.sh then runs the rest on SQLite.
#
# Makes PostgreSQL available first, on Debian/Ubuntu as root (or with sudo):
#   - installs it (apt-get install postgresql) when it is absent, and lets local test connections in
#     (trust for 127.0.0.1 only; this is done only to a cluster this script installed);
#   - starts the newest local cluster when it is installed but stopped;
#   - creates the URL's role (LOGIN CREATEDB) and database when they are missing.
# Database: $VRU_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test (pytest-django
# creates and drops its own test_<name> database beside it).
# When PostgreSQL cannot be made available (no apt-get, no root, apt fails) the script says so and exits
# 0, so a developer without PostgreSQL still runs the SQLite suite; under CI (CI=true, which .ci/run
# sets) that is an error: CI never passes without the PostgreSQL run.
set -euo pipefail
cd "$(dirname "$0")/.."
URL="${VRU_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
PY=.venv/bin/python
read -r PGHOST_ PGPORT_ PGUSER_ PGDB_ < <("$PY" - "$URL" <<'EOF'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 5432, u.username or "postgres", (u.path or "/test").lstrip("/") or "test")
EOF
)

unavailable() {
  case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in 1|true|yes) ci=1 ;; *) ci=0 ;; esac
  if [ "$ci" = 1 ]; then
    echo "error: $1; the web tests must also run on PostgreSQL in CI" >&2
    exit 1
  fi
  echo "$1: the web tests ran on SQLite only" >&2
  exit 0
}

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi  # never prompts
can_admin() { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -n -u postgres "$@"; fi; }
ready() { pg_isready -q -h "$PGHOST_" -p "$PGPORT_" 2>/dev/null; }
newest_cluster() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1; }

installed_here=0
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(newest_cluster)" ]; then
  if [ "$PGHOST_" != "127.0.0.1" ] && [ "$PGHOST_" != "localhost" ]; then
    :  # a remote server: nothing to install here
  elif can_admin && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL from the Debian archive" >&2
    export DEBIAN_FRONTEND=noninteractive
    if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
        && [ -n "$(newest_cluster)" ]; then
      installed_here=1
    else
      unavailable "PostgreSQL could not be installed (apt-get install postgresql failed)"
    fi
  else
    unavailable "PostgreSQL is not installed (apt-get install postgresql)"
  fi
fi

if [ "$installed_here" = 1 ]; then
  version="$(newest_cluster)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Local test connections without a password, only to the cluster installed just now.
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main restart || true
fi

if ! ready && command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$(newest_cluster)" ]; then
  echo "starting the local PostgreSQL cluster $(newest_cluster)/main" >&2
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(newest_cluster)" main start || true
  for _ in $(seq 1 40); do ready && break; sleep 0.5; done
fi
ready || unavailable "PostgreSQL is not reachable on $PGHOST_:$PGPORT_"

# The role and database of the URL, when missing (through the local socket as the postgres user).
if ! psql "$URL" -tAc "select 1" >/dev/null 2>&1; then
  if can_admin && id postgres >/dev/null 2>&1; then
    if [ "$(as_postgres psql -p "$PGPORT_" -tAc "select 1 from pg_roles where rolname = '$PGUSER_'")" != 1 ]; then
      echo "creating the PostgreSQL role $PGUSER_" >&2
      as_postgres psql -p "$PGPORT_" -qc "create role \"$PGUSER_\" login createdb"
    fi
    if [ "$(as_postgres psql -p "$PGPORT_" -tAc "select 1 from pg_database where datname = '$PGDB_'")" != 1 ]; then
      echo "creating the PostgreSQL database $PGDB_" >&2
      as_postgres psql -p "$PGPORT_" -qc "create database \"$PGDB_\" owner \"$PGUSER_\""
    fi
  fi
  psql "$URL" -tAc "select 1" >/dev/null 2>&1 || unavailable "cannot connect to $URL"
fi

# Browser tests (marker "browser") run once, in the main suite on SQLite: what they check is the pages,
# not the database; every other web test runs here, on every core (pytest-xdist gives each worker its own
# test database). With arguments, just those test files and options.
[ $# -eq 0 ] && set -- tests/web -m "not browser" -n auto --dist loadfile
echo "running $* on PostgreSQL ($PGHOST_:$PGPORT_, database $PGDB_)" >&2
VRU_TEST_DATABASE_URL="$URL" .venv/bin/pytest -q -p no:cacheprovider "$@"
# Tell scripts/test-all.sh that the web tests did run here (it then leaves them out of the SQLite pass).
if [ -n "${VRU_PG_RAN_FILE:-}" ]; then echo ran > "$VRU_PG_RAN_FILE"; fi
