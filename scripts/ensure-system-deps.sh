#!/usr/bin/env bash
# Installs the system programs the test suite drives, when missing: Debian's Chromium (browser
# tests of the report), a Java 17 runtime (PySpark in local mode), and nginx and openssl (the
# production deployment test, tests/web/test_deployment.py: nginx in front of gunicorn, with TLS).
# Needs root (or sudo) and Debian/Ubuntu apt; on other systems install them by hand: the tests say
# what is missing.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
# nginx is in /usr/sbin, which an ordinary user's PATH may lack.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
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
# nginx: the small build (nginx-light: TLS, proxy) where the archive has it (Debian 12), else nginx.
for i in "${!need[@]}"; do
  if [ "${need[$i]}" = nginx ] && apt-cache policy nginx-light | grep -q 'Candidate: [0-9]'; then
    need[$i]=nginx-light
  fi
done
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
