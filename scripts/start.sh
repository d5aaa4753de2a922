#!/usr/bin/env bash
# Installs the dashboard's dependencies in .venv (Python 3.12+) and starts it on the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/streamlit run app.py "$@"
