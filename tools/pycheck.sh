#!/usr/bin/env bash
# Python-side checks run by `make test`: the serving-iteration checker's unit tests, the report
# schema on real reports, the notebook and python/reprise_ray on a local Ray instance.
# Installs tools/notebook/requirements.txt and python/requirements.txt into .venv/ when the
# packages are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PY="$VENV/bin/python"
if ! [ -x "$PY" ] || ! "$PY" -c "import pandas, matplotlib, jsonschema, nbformat, nbclient, ipykernel" 2>/dev/null; then
  echo "pycheck: installing tools/notebook/requirements.txt into $VENV/" >&2
  python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check -r tools/notebook/requirements.txt
fi
# python/requirements.txt: every `name==version` pin must be the installed version (ray's API
# moves between releases), every other line installed; else the file is installed again.
requirements_met() {
  "$PY" - python/requirements.txt <<'PY'
import re, sys
from importlib.metadata import PackageNotFoundError, version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, pin = re.match(r"([A-Za-z0-9_.\[\]-]+)\s*(?:==\s*(\S+))?", line).groups()
    try:
        have = version(re.sub(r"\[.*\]", "", name))
    except PackageNotFoundError:
        sys.exit(f"pycheck: {name} is not installed")
    if pin and have != pin:
        sys.exit(f"pycheck: {name} {have} is installed, python/requirements.txt pins {pin}")
PY
}
if ! requirements_met; then
  echo "pycheck: installing python/requirements.txt into $VENV/" >&2
  "$PY" -m pip install --quiet --disable-pip-version-check -r python/requirements.txt
  requirements_met
fi
# The optional external corpus of public traces (<project>/<path in the project>), as the Swift
# tests find it: $REPRISE_TRACE_CORPUS. Absent in a fresh clone: then only the bundled traces are
# checked.
CORPUS=""
if [ -n "${REPRISE_TRACE_CORPUS:-}" ] && [ -d "$REPRISE_TRACE_CORPUS" ]; then
  CORPUS="$REPRISE_TRACE_CORPUS"
fi
"$PY" tools/test_check_serving_iterations.py
"$PY" tools/check_reports.py .build/debug/reprise "$CORPUS"
"$PY" tools/run_notebook.py "${NOTEBOOK_OUT:-}"
# Ray: a local instance (2 CPUs, no dashboard, no usage stats), the debug binary.
RAY_DISABLE_USAGE_STATS=1 "$PY" python/tests/test_reprise_ray.py .build/debug/reprise
