#!/usr/bin/env bash
# Installs the system programs the test suite drives, when missing: Debian's Chromium (browser
# tests of the report) and a Java 17 runtime (PySpark in local mode). Needs root (or sudo) and
# Debian/Ubuntu apt; on other systems install them by hand: the tests say what is missing.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "missing ${need[*]}: install them (apt-get install ${need[*]}) to run every test" >&2
    exit 0
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${need[*]}: no apt-get here; install them to run every test" >&2
  exit 0
fi
echo "installing ${need[*]} from the Debian archive" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
