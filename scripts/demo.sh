#!/usr/bin/env bash
# The one-command demo: build every environment (scripts/setup.sh), then scripts/demo.py, which
# starts the sandbox API and an embedded PostgreSQL, runs `meltano run` for every seed API twice
# and stops both servers on exit. Options go to demo.py (--records, --add, --update).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh

# exec: Ctrl-C reaches demo.py directly, whose `finally` (and SIGTERM handler) stop both servers.
exec .venv/bin/python scripts/demo.py "$@"
