#!/usr/bin/env bash
# Installs everything the test suite needs, then runs it (unit, AppTest, real data, browser).
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: Debian's Chromium (browser tests), Pango and HarfBuzz (WeasyPrint, PDF annex),
# poppler-utils (the PDF tests read and render the annex).
PACKAGES="chromium fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils"
MISSING=$(for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$MISSING" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi

source scripts/python.sh
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
