#!/usr/bin/env bash
# Runs the web platform's tests a second time against PostgreSQL (the first run, inside the main
# suite, uses SQLite). Starts the local PostgreSQL cluster when it is installed but stopped.
# Database: $VRU_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test.
set -euo pipefail
cd "$(dirname "$0")/.."
URL="${VRU_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting the local PostgreSQL cluster" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL is not installed or not reachable on 127.0.0.1:5432: the web tests ran on SQLite only" >&2
  exit 0
fi
VRU_TEST_DATABASE_URL="$URL" .venv/bin/pytest -q -p no:cacheprovider tests/web
