#!/usr/bin/env bash
# The suite of `make test`, on every core (pytest-xdist): the web tests on PostgreSQL first
# (scripts/test-web-postgres.sh), then the rest on SQLite. When the web tests did run on PostgreSQL the
# SQLite pass keeps only the web tests that need it (the browser tests, which check pages rather than the
# database, and those marked ``sqlite``); when PostgreSQL could not be made available (a developer's machine
# without it; never in CI) every web test runs on SQLite instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ran="$(mktemp)"
trap 'rm -f "$ran"' EXIT
VRU_PG_RAN_FILE="$ran" bash scripts/test-web-postgres.sh
if [ -s "$ran" ]; then
  echo "running the rest of the suite on SQLite (the web tests ran on PostgreSQL)" >&2
  .venv/bin/pytest -n auto --dist loadfile -m "not web or browser or sqlite" "$@"
else
  .venv/bin/pytest -n auto --dist loadfile "$@"
fi
