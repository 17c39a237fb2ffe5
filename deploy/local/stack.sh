#!/usr/bin/env bash
# The local stack is controlled from Python (tracefreeze/stack/): this only hands over to it.
#   stack.sh up|down|status|apps-up|apps-down    (python -m tracefreeze.stack --help)
# TRACEFREEZE_PYTHON picks the Python (default: the repository's .venv).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${TRACEFREEZE_PYTHON:-$REPO/.venv/bin/python}
[[ -x $PYTHON ]] || { echo "stack.sh: no Python venv at $PYTHON: run make venv" >&2; exit 1; }
cd "$REPO"
exec "$PYTHON" -m tracefreeze.stack "$@"
