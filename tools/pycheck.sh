#!/usr/bin/env bash
# Python-side checks run by `make test`: the report schema on real reports and the notebook.
# Installs tools/notebook/requirements.txt into .venv/ when the packages are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PY="$VENV/bin/python"
if ! [ -x "$PY" ] || ! "$PY" -c "import pandas, matplotlib, jsonschema, nbformat, nbclient, ipykernel" 2>/dev/null; then
  echo "pycheck: installing tools/notebook/requirements.txt into $VENV/" >&2
  python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check -r tools/notebook/requirements.txt
fi
SHARED=""
[ -d ../shared/traces ] && SHARED=../shared/traces
"$PY" tools/check_reports.py .build/debug/reprise "$SHARED"
"$PY" tools/run_notebook.py "${NOTEBOOK_OUT:-}"
